package commands

import (
	"time"

	"spinel/commands/keyspace"
)

// Ref names a key in a database; 0 means "no such key".
type Ref = keyspace.Ref

// ---------------------------------------------------------------------------
// Keyspace access rules. Every command reaches keys through these functions,
// as Redis's lookupKey*, so lazy expiry, hit/miss statistics, the LRU/LFU
// clock and WATCH invalidation are handled in one place.
// ---------------------------------------------------------------------------

// lookupRead finds key for reading: it expires the key if its time has come,
// counts a keyspace hit or miss and touches the key's access clock.
func (s *Server) lookupRead(c *Client, key []byte) Ref {
	db := c.db
	r := db.kv.Lookup(key)
	if r != 0 && s.expireIfNeeded(db, r) {
		r = 0
	}
	if r == 0 {
		s.stats.keyspaceMisses++
		s.notify(db, notifyKeyMiss, "keymiss", key)
		return 0
	}
	s.stats.keyspaceHits++
	if !c.noTouch {
		s.touch(db, r)
	}
	return r
}

// lookupWrite finds key for writing: like lookupRead without statistics.
func (s *Server) lookupWrite(c *Client, key []byte) Ref {
	return s.lookupWriteDB(c.db, key, !c.noTouch)
}

func (s *Server) lookupWriteDB(db *database, key []byte, touch bool) Ref {
	r := db.kv.Lookup(key)
	if r != 0 && s.expireIfNeeded(db, r) {
		return 0
	}
	if r != 0 && s.rewrite != nil && !db.kv.Snapshotted(r) {
		// The caller may change the value in place: the running AOF
		// rewrite takes it as it is first.
		s.snapshotKey(db, r)
	}
	if r != 0 && touch {
		s.touch(db, r)
	}
	return r
}

// touch records an access for the eviction policy (Redis's updateLFU or the
// LRU clock).
func (s *Server) touch(db *database, r Ref) {
	if s.lfu {
		counter := s.lfuLogIncr(s.lfuDecrAndReturn(db, r))
		db.kv.SetLRU(r, s.lfuTimeMinutes()<<8|counter)
		return
	}
	db.kv.SetLRU(r, s.lruClock)
}

// newKeyLRU is the access clock a new key starts with.
func (s *Server) newKeyLRU() uint32 {
	if s.lfu {
		return s.lfuTimeMinutes()<<8 | lfuInitVal
	}
	return s.lruClock
}

// keyIsExpired reports whether r's time has come, without deleting it.
func (s *Server) keyIsExpired(db *database, r Ref) bool {
	// Nothing expires while the AOF loads: the data must come back as it
	// was written; expiry resumes once loading is done.
	if !db.kv.HasExpire(r) || s.loading {
		return false
	}
	at, _ := db.kv.ExpireAt(r)
	return at <= s.now
}

// expireIfNeeded deletes r if its time has come and reports whether it did.
func (s *Server) expireIfNeeded(db *database, r Ref) bool {
	if !s.keyIsExpired(db, r) {
		return false
	}
	s.deleteExpired(db, r)
	return true
}

// deleteExpired removes an expired key the way Redis's
// deleteExpiredKeyAndPropagate does: the key goes, then subscribers and
// watchers are told and the deletion is propagated.
func (s *Server) deleteExpired(db *database, r Ref) {
	key := append(s.scratchKey[:0], db.kv.Key(r)...)
	s.scratchKey = key
	db.kv.Delete(r)
	s.stats.expiredKeys++
	s.notify(db, notifyExpired, "expired", key)
	s.signalModifiedKey(db, key)
	s.propagateDel(db, key)
}

// dbDelete removes key r and tells its watchers.
func (s *Server) dbDelete(db *database, r Ref) {
	key := append(s.scratchKey[:0], db.kv.Key(r)...)
	s.scratchKey = key
	db.kv.Delete(r)
	s.signalModifiedKey(db, key)
}

// setExpire gives r an absolute expiry time in unix ms.
func (s *Server) setExpire(db *database, r Ref, at int64) { db.kv.SetExpireAt(r, at) }

