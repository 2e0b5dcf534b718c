package commands

import (
	"bytes"
	"math"
	"strconv"

	"spinel/commands/keyspace"
)

var listCommands = []cmdDef{
	{"lpush", cmdLpush, 0},
	{"rpush", cmdRpush, 0},
	{"lpushx", cmdLpushx, 0},
	{"rpushx", cmdRpushx, 0},
	{"lpop", cmdLpop, 0},
	{"rpop", cmdRpop, 0},
	{"llen", cmdLlen, 0},
	{"lrange", cmdLrange, 0},
	{"lindex", cmdLindex, 0},
	{"lset", cmdLset, 0},
	{"linsert", cmdLinsert, 0},
	{"lrem", cmdLrem, 0},
	{"ltrim", cmdLtrim, 0},
	{"lpos", cmdLpos, 0},
	{"lmove", cmdLmove, 0},
	{"rpoplpush", cmdRpoplpush, 0},
	{"lmpop", cmdLmpop, 0},
	{"blpop", cmdBlpop, 0},
	{"brpop", cmdBrpop, 0},
	{"blmove", cmdBlmove, 0},
	{"brpoplpush", cmdBrpoplpush, 0},
	{"blmpop", cmdBlmpop, 0},
}

// ---------------------------------------------------------------------------
// The list commands, as Redis 7.0's t_list.c. The value is a quicklist (see
// quicklist.go). "head" arguments select the left end (LIST_HEAD) when true
// and the right end (LIST_TAIL) when false.
// ---------------------------------------------------------------------------

// Words the commands are propagated as, as Redis's shared objects.
var (
	wordLpop      = []byte("LPOP")
	wordRpop      = []byte("RPOP")
	wordLmove     = []byte("LMOVE")
	wordRpoplpush = []byte("RPOPLPUSH")
	wordLeft      = []byte("left")
	wordRight     = []byte("right")
)

// readList looks key up for reading: (nil, 0, true) when it does not exist,
// ok=false after a WRONGTYPE reply.
func (s *Server) readList(c *Client, key []byte) (*quicklist, Ref, bool) {
	o, r, ok := s.readObject(c, key, keyspace.TypeList)
	if o == nil {
		return nil, r, ok
	}
	return o.(*quicklist), r, true
}

// writeList is readList for commands that modify the list.
func (s *Server) writeList(c *Client, key []byte) (*quicklist, Ref, bool) {
	o, r, ok := s.writeObject(c, key, keyspace.TypeList)
	if o == nil {
		return nil, r, ok
	}
	return o.(*quicklist), r, true
}

// newListObject returns an empty list configured by list-max-listpack-size,
// for commands that create lists (pushes, SORT ... STORE).
func (s *Server) newListObject() *quicklist { return newQuicklist(s.cfg.ListMaxListpackSize) }

// getListWhere parses LEFT or RIGHT (getListPositionFromObjectOrReply).
func (c *Client) getListWhere(b []byte) (head, ok bool) {
	switch {
	case equalFold(b, "left"):
		return true, true
	case equalFold(b, "right"):
		return false, true
	}
	c.addError(ErrSyntax)
	return false, false
}

func whereWord(head bool) []byte {
	if head {
		return wordLeft
	}
	return wordRight
}

func popEvent(head bool) string {
	if head {
		return "lpop"
	}
	return "rpop"
}

func pushEvent(head bool) string {
	if head {
		return "lpush"
	}
	return "rpush"
}

func popWord(head bool) []byte {
	if head {
		return wordLpop
	}
	return wordRpop
}

// listElementsRemoved does what follows a pop of n elements from key (r),
// as Redis's listElementsRemoved: the pop event, the key's deletion when
// the list emptied, watchers and the dirty counter. It reports whether the
// key was deleted.
func (s *Server) listElementsRemoved(db *database, key []byte, r Ref, q *quicklist, head bool, n int) bool {
	s.notify(db, notifyList, popEvent(head), key)
	deleted := s.deleteIfEmpty(db, r, key, q.count)
	s.signalModifiedKey(db, key)
	s.dirty += int64(n)
	return deleted
}

// ---------------------------------------------------------------------------
// Pushes.
// ---------------------------------------------------------------------------

func cmdLpush(c *Client, args [][]byte)  { c.srv.pushGeneric(c, args, true, false) }
func cmdRpush(c *Client, args [][]byte)  { c.srv.pushGeneric(c, args, false, false) }
func cmdLpushx(c *Client, args [][]byte) { c.srv.pushGeneric(c, args, true, true) }
func cmdRpushx(c *Client, args [][]byte) { c.srv.pushGeneric(c, args, false, true) }

