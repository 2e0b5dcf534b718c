package commands

import (
	"math"
	"slices"
	"strconv"
	"unsafe"

	"spinel/commands/keyspace"
)

var setCommands = []cmdDef{
	{"sadd", cmdSadd, 0},
	{"srem", cmdSrem, 0},
	{"sismember", cmdSismember, 0},
	{"smismember", cmdSmismember, 0},
	{"smembers", cmdSmembers, 0},
	{"scard", cmdScard, 0},
	{"spop", cmdSpop, 0},
	{"srandmember", cmdSrandmember, 0},
	{"smove", cmdSmove, 0},
	{"sinter", cmdSinter, 0},
	{"sintercard", cmdSintercard, 0},
	{"sinterstore", cmdSinterstore, 0},
	{"sunion", cmdSunion, 0},
	{"sunionstore", cmdSunionstore, 0},
	{"sdiff", cmdSdiff, 0},
	{"sdiffstore", cmdSdiffstore, 0},
	{"sscan", cmdSscan, 0},
}

// ---------------------------------------------------------------------------
// The set value, as Redis 7.0's t_set.c: an intset while every member is an
// integer (string2ll-canonical) and there are at most set-max-intset-entries
// of them, a strTable after. Redis 7.0 has no listpack sets and never
// converts back, except that SPOP with a count close to the size rebuilds
// the set from scratch (see spopWithCount).
// ---------------------------------------------------------------------------

// setObject is a set value: ht when not nil, the intset otherwise.
type setObject struct {
	is intset
	ht *strTable
}

// Encoding implements Object.
func (o *setObject) Encoding() string {
	if o.ht != nil {
		return "hashtable"
	}
	return "intset"
}

// Len implements Object: the number of members.
func (o *setObject) Len() int {
	if o.ht != nil {
		return o.ht.Len()
	}
	return o.is.Len()
}

// Copy implements Object.
func (o *setObject) Copy() Object {
	if o.ht != nil {
		return &setObject{ht: o.ht.Clone()}
	}
	return &setObject{is: o.is.Clone()}
}

// MemoryUsage implements Object.
func (o *setObject) MemoryUsage() int64 {
	const self = int64(unsafe.Sizeof(setObject{}))
	if o.ht != nil {
		return self + o.ht.MemoryUsage()
	}
	return self + o.is.MemoryUsage()
}

// Rewrite implements Object: SADD key with at most 64 members per command,
// as Redis's rewriteSetObject.
func (o *setObject) Rewrite(key []byte, emit func(argv [][]byte)) {
	const perCmd = 64
	argv := make([][]byte, 0, 2+perCmd)
	argv = append(argv, []byte("SADD"), key)
	var nums []byte // intset members, formatted into one buffer per batch
	o.each(func(m []byte) bool {
		if o.ht == nil {
			start := len(nums)
			nums = append(nums, m...)
			m = nums[start:len(nums):len(nums)]
		}
		argv = append(argv, m)
		if len(argv) == 2+perCmd {
			emit(argv)
			argv = argv[:2]
			nums = nil
		}
		return true
	})
	if len(argv) > 2 {
		emit(argv)
	}
}

// newSetFor returns an empty set in the encoding Redis's setTypeCreate picks
// for a first member: an intset for an integer, a hash table otherwise.
func newSetFor(member []byte) *setObject {
	if _, ok := parseInt(member); ok {
		return &setObject{}
	}
	return &setObject{ht: newStrTable(0)}
}

// maxIntsetEntries is set-max-intset-entries, capped at 2^30 as Redis does.
func (s *Server) maxIntsetEntries() int {
	return min(s.cfg.SetMaxIntsetEntries, 1<<30)
}

// convert switches an intset to a hash table, as setTypeConvert.
func (o *setObject) convert() {
	if o.ht != nil {
		return
	}
	t := newStrTable(o.is.Len())
	var buf [24]byte
	for i := 0; i < o.is.Len(); i++ {
		t.AddString(string(formatInt(buf[:], o.is.Get(i))), "")
	}
	o.ht = t
	o.is = intset{}
}

// add inserts member and reports whether it was new, as setTypeAdd: a
// non-integer member, or one past set-max-intset-entries, converts an
// intset.
func (o *setObject) add(s *Server, member []byte) bool {
	if o.ht == nil {
		if v, ok := parseInt(member); ok {
			if !o.is.Add(v) {
				return false
			}
			if o.is.Len() > s.maxIntsetEntries() {
				o.convert()
			}
			return true
		}
		o.convert()
	}
	return o.ht.Set(member, nil)
}

