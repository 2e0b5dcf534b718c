package commands

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"spinel/config"
	"spinel/eventloop/resp"
)

// listSink records the propagated write stream.
type listSink struct{ buf []byte }

func (k *listSink) Append(b []byte) int64 {
	k.buf = append(k.buf, b...)
	return int64(len(k.buf))
}

// take decodes and clears the stream as "CMD arg ..." lines, leaving out
// the MULTI/EXEC that wrap units (their grouping is the AOF's business).
func (k *listSink) take(t *testing.T) string {
	t.Helper()
	var out []string
	for buf := k.buf; len(buf) > 0; {
		argv, n, _, err := resp.ParseCommand(buf, nil, resp.DefaultLimits)
		if err != nil || n == 0 {
			t.Fatalf("bad stream at %q: %v", buf, err)
		}
		buf = buf[n:]
		if len(argv) == 1 && (string(argv[0]) == "MULTI" || string(argv[0]) == "EXEC") {
			continue
		}
		parts := make([]string, len(argv))
		for i, a := range argv {
			parts[i] = string(a)
		}
		out = append(out, strings.Join(parts, " "))
	}
	k.buf = k.buf[:0]
	return strings.Join(out, "|")
}

// listConn is a Conn that drops its output.
type listConn struct{}

func (listConn) Write([]byte) error    { return nil }
func (listConn) Close()                {}
func (listConn) Wake()                 {}
func (listConn) OutboundBuffered() int { return 0 }
func (listConn) RemoteAddr() string    { return "127.0.0.1:1" }
func (listConn) LocalAddr() string     { return "127.0.0.1:6379" }
func (listConn) Fd() int               { return 0 }

// TestListPropagation checks what list commands log, as Redis 7.0 rewrites
// them: blocking commands served at once or later as their non-blocking
// forms (BLPOP as LPOP, BLMPOP as LPOP key count, BLMOVE as LMOVE), LMPOP as
// LPOP/RPOP with the count popped, and nothing for what changed nothing.
func TestListPropagation(t *testing.T) {
	s := NewServer(config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	sink := &listSink{}
	s.SetAOF(sink)
	a := s.NewClient(listConn{})
	b := s.NewClient(listConn{})
	exec := func(c *Client, args ...string) string {
		t.Helper()
		argv := make([][]byte, len(args))
		for i, x := range args {
			argv[i] = []byte(x)
		}
		s.BeginBatch()
		s.Execute(c, argv)
		reply := string(c.out)
		c.out = c.out[:0]
		return reply
	}
	steps := []struct {
		c    *Client
		args []string
		want string
	}{
		{a, []string{"RPUSH", "k", "a", "b", "c", "d", "e"}, "SELECT 0|RPUSH k a b c d e"},
		{a, []string{"LPOP", "k"}, "LPOP k"},
		{a, []string{"LPOP", "nokey"}, ""},
		{a, []string{"LPOP", "k", "0"}, ""},
		{a, []string{"LRANGE", "k", "0", "-1"}, ""},
		{a, []string{"BLPOP", "nokey", "k", "0"}, "LPOP k"},
		{a, []string{"BRPOP", "k", "0"}, "RPOP k"},
		{a, []string{"RPUSH", "k", "x", "y"}, "RPUSH k x y"},
		{a, []string{"LMPOP", "2", "nokey", "k", "RIGHT", "COUNT", "1"}, "RPOP k 1"},
		{a, []string{"BLMPOP", "0", "1", "k", "left", "COUNT", "10"}, "LPOP k 3"},
		{a, []string{"EXISTS", "k"}, ""},
		{a, []string{"RPUSH", "src", "1", "2", "3"}, "RPUSH src 1 2 3"},
		{a, []string{"BLMOVE", "src", "dst", "left", "RIGHT", "0"}, "LMOVE src dst left RIGHT"},
		{a, []string{"BRPOPLPUSH", "src", "dst", "0"}, "RPOPLPUSH src dst"},
		{a, []string{"LMOVE", "src", "dst", "LEFT", "LEFT"}, "LMOVE src dst LEFT LEFT"},
		{a, []string{"LMOVE", "src", "dst", "LEFT", "LEFT"}, ""},
		{a, []string{"LREM", "dst", "0", "nothere"}, ""},
		{a, []string{"LTRIM", "dst", "0", "-1"}, ""}, // trims nothing: dirty unchanged
		{a, []string{"LTRIM", "dst", "1", "-1"}, "LTRIM dst 1 -1"},
		{a, []string{"DEL", "dst"}, "DEL dst"},
		// Served later: the pusher's command, then the served client's pop.
		{b, []string{"BLPOP", "q", "0"}, ""},
		{a, []string{"RPUSH", "q", "1", "2"}, "RPUSH q 1 2|LPOP q"},
		{b, []string{"BLMPOP", "0", "1", "q2", "RIGHT", "COUNT", "5"}, ""},
		{a, []string{"RPUSH", "q2", "1", "2"}, "RPUSH q2 1 2|RPOP q2 2"},
		{b, []string{"BLMOVE", "q3", "d", "RIGHT", "LEFT", "0"}, ""},
		{a, []string{"RPUSH", "q3", "1"}, "RPUSH q3 1|LMOVE q3 d right left"},
		{b, []string{"BRPOPLPUSH", "q4", "d", "0"}, ""},
		{a, []string{"RPUSH", "q4", "1"}, "RPUSH q4 1|RPOPLPUSH q4 d"},
		// A BLMOVE whose destination is not a list moves nothing.
		{a, []string{"SET", "str", "v"}, "SET str v"},
		{b, []string{"BLMOVE", "q5", "str", "RIGHT", "LEFT", "0"}, ""},
		{a, []string{"RPUSH", "q5", "1"}, "RPUSH q5 1"},
	}
	for _, st := range steps {
		exec(st.c, st.args...)
		if got := sink.take(t); got != st.want {
			t.Errorf("%q propagated %q; want %q", st.args, got, st.want)
		}
	}
	if b.isBlocked() {
		t.Fatal("client still blocked")
	}
}