// pushGeneric is [LR]PUSH and, with xx, [LR]PUSHX, which only push to an
// existing list.
func (s *Server) pushGeneric(c *Client, args [][]byte, head, xx bool) {
	key := args[1]
	q, _, ok := s.writeList(c, key)
	if !ok {
		return
	}
	if q == nil {
		if xx {
			c.addInt(0)
			return
		}
		q = s.newListObject()
		s.addObject(c.db, key, keyspace.TypeList, q)
	}
	for _, v := range args[2:] {
		q.push(v, head)
	}
	s.dirty += int64(len(args) - 2)
	c.addInt(int64(q.count))
	s.signalModifiedKey(c.db, key)
	s.notify(c.db, notifyList, pushEvent(head), key)
}

// ---------------------------------------------------------------------------
// Pops.
// ---------------------------------------------------------------------------

func cmdLpop(c *Client, args [][]byte) { c.srv.popGeneric(c, args, true) }
func cmdRpop(c *Client, args [][]byte) { c.srv.popGeneric(c, args, false) }

// popGeneric is LPOP and RPOP: one element as a bulk string, or with a count
// up to count elements as an array.
func (s *Server) popGeneric(c *Client, args [][]byte, head bool) {
	hasCount := len(args) == 3
	var count int64
	if len(args) > 3 {
		c.addErrorArity(c.cmd.FullName)
		return
	}
	if hasCount {
		var ok bool
		if count, ok = c.getPositiveLongOrReply(args[2], ErrNotPositive); !ok {
			return
		}
	}
	key := args[1]
	q, r, ok := s.writeList(c, key)
	if !ok {
		return
	}
	if q == nil {
		if hasCount {
			c.addNullArray()
		} else {
			c.addNull()
		}
		return
	}
	if hasCount && count == 0 {
		c.addEmptyArray()
		return
	}
	if !hasCount {
		var sc [20]byte
		c.addBulk(q.end(head, &sc))
		q.trimEnd(1, head)
		s.listElementsRemoved(c.db, key, r, q, head, 1)
		return
	}
	n := int(min(count, int64(q.count)))
	c.addArrayLen(n)
	c.out = q.appendRange(c.out, 0, n, !head)
	q.trimEnd(n, head)
	s.listElementsRemoved(c.db, key, r, q, head, n)
}

// popRangeWithKey replies [key, [elements]] with up to count elements
// popped from one end, as Redis's listPopRangeAndReplyWithKey (LMPOP,
// BLMPOP), and returns how many were popped.
func (s *Server) popRangeWithKey(c *Client, key []byte, r Ref, q *quicklist, head bool, count int64) int {
	n := int(min(count, int64(q.count)))
	c.addArrayLen(2)
	c.addBulk(key)
	c.addArrayLen(n)
	c.out = q.appendRange(c.out, 0, n, !head)
	q.trimEnd(n, head)
	s.listElementsRemoved(c.db, key, r, q, head, n)
	return n
}

// ---------------------------------------------------------------------------
// Reads.
// ---------------------------------------------------------------------------

func cmdLlen(c *Client, args [][]byte) {
	q, _, ok := c.srv.readList(c, args[1])
	if !ok {
		return
	}
	if q == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(q.count))
}

func cmdLindex(c *Client, args [][]byte) {
	q, _, ok := c.srv.readList(c, args[1])
	if !ok {
		return
	}
	if q == nil {
		c.addNull()
		return
	}
	idx, ok := c.getInt(args[2])
	if !ok {
		return
	}
	if idx < 0 {
		idx += int64(q.count)
	}
	if idx < 0 || idx >= int64(q.count) {
		c.addNull()
		return
	}
	var sc [20]byte
	c.addBulk(q.index(int(idx), &sc))
}