// remove deletes member and reports whether it was there.
func (o *setObject) remove(member []byte) bool {
	if o.ht != nil {
		return o.ht.Delete(member)
	}
	v, ok := parseInt(member)
	return ok && o.is.Remove(v)
}

// removeAt deletes member i (in the encoding's order).
func (o *setObject) removeAt(i int) {
	if o.ht != nil {
		o.ht.DeleteAt(i)
		return
	}
	o.is.Remove(o.is.Get(i))
}

// contains reports whether member is in the set.
func (o *setObject) contains(member []byte) bool {
	if o.ht != nil {
		return o.ht.Find(member) >= 0
	}
	v, ok := parseInt(member)
	return ok && o.is.Contains(v)
}

// member returns member i in the encoding's order (ascending for an
// intset), formatting integers into buf.
func (o *setObject) member(i int, buf []byte) []byte {
	if o.ht != nil {
		return strBytes(o.ht.Entry(i).key())
	}
	return strconv.AppendInt(buf[:0], o.is.Get(i), 10)
}

// each calls fn with every member, in the encoding's order (ascending for an
// intset), until fn returns false. The bytes are only valid during the call.
func (o *setObject) each(fn func(m []byte) bool) {
	var buf [24]byte
	for i, n := 0, o.Len(); i < n; i++ {
		if !fn(o.member(i, buf[:])) {
			return
		}
	}
}

// ---------------------------------------------------------------------------
// Lookups and storage.
// ---------------------------------------------------------------------------

// readSet looks key up for reading: (nil, true) when missing, ok=false after
// a WRONGTYPE reply.
func (s *Server) readSet(c *Client, key []byte) (*setObject, bool) {
	o, _, ok := s.readObject(c, key, keyspace.TypeSet)
	if !ok || o == nil {
		return nil, ok
	}
	return o.(*setObject), true
}

// storeSet makes key hold set, as Redis's setKey: an existing key of any
// type is overwritten in place (no "new" event) and loses its TTL, then
// watchers are told.
func (s *Server) storeSet(db *database, key []byte, set *setObject) {
	if r := s.lookupWriteDB(db, key, true); r != 0 {
		db.kv.SetObject(r, keyspace.TypeSet, set)
		db.kv.Persist(r)
	} else {
		s.addObject(db, key, keyspace.TypeSet, set)
	}
	s.signalModifiedKey(db, key)
}

// deleteStoreTarget removes the destination of an ...STORE command whose
// result is empty, as Redis's dbDelete (no expiry check), with its events.
func (s *Server) deleteStoreTarget(db *database, key []byte) {
	r := db.kv.Lookup(key)
	if r == 0 {
		return
	}
	db.kv.Delete(r)
	s.dirty++
	s.signalModifiedKey(db, key)
	s.notify(db, notifyGeneric, "del", key)
}

// ---------------------------------------------------------------------------
// Commands.
// ---------------------------------------------------------------------------

func cmdSadd(c *Client, args [][]byte) {
	s := c.srv
	key := args[1]
	o, _, ok := s.writeObject(c, key, keyspace.TypeSet)
	if !ok {
		return
	}
	var set *setObject
	if o == nil {
		set = newSetFor(args[2])
		s.addObject(c.db, key, keyspace.TypeSet, set)
	} else {
		set = o.(*setObject)
	}
	added := int64(0)
	for _, m := range args[2:] {
		if set.add(s, m) {
			added++
		}
	}
	if added > 0 {
		s.signalModifiedKey(c.db, key)
		s.notify(c.db, notifySet, "sadd", key)
	}
	s.dirty += added
	c.addInt(added)
}

func cmdSrem(c *Client, args [][]byte) {
	s := c.srv
	key := args[1]
	o, r, ok := s.writeObject(c, key, keyspace.TypeSet)
	if !ok {
		return
	}
	if o == nil {
		c.addInt(0)
		return
	}
	set := o.(*setObject)
	deleted := int64(0)
	removed := false
	for _, m := range args[2:] {
		if set.remove(m) {
			deleted++
			if set.Len() == 0 {
				c.db.kv.Delete(r)
				removed = true
				break
			}
		}
	}
	if deleted > 0 {
		s.signalModifiedKey(c.db, key)
		s.notify(c.db, notifySet, "srem", key)
		if removed {
			s.notify(c.db, notifyGeneric, "del", key)
		}
		s.dirty += deleted
	}
	c.addInt(deleted)
}

