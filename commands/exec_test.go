package commands

import (
	"io"
	"log/slog"
	"strconv"
	"testing"

	"spinel/config"
	"spinel/eventloop/resp"
)

// nullConn is a Conn that drops what it is given, for in-process tests.
type nullConn struct{ written int }

func (n *nullConn) Write(b []byte) error  { n.written += len(b); return nil }
func (n *nullConn) Close()                {}
func (n *nullConn) Wake()                 {}
func (n *nullConn) OutboundBuffered() int { return 0 }
func (n *nullConn) RemoteAddr() string    { return "127.0.0.1:1" }
func (n *nullConn) LocalAddr() string     { return "127.0.0.1:6379" }
func (n *nullConn) Fd() int               { return 0 }
func newTestServer(tb testing.TB) *Server {
	tb.Helper()
	return NewServer(config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// run executes one command given as strings and returns its raw reply.
func run(s *Server, c *Client, args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	s.BeginBatch()
	s.Execute(c, argv)
	out := string(c.out)
	c.out = c.out[:0]
	return out
}

func TestExecuteBasics(t *testing.T) {
	s := newTestServer(t)
	c := s.NewClient(&nullConn{})
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"get", "k"}, "$1\r\nv\r\n"},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
		{[]string{"NOPE", "a"}, "-ERR unknown command 'NOPE', with args beginning with: 'a' \r\n"},
		{[]string{"CONFIG", "NOPE"}, "-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n"},
		{[]string{"INCR", "k"}, "-ERR value is not an integer or out of range\r\n"},
	}
	for _, tc := range cases {
		if got := run(s, c, tc.args...); got != tc.want {
			t.Errorf("%q = %q; want %q", tc.args, got, tc.want)
		}
	}
}

// TestPanicRecovered checks the gate's promise: a panicking handler is
// answered with an error, counted, and the server goes on.
func TestPanicRecovered(t *testing.T) {
	s := newTestServer(t)
	c := s.NewClient(&nullConn{})
	spec := s.table.lookup([]byte("echo"))
	saved := spec.Handler
	spec.Handler = func(*Client, [][]byte) { panic("boom") }
	got := run(s, c, "ECHO", "x")
	spec.Handler = saved
	if got != "-ERR internal error while executing 'echo'; see the server log\r\n" {
		t.Fatalf("reply after panic = %q", got)
	}
	if s.stats.panics != 1 {
		t.Fatalf("panics = %d", s.stats.panics)
	}
	if got := run(s, c, "PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after panic = %q", got)
	}
}

// TestHotPathAllocs: GET and SET of an existing key allocate nothing per
// command, parse and reply included.
func TestHotPathAllocs(t *testing.T) {
	s := newTestServer(t)
	c := s.NewClient(&nullConn{})
	set := []byte("*3\r\n$3\r\nSET\r\n$8\r\nkey:1234\r\n$16\r\n0123456789abcdef\r\n")
	get := []byte("*2\r\n$3\r\nGET\r\n$8\r\nkey:1234\r\n")
	args := make([][]byte, 0, 8)
	exec := func(in []byte) {
		argv, _, _, _ := resp.ParseCommand(in, args, resp.DefaultLimits)
		s.Execute(c, argv)
		args = argv[:0]
		c.Flush()
	}
	exec(set)
	for name, in := range map[string][]byte{"SET": set, "GET": get} {
		if n := testing.AllocsPerRun(1000, func() { exec(in) }); n != 0 {
			t.Errorf("%s allocates %v times per command; want 0", name, n)
		}
	}
}

func BenchmarkExecute(b *testing.B) {
	s := newTestServer(b)
	c := s.NewClient(&nullConn{})
	args := make([][]byte, 0, 8)
	var keys [][]byte
	for i := 0; i < 10000; i++ {
		keys = append(keys, []byte("*3\r\n$3\r\nSET\r\n$9\r\nkey:"+pad(i)+"\r\n$16\r\n0123456789abcdef\r\n"))
	}
	gets := make([][]byte, len(keys))
	incrs := make([][]byte, len(keys))
	for i := range keys {
		gets[i] = []byte("*2\r\n$3\r\nGET\r\n$9\r\nkey:" + pad(i) + "\r\n")
		incrs[i] = []byte("*2\r\n$4\r\nINCR\r\n$9\r\nctr:" + pad(i) + "\r\n")
	}
	for _, bc := range []struct {
		name string
		in   [][]byte
	}{{"SET", keys}, {"GET", gets}, {"INCR", incrs}, {"PING", [][]byte{[]byte("*1\r\n$4\r\nPING\r\n")}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				argv, _, _, _ := resp.ParseCommand(bc.in[i%len(bc.in)], args, resp.DefaultLimits)
				s.Execute(c, argv)
				args = argv[:0]
				if i%16 == 15 {
					c.Flush()
				}
			}
		})
	}
}

func pad(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 5 {
		s = "0" + s
	}
	return s
}
