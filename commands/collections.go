package commands

import "spinel/commands/keyspace"

// ---------------------------------------------------------------------------
// Helpers shared by the collection types (hash, list, set, sorted set,
// stream). Every command reaches its value through these, so type checks,
// lazy expiry, statistics and key creation/deletion rules live in one place.
// ---------------------------------------------------------------------------

// readObject looks key up for reading. It returns (nil, 0, true) when the key
// does not exist, and ok=false after replying WRONGTYPE when it holds another
// type.
func (s *Server) readObject(c *Client, key []byte, t keyspace.Type) (Object, Ref, bool) {
	r := s.lookupRead(c, key)
	if r == 0 {
		return nil, 0, true
	}
	if c.db.kv.Type(r) != t {
		c.addError(ErrWrongType)
		return nil, 0, false
	}
	return c.db.kv.Object(r).(Object), r, true
}

// writeObject is readObject for commands that modify the value.
func (s *Server) writeObject(c *Client, key []byte, t keyspace.Type) (Object, Ref, bool) {
	r := s.lookupWrite(c, key)
	if r == 0 {
		return nil, 0, true
	}
	if c.db.kv.Type(r) != t {
		c.addError(ErrWrongType)
		return nil, 0, false
	}
	return c.db.kv.Object(r).(Object), r, true
}

// addObject creates key, which must not exist (call lookupWrite first),
// holding obj of type t.
func (s *Server) addObject(db *database, key []byte, t keyspace.Type, obj Object) Ref {
	r := db.kv.AddObject(key, t, obj, s.newKeyLRU())
	s.keyCreated(db, key)
	s.noteObjectChange(db, key)
	return r
}

// replaceObject makes key hold obj of type t, replacing any value of any
// type and dropping its TTL (the ...STORE commands), as Redis's setKey.
func (s *Server) replaceObject(db *database, key []byte, t keyspace.Type, obj Object) Ref {
	if r := s.lookupWriteDB(db, key, false); r != 0 {
		// An overwrite is not a new key: no "new" event.
		db.kv.Delete(r)
		nr := db.kv.AddObject(key, t, obj, s.newKeyLRU())
		s.noteObjectChange(db, key)
		return nr
	}
	return s.addObject(db, key, t, obj)
}

// deleteIfEmpty removes key r when its collection became empty, as every
// Redis collection command does, and sends the "del" event. It reports
// whether the key went.
func (s *Server) deleteIfEmpty(db *database, r Ref, key []byte, n int) bool {
	if n > 0 {
		return false
	}
	db.kv.Delete(r)
	s.notify(db, notifyGeneric, "del", key)
	return true
}
