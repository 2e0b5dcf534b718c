package commands

import (
	"math"
	"math/big"
	"unsafe"

	"spinel/commands/keyspace"
)

var hashCommands = []cmdDef{
	{"hset", cmdHset, 0},
	{"hmset", cmdHset, 0},
	{"hsetnx", cmdHsetnx, 0},
	{"hget", cmdHget, 0},
	{"hmget", cmdHmget, 0},
	{"hdel", cmdHdel, 0},
	{"hexists", cmdHexists, 0},
	{"hlen", cmdHlen, 0},
	{"hstrlen", cmdHstrlen, 0},
	{"hkeys", cmdHkeys, 0},
	{"hvals", cmdHvals, 0},
	{"hgetall", cmdHgetall, 0},
	{"hincrby", cmdHincrby, 0},
	{"hincrbyfloat", cmdHincrbyfloat, 0},
	{"hrandfield", cmdHrandfield, 0},
	{"hscan", cmdHscan, 0},
}

// ---------------------------------------------------------------------------
// The hash value, as Redis's t_hash.c: a listpack of field, value, field,
// value... while the hash has at most hash-max-listpack-entries fields and
// no field or value longer than hash-max-listpack-value bytes, a strTable
// after. Like Redis 7.0 it never converts back.
// ---------------------------------------------------------------------------

// hashObject is a hash value. Exactly one encoding is in use: ht when not
// nil, lp otherwise.
type hashObject struct {
	lp listpack
	ht *strTable
}

// lpSafeLimit is Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack that would
// grow past it converts to a hash table whatever the thresholds.
const lpSafeLimit = 1 << 30

// Encoding implements Object.
func (h *hashObject) Encoding() string {
	if h.ht != nil {
		return "hashtable"
	}
	return "listpack"
}

// Len implements Object: the number of fields.
func (h *hashObject) Len() int {
	if h.ht != nil {
		return h.ht.Len()
	}
	return h.lp.Len() / 2
}

// Copy implements Object.
func (h *hashObject) Copy() Object {
	if h.ht != nil {
		return &hashObject{ht: h.ht.Clone()}
	}
	return &hashObject{lp: h.lp.Clone()}
}

// MemoryUsage implements Object.
func (h *hashObject) MemoryUsage() int64 {
	const self = int64(unsafe.Sizeof(hashObject{}))
	if h.ht != nil {
		return self + h.ht.MemoryUsage()
	}
	return self + h.lp.MemoryUsage()
}

// Rewrite implements Object: HMSET key with at most 64 pairs per command,
// as Redis's rewriteHashObject.
func (h *hashObject) Rewrite(key []byte, emit func(argv [][]byte)) {
	const perCmd = 64
	argv := make([][]byte, 0, 2+2*perCmd)
	argv = append(argv, []byte("HMSET"), key)
	h.each(func(f, v []byte) bool {
		argv = append(argv, f, v)
		if len(argv) == 2+2*perCmd {
			emit(argv)
			argv = argv[:2]
		}
		return true
	})
	if len(argv) > 2 {
		emit(argv)
	}
}

// strBytes views an immutable string as bytes, for replies and comparisons
// that only read. The result must never be written to.
func strBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// get returns field's value. The bytes alias the hash: they are valid until
// it changes and must not be written to.
func (h *hashObject) get(field []byte) ([]byte, bool) {
	if h.ht != nil {
		i := h.ht.Find(field)
		if i < 0 {
			return nil, false
		}
		return strBytes(h.ht.Entry(i).val()), true
	}
	off := h.lp.Find(field, 0, 1)
	if off < 0 {
		return nil, false
	}
	v, _ := h.lp.Entry(h.lp.Next(off))
	return v, true
}

// exists reports whether field is present.
func (h *hashObject) exists(field []byte) bool {
	if h.ht != nil {
		return h.ht.Find(field) >= 0
	}
	return h.lp.Find(field, 0, 1) >= 0
}

// each calls fn with every field and value, in the encoding's order, until
// fn returns false. The bytes are only valid during the call.
func (h *hashObject) each(fn func(field, val []byte) bool) {
	if h.ht != nil {
		for i := range h.ht.ents {
			e := &h.ht.ents[i]
			if !fn(strBytes(e.key()), strBytes(e.val())) {
				return
			}
		}
		return
	}
	for off := 0; off < h.lp.End(); {
		f, next := h.lp.Entry(off)
		v, next := h.lp.Entry(next)
		if !fn(f, v) {
			return
		}
		off = next
	}
}

// convert switches a listpack hash to a hash table, as hashTypeConvert.
func (h *hashObject) convert() {
	if h.ht != nil {
		return
	}
	t := newStrTable(h.lp.Len() / 2)
	h.each(func(f, v []byte) bool {
		t.AddString(string(f), string(v))
		return true
	})
	h.ht = t
	h.lp = listpack{}
}

