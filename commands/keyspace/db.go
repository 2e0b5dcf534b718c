package keyspace

// Type is the type of a key's value, as TYPE reports it.
type Type uint8

// Value types.
const (
	TypeNone Type = iota
	TypeString
	TypeList
	TypeSet
	TypeZSet
	TypeHash
	TypeStream
)

var typeNames = [...]string{"none", "string", "list", "set", "zset", "hash", "stream"}

// String returns the name TYPE replies with.
func (t Type) String() string { return typeNames[t] }

// StrEnc is the encoding of a string value, as OBJECT ENCODING reports it.
type StrEnc uint8

// String encodings.
const (
	EncRaw StrEnc = iota
	EncInt
	EncEmbstr
)

var strEncNames = [...]string{"raw", "int", "embstr"}

// String returns the name OBJECT ENCODING replies with.
func (e StrEnc) String() string { return strEncNames[e] }

// Entry meta word layout: LRU clock or LFU data in the low 24 bits (as Redis's
// robj.lru), then the type, the has-expire flag and the string encoding.
const (
	lruBits     = 24
	LRUMask     = 1<<lruBits - 1
	typeShift   = 24
	typeMask    = 0xf << typeShift
	expireFlag  = 1 << 28
	encShift    = 29
	encMask     = 0x3 << encShift
	snapMark    = 1 << 31 // see BeforeChange
	noObjectIdx = 0
)

// Ref names a key of a DB. It stays valid until that key is deleted; the
// numbers of deleted keys are reused.
type Ref = uint32

// DB is one numbered database: keys, their values and their expiry times.
// String values live in the DB's arena; other types are Go objects kept in a
// side table. The executor goroutine owns a DB: it has no locks.
type DB struct {
	arena   *Arena
	dict    *Dict
	expires map[Ref]int64 // unix ms of keys that have a TTL
	objects []any         // values of non-string keys; slot 0 unused
	objSize []int64       // last known heap bytes of each object, by slot
	freeObj []uint32
	// objBytes is the sum of objSize: what the non-string values cost.
	objBytes int64

	// Point-in-time snapshots (AOF rewrite). Every entry carries a mark
	// bit; an entry whose bit equals mark is "done": created after the
	// snapshot began or already written out. While a snapshot runs,
	// BeforeChange is called with a not-done key just before its value,
	// TTL or existence changes, so the snapshot can take it first.
	mark         uint32
	BeforeChange func(r Ref)
}

// beforeChange lets a running snapshot take r before it changes.
func (db *DB) beforeChange(r Ref) {
	if db.BeforeChange != nil && db.dict.Meta(r)&snapMark != db.mark {
		db.BeforeChange(r)
	}
}

// StartSnapshot flips the mark: every existing entry becomes not-done.
func (db *DB) StartSnapshot() { db.mark ^= snapMark }

// Snapshotted reports whether r is done for the running snapshot.
func (db *DB) Snapshotted(r Ref) bool { return db.dict.Meta(r)&snapMark == db.mark }

// MarkSnapshotted records that r has been written out.
func (db *DB) MarkSnapshotted(r Ref) {
	db.dict.SetMeta(r, db.dict.Meta(r)&^snapMark|db.mark)
}

// NewDB returns an empty database.
func NewDB() *DB {
	a := NewArena()
	return &DB{arena: a, dict: NewDict(a), expires: map[Ref]int64{}, objects: make([]any, 1), objSize: make([]int64, 1)}
}

// Len returns the number of keys, expired ones not yet removed included.
func (db *DB) Len() int { return db.dict.Len() }

// ExpiresLen returns the number of keys with a TTL.
func (db *DB) ExpiresLen() int { return len(db.expires) }

// Lookup returns the key's Ref, or 0. It does not look at expiry times.
func (db *DB) Lookup(key []byte) Ref { return db.dict.Find(key) }

// Key returns the name of r.
func (db *DB) Key(r Ref) []byte { return db.dict.Key(r) }

// Type returns the type of r.
func (db *DB) Type(r Ref) Type { return Type(db.dict.Meta(r) & typeMask >> typeShift) }

// Str returns the value of string key r; valid until r changes.
func (db *DB) Str(r Ref) []byte { return db.dict.Value(r) }

// StrEncoding returns the encoding of string key r.
func (db *DB) StrEncoding(r Ref) StrEnc { return StrEnc(db.dict.Meta(r) & encMask >> encShift) }

// Object returns the value of non-string key r.
func (db *DB) Object(r Ref) any { return db.objects[db.dict.Obj(r)] }

// LRU returns the 24-bit LRU clock or LFU data of r.
func (db *DB) LRU(r Ref) uint32 { return db.dict.Meta(r) & LRUMask }

// SetLRU stores the 24-bit LRU clock or LFU data of r.
func (db *DB) SetLRU(r Ref, v uint32) {
	db.dict.SetMeta(r, db.dict.Meta(r)&^LRUMask|v&LRUMask)
}

