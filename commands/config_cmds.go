package commands

import "strings"

func cmdConfigGet(c *Client, args [][]byte) {
	patterns := make([]string, 0, len(args)-2)
	for _, p := range args[2:] {
		patterns = append(patterns, string(p))
	}
	pairs := c.srv.cfg.GetAll(patterns...)
	c.addMapLen(len(pairs))
	for _, kv := range pairs {
		c.addBulkString(kv[0])
		c.addBulkString(kv[1])
	}
}

func cmdConfigSet(c *Client, args [][]byte) {
	if len(args)%2 != 0 {
		c.addError(ErrSyntax)
		return
	}
	pairs := make([][2]string, 0, (len(args)-2)/2)
	for i := 2; i < len(args); i += 2 {
		pairs = append(pairs, [2]string{string(args[i]), string(args[i+1])})
	}
	if err := c.srv.cfg.SetFrom(pairs, c.isLocal()); err != nil {
		c.addError(err.Error())
		return
	}
	c.addOK()
}

func cmdConfigResetstat(c *Client, args [][]byte) {
	c.srv.resetStats()
	c.addOK()
}

// resetStats zeroes the counters CONFIG RESETSTAT resets, as Redis's
// resetServerStats and resetCommandTableStats.
func (s *Server) resetStats() {
	codes := s.stats.errorCodes
	clear(codes)
	s.stats = stats{errorCodes: codes}
	var visit func(list []*Spec)
	visit = func(list []*Spec) {
		for _, cmd := range list {
			cmd.Calls, cmd.Usec, cmd.RejectedCalls, cmd.FailedCalls = 0, 0, 0, 0
			cmd.hist = nil
			visit(cmd.Subcommands)
		}
	}
	visit(s.table.sorted)
}

func cmdConfigRewrite(c *Client, args [][]byte) {
	if err := c.srv.cfg.Rewrite(); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "ERR ") {
			c.srv.log.Warn("CONFIG REWRITE failed", "err", msg)
			msg = "ERR Rewriting config file: " + msg
		}
		c.addError(msg)
		return
	}
	c.srv.log.Info("CONFIG REWRITE executed with success.")
	c.addOK()
}

func cmdConfigHelp(c *Client, args [][]byte) {
	c.addHelp("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	)
}

// isLocal reports whether the client connects over loopback or a unix
// socket, for the "local" setting of enable-protected-configs.
func (c *Client) isLocal() bool {
	addr := c.conn.RemoteAddr()
	return strings.HasPrefix(addr, "127.") || strings.HasPrefix(addr, "[::1]") || strings.HasSuffix(addr, ":0")
}
