package commands

import (
	"math"
	"strconv"

	"spinel/commands/keyspace"
)

// ---------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP and their blocking forms BZPOPMIN, BZPOPMAX and
// BZMPOP, as Redis 7.0's genericZpopCommand and blockingGenericZpopCommand.
// Reply shapes:
//
//	ZPOPMIN key           [member, score]              (flat, RESP2 and 3)
//	ZPOPMIN key count     [member, score, ...] RESP2, [[member, score], ...] RESP3
//	BZPOPMIN keys timeout [key, member, score]
//	ZMPOP/BZMPOP          [key, [[member, score], ...]], null when nothing
//
// The blocking forms, when served, are propagated as ZPOPMIN/ZPOPMAX key
// [count], and ZMPOP as ZPOPMIN/ZPOPMAX key count.
// ---------------------------------------------------------------------------

var (
	wordZpopmin = []byte("ZPOPMIN")
	wordZpopmax = []byte("ZPOPMAX")
)

func zpopWord(max bool) []byte {
	if max {
		return wordZpopmax
	}
	return wordZpopmin
}

// zpopOpts say how genericZpop replies.
type zpopOpts struct {
	max          bool  // pop the highest scores
	emitKey      bool  // the reply names the key (BZPOP*, ZMPOP)
	count        int64 // -1: a plain single pop
	nested       bool  // [member, score] pairs are arrays
	nilIfEmpty   bool  // no key: null (ZMPOP) rather than an empty array
	zmpopRewrite bool  // propagate as ZPOPMIN/ZPOPMAX key count (ZMPOP)
}

// genericZpop pops from the first existing key of keys, as Redis's
// genericZpopCommand.
func (s *Server) genericZpop(c *Client, keys [][]byte, o zpopOpts) {
	var key []byte
	var z *zsetObject
	var r Ref
	for _, k := range keys {
		key = k
		r = s.lookupWrite(c, k)
		if r == 0 {
			continue
		}
		if c.db.kv.Type(r) != keyspace.TypeZSet {
			c.addError(ErrWrongType)
			return
		}
		z = c.db.kv.Object(r).(*zsetObject)
		break
	}
	if z == nil {
		if o.nilIfEmpty {
			c.addNullArray()
		} else {
			c.addEmptyArray()
		}
		return
	}
	count := o.count
	if count == 0 {
		c.addEmptyArray()
		return
	}
	if count == -1 {
		count = 1
	}
	llen := int64(z.Len())
	n := min(count, llen)
	switch {
	case !o.nested && !o.emitKey:
		c.addArrayLen(int(n * 2))
	case o.nested && !o.emitKey:
		c.addArrayLen(int(n))
	case !o.nested && o.emitKey:
		c.addArrayLen(int(n*2 + 1))
		c.addBulk(key)
	default:
		c.addArrayLen(2)
		c.addBulk(key)
		c.addArrayLen(int(n))
	}
	event := "zpopmin"
	if o.max {
		event = "zpopmax"
	}
	for i := int64(0); i < n; i++ {
		p := z.head()
		if o.max {
			p = z.tail()
		}
		m, score := z.at(p)
		if o.nested {
			c.addArrayLen(2)
		}
		c.addBulk(m)
		c.addDouble(score)
		z.removeAt(p)
		s.dirty++
		if i == 0 {
			s.notify(c.db, notifyZset, event, key)
			s.signalModifiedKey(c.db, key)
		}
	}
	if z.Len() == 0 {
		deleteZsetKey(c.db, r)
		s.notify(c.db, notifyGeneric, "del", key)
	}
	if o.zmpopRewrite {
		var buf [20]byte
		c.propagateAs(zpopWord(o.max), key, strconv.AppendInt(buf[:0], n, 10))
	}
}

func cmdZpopmin(c *Client, args [][]byte) { zpopMinMax(c, args, false) }
func cmdZpopmax(c *Client, args [][]byte) { zpopMinMax(c, args, true) }