func (db *DB) setMeta(r Ref, t Type, enc StrEnc) {
	m := db.dict.Meta(r) &^ (typeMask | encMask)
	db.dict.SetMeta(r, m|uint32(t)<<typeShift|uint32(enc)<<encShift)
}

// SetStr makes key a string holding val, creating it or overwriting any
// value of any type. The TTL is dropped unless keepTTL. lru is stored for a
// new key; an overwritten key keeps its own.
func (db *DB) SetStr(key, val []byte, enc StrEnc, keepTTL bool, lru uint32) Ref {
	h := Hash(key)
	r := db.dict.FindHash(key, h)
	if r == 0 {
		r = db.dict.AddHash(key, val, h)
		db.dict.SetMeta(r, lru&LRUMask|db.mark)
		db.setMeta(r, TypeString, enc)
		return r
	}
	db.beforeChange(r)
	db.dropObject(r)
	db.dict.SetValue(r, val)
	db.setMeta(r, TypeString, enc)
	if !keepTTL {
		db.Persist(r)
	}
	return r
}

// ReplaceStr makes existing key r a string holding val, as SetStr does for
// a key it finds, without looking it up again.
func (db *DB) ReplaceStr(r Ref, val []byte, enc StrEnc, keepTTL bool) {
	db.beforeChange(r)
	db.dropObject(r)
	db.dict.SetValue(r, val)
	db.setMeta(r, TypeString, enc)
	if !keepTTL {
		db.Persist(r)
	}
}

// UpdateStr replaces the value of string key r, keeping its TTL.
func (db *DB) UpdateStr(r Ref, val []byte, enc StrEnc) {
	db.beforeChange(r)
	db.dict.SetValue(r, val)
	db.setMeta(r, TypeString, enc)
}

// GrowStr resizes the value of string key r to n bytes (zero-filled beyond
// the old end) and returns it for writing, keeping its TTL.
func (db *DB) GrowStr(r Ref, n int, enc StrEnc) []byte {
	db.beforeChange(r)
	v := db.dict.GrowValue(r, n)
	db.setMeta(r, TypeString, enc)
	return v
}

// AddObject creates key, which must not exist, holding obj of type t.
func (db *DB) AddObject(key []byte, t Type, obj any, lru uint32) Ref {
	r := db.dict.Add(key, nil)
	db.dict.SetMeta(r, lru&LRUMask|db.mark)
	db.setMeta(r, t, EncRaw)
	db.dict.SetObj(r, db.newObjectSlot(obj))
	return r
}

// SetObject makes existing key r hold obj of type t, keeping its TTL.
func (db *DB) SetObject(r Ref, t Type, obj any) {
	db.beforeChange(r)
	if slot := db.dict.Obj(r); slot != noObjectIdx {
		db.objects[slot] = obj
	} else {
		db.dict.SetValue(r, nil)
		db.dict.SetObj(r, db.newObjectSlot(obj))
	}
	db.setMeta(r, t, EncRaw)
}

func (db *DB) newObjectSlot(obj any) uint32 {
	if n := len(db.freeObj); n > 0 {
		slot := db.freeObj[n-1]
		db.freeObj = db.freeObj[:n-1]
		db.objects[slot] = obj
		return slot
	}
	db.objects = append(db.objects, obj)
	db.objSize = append(db.objSize, 0)
	return uint32(len(db.objects) - 1)
}

func (db *DB) dropObject(r Ref) {
	slot := db.dict.Obj(r)
	if slot == noObjectIdx {
		return
	}
	db.objects[slot] = nil
	db.objBytes -= db.objSize[slot]
	db.objSize[slot] = 0
	db.freeObj = append(db.freeObj, slot)
	db.dict.SetObj(r, noObjectIdx)
}

// SetObjectSize records what the value of object key r costs, as measured
// by its owner after a change; Memory sums these.
func (db *DB) SetObjectSize(r Ref, n int64) {
	slot := db.dict.Obj(r)
	if slot == noObjectIdx {
		return
	}
	db.objBytes += n - db.objSize[slot]
	db.objSize[slot] = n
}

// ObjectCount returns the number of keys holding non-string values.
func (db *DB) ObjectCount() int { return len(db.objects) - 1 - len(db.freeObj) }

// ObjectSize returns the recorded size of object key r.
func (db *DB) ObjectSize(r Ref) int64 {
	if slot := db.dict.Obj(r); slot != noObjectIdx {
		return db.objSize[slot]
	}
	return 0
}

// Delete removes key r with its value and TTL.
func (db *DB) Delete(r Ref) {
	db.beforeChange(r)
	db.dropObject(r)
	if db.dict.Meta(r)&expireFlag != 0 {
		delete(db.expires, r)
	}
	db.dict.Delete(r)
}

