package commands

import (
	"io"
	"log/slog"
	"testing"

	"spinel/config"
)

// discardConn is a Conn that drops its output, for in-process tests.
type discardConn struct{}

func (discardConn) Write(b []byte) error  { return nil }
func (discardConn) Close()                {}
func (discardConn) Wake()                 {}
func (discardConn) OutboundBuffered() int { return 0 }
func (discardConn) RemoteAddr() string    { return "127.0.0.1:1" }
func (discardConn) LocalAddr() string     { return "127.0.0.1:6379" }
func (discardConn) Fd() int               { return 0 }

// hsExec runs argv on an in-process server and returns the reply.
func hsExec(s *Server, c *Client, argv ...[]byte) string {
	c.out = c.out[:0]
	s.Execute(c, argv)
	return string(c.out)
}

func hsArgs(args ...string) [][]byte {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return argv
}

// TestCollectionHotPathAllocs pins the allocation-free paths that
// redis-benchmark drives: updating a hash field in place, adding an
// existing set member, membership tests and popping from a missing key.
func TestCollectionHotPathAllocs(t *testing.T) {
	s := NewServer(config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := s.NewClient(discardConn{})
	hsExec(s, c, hsArgs("HSET", "h", "element:000000000000", "xxx")...)
	hsExec(s, c, hsArgs("SADD", "s", "element:000000000000", "a", "b")...)
	hsExec(s, c, hsArgs("SADD", "is", "1", "2", "3")...)
	cases := []struct {
		argv [][]byte
		want string
	}{
		{hsArgs("HSET", "h", "element:000000000000", "xxx"), ":0\r\n"},
		{hsArgs("HGET", "h", "element:000000000000"), "$3\r\nxxx\r\n"},
		{hsArgs("SADD", "s", "element:000000000000"), ":0\r\n"},
		{hsArgs("SISMEMBER", "s", "a"), ":1\r\n"},
		{hsArgs("SISMEMBER", "is", "2"), ":1\r\n"},
		{hsArgs("SPOP", "nokey"), "$-1\r\n"},
	}
	for _, tc := range cases {
		if got := hsExec(s, c, tc.argv...); got != tc.want {
			t.Fatalf("%q = %q; want %q", tc.argv, got, tc.want)
		}
		if n := testing.AllocsPerRun(100, func() { hsExec(s, c, tc.argv...) }); n > 0 {
			t.Errorf("%q: %.1f allocations per call; want 0", tc.argv, n)
		}
	}
}