func cmdSismember(c *Client, args [][]byte) {
	set, ok := c.srv.readSet(c, args[1])
	if !ok {
		return
	}
	if set != nil && set.contains(args[2]) {
		c.addInt(1)
	} else {
		c.addInt(0)
	}
}

func cmdSmismember(c *Client, args [][]byte) {
	set, ok := c.srv.readSet(c, args[1])
	if !ok {
		return
	}
	c.addArrayLen(len(args) - 2)
	for _, m := range args[2:] {
		if set != nil && set.contains(m) {
			c.addInt(1)
		} else {
			c.addInt(0)
		}
	}
}

func cmdScard(c *Client, args [][]byte) {
	set, ok := c.srv.readSet(c, args[1])
	if !ok {
		return
	}
	if set == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(set.Len()))
}

// SMEMBERS is SINTER of one key in Redis, and so here.
func cmdSmembers(c *Client, args [][]byte) { c.srv.sinterGeneric(c, args[1:2], nil, false, 0) }

func cmdSpop(c *Client, args [][]byte) {
	s := c.srv
	if len(args) == 3 {
		s.spopWithCount(c, args)
		return
	} else if len(args) > 3 {
		c.addError(ErrSyntax)
		return
	}
	key := args[1]
	o, r, ok := s.writeObject(c, key, keyspace.TypeSet)
	if !ok {
		return
	}
	if o == nil {
		c.addNull()
		return
	}
	set := o.(*setObject)
	var buf [24]byte
	i := randIntN(set.Len())
	ele := set.member(i, buf[:])
	// Reply and propagation copy the member: only then is it removed.
	c.addBulk(ele)
	c.propagateAs(wordSrem, key, ele)
	set.removeAt(i)
	s.notify(c.db, notifySet, "spop", key)
	if set.Len() == 0 {
		c.db.kv.Delete(r)
		s.notify(c.db, notifyGeneric, "del", key)
	}
	s.signalModifiedKey(c.db, key)
	s.dirty++
}

// spopMoveStrategyMul is Redis's SPOP_MOVE_STRATEGY_MUL: when fewer than
// count/5 members would remain, SPOP picks the survivors instead of the
// popped ones.
const spopMoveStrategyMul = 5

// spopWithCount is SPOP key count, as Redis's spopWithCountCommand,
// including which strategy it uses: that decides the encoding the set is
// left in.
func (s *Server) spopWithCount(c *Client, args [][]byte) {
	l, ok := c.getPositiveLongOrReply(args[2], "")
	if !ok {
		return
	}
	count := uint64(l)
	key := args[1]
	o, r, ok := s.writeObject(c, key, keyspace.TypeSet)
	if !ok {
		return
	}
	if o == nil || count == 0 {
		c.addSetLen(0)
		return
	}
	set := o.(*setObject)
	size := uint64(set.Len())
	s.notify(c.db, notifySet, "spop", key)
	// Redis adds the requested count, even past the size; saturate rather
	// than wrap on absurd counts.
	s.dirty += int64(min(count, uint64(math.MaxInt64-max(s.dirty, 0))))

	// Case 1: popping at least the whole set returns it and deletes the key.
	if count >= size {
		s.sunionDiffGeneric(c, args[1:2], nil, setOpUnion)
		c.db.kv.Delete(r)
		s.notify(c.db, notifyGeneric, "del", key)
		c.propagateAs(wordDel, key)
		s.signalModifiedKey(c.db, key)
		return
	}

	// Cases 2 and 3 propagate one SREM per popped member instead of SPOP.
	c.propagateAs()
	srem := wordSrem
	c.addSetLen(int(count))
	remaining := size - count
	var buf [24]byte
	if remaining*spopMoveStrategyMul > count {
		// Case 2: few to pop: draw and remove them one by one.
		for ; count > 0; count-- {
			ele := append([]byte(nil), set.member(randIntN(set.Len()), buf[:])...)
			c.addBulk(ele)
			set.remove(ele)
			s.alsoPropagate(c.db, srem, key, ele)
		}
	} else {
		// Case 3: most of the set goes: move the survivors to a new set,
		// reply with what is left of the old one and keep the new one.
		// The new set's encoding follows its members (Redis's
		// setTypeCreate), so this can turn a hash table back into an
		// intset.
		var newset *setObject
		for ; remaining > 0; remaining-- {
			ele := append([]byte(nil), set.member(randIntN(set.Len()), buf[:])...)
			if newset == nil {
				newset = newSetFor(ele)
			}
			newset.add(s, ele)
			set.remove(ele)
		}
		set.each(func(m []byte) bool {
			c.addBulk(m)
			s.alsoPropagate(c.db, srem, key, m)
			return true
		})
		*set = *newset
	}
	s.signalModifiedKey(c.db, key)
}