// tryConversion converts a listpack hash before args are added when one of
// them is longer than hash-max-listpack-value or they would make the
// listpack unsafely large, as Redis's hashTypeTryConversion.
func (h *hashObject) tryConversion(s *Server, args [][]byte) {
	if h.ht != nil {
		return
	}
	sum := 0
	for _, a := range args {
		if len(a) > s.cfg.HashMaxListpackValue {
			h.convert()
			return
		}
		sum += len(a)
	}
	if h.lp.Bytes()+sum > lpSafeLimit {
		h.convert()
	}
}

// set stores field = val and reports whether the field is new, converting
// the encoding as Redis's hashTypeSet does: before, for a long field or
// value; after any write, past hash-max-listpack-entries.
func (h *hashObject) set(s *Server, field, val []byte) bool {
	if h.ht == nil && (len(field) > s.cfg.HashMaxListpackValue || len(val) > s.cfg.HashMaxListpackValue) {
		h.convert()
	}
	if h.ht != nil {
		return h.ht.Set(field, val)
	}
	created := true
	if off := h.lp.Find(field, 0, 1); off >= 0 {
		h.lp.Replace(h.lp.Next(off), val)
		created = false
	} else {
		h.lp.Append(field, val)
	}
	// Checked after updates too: the threshold may have been lowered by
	// CONFIG SET since the hash was built.
	if h.lp.Len()/2 > s.cfg.HashMaxListpackEntries {
		h.convert()
	}
	return created
}

// del removes field and reports whether it was there.
func (h *hashObject) del(field []byte) bool {
	if h.ht != nil {
		return h.ht.Delete(field)
	}
	off := h.lp.Find(field, 0, 1)
	if off < 0 {
		return false
	}
	h.lp.Delete(off, 2)
	return true
}

// ---------------------------------------------------------------------------
// Lookups.
// ---------------------------------------------------------------------------

// readHash looks key up for reading: (nil, true) when missing, ok=false
// after a WRONGTYPE reply.
func (s *Server) readHash(c *Client, key []byte) (*hashObject, bool) {
	o, _, ok := s.readObject(c, key, keyspace.TypeHash)
	if !ok || o == nil {
		return nil, ok
	}
	return o.(*hashObject), true
}

// hashLookupWriteOrCreate returns the hash at key, creating an empty one
// when missing, as Redis's hashTypeLookupWriteOrCreate.
func (s *Server) hashLookupWriteOrCreate(c *Client, key []byte) (*hashObject, Ref, bool) {
	o, r, ok := s.writeObject(c, key, keyspace.TypeHash)
	if !ok {
		return nil, 0, false
	}
	if o == nil {
		h := &hashObject{}
		r = s.addObject(c.db, key, keyspace.TypeHash, h)
		return h, r, true
	}
	return o.(*hashObject), r, true
}

// hashChanged does the bookkeeping after a write to the hash at key.
func (s *Server) hashChanged(c *Client, key []byte, event string, dirty int64) {
	s.signalModifiedKey(c.db, key)
	s.notify(c.db, notifyHash, event, key)
	s.dirty += dirty
}

// ---------------------------------------------------------------------------
// Commands.
// ---------------------------------------------------------------------------

// cmdHset is HSET and the deprecated HMSET, which differ only in the reply.
func cmdHset(c *Client, args [][]byte) {
	s := c.srv
	if len(args)%2 == 1 {
		c.addErrorArity(c.cmd.FullName)
		return
	}
	h, _, ok := s.hashLookupWriteOrCreate(c, args[1])
	if !ok {
		return
	}
	h.tryConversion(s, args[2:])
	created := int64(0)
	for i := 2; i < len(args); i += 2 {
		if h.set(s, args[i], args[i+1]) {
			created++
		}
	}
	if c.cmd.FullName == "hset" {
		c.addInt(created)
	} else {
		c.addOK()
	}
	s.hashChanged(c, args[1], "hset", int64(len(args)-2)/2)
}

func cmdHsetnx(c *Client, args [][]byte) {
	s := c.srv
	h, _, ok := s.hashLookupWriteOrCreate(c, args[1])
	if !ok {
		return
	}
	if h.exists(args[2]) {
		c.addInt(0)
		return
	}
	h.tryConversion(s, args[2:4])
	h.set(s, args[2], args[3])
	c.addInt(1)
	s.hashChanged(c, args[1], "hset", 1)
}

func cmdHget(c *Client, args [][]byte) {
	h, ok := c.srv.readHash(c, args[1])
	if !ok {
		return
	}
	if h == nil {
		c.addNull()
		return
	}
	if v, found := h.get(args[2]); found {
		c.addBulk(v)
	} else {
		c.addNull()
	}
}

