package commands

import (
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"spinel/commands/keyspace"
	"spinel/config"
)

// ---------------------------------------------------------------------------
// maxmemory: accounting, eviction and the Go runtime's memory limit, as
// Redis's evict.c.
//
// used_memory is kept from exact figures the executor owns: arena bytes in
// use, one entry and bucket per key, expiry records, each collection's size
// as measured after the last command that changed it, client buffers, and
// the heap the process had at start. All are O(1) to read, so the check can
// run before every command.
// ---------------------------------------------------------------------------

// evictResult is performEvictions' outcome.
type evictResult int

const (
	evictOK      evictResult = iota // under the limit (or no limit)
	evictRunning                    // still over, eviction goes on in the cron
	evictFail                       // over and nothing can be evicted
)

// usedMemory is INFO's used_memory.
func (s *Server) usedMemory() int64 {
	total := s.baseMemory + s.clientsMemory
	for _, db := range s.dbs {
		total += db.kv.Memory()
	}
	return total
}

// ---- object size tracking ----

type touchedObject struct {
	db  *database
	r   Ref
	obj any
}

// noteObjectChange records that key's collection may have changed size; it
// is measured after the command. Pure string workloads skip the lookup.
func (s *Server) noteObjectChange(db *database, key []byte) {
	if db.kv.ObjectCount() == 0 {
		return
	}
	r := db.kv.Lookup(key)
	if r == 0 || db.kv.Type(r) == keyspace.TypeString {
		return
	}
	s.touched = append(s.touched, touchedObject{db: db, r: r, obj: db.kv.Object(r)})
}

// measureTouched records the sizes of the collections the last command
// changed.
func (s *Server) measureTouched() {
	for i, t := range s.touched {
		kv := t.db.kv
		if kv.Len() > 0 && kv.Type(t.r) != keyspace.TypeString && kv.Object(t.r) == t.obj {
			kv.SetObjectSize(t.r, t.obj.(Object).MemoryUsage())
		}
		s.touched[i] = touchedObject{}
	}
	s.touched = s.touched[:0]
}

// measureObject records the size of a collection added outside a command's
// usual path (COPY, MOVE).
func (s *Server) measureObject(db *database, r Ref) {
	if db.kv.Type(r) != keyspace.TypeString {
		db.kv.SetObjectSize(r, db.kv.Object(r).(Object).MemoryUsage())
	}
}

// ---- policies ----

type policy struct {
	lru, lfu, ttl, random bool
	allKeys               bool
	none                  bool
}

func parsePolicy(name string) policy {
	p := policy{allKeys: strings.HasPrefix(name, "allkeys-")}
	switch {
	case name == "noeviction":
		p.none = true
	case strings.HasSuffix(name, "-lru"):
		p.lru = true
	case strings.HasSuffix(name, "-lfu"):
		p.lfu = true
	case strings.HasSuffix(name, "-random"):
		p.random = true
	case name == "volatile-ttl":
		p.ttl = true
	}
	return p
}

// ---- the eviction pool (Redis's EVPOOL) ----

const evictionPoolSize = 16

type poolEntry struct {
	idle uint64
	db   *database
	key  []byte
}

// idleScore is how good a candidate r is: higher is evicted first.
func (s *Server) idleScore(p policy, db *database, r Ref, expireAt int64) uint64 {
	switch {
	case p.lru:
		return uint64(s.idleTime(db, r))
	case p.lfu:
		return 255 - uint64(s.lfuDecrAndReturn(db, r))
	default: // volatile-ttl: the sooner it expires, the better
		return math.MaxUint64 - uint64(expireAt)
	}
}

// poolPopulate samples maxmemory-samples keys of db into the pool, which
// stays sorted by ascending idle score, as evictionPoolPopulate.
func (s *Server) poolPopulate(p policy, db *database) {
	n := max(s.cfg.MaxmemorySamples, 1)
	consider := func(r Ref, at int64) {
		idle := s.idleScore(p, db, r, at)
		pool := &s.evictionPool
		k := 0
		for k < evictionPoolSize && pool[k].key != nil && pool[k].idle < idle {
			k++
		}
		if k == 0 && pool[evictionPoolSize-1].key != nil {
			return // worse than everything in a full pool
		}
		switch {
		case k < evictionPoolSize && pool[k].key == nil:
			// An empty slot: insert here.
		case pool[evictionPoolSize-1].key == nil:
			// Room on the right: shift k.. right.
			copy(pool[k+1:], pool[k:evictionPoolSize-1])
		default:
			// Full: drop the worst (leftmost) entry, insert at k-1.
			k--
			copy(pool[:k], pool[1:k+1])
		}
		pool[k] = poolEntry{idle: idle, db: db, key: append([]byte(nil), db.kv.Key(r)...)}
	}
	if p.allKeys {
		db.kv.Sample(n, func(r Ref) bool {
			at, _ := db.kv.ExpireAt(r)
			consider(r, at)
			return true
		})
	} else {
		db.kv.SampleExpires(n, func(r Ref, at int64) bool {
			consider(r, at)
			return true
		})
	}
}

// bestCandidate refills the pool and takes its best entry whose key still
// exists.
func (s *Server) bestCandidate(p policy) (*database, Ref) {
	for attempt := 0; attempt < 8; attempt++ {
		total := 0
		for _, db := range s.dbs {
			size := db.kv.ExpiresLen()
			if p.allKeys {
				size = db.kv.Len()
			}
			if size > 0 {
				s.poolPopulate(p, db)
				total += size
			}
		}
		if total == 0 {
			return nil, 0
		}
		for k := evictionPoolSize - 1; k >= 0; k-- {
			e := &s.evictionPool[k]
			if e.key == nil {
				continue
			}
			db, key := e.db, e.key
			*e = poolEntry{}
			r := db.kv.Lookup(key)
			if r == 0 || (!p.allKeys && !db.kv.HasExpire(r)) {
				continue
			}
			return db, r
		}
	}
	return nil, 0
}