func cmdSrandmember(c *Client, args [][]byte) {
	s := c.srv
	if len(args) == 3 {
		s.srandmemberWithCount(c, args)
		return
	} else if len(args) > 3 {
		c.addError(ErrSyntax)
		return
	}
	set, ok := s.readSet(c, args[1])
	if !ok {
		return
	}
	if set == nil {
		c.addNull()
		return
	}
	var buf [24]byte
	c.addBulk(set.member(randIntN(set.Len()), buf[:]))
}

// srandmemberWithCount is SRANDMEMBER key count, as Redis's
// srandmemberWithCountCommand: a negative count allows repeats.
func (s *Server) srandmemberWithCount(c *Client, args [][]byte) {
	l, ok := c.getRangeLongOrReply(args[2], -math.MaxInt64, math.MaxInt64, "")
	if !ok {
		return
	}
	count, uniq := uint64(l), true
	if l < 0 {
		count, uniq = uint64(-l), false
	}
	set, ok := s.readSet(c, args[1])
	if !ok {
		return
	}
	if set == nil || count == 0 {
		c.addEmptyArray()
		return
	}
	size := uint64(set.Len())
	var buf [24]byte
	// Case 1: sample the whole set every time.
	if !uniq || count == 1 {
		mark := c.replyMark()
		c.addArrayLen(int(count))
		for ; count > 0; count-- {
			c.addBulk(set.member(randIntN(int(size)), buf[:]))
			if c.replyTooLarge(mark) {
				return
			}
		}
		return
	}
	// Case 2: at least the whole set: all of it, in order.
	if count >= size {
		c.addArrayLen(int(size))
		set.each(func(m []byte) bool {
			c.addBulk(m)
			return true
		})
		return
	}
	// Cases 3 and 4: count distinct members, in random order.
	c.addArrayLen(int(count))
	for _, i := range randomDistinct(int(size), int(count)) {
		c.addBulk(set.member(i, buf[:]))
	}
}

// Command names used when propagating, allocated once.
var (
	wordSrem = []byte("SREM")
	wordDel  = []byte("DEL")
	wordHset = []byte("HSET")
)

func cmdSmove(c *Client, args [][]byte) {
	s := c.srv
	src, dst, ele := args[1], args[2], args[3]
	sr := s.lookupWrite(c, src)
	dr := s.lookupWrite(c, dst)
	if sr == 0 {
		c.addInt(0)
		return
	}
	kv := c.db.kv
	if kv.Type(sr) != keyspace.TypeSet || (dr != 0 && kv.Type(dr) != keyspace.TypeSet) {
		c.addError(ErrWrongType)
		return
	}
	srcset := kv.Object(sr).(*setObject)
	var dstset *setObject
	if dr != 0 {
		dstset = kv.Object(dr).(*setObject)
	}
	if srcset == dstset {
		if srcset.contains(ele) {
			c.addInt(1)
		} else {
			c.addInt(0)
		}
		return
	}
	if !srcset.remove(ele) {
		c.addInt(0)
		return
	}
	s.notify(c.db, notifySet, "srem", src)
	if srcset.Len() == 0 {
		kv.Delete(sr)
		s.notify(c.db, notifyGeneric, "del", src)
	}
	if dstset == nil {
		dstset = newSetFor(ele)
		s.addObject(c.db, dst, keyspace.TypeSet, dstset)
	}
	s.signalModifiedKey(c.db, src)
	s.dirty++
	if dstset.add(s, ele) {
		s.dirty++
		s.signalModifiedKey(c.db, dst)
		s.notify(c.db, notifySet, "sadd", dst)
	}
	c.addInt(1)
}