// Rename gives the value, TTL and LRU of key r to newKey, which must not
// exist, and removes r. It returns newKey's Ref.
func (db *DB) Rename(r Ref, newKey []byte) Ref {
	db.beforeChange(r)
	meta, slot := db.dict.Meta(r), db.dict.Obj(r)
	nr := db.dict.Add(newKey, db.dict.Value(r))
	db.dict.SetMeta(nr, meta&^snapMark|db.mark) // a new key: not in the snapshot
	db.dict.SetObj(nr, slot)
	if meta&expireFlag != 0 {
		db.expires[nr] = db.expires[r]
		delete(db.expires, r)
	}
	db.dict.SetObj(r, noObjectIdx)
	db.dict.Delete(r)
	return nr
}

// ExpireAt returns the expiry time of r in unix milliseconds, if it has one.
func (db *DB) ExpireAt(r Ref) (int64, bool) {
	if db.dict.Meta(r)&expireFlag == 0 {
		return 0, false
	}
	return db.expires[r], true
}

// HasExpire reports whether r has a TTL, without a map lookup.
func (db *DB) HasExpire(r Ref) bool { return db.dict.Meta(r)&expireFlag != 0 }

// SetExpireAt sets the expiry time of r in unix milliseconds.
func (db *DB) SetExpireAt(r Ref, ms int64) {
	db.beforeChange(r)
	db.dict.SetMeta(r, db.dict.Meta(r)|expireFlag)
	db.expires[r] = ms
}

// Persist removes the TTL of r and reports whether it had one.
func (db *DB) Persist(r Ref) bool {
	m := db.dict.Meta(r)
	if m&expireFlag == 0 {
		return false
	}
	db.beforeChange(r)
	m = db.dict.Meta(r)
	db.dict.SetMeta(r, m&^expireFlag)
	delete(db.expires, r)
	return true
}

// Scan is Redis's SCAN step over the keys: it calls fn for the keys in the
// buckets named by cursor and returns the next cursor (0 when done). fn must
// not change the DB.
func (db *DB) Scan(cursor uint64, fn func(Ref)) uint64 { return db.dict.Scan(cursor, fn) }

// Random returns a random key, or 0 when the DB is empty.
func (db *DB) Random() Ref { return db.dict.Random() }

// Sample calls fn for up to n keys from a random spot of the keyspace. fn
// returns false to stop; it must not change the DB.
func (db *DB) Sample(n int, fn func(Ref) bool) { db.dict.Sample(n, fn) }

// SampleExpires calls fn for up to n keys with a TTL, starting from a random
// point. fn returns false to stop; it must not change the DB.
func (db *DB) SampleExpires(n int, fn func(r Ref, at int64) bool) {
	for r, at := range db.expires {
		if n <= 0 || !fn(r, at) {
			return
		}
		n--
	}
}

// Each calls fn for every key until fn returns false. fn must not change the DB.
func (db *DB) Each(fn func(Ref) bool) { db.dict.Each(fn) }

// Flush removes every key.
func (db *DB) Flush() {
	db.arena.Reset()
	db.dict = NewDict(db.arena)
	db.expires = map[Ref]int64{}
	db.objects = make([]any, 1)
	db.objSize = make([]int64, 1)
	db.objBytes = 0
	db.freeObj = nil
}

// Cron does the DB's periodic housekeeping within a budget of n rehash
// steps: it starts shrinking a table that became sparse and advances an
// incremental rehash. It reports whether rehash work remains.
func (db *DB) Cron(n int) bool {
	db.dict.ShrinkIfNeeded()
	return db.dict.Rehash(n)
}

// Memory returns the bytes the DB holds for keys, string values and its
// indexes (objects of other types are accounted by their owners).
//
// It counts what live data occupies (arena chunks in use, one entry and one
// bucket per key, expiry records, recorded object sizes) rather than what is
// reserved, so that deleting a key lowers it at once: eviction relies on
// that, as Redis's used_memory relies on the allocator's allocated bytes.
func (db *DB) Memory() int64 {
	n := int64(db.dict.Len())
	return db.arena.Allocated() + n*(entrySize+bucketSize) +
		int64(len(db.expires))*expireRecordSize + int64(cap(db.objects))*24 + db.objBytes
}

// Approximate per-key index costs: a dict entry, a bucket slot at load
// factor about 1, and a record in the expires map.
const (
	entrySize        = 24
	bucketSize       = 4
	expireRecordSize = 24
)

// Reserved returns the heap bytes the DB holds for its keys and strings,
// including free space kept for reuse.
func (db *DB) Reserved() int64 {
	return db.arena.Reserved() + db.dict.MemoryOverhead() +
		int64(len(db.expires))*expireRecordSize + int64(cap(db.objects))*24 + db.objBytes
}

// KeyMemory returns the bytes key r costs in the keyspace itself: its entry,
// blob and TTL record.
func (db *DB) KeyMemory(r Ref) int64 {
	n := int64(entrySize+bucketSize) + int64(db.dict.BlobSize(r)) + db.ObjectSize(r)
	if db.HasExpire(r) {
		n += expireRecordSize
	}
	return n
}