func cmdHmget(c *Client, args [][]byte) {
	h, ok := c.srv.readHash(c, args[1])
	if !ok {
		return
	}
	c.addArrayLen(len(args) - 2)
	for _, f := range args[2:] {
		if h == nil {
			c.addNull()
			continue
		}
		if v, found := h.get(f); found {
			c.addBulk(v)
		} else {
			c.addNull()
		}
	}
}

func cmdHdel(c *Client, args [][]byte) {
	s := c.srv
	key := args[1]
	o, r, ok := s.writeObject(c, key, keyspace.TypeHash)
	if !ok {
		return
	}
	if o == nil {
		c.addInt(0)
		return
	}
	h := o.(*hashObject)
	deleted := int64(0)
	for _, f := range args[2:] {
		if h.del(f) {
			deleted++
			if h.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		removed := h.Len() == 0
		if removed {
			c.db.kv.Delete(r)
		}
		s.hashChanged(c, key, "hdel", deleted)
		if removed {
			s.notify(c.db, notifyGeneric, "del", key)
		}
	}
	c.addInt(deleted)
}

func cmdHexists(c *Client, args [][]byte) {
	h, ok := c.srv.readHash(c, args[1])
	if !ok {
		return
	}
	if h != nil && h.exists(args[2]) {
		c.addInt(1)
	} else {
		c.addInt(0)
	}
}

func cmdHlen(c *Client, args [][]byte) {
	h, ok := c.srv.readHash(c, args[1])
	if !ok {
		return
	}
	if h == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(h.Len()))
}

func cmdHstrlen(c *Client, args [][]byte) {
	h, ok := c.srv.readHash(c, args[1])
	if !ok {
		return
	}
	var n int
	if h != nil {
		v, _ := h.get(args[2])
		n = len(v)
	}
	c.addInt(int64(n))
}

// Which parts of each pair hgetallGeneric replies with.
const (
	hashKeys = 1 << iota
	hashVals
)

// hgetallGeneric is HKEYS, HVALS and HGETALL: a map for keys and values, a
// flat array otherwise.
func hgetallGeneric(c *Client, key []byte, what int) {
	h, ok := c.srv.readHash(c, key)
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if what == hashKeys|hashVals {
		c.addMapLen(n)
	} else {
		c.addArrayLen(n)
	}
	if h == nil {
		return
	}
	h.each(func(f, v []byte) bool {
		if what&hashKeys != 0 {
			c.addBulk(f)
		}
		if what&hashVals != 0 {
			c.addBulk(v)
		}
		return true
	})
}

func cmdHkeys(c *Client, args [][]byte)   { hgetallGeneric(c, args[1], hashKeys) }
func cmdHvals(c *Client, args [][]byte)   { hgetallGeneric(c, args[1], hashVals) }
func cmdHgetall(c *Client, args [][]byte) { hgetallGeneric(c, args[1], hashKeys|hashVals) }

func cmdHincrby(c *Client, args [][]byte) {
	s := c.srv
	incr, ok := c.getInt(args[3])
	if !ok {
		return
	}
	h, _, ok := s.hashLookupWriteOrCreate(c, args[1])
	if !ok {
		return
	}
	var value int64
	if cur, found := h.get(args[2]); found {
		if value, ok = parseInt(cur); !ok {
			c.addError("ERR hash value is not an integer")
			return
		}
	}
	if (incr < 0 && value < 0 && incr < math.MinInt64-value) ||
		(incr > 0 && value > 0 && incr > math.MaxInt64-value) {
		c.addError(ErrOverflow)
		return
	}
	value += incr
	var buf [24]byte
	h.set(s, args[2], formatInt(buf[:], value))
	c.addInt(value)
	s.hashChanged(c, args[1], "hincrby", 1)
}

func cmdHincrbyfloat(c *Client, args [][]byte) {
	s := c.srv
	incr, ok := parseLongDouble(args[3])
	if !ok {
		c.addError(ErrNotFloat)
		return
	}
	if incr.IsInf() {
		c.addError("ERR value is NaN or Infinity")
		return
	}
	h, _, ok := s.hashLookupWriteOrCreate(c, args[1])
	if !ok {
		return
	}
	value := new(big.Float).SetPrec(longDoublePrec)
	if cur, found := h.get(args[2]); found {
		if value, ok = parseLongDouble(cur); !ok {
			c.addError("ERR hash value is not a float")
			return
		}
	}
	sum, ok := addLongDouble(value, incr)
	if !ok {
		c.addError("ERR increment would produce NaN or Infinity")
		return
	}
	out := formatLongDouble(sum)
	h.set(s, args[2], out)
	c.addBulk(out)
	s.hashChanged(c, args[1], "hincrbyfloat", 1)
	// Replicate the result, not the increment, so that float formatting
	// can never make a replica or a reloaded AOF diverge.
	c.propagateAs(wordHset, args[1], args[2], out)
}

