package commands

import (
	"strconv"

	"spinel/commands/keyspace"
)

// ---------------------------------------------------------------------------
// Blocking list commands: BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH, as Redis
// 7.0's t_list.c and blocked.c. When a key has data they behave as their
// non-blocking forms and are propagated as those (LPOP, LMOVE, ...). When
// none has, the client blocks (see blocking.go); the serve functions below
// then run once a key is ready, with copies of what they need from argv.
//
// Redis 7.0 quirks kept on purpose:
//   - a timeout (or CLIENT UNBLOCK ... TIMEOUT) replies with a null array
//     for every blocking list command, BLMOVE and BRPOPLPUSH included, while
//     BLMOVE inside MULTI replies with a null bulk string;
//   - a blocked client stays blocked when its key receives a value of
//     another type;
//   - a BLMOVE whose destination holds another type when its source gets
//     data is released with a WRONGTYPE error, leaving the source intact.
// ---------------------------------------------------------------------------

// replyNullArray is the timeout reply of every blocking list command.
func replyNullArray(c *Client) { c.addNullArray() }

func cmdBlpop(c *Client, args [][]byte) { c.srv.bpopGeneric(c, args, true) }
func cmdBrpop(c *Client, args [][]byte) { c.srv.bpopGeneric(c, args, false) }

// bpopGeneric is BLPOP and BRPOP: key... timeout.
func (s *Server) bpopGeneric(c *Client, args [][]byte, head bool) {
	deadline, ok := c.parseTimeout(args[len(args)-1])
	if !ok {
		return
	}
	s.blockingPop(c, args[1:len(args)-1], head, deadline, -1)
}

// blockingPop pops from the first of keys that holds a list, or blocks on
// all of them, as Redis's blockingPopGenericCommand. count -1 is BLPOP's
// [key, element] reply; otherwise BLMPOP's [key, [elements]] with up to
// count elements.
func (s *Server) blockingPop(c *Client, keys [][]byte, head bool, deadline, count int64) {
	for _, key := range keys {
		q, r, ok := s.writeList(c, key)
		if !ok {
			return
		}
		if q == nil {
			continue
		}
		s.servePop(c, key, r, q, head, count)
		return
	}
	serve := func(c *Client, key []byte) bool {
		r := s.lookupWriteDB(c.db, key, true)
		if r == 0 || c.db.kv.Type(r) != keyspace.TypeList {
			return false
		}
		s.servePop(c, key, r, c.db.kv.Object(r).(*quicklist), head, count)
		return true
	}
	s.blockForKeys(c, keys, deadline, serve, replyNullArray)
}

// servePop pops for BLPOP/BRPOP/BLMPOP from list q at key, replies, and
// propagates the equivalent LPOP/RPOP.
func (s *Server) servePop(c *Client, key []byte, r Ref, q *quicklist, head bool, count int64) {
	if count == -1 {
		c.addArrayLen(2)
		c.addBulk(key)
		var sc [20]byte
		c.addBulk(q.end(head, &sc))
		q.trimEnd(1, head)
		c.propagateAs(popWord(head), key)
		s.listElementsRemoved(c.db, key, r, q, head, 1)
		return
	}
	n := s.popRangeWithKey(c, key, r, q, head, count)
	var buf [20]byte
	c.propagateAs(popWord(head), key, strconv.AppendInt(buf[:0], int64(n), 10))
}

func cmdBlmove(c *Client, args [][]byte) {
	from, ok := c.getListWhere(args[3])
	if !ok {
		return
	}
	to, ok := c.getListWhere(args[4])
	if !ok {
		return
	}
	deadline, ok := c.parseTimeout(args[5])
	if !ok {
		return
	}
	c.srv.blmoveGeneric(c, args, from, to, deadline, false)
}

func cmdBrpoplpush(c *Client, args [][]byte) {
	deadline, ok := c.parseTimeout(args[3])
	if !ok {
		return
	}
	c.srv.blmoveGeneric(c, args, false, true, deadline, true)
}

// blmoveGeneric is BLMOVE and BRPOPLPUSH (rpoplpush): LMOVE when the source
// has data, else block on the source.
func (s *Server) blmoveGeneric(c *Client, args [][]byte, from, to bool, deadline int64, rpoplpush bool) {
	src, dst := args[1], args[2]
	sq, _, ok := s.writeList(c, src)
	if !ok {
		return
	}
	if sq != nil {
		if s.lmoveGeneric(c, src, dst, from, to) {
			if rpoplpush {
				c.propagateAs(wordRpoplpush, src, dst)
			} else {
				c.propagateAs(wordLmove, src, dst, args[3], args[4])
			}
		}
		return
	}
	if c.denyBlocking {
		// Inside MULTI: BLMOVE's own null reply, not the timeout's.
		c.addNull()
		return
	}
	dstKey := append([]byte(nil), dst...)
	serve := func(c *Client, key []byte) bool {
		r := s.lookupWriteDB(c.db, key, true)
		if r == 0 || c.db.kv.Type(r) != keyspace.TypeList {
			return false
		}
		sq := c.db.kv.Object(r).(*quicklist)
		var dq *quicklist
		if dr := s.lookupWriteDB(c.db, dstKey, true); dr != 0 {
			if c.db.kv.Type(dr) != keyspace.TypeList {
				c.addError(ErrWrongType)
				return true
			}
			dq = c.db.kv.Object(dr).(*quicklist)
		}
		s.moveElement(c, key, r, sq, dstKey, dq, from, to)
		if rpoplpush {
			c.propagateAs(wordRpoplpush, key, dstKey)
		} else {
			c.propagateAs(wordLmove, key, dstKey, whereWord(from), whereWord(to))
		}
		return true
	}
	s.blockForKeys(c, [][]byte{src}, deadline, serve, replyNullArray)
}