// listRange converts LRANGE/LTRIM indexes (negative from the end) into a
// first index and a length; n == 0 is an empty range.
func listRange(start, end int64, llen int) (first, n int) {
	l := int64(llen)
	if start < 0 {
		start += l
	}
	if end < 0 {
		end += l
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= l {
		return 0, 0
	}
	if end >= l {
		end = l - 1
	}
	return int(start), int(end - start + 1)
}

func cmdLrange(c *Client, args [][]byte) {
	start, ok := c.getInt(args[2])
	if !ok {
		return
	}
	end, ok := c.getInt(args[3])
	if !ok {
		return
	}
	q, _, ok := c.srv.readList(c, args[1])
	if !ok {
		return
	}
	if q == nil {
		c.addEmptyArray()
		return
	}
	first, n := listRange(start, end, q.count)
	if n == 0 {
		c.addEmptyArray()
		return
	}
	c.addArrayLen(n)
	c.out = q.appendRange(c.out, first, n, false)
}

func cmdLpos(c *Client, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: no COUNT
	for j := 3; j < len(args); j++ {
		more := j < len(args)-1
		var ok bool
		switch {
		case equalFold(args[j], "rank") && more:
			j++
			if rank, ok = c.getInt(args[j]); !ok {
				return
			}
			if rank == 0 {
				c.addError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
		case equalFold(args[j], "count") && more:
			j++
			if count, ok = c.getPositiveLongOrReply(args[j], "ERR COUNT can't be negative"); !ok {
				return
			}
		case equalFold(args[j], "maxlen") && more:
			j++
			if maxlen, ok = c.getPositiveLongOrReply(args[j], "ERR MAXLEN can't be negative"); !ok {
				return
			}
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	// A negative rank searches from the tail. (-math.MinInt64 stays
	// negative, which makes every match qualify, as in Redis.)
	fromTail := false
	if rank < 0 {
		rank = -rank
		fromTail = true
	}
	q, _, ok := c.srv.readList(c, args[1])
	if !ok {
		return
	}
	if q == nil {
		if count != -1 {
			c.addEmptyArray()
		} else {
			c.addNull()
		}
		return
	}
	ele := args[2]
	start := 0
	if fromTail {
		start = q.count - 1
	}
	it := q.iter(start, !fromTail)
	pos := 0
	if count != -1 {
		pos = c.deferLen()
	}
	llen := int64(q.count)
	var index, matches, arraylen int64
	matchIndex := int64(-1)
	for maxlen == 0 || index < maxlen {
		v, more := it.next()
		if !more {
			break
		}
		if bytes.Equal(v, ele) {
			matches++
			matchIndex = index
			if fromTail {
				matchIndex = llen - index - 1
			}
			if matches >= rank {
				if count == -1 {
					break
				}
				arraylen++
				c.addInt(matchIndex)
				if count != 0 && matches-rank+1 >= count {
					break
				}
			}
		}
		index++
		matchIndex = -1 // the loop may end without a match
	}
	if count != -1 {
		c.setDeferredArrayLen(pos, int(arraylen))
		return
	}
	if matchIndex != -1 {
		c.addInt(matchIndex)
	} else {
		c.addNull()
	}
}

// ---------------------------------------------------------------------------
// Modifications in place.
// ---------------------------------------------------------------------------

func cmdLset(c *Client, args [][]byte) {
	s := c.srv
	key := args[1]
	q, _, ok := s.writeList(c, key)
	if !ok {
		return
	}
	if q == nil {
		c.addError(ErrNoSuchKey)
		return
	}
	idx, ok := c.getInt(args[2])
	if !ok {
		return
	}
	if idx < 0 {
		idx += int64(q.count)
	}
	if idx < 0 || idx >= int64(q.count) {
		c.addError(ErrOutOfRange)
		return
	}
	q.set(int(idx), args[3])
	c.addOK()
	s.signalModifiedKey(c.db, key)
	s.notify(c.db, notifyList, "lset", key)
	s.dirty++
}

func cmdLinsert(c *Client, args [][]byte) {
	s := c.srv
	var after bool
	switch {
	case equalFold(args[2], "after"):
		after = true
	case equalFold(args[2], "before"):
	default:
		c.addError(ErrSyntax)
		return
	}
	key := args[1]
	q, _, ok := s.writeList(c, key)
	if !ok {
		return
	}
	if q == nil {
		c.addInt(0)
		return
	}
	if !q.insertPivot(args[3], args[4], after) {
		c.addInt(-1)
		return
	}
	s.signalModifiedKey(c.db, key)
	s.notify(c.db, notifyList, "linsert", key)
	s.dirty++
	c.addInt(int64(q.count))
}

func cmdLrem(c *Client, args [][]byte) {
	s := c.srv
	toremove, ok := c.getInt(args[2])
	if !ok {
		return
	}
	key := args[1]
	q, r, ok := s.writeList(c, key)
	if !ok {
		return
	}
	if q == nil {
		c.addInt(0)
		return
	}
	// A negative count removes from the tail; LREM's -LONG_MIN stays
	// negative and removes every match, as in Redis.
	removed := q.remove(args[3], max(toremove, -toremove), toremove < 0)
	s.dirty += removed
	if removed > 0 {
		s.notify(c.db, notifyList, "lrem", key)
	}
	s.deleteIfEmpty(c.db, r, key, q.count)
	if removed > 0 {
		s.signalModifiedKey(c.db, key)
	}
	c.addInt(removed)
}

func cmdLtrim(c *Client, args [][]byte) {
	s := c.srv
	start, ok := c.getInt(args[2])
	if !ok {
		return
	}
	end, ok := c.getInt(args[3])
	if !ok {
		return
	}
	key := args[1]
	q, r, ok := s.writeList(c, key)
	if !ok {
		return
	}
	if q == nil {
		c.addOK()
		return
	}
	llen := q.count
	first, n := listRange(start, end, llen)
	ltrim, rtrim := llen, 0
	if n > 0 {
		ltrim, rtrim = first, llen-first-n
	}
	q.trimHead(ltrim)
	q.trimTail(rtrim)
	s.notify(c.db, notifyList, "ltrim", key)
	s.deleteIfEmpty(c.db, r, key, q.count)
	s.signalModifiedKey(c.db, key)
	s.dirty += int64(ltrim + rtrim)
	c.addOK()
}

// ---------------------------------------------------------------------------
// Moves between lists.
// ---------------------------------------------------------------------------

func cmdLmove(c *Client, args [][]byte) {
	from, ok := c.getListWhere(args[3])
	if !ok {
		return
	}
	to, ok := c.getListWhere(args[4])
	if !ok {
		return
	}
	c.srv.lmoveGeneric(c, args[1], args[2], from, to)
}

func cmdRpoplpush(c *Client, args [][]byte) {
	c.srv.lmoveGeneric(c, args[1], args[2], false, true)
}

// lmoveGeneric moves the element at one end of src to one end of dst, as
// Redis's lmoveGenericCommand, and reports whether it did.
func (s *Server) lmoveGeneric(c *Client, src, dst []byte, from, to bool) bool {
	sq, sr, ok := s.writeList(c, src)
	if !ok {
		return false
	}
	if sq == nil {
		c.addNull()
		return false
	}
	dq, _, ok := s.writeList(c, dst)
	if !ok {
		return false
	}
	s.moveElement(c, src, sr, sq, dst, dq, from, to)
	return true
}

// moveElement does the move of LMOVE and of a served BLMOVE, once both keys
// are known to be lists (dq nil: dst does not exist): pop from src, push to
// dst with its event, reply with the element, then the pop event, the
// deletion of an emptied src, watchers and the dirty counter.
func (s *Server) moveElement(c *Client, src []byte, sr Ref, sq *quicklist, dst []byte, dq *quicklist, from, to bool) {
	var sc [20]byte
	v := sq.end(from, &sc)
	if dq == sq {
		// Rotation: the push below may reuse the bytes the pop frees.
		v = append([]byte(nil), v...)
	}
	sq.trimEnd(1, from)
	if dq == nil {
		dq = s.newListObject()
		s.addObject(c.db, dst, keyspace.TypeList, dq)
	}
	s.signalModifiedKey(c.db, dst)
	dq.push(v, to)
	s.notify(c.db, notifyList, pushEvent(to), dst)
	c.addBulk(v)

	s.notify(c.db, notifyList, popEvent(from), src)
	s.deleteIfEmpty(c.db, sr, src, sq.count)
	s.signalModifiedKey(c.db, src)
	s.dirty++
}

// ---------------------------------------------------------------------------
// Multi-key pops: LMPOP, BLMPOP.
// ---------------------------------------------------------------------------

func cmdLmpop(c *Client, args [][]byte)  { c.srv.lmpopGeneric(c, args, 1, false) }
func cmdBlmpop(c *Client, args [][]byte) { c.srv.lmpopGeneric(c, args, 2, true) }

// lmpopGeneric parses [B]LMPOP [timeout] numkeys key... LEFT|RIGHT [COUNT n]
// in Redis's order (numkeys, direction, options, then the timeout) and pops.
func (s *Server) lmpopGeneric(c *Client, args [][]byte, numkeysIdx int, block bool) {
	numkeys, ok := c.getRangeLongOrReply(args[numkeysIdx], 1, math.MaxInt64, "ERR numkeys should be greater than 0")
	if !ok {
		return
	}
	if numkeys >= int64(len(args)-numkeysIdx-1) {
		c.addError(ErrSyntax)
		return
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	head, ok := c.getListWhere(args[whereIdx])
	if !ok {
		return
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(args); j++ {
		if count == -1 && equalFold(args[j], "count") && j < len(args)-1 {
			j++
			if count, ok = c.getRangeLongOrReply(args[j], 1, math.MaxInt64, "ERR count should be greater than 0"); !ok {
				return
			}
			continue
		}
		c.addError(ErrSyntax)
		return
	}
	if count == -1 {
		count = 1
	}
	keys := args[numkeysIdx+1 : whereIdx]
	if block {
		deadline, ok := c.parseTimeout(args[1])
		if !ok {
			return
		}
		s.blockingPop(c, keys, head, deadline, count)
		return
	}
	for _, key := range keys {
		q, r, ok := s.writeList(c, key)
		if !ok {
			return
		}
		if q == nil {
			continue
		}
		n := s.popRangeWithKey(c, key, r, q, head, count)
		c.propagateAs(popWord(head), key, strconv.AppendInt(nil, int64(n), 10))
		return
	}
	c.addNullArray()
}