// zpopMinMax is ZPOPMIN/ZPOPMAX key [count].
func zpopMinMax(c *Client, args [][]byte, max bool) {
	if len(args) > 3 {
		c.addError(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(args) == 3 {
		var ok bool
		if count, ok = c.getPositiveIntMsg(args[2], ""); !ok {
			return
		}
	}
	c.srv.genericZpop(c, args[1:2], zpopOpts{max: max, count: count, nested: c.resp > 2 && count != -1})
}

func cmdZmpop(c *Client, args [][]byte)  { zmpopGeneric(c, args, 1, false) }
func cmdBzmpop(c *Client, args [][]byte) { zmpopGeneric(c, args, 2, true) }

// zmpopGeneric is ZMPOP numkeys key... MIN|MAX [COUNT n] and BZMPOP, which
// has the timeout first, as Redis's zmpopGenericCommand: numkeys, MIN|MAX
// and COUNT are checked before the timeout.
func zmpopGeneric(c *Client, args [][]byte, numkeysIdx int, block bool) {
	numkeys, ok := c.getRangeInt(args[numkeysIdx], 1, math.MaxInt64, "numkeys should be greater than 0")
	if !ok {
		return
	}
	if numkeys >= int64(len(args)) {
		c.addError(ErrSyntax)
		return
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	if whereIdx >= len(args) {
		c.addError(ErrSyntax)
		return
	}
	var max bool
	switch {
	case equalFold(args[whereIdx], "min"):
	case equalFold(args[whereIdx], "max"):
		max = true
	default:
		c.addError(ErrSyntax)
		return
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(args); j++ {
		more := len(args) - 1 - j
		if count == -1 && equalFold(args[j], "count") && more > 0 {
			j++
			if count, ok = c.getRangeInt(args[j], 1, math.MaxInt64, "count should be greater than 0"); !ok {
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
	o := zpopOpts{max: max, emitKey: true, count: count, nested: true, nilIfEmpty: true}
	if block {
		c.srv.blockingZpop(c, keys, args[1], o)
		return
	}
	o.zmpopRewrite = true
	c.srv.genericZpop(c, keys, o)
}

func cmdBzpopmin(c *Client, args [][]byte) { bzpopMinMax(c, args, false) }
func cmdBzpopmax(c *Client, args [][]byte) { bzpopMinMax(c, args, true) }

// bzpopMinMax is BZPOPMIN/BZPOPMAX key... timeout.
func bzpopMinMax(c *Client, args [][]byte, max bool) {
	c.srv.blockingZpop(c, args[1:len(args)-1], args[len(args)-1], zpopOpts{max: max, emitKey: true, count: -1})
}

// blockingZpop pops from the first of keys holding a non-empty sorted set,
// or blocks the client on all of them, as Redis's
// blockingGenericZpopCommand.
func (s *Server) blockingZpop(c *Client, keys [][]byte, timeout []byte, o zpopOpts) {
	deadline, ok := c.parseTimeout(timeout)
	if !ok {
		return
	}
	for i, key := range keys {
		r := s.lookupWrite(c, key)
		if r == 0 {
			continue
		}
		if c.db.kv.Type(r) != keyspace.TypeZSet {
			c.addError(ErrWrongType)
			return
		}
		llen := int64(c.db.kv.Object(r).(*zsetObject).Len())
		if llen == 0 {
			continue
		}
		s.genericZpop(c, keys[i:i+1], o)
		propagateZpop(c, key, o, llen)
		return
	}
	// serve runs once a key is ready; o is a copy.
	serve := func(c *Client, key []byte) bool {
		s := c.srv
		r := s.lookupWriteDB(c.db, key, false)
		if r == 0 || c.db.kv.Type(r) != keyspace.TypeZSet {
			return false
		}
		llen := int64(c.db.kv.Object(r).(*zsetObject).Len())
		if llen == 0 {
			return false
		}
		s.genericZpop(c, [][]byte{key}, o)
		propagateZpop(c, key, o, llen)
		return true
	}
	s.blockForKeys(c, keys, deadline, serve, func(c *Client) { c.addNullArray() })
}

// propagateZpop records a blocking pop as ZPOPMIN/ZPOPMAX key [count].
func propagateZpop(c *Client, key []byte, o zpopOpts, llen int64) {
	if o.count == -1 {
		c.propagateAs(zpopWord(o.max), key)
		return
	}
	var buf [20]byte
	c.propagateAs(zpopWord(o.max), key, strconv.AppendInt(buf[:0], min(o.count, llen), 10))
}
