package commands

import (
	"errors"
	"fmt"
	"strings"
)

// loaderConn is the connection of the internal client that replays
// commands (AOF loading, DEBUG RELOAD): replies go nowhere.
type loaderConn struct{}

func (loaderConn) Write([]byte) error    { return nil }
func (loaderConn) Close()                {}
func (loaderConn) Wake()                 {}
func (loaderConn) OutboundBuffered() int { return 0 }
func (loaderConn) RemoteAddr() string    { return "" }
func (loaderConn) LocalAddr() string     { return "" }
func (loaderConn) Fd() int               { return -1 }

// newLoaderClient returns the internal client that replays commands. It is
// not registered among the connected clients.
func (s *Server) newLoaderClient() *Client {
	return &Client{srv: s, conn: loaderConn{}, db: s.dbs[0], resp: 2, authn: true, id: -1,
		name: "aof-loader", denyBlocking: true}
}

// errUnknownCommand is returned by replay for a command Spinel lacks.
var errUnknownCommand = errors.New("unknown command")

// replay executes one command for the loader client, as Redis's AOF
// loading does with its fake client: no reply, no propagation, nothing
// expires, and MULTI/EXEC are honoured so a transaction applies whole.
func (s *Server) replay(c *Client, argv [][]byte) error {
	if len(argv) == 0 {
		return nil
	}
	cmd := s.table.lookup(argv[0])
	if cmd != nil && cmd.Subcommands != nil && len(argv) >= 2 {
		cmd = cmd.subcommand(argv[1])
	}
	if cmd == nil || cmd.Handler == nil {
		return fmt.Errorf("%w '%s'", errUnknownCommand, cString(argv[0], 128))
	}
	if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		return fmt.Errorf("wrong number of arguments for '%s' command", cmd.FullName)
	}
	saved := s.loading
	s.loading = true
	defer func() { s.loading = saved }()
	c.argv, c.cmd = argv, cmd
	c.replyErr = false
	switch {
	case cmd.Name == "multi":
		c.multi = true
	case cmd.Name == "exec":
		if !c.multi {
			return errors.New("EXEC without MULTI")
		}
		queue := c.multiQueue
		s.execDepth++
		for _, q := range queue {
			c.argv, c.cmd = q.argv, q.cmd
			s.call(c, q.cmd, q.argv)
		}
		s.execDepth--
		s.discardTransaction(c)
	case c.multi:
		c.queueMulti(cmd, argv)
	default:
		s.call(c, cmd, argv)
	}
	c.out = c.out[:0]
	return nil
}

// LoadCommand replays one command read from the AOF. It is the executor
// side of AOF loading: the persistence package parses, this applies.
func (s *Server) LoadCommand(argv [][]byte) error {
	if s.loadClient == nil {
		s.loadClient = s.newLoaderClient()
	}
	if err := s.replay(s.loadClient, argv); err != nil {
		return err
	}
	if s.loadClient.replyErr && strings.EqualFold(string(argv[0]), "select") {
		return errors.New("SELECT of a database out of range")
	}
	return nil
}

// LoadingPending reports whether the AOF ended inside a MULTI block.
func (s *Server) LoadingPending() bool { return s.loadClient != nil && s.loadClient.multi }

// FinishLoading ends AOF loading: a transaction left open by a truncated
// file is discarded, as Redis does.
func (s *Server) FinishLoading() {
	if s.loadClient != nil {
		s.discardTransaction(s.loadClient)
		s.loadClient = nil
	}
}