// getExpire returns r's expiry time in unix ms, or -1.
func getExpire(db *database, r Ref) int64 {
	if at, ok := db.kv.ExpireAt(r); ok {
		return at
	}
	return -1
}

// checkAlreadyExpired reports whether an absolute time is already past, so a
// write with it deletes the key instead of storing a dead one.
func (s *Server) checkAlreadyExpired(when int64) bool { return when <= s.now && !s.loading }

// ---------------------------------------------------------------------------
// WATCH bookkeeping: a key -> clients index per database, so that the cost of
// a write is one map lookup when nobody watches, whatever the keyspace size.
// ---------------------------------------------------------------------------

type watchedKey struct {
	db  *database
	key string
	// expired records that the key had already expired when WATCH ran: its
	// later lazy deletion is then not a change (Redis's watchedKey.expired).
	expired bool
}

// signalModifiedKey tells the clients watching key that it changed.
func (s *Server) signalModifiedKey(db *database, key []byte) {
	s.noteObjectChange(db, key)
	if len(db.blocking) > 0 {
		s.signalKeyAsReady(db, key)
	}
	if len(db.watched) == 0 {
		return
	}
	clients := db.watched[string(key)]
	if len(clients) == 0 {
		return
	}
	exists := db.kv.Lookup(key) != 0
	for _, c := range clients {
		if w := c.findWatch(db, key); w != nil && w.expired {
			if !exists {
				w.expired = false // the dead key is gone: no logical change
				continue
			}
		}
		c.dirtyCAS = true
	}
}

// findWatch returns c's watch record for key in db.
func (c *Client) findWatch(db *database, key []byte) *watchedKey {
	for i := range c.watched {
		if c.watched[i].db == db && c.watched[i].key == string(key) {
			return &c.watched[i]
		}
	}
	return nil
}

// signalFlushedDB marks every client watching a key of db as dirty.
func (s *Server) signalFlushedDB(db *database) {
	for _, clients := range db.watched {
		for _, c := range clients {
			c.dirtyCAS = true
		}
	}
}

// unwatchAll drops every WATCH of c.
func (s *Server) unwatchAll(c *Client) {
	for _, w := range c.watched {
		list := w.db.watched[w.key]
		for i, other := range list {
			if other == c {
				list[i] = list[len(list)-1]
				list = list[:len(list)-1]
				break
			}
		}
		if len(list) == 0 {
			delete(w.db.watched, w.key)
		} else {
			w.db.watched[w.key] = list
		}
	}
	c.watched = c.watched[:0]
	c.dirtyCAS = false
}

// ---------------------------------------------------------------------------
// Active expiry: Redis's activeExpireCycle. Each cron tick samples keys with
// a TTL in every database and deletes the expired ones, repeating while more
// than a quarter of a sample had expired, within a time budget of a quarter
// of the tick.
// ---------------------------------------------------------------------------

const (
	expireKeysPerLoop  = 20
	expireStalePercent = 25
	expireCPUPercent   = 25
)

func (s *Server) activeExpireCycle() {
	if s.activeExpireOff {
		return
	}
	effort := max(s.cfg.ActiveExpireEffort, 1) - 1
	perLoop := expireKeysPerLoop + expireKeysPerLoop/4*effort
	budget := time.Second * expireCPUPercent / 100 / time.Duration(max(s.cfg.Hz, 1))
	start := time.Now()
	var expired []Ref
	for _, db := range s.dbs {
		for iter := 0; db.kv.ExpiresLen() > 0; iter++ {
			sampled := 0
			expired = expired[:0]
			db.kv.SampleExpires(perLoop, func(r Ref, at int64) bool {
				sampled++
				if at <= s.now {
					expired = append(expired, r)
				}
				return true
			})
			for _, r := range expired {
				s.deleteExpired(db, r)
			}
			if sampled == 0 || len(expired)*100/sampled <= expireStalePercent {
				break
			}
			if iter%16 == 15 && time.Since(start) > budget {
				s.stats.expireCycleTime += time.Since(start).Microseconds()
				return
			}
		}
	}
	s.stats.expireCycleTime += time.Since(start).Microseconds()
}
