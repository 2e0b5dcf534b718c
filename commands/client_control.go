package commands

import "time"

var clientControlCommands = []cmdDef{
	{"client|reply", cmdClientReply, 0},
	{"client|pause", cmdClientPause, 0},
	{"client|unpause", cmdClientUnpause, 0},
}

// cmdClientReply switches the client's replies ON, OFF, or SKIPs the next
// one. Only ON answers (+OK); OFF and SKIP are silent, as in Redis.
func cmdClientReply(c *Client, args [][]byte) {
	switch {
	case equalFold(args[2], "on"):
		c.replyOff, c.replySkip, c.replySkipNext = false, false, false
		c.addOK()
	case equalFold(args[2], "off"):
		c.replyOff = true
	case equalFold(args[2], "skip"):
		if !c.replyOff {
			c.replySkipNext = true
		}
	default:
		c.addError(ErrSyntax)
	}
}

// cmdClientPause holds every client's commands (ALL, the default) or only
// those that write (WRITE) for timeout milliseconds. Held clients resume,
// in order, once the pause ends or CLIENT UNPAUSE runs.
func cmdClientPause(c *Client, args [][]byte) {
	s := c.srv
	ms, ok := parseInt(args[2])
	if !ok {
		c.addError("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.addError("ERR timeout is negative")
		return
	}
	all := true
	if len(args) == 4 {
		switch {
		case equalFold(args[3], "write"):
			all = false
		case equalFold(args[3], "all"):
		default:
			c.addError("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	} else if len(args) > 4 {
		c.addError(ErrSyntax)
		return
	}
	end := s.now + ms
	if end > s.pauseEnd {
		s.pauseEnd = end
	}
	s.pauseAll = s.pauseAll || all
	if s.Hooks.After != nil {
		s.Hooks.After(time.Duration(ms)*time.Millisecond+time.Millisecond, s.checkUnpause)
	}
	c.addOK()
}

func cmdClientUnpause(c *Client, args [][]byte) {
	c.srv.unpause()
	c.addOK()
}

// pausedFor reports whether cmd from c must wait for the pause to end:
// every command under PAUSE ALL, writes (and commands that may propagate)
// under PAUSE WRITE.
func (s *Server) pausedFor(c *Client, cmd *Spec) bool {
	if s.pauseEnd == 0 {
		return false
	}
	if s.now >= s.pauseEnd {
		s.unpause()
		return false
	}
	if s.pauseAll {
		return true
	}
	if cmd.Flags&(FlagWrite|FlagMayReplicate) != 0 {
		return true
	}
	return cmd.Name == "exec" && c.multiWrites()
}

// multiWrites reports whether the queued transaction holds a write.
func (c *Client) multiWrites() bool {
	for _, q := range c.multiQueue {
		if q.cmd.Flags&(FlagWrite|FlagMayReplicate) != 0 {
			return true
		}
	}
	return false
}

// holdClient parks c until the pause ends; its command stays unread.
func (s *Server) holdClient(c *Client) {
	if !c.paused {
		c.paused = true
		s.pausedClients = append(s.pausedClients, c)
	}
}

// checkUnpause ends the pause when its time has come.
func (s *Server) checkUnpause() {
	s.updateTime(time.Now())
	if s.pauseEnd != 0 && s.now >= s.pauseEnd {
		s.unpause()
	}
}

// unpause ends any pause and lets held clients read their input again.
func (s *Server) unpause() {
	s.pauseEnd, s.pauseAll = 0, false
	held := s.pausedClients
	s.pausedClients = nil
	for _, c := range held {
		c.paused = false
		if !c.closed {
			c.conn.Wake()
		}
	}
}
