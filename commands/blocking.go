package commands

import (
	"math"
	"math/big"
	"time"
)

// ---------------------------------------------------------------------------
// Blocking operations (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...), as Redis's
// blocked.c. A client that finds no data registers on its keys and stops
// reading input. Any change to a key with blocked clients marks it ready;
// after the command that changed it (after EXEC for a transaction), the
// clients blocked on each ready key are offered the key in FIFO order until
// one finds it empty. A timer or CLIENT UNBLOCK releases a client with its
// timeout reply; a disconnect just forgets it.
// ---------------------------------------------------------------------------

// serveFunc tries to serve a blocked client from key, which became ready. It
// replies and returns true when the client got what it waited for; it
// returns false, without replying, to keep the client blocked. It runs long
// after the blocking command's argv is gone: it must capture copies.
type serveFunc func(c *Client, key []byte) bool

// blockState is what a blocked client waits for.
type blockState struct {
	db        *database
	keys      []string
	deadline  int64 // unix ms; 0 waits forever
	serve     serveFunc
	onTimeout func(c *Client) // writes the reply given on timeout
	gen       uint64
	cmd       *Spec
}

func (c *Client) isBlocked() bool { return c.blocked != nil }

// noTimeout reports whether the idle timeout spares the client: blocked and
// subscribed clients are idle by design.
func (c *Client) noTimeout() bool { return c.blocked != nil || c.inPubSubMode() }

// parseTimeout parses a blocking timeout in seconds (a double) into an
// absolute unix ms deadline, 0 meaning forever, as Redis's
// getTimeoutFromObjectOrReply with UNIT_SECONDS.
func (c *Client) parseTimeout(b []byte) (int64, bool) {
	f, ok := parseLongDouble(b)
	if !ok {
		c.addError("ERR timeout is not a float or out of range")
		return 0, false
	}
	f = new(big.Float).SetPrec(longDoublePrec).Mul(f, big.NewFloat(1000))
	if f.Cmp(new(big.Float).SetInt64(math.MaxInt64)) > 0 {
		// Redis 7.0 converts with an overflowing cast: the result reads
		// as negative.
		c.addError("ERR timeout is negative")
		return 0, false
	}
	// ceil
	i, acc := f.Int64()
	if acc == big.Below {
		i++
	}
	return c.finishTimeout(i)
}

// parseTimeoutMillis parses an integer timeout in milliseconds (XREAD BLOCK).
func (c *Client) parseTimeoutMillis(b []byte) (int64, bool) {
	v, ok := parseInt(b)
	if !ok {
		c.addError("ERR timeout is not an integer or out of range")
		return 0, false
	}
	return c.finishTimeout(v)
}

func (c *Client) finishTimeout(ms int64) (int64, bool) {
	if ms < 0 {
		c.addError("ERR timeout is negative")
		return 0, false
	}
	if ms > 0 {
		if ms > math.MaxInt64-c.srv.now {
			c.addError("ERR timeout is out of range")
			return 0, false
		}
		ms += c.srv.now
	}
	return ms, true
}