// cmdHrandfield is HRANDFIELD key [count [WITHVALUES]], as Redis's
// hrandfieldCommand and hrandfieldWithCountCommand.
func cmdHrandfield(c *Client, args [][]byte) {
	s := c.srv
	if len(args) < 3 {
		h, ok := s.readHash(c, args[1])
		if !ok {
			return
		}
		if h == nil {
			c.addNull()
			return
		}
		f, _ := h.pair(h.randomIndex())
		c.addBulk(f)
		return
	}
	l, ok := c.getRangeLongOrReply(args[2], -math.MaxInt64, math.MaxInt64, "")
	if !ok {
		return
	}
	withValues := false
	if len(args) > 4 || (len(args) == 4 && !equalFold(args[3], "withvalues")) {
		c.addError(ErrSyntax)
		return
	} else if len(args) == 4 {
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.addError("ERR value is out of range")
			return
		}
	}
	h, ok := s.readHash(c, args[1])
	if !ok {
		return
	}
	if h == nil {
		c.addEmptyArray()
		return
	}
	count, uniq := uint64(l), true
	if l < 0 {
		count, uniq = uint64(-l), false
	}
	if count == 0 {
		c.addEmptyArray()
		return
	}
	size := uint64(h.Len())
	flat := withValues && c.resp == 2
	nested := withValues && c.resp > 2
	// Index a listpack once: pairs are then drawn in O(1).
	var offs []int
	if h.ht == nil {
		offs = h.lp.Offsets(make([]int, 0, h.lp.Len()))
	}
	reply := func(i int) {
		var f, v []byte
		if offs != nil {
			f, _ = h.lp.Entry(offs[2*i])
			v, _ = h.lp.Entry(offs[2*i+1])
		} else {
			f, v = h.pair(i)
		}
		if nested {
			c.addArrayLen(2)
		}
		c.addBulk(f)
		if withValues {
			c.addBulk(v)
		}
	}

	// Case 1: a negative count (or 1) samples the whole hash every time,
	// repeats allowed.
	if !uniq || count == 1 {
		mark := c.replyMark()
		if flat {
			c.addArrayLen(int(count * 2))
		} else {
			c.addArrayLen(int(count))
		}
		for ; count > 0; count-- {
			reply(h.randomIndex())
			if c.replyTooLarge(mark) {
				return
			}
		}
		return
	}
	n := min(count, size)
	if flat {
		c.addArrayLen(int(n * 2))
	} else {
		c.addArrayLen(int(n))
	}
	// Case 2: asking for at least the whole hash returns it all, in order.
	if count >= size {
		for i := 0; i < int(size); i++ {
			reply(i)
		}
		return
	}
	// Cases 3 and 4: distinct random fields.
	for _, i := range randomDistinct(int(size), int(count)) {
		reply(i)
	}
}

// pair returns field and value number i in the encoding's order. For a
// listpack this walks the entries: callers drawing many pairs index it
// first with Offsets.
func (h *hashObject) pair(i int) (field, val []byte) {
	if h.ht != nil {
		e := h.ht.Entry(i)
		return strBytes(e.key()), strBytes(e.val())
	}
	off := h.lp.Seek(2 * i)
	f, next := h.lp.Entry(off)
	v, _ := h.lp.Entry(next)
	return f, v
}

// randomIndex picks a pair uniformly.
func (h *hashObject) randomIndex() int { return randIntN(h.Len()) }

func cmdHscan(c *Client, args [][]byte) {
	s := c.srv
	cursor, ok := parseScanCursor(args[2])
	if !ok {
		c.addError(ErrInvalidCursor)
		return
	}
	h, ok := s.readHash(c, args[1])
	if !ok {
		return
	}
	if h == nil {
		c.addEmptyScan()
		return
	}
	opts, ok := c.parseScanOptions(args, 3, false)
	if !ok {
		return
	}
	if h.ht != nil {
		c.scanTable(h.ht, cursor, opts, true)
		return
	}
	// A listpack is returned whole in one call, as Redis does.
	c.addArrayLen(2)
	c.addBulkString("0")
	pos := c.deferLen()
	n := 0
	h.each(func(f, v []byte) bool {
		if opts.pattern == nil || globMatch(opts.pattern, f) {
			c.addBulk(f)
			c.addBulk(v)
			n += 2
		}
		return true
	})
	c.setDeferredArrayLen(pos, n)
}