// randomCandidate picks a random key, visiting databases round robin.
func (s *Server) randomCandidate(p policy) (*database, Ref) {
	for i := 0; i < len(s.dbs); i++ {
		s.evictNextDB = (s.evictNextDB + 1) % len(s.dbs)
		db := s.dbs[s.evictNextDB]
		if p.allKeys {
			if r := db.kv.Random(); r != 0 {
				return db, r
			}
			continue
		}
		if db.kv.ExpiresLen() == 0 {
			continue
		}
		skip := rand.IntN(min(db.kv.ExpiresLen(), 64))
		var pick Ref
		db.kv.SampleExpires(skip+1, func(r Ref, _ int64) bool {
			pick = r
			return true
		})
		if pick != 0 {
			return db, pick
		}
	}
	return nil, 0
}

// evictionTimeLimit is how long one call may evict, from
// maxmemory-eviction-tenacity, as Redis's evictionTimeLimitUs.
func (s *Server) evictionTimeLimit() time.Duration {
	t := s.cfg.MaxmemoryEvictionTenacity
	switch {
	case t <= 10:
		return time.Duration(50*t) * time.Microsecond
	case t < 100:
		return time.Duration(500*math.Pow(1.15, float64(t-10))) * time.Microsecond
	}
	return time.Duration(math.MaxInt64)
}

// performEvictions evicts keys until used memory is under maxmemory or the
// time budget runs out, as Redis's performEvictions.
func (s *Server) performEvictions() evictResult {
	if s.cfg.Maxmemory == 0 {
		return evictOK
	}
	used := s.usedMemory()
	if used <= s.cfg.Maxmemory {
		s.evictionRunning = false
		return evictOK
	}
	p := parsePolicy(s.cfg.MaxmemoryPolicy)
	if p.none {
		return evictFail
	}
	start := time.Now()
	limit := s.evictionTimeLimit()
	for keys := 0; used > s.cfg.Maxmemory; keys++ {
		var db *database
		var r Ref
		if p.random {
			db, r = s.randomCandidate(p)
		} else {
			db, r = s.bestCandidate(p)
		}
		if db == nil {
			return evictFail
		}
		s.evictKey(db, r)
		used = s.usedMemory()
		if keys%16 == 15 && time.Since(start) > limit {
			// Go on in the cron rather than stall this command.
			s.evictionRunning = true
			return evictRunning
		}
	}
	s.evictionRunning = false
	return evictOK
}

// evictKey deletes r as Redis evicts: "evicted" event, DEL propagated,
// watchers told, counted.
func (s *Server) evictKey(db *database, r Ref) {
	key := append(s.evictKeyBuf[:0], db.kv.Key(r)...)
	s.evictKeyBuf = key
	db.kv.Delete(r)
	s.stats.evictedKeys++
	s.notify(db, notifyEvicted, "evicted", key)
	s.signalModifiedKey(db, key)
	s.propagateDel(db, key)
}

// oomError is Redis's reply to a denyoom command over maxmemory.
const oomError = "OOM command not allowed when used memory > 'maxmemory'."

// applyMemoryLimit steers the Go runtime by maxmemory: the soft memory
// limit makes the GC work harder as the heap nears it, so the process stays
// within a bounded multiple of maxmemory (freed values are garbage until the
// next cycle); without maxmemory the runtime's defaults apply.
func (s *Server) applyMemoryLimit(c *config.Config) error {
	if c.Maxmemory <= 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		debug.SetGCPercent(100)
		return nil
	}
	limit := c.Maxmemory + c.Maxmemory/4 + 32<<20
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(50)
	if s.usedMemory() > c.Maxmemory {
		s.log.Warn("WARNING: the new maxmemory value set via CONFIG SET is smaller than the current memory usage. This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.",
			"maxmemory", c.Maxmemory, "used_memory", s.usedMemory())
	}
	return nil
}

// clientsMemoryLimit is maxmemory-clients in bytes (a percentage of
// maxmemory when negative), 0 for no limit.
func (s *Server) clientsMemoryLimit() int64 {
	lim := s.cfg.MaxmemoryClients
	if lim < 0 {
		return s.cfg.Maxmemory * -lim / 100
	}
	return lim
}

// evictClients closes the clients using the most memory while all clients
// together use more than maxmemory-clients, as Redis 7's client eviction;
// clients with CLIENT NO-EVICT on are spared.
func (s *Server) evictClients() {
	limit := s.clientsMemoryLimit()
	if limit <= 0 || s.clientsMemory <= limit {
		return
	}
	type sized struct {
		c   *Client
		mem int64
	}
	var list []sized
	for _, c := range s.clients {
		if !c.noEvict && !c.killed {
			list = append(list, sized{c, c.memory()})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].mem > list[j].mem })
	total := s.clientsMemory
	for _, it := range list {
		if total <= limit {
			break
		}
		s.log.Info("Evicting client", "id", it.c.id, "addr", it.c.conn.RemoteAddr(), "tot-mem", it.mem)
		it.c.killed = true
		it.c.conn.Close()
		s.stats.evictedClients++
		total -= it.mem
	}
}