// blockForKeys blocks c on keys of its database until one is served, the
// deadline passes (0: never) or it is unblocked. Inside EXEC (denyBlocking)
// it replies at once with the timeout reply instead, as Redis does.
func (s *Server) blockForKeys(c *Client, keys [][]byte, deadline int64, serve serveFunc, onTimeout func(*Client)) {
	if c.denyBlocking {
		onTimeout(c)
		return
	}
	s.blockGen++
	st := &blockState{db: c.db, deadline: deadline, serve: serve, onTimeout: onTimeout, gen: s.blockGen, cmd: c.cmd}
	if c.db.blocking == nil {
		c.db.blocking = make(map[string][]*Client)
	}
	for _, k := range keys {
		key := string(k)
		dup := false
		for _, have := range st.keys {
			if have == key {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		st.keys = append(st.keys, key)
		c.db.blocking[key] = append(c.db.blocking[key], c)
	}
	c.blocked = st
	s.blockedClients++
	if deadline > 0 && s.Hooks.After != nil {
		gen := st.gen
		d := time.Duration(deadline-s.now) * time.Millisecond
		s.Hooks.After(d, func() { s.blockTimedOut(c, gen) })
	}
}

// blockTimedOut releases c with its timeout reply if it is still in the
// same blocking call.
func (s *Server) blockTimedOut(c *Client, gen uint64) {
	st := c.blocked
	if st == nil || st.gen != gen || c.closed {
		return
	}
	s.updateTime(time.Now())
	if st.deadline > s.now {
		// The timer fired early (clock granularity): wait the rest.
		d := time.Duration(st.deadline-s.now) * time.Millisecond
		s.Hooks.After(d, func() { s.blockTimedOut(c, gen) })
		return
	}
	s.unblock(c)
	st.onTimeout(c)
	s.finishUnblocked(c)
}

// unblock removes c from the key lists; the caller replies.
func (s *Server) unblock(c *Client) {
	st := c.blocked
	if st == nil {
		return
	}
	for _, key := range st.keys {
		list := st.db.blocking[key]
		for i, other := range list {
			if other == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(st.db.blocking, key)
		} else {
			st.db.blocking[key] = list
		}
	}
	c.blocked = nil
	s.blockedClients--
}

// finishUnblocked sends the released client's reply and lets it read its
// pipelined input again.
func (s *Server) finishUnblocked(c *Client) {
	c.markPending()
	if !c.closed && c.conn != nil {
		c.conn.Wake()
	}
}

// signalKeyAsReady records that key may now serve blocked clients.
func (s *Server) signalKeyAsReady(db *database, key []byte) {
	if len(db.blocking[string(key)]) == 0 {
		return
	}
	for _, rk := range s.readyKeys {
		if rk.db == db && rk.key == string(key) {
			return
		}
	}
	s.readyKeys = append(s.readyKeys, readyKey{db: db, key: string(key)})
}

type readyKey struct {
	db  *database
	key string
}

// handleReadyKeys serves blocked clients whose keys received data. Serving
// can make more keys ready (BLMOVE pushes), so it loops until none is left.
func (s *Server) handleReadyKeys() {
	for len(s.readyKeys) > 0 {
		ready := s.readyKeys
		s.readyKeys = nil
		for _, rk := range ready {
			s.serveKey(rk.db, rk.key)
		}
	}
}

// serveKey offers key to each client blocked on it, in the order they
// blocked, as Redis does: a client that cannot be served (the key ran dry,
// or it waits for another kind of data) stays blocked and the next one is
// tried.
func (s *Server) serveKey(db *database, key string) {
	kb := []byte(key)
	waiting := append([]*Client(nil), db.blocking[key]...)
	for _, c := range waiting {
		st := c.blocked
		if st == nil || st.db != db {
			continue // served or released meanwhile
		}
		prevDB := c.db
		c.db = st.db
		c.cmd = st.cmd
		served := st.serve(c, kb)
		c.db = prevDB
		if !served {
			continue
		}
		if c.blocked == st {
			s.unblock(c)
		}
		st.cmd.Calls++
		s.finishUnblocked(c)
	}
}

// swapBlocked follows SWAPDB: clients blocked in database a now wait on the
// data that moved to b and vice versa, and keys that now hold data are
// offered to them.
func (s *Server) swapBlocked(a, b *database) {
	for _, db := range []*database{a, b} {
		for key := range db.blocking {
			if db.kv.Lookup([]byte(key)) != 0 {
				s.signalKeyAsReady(db, []byte(key))
			}
		}
	}
}

// freeBlocked forgets a disconnecting client's blocking state.
func (s *Server) freeBlocked(c *Client) {
	if c.blocked != nil {
		s.unblock(c)
	}
}

var blockingCommands = []cmdDef{
	{"client|unblock", cmdClientUnblock, 0},
}

func cmdClientUnblock(c *Client, args [][]byte) {
	s := c.srv
	id, ok := parseInt(args[2])
	if !ok {
		c.addError(ErrNotInteger)
		return
	}
	withError := false
	if len(args) == 4 {
		switch {
		case equalFold(args[3], "timeout"):
		case equalFold(args[3], "error"):
			withError = true
		default:
			c.addError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(args) > 4 {
		c.addError("ERR unknown subcommand or wrong number of arguments for '" + string(cString(args[1], 128)) + "'. Try CLIENT HELP.")
		return
	}
	target := s.clients[id]
	if target == nil || target.blocked == nil {
		c.addInt(0)
		return
	}
	st := target.blocked
	s.unblock(target)
	if withError {
		target.addError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
	} else {
		st.onTimeout(target)
	}
	s.finishUnblocked(target)
	c.addInt(1)
}
