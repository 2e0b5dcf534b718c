package commands

var transactionCommands = []cmdDef{
	{"multi", cmdMulti, FlagTxControl},
	{"exec", cmdExec, FlagTxControl},
	{"discard", cmdDiscard, FlagTxControl},
	{"watch", cmdWatch, FlagTxControl},
	{"unwatch", cmdUnwatch, 0},
}

// queuedCommand is a command queued between MULTI and EXEC. Its arguments
// are copies: the input buffer they came from is gone by EXEC.
type queuedCommand struct {
	cmd  *Spec
	argv [][]byte
}

func (c *Client) inMulti() bool { return c.multi }

// queueMulti copies the current command into the transaction.
func (c *Client) queueMulti(cmd *Spec, argv [][]byte) {
	size := 0
	for _, a := range argv {
		size += len(a)
	}
	buf := make([]byte, 0, size)
	copied := make([][]byte, len(argv))
	for i, a := range argv {
		start := len(buf)
		buf = append(buf, a...)
		copied[i] = buf[start:len(buf):len(buf)]
	}
	c.multiQueue = append(c.multiQueue, queuedCommand{cmd: cmd, argv: copied})
	if cmd.Flags&FlagDenyOOM != 0 {
		c.multiDenyOOM = true
	}
	c.multiMem += int64(size + len(argv)*24 + 32)
}

// flagTransaction makes a pending EXEC fail: a command was rejected while
// queuing.
func (c *Client) flagTransaction() {
	if c.multi {
		c.dirtyExec = true
	}
}

// discardTransaction leaves MULTI state and drops the watches.
func (s *Server) discardTransaction(c *Client) {
	clear(c.multiQueue)
	c.multiQueue = c.multiQueue[:0]
	c.multiMem = 0
	c.multiDenyOOM = false
	c.multi = false
	c.dirtyExec = false
	s.unwatchAll(c)
}

func cmdMulti(c *Client, args [][]byte) {
	if c.multi {
		c.addError("ERR MULTI calls can not be nested")
		return
	}
	c.multi = true
	c.addOK()
}

func cmdDiscard(c *Client, args [][]byte) {
	if !c.multi {
		c.addError("ERR DISCARD without MULTI")
		return
	}
	c.srv.discardTransaction(c)
	c.addOK()
}

func cmdExec(c *Client, args [][]byte) {
	s := c.srv
	if !c.multi {
		c.addError("ERR EXEC without MULTI")
		return
	}
	if s.watchedKeyExpired(c) {
		c.dirtyCAS = true
	}
	if c.dirtyExec || c.dirtyCAS {
		if c.dirtyExec {
			c.addError("EXECABORT Transaction discarded because of previous errors.")
		} else {
			c.addNullArray()
		}
		s.discardTransaction(c)
		return
	}
	queue := c.multiQueue
	s.unwatchAll(c)
	c.addArrayLen(len(queue))
	s.runExecQueue(c, queue)
}

// runExecQueue runs a transaction's queued commands. If a script among them
// runs past busy-reply-threshold, the executor goes back to the event loop
// as for a script outside a transaction: the rest of the queue is kept by
// the script engine and runs when the script ends (resumeExec), before
// anything else, so the transaction stays atomic and its writes stay one
// unit.
func (s *Server) runExecQueue(c *Client, queue []queuedCommand) {
	c.denyBlocking = true
	c.inExec = true
	s.execDepth++
	for i, q := range queue {
		c.argv = q.argv
		c.cmd = q.cmd
		c.replyErr = false
		if msg := s.aclCheckExec(c, q.cmd, q.argv); msg != "" {
			c.addError(msg) // the rules changed since it was queued
			continue
		}
		s.call(c, q.cmd, q.argv)
		if s.scriptBusy() {
			s.execDepth--
			s.suspendExec(c, queue[i+1:])
			return
		}
	}
	s.execDepth--
	c.inExec = false
	c.denyBlocking = false
	c.cmd = s.table.lookup([]byte("exec"))
	s.discardTransaction(c)
	s.afterExec()
}

func cmdWatch(c *Client, args [][]byte) {
	s := c.srv
	if c.multi {
		c.addError("ERR WATCH inside MULTI is not allowed")
		return
	}
	if c.dirtyCAS {
		c.addOK()
		return
	}
	for _, key := range args[1:] {
		s.watchKey(c, key)
	}
	c.addOK()
}

func cmdUnwatch(c *Client, args [][]byte) {
	c.srv.unwatchAll(c)
	c.addOK()
}

// watchKey adds key of c's database to c's watch set, once.
func (s *Server) watchKey(c *Client, key []byte) {
	for _, w := range c.watched {
		if w.db == c.db && w.key == string(key) {
			return
		}
	}
	db := c.db
	k := string(key)
	expired := false
	if r := db.kv.Lookup(key); r != 0 && s.keyIsExpired(db, r) {
		expired = true
	}
	if db.watched == nil {
		db.watched = make(map[string][]*Client)
	}
	db.watched[k] = append(db.watched[k], c)
	c.watched = append(c.watched, watchedKey{db: db, key: k, expired: expired})
}

// watchedKeyExpired reports whether a watched key has expired since WATCH
// (a key already expired when watched does not count), as Redis's
// isWatchedKeyExpired.
func (s *Server) watchedKeyExpired(c *Client) bool {
	for _, w := range c.watched {
		if w.expired {
			continue
		}
		if r := w.db.kv.Lookup([]byte(w.key)); r != 0 && s.keyIsExpired(w.db, r) {
			return true
		}
	}
	return false
}