// sinterGeneric is SINTER, SMEMBERS, SINTERSTORE (dstkey != nil) and
// SINTERCARD (cardOnly, stopping at limit when limit > 0), as Redis's
// sinterGenericCommand.
func (s *Server) sinterGeneric(c *Client, keys [][]byte, dstkey []byte, cardOnly bool, limit int64) {
	sets := make([]*setObject, len(keys))
	empty := false
	for j, k := range keys {
		set, ok := s.readSet(c, k)
		if !ok {
			return
		}
		if set == nil {
			empty = true
		}
		sets[j] = set
	}
	// An empty set empties the intersection.
	if empty {
		switch {
		case dstkey != nil:
			s.deleteStoreTarget(c.db, dstkey)
			c.addInt(0)
		case cardOnly:
			c.addInt(0)
		default:
			c.addSetLen(0)
		}
		return
	}
	// Smallest set first: its members are the candidates.
	slices.SortStableFunc(sets, func(a, b *setObject) int { return a.Len() - b.Len() })

	var dstset *setObject
	pos := 0
	if dstkey != nil {
		dstset = &setObject{}
	} else if !cardOnly {
		pos = c.deferLen()
	}
	first := sets[0]
	card := int64(0)
	var buf [24]byte
	for i, n := 0, first.Len(); i < n; i++ {
		// Integers of an intset are compared as integers with other
		// intsets, as strings with hash tables.
		var m []byte
		var v int64
		if first.ht == nil {
			v = first.is.Get(i)
			m = strconv.AppendInt(buf[:0], v, 10)
		} else {
			m = strBytes(first.ht.Entry(i).key())
		}
		all := true
		for _, other := range sets[1:] {
			if other == first {
				continue
			}
			var in bool
			if first.ht == nil && other.ht == nil {
				in = other.is.Contains(v)
			} else {
				in = other.contains(m)
			}
			if !in {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		switch {
		case cardOnly:
			card++
		case dstkey == nil:
			c.addBulk(m)
			card++
		default:
			dstset.add(s, m)
		}
		if cardOnly && limit > 0 && card >= limit {
			break
		}
	}
	switch {
	case cardOnly:
		c.addInt(card)
	case dstkey != nil:
		if dstset.Len() > 0 {
			s.storeSet(c.db, dstkey, dstset)
			c.addInt(int64(dstset.Len()))
			s.notify(c.db, notifySet, "sinterstore", dstkey)
			s.dirty++
		} else {
			c.addInt(0)
			s.deleteStoreTarget(c.db, dstkey)
		}
	default:
		c.setDeferredSetLen(pos, int(card))
	}
}

func cmdSinter(c *Client, args [][]byte) { c.srv.sinterGeneric(c, args[1:], nil, false, 0) }

func cmdSinterstore(c *Client, args [][]byte) {
	c.srv.sinterGeneric(c, args[2:], args[1], false, 0)
}

func cmdSintercard(c *Client, args [][]byte) {
	numkeys, ok := c.getRangeLongOrReply(args[1], 1, math.MaxInt64, "ERR numkeys should be greater than 0")
	if !ok {
		return
	}
	if numkeys > int64(len(args)-2) {
		c.addError("ERR Number of keys can't be greater than number of args")
		return
	}
	var limit int64
	for j := 2 + int(numkeys); j < len(args); j++ {
		if equalFold(args[j], "limit") && j < len(args)-1 {
			j++
			if limit, ok = c.getPositiveLongOrReply(args[j], "ERR LIMIT can't be negative"); !ok {
				return
			}
		} else {
			c.addError(ErrSyntax)
			return
		}
	}
	c.srv.sinterGeneric(c, args[2:2+numkeys], nil, true, limit)
}

// Set operations of sunionDiffGeneric.
const (
	setOpUnion = iota
	setOpDiff
)

// sunionDiffGeneric is SUNION, SDIFF and their STORE forms, as Redis's
// sunionDiffGenericCommand. The result is built as a set (starting as an
// intset) before anything is replied, so an all-integer result comes out
// sorted, and SDIFF chooses between Redis's two algorithms the same way,
// which decides the stored encoding.
func (s *Server) sunionDiffGeneric(c *Client, keys [][]byte, dstkey []byte, op int) {
	sets := make([]*setObject, len(keys))
	sameset := false
	for j, k := range keys {
		set, ok := s.readSet(c, k)
		if !ok {
			return
		}
		sets[j] = set
		if j > 0 && set != nil && set == sets[0] {
			sameset = true
		}
	}
	// Algorithm 1 is O(N*M), N the size of the first set and M the number
	// of sets; algorithm 2 is O(total size).
	diffAlgo := 1
	if op == setOpDiff && sets[0] != nil && !sameset {
		var one, two int64
		for _, set := range sets {
			if set == nil {
				continue
			}
			one += int64(sets[0].Len())
			two += int64(set.Len())
		}
		// Algorithm 1 has better constants and stops early on common
		// members: give it an advantage.
		one /= 2
		if one > two {
			diffAlgo = 2
		}
		if diffAlgo == 1 && len(sets) > 1 {
			// Subtract the largest sets first: duplicates are found sooner.
			slices.SortStableFunc(sets[1:], func(a, b *setObject) int { return setLen(b) - setLen(a) })
		}
	}

	dstset := &setObject{}
	card := 0
	switch {
	case op == setOpUnion:
		for _, set := range sets {
			if set == nil {
				continue
			}
			set.each(func(m []byte) bool {
				if dstset.add(s, m) {
					card++
				}
				return true
			})
		}
	case sameset:
		// A set minus itself is empty.
	case sets[0] != nil && diffAlgo == 1:
		sets[0].each(func(m []byte) bool {
			for _, other := range sets[1:] {
				if other == nil {
					continue
				}
				if other == sets[0] || other.contains(m) {
					return true
				}
			}
			dstset.add(s, m)
			card++
			return true
		})
	case sets[0] != nil && diffAlgo == 2:
		for j, set := range sets {
			if set == nil {
				continue
			}
			set.each(func(m []byte) bool {
				if j == 0 {
					if dstset.add(s, m) {
						card++
					}
				} else if dstset.remove(m) {
					card--
				}
				return true
			})
			if card == 0 {
				break
			}
		}
	}

	if dstkey == nil {
		c.addSetLen(card)
		dstset.each(func(m []byte) bool {
			c.addBulk(m)
			return true
		})
		return
	}
	if dstset.Len() > 0 {
		s.storeSet(c.db, dstkey, dstset)
		c.addInt(int64(dstset.Len()))
		event := "sunionstore"
		if op == setOpDiff {
			event = "sdiffstore"
		}
		s.notify(c.db, notifySet, event, dstkey)
		s.dirty++
	} else {
		c.addInt(0)
		s.deleteStoreTarget(c.db, dstkey)
	}
}

func setLen(o *setObject) int {
	if o == nil {
		return 0
	}
	return o.Len()
}

func cmdSunion(c *Client, args [][]byte) { c.srv.sunionDiffGeneric(c, args[1:], nil, setOpUnion) }
func cmdSdiff(c *Client, args [][]byte)  { c.srv.sunionDiffGeneric(c, args[1:], nil, setOpDiff) }

func cmdSunionstore(c *Client, args [][]byte) {
	c.srv.sunionDiffGeneric(c, args[2:], args[1], setOpUnion)
}

func cmdSdiffstore(c *Client, args [][]byte) {
	c.srv.sunionDiffGeneric(c, args[2:], args[1], setOpDiff)
}

func cmdSscan(c *Client, args [][]byte) {
	s := c.srv
	cursor, ok := parseScanCursor(args[2])
	if !ok {
		c.addError(ErrInvalidCursor)
		return
	}
	set, ok := s.readSet(c, args[1])
	if !ok {
		return
	}
	if set == nil {
		c.addEmptyScan()
		return
	}
	opts, ok := c.parseScanOptions(args, 3, false)
	if !ok {
		return
	}
	if set.ht != nil {
		c.scanTable(set.ht, cursor, opts, false)
		return
	}
	// An intset is returned whole in one call, as Redis does.
	c.addArrayLen(2)
	c.addBulkString("0")
	pos := c.deferLen()
	n := 0
	set.each(func(m []byte) bool {
		if opts.pattern == nil || globMatch(opts.pattern, m) {
			c.addBulk(m)
			n++
		}
		return true
	})
	c.setDeferredArrayLen(pos, n)
}
