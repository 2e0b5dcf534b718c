package commands

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/resp"
)

// captureSink records the propagated stream as readable lines.
type captureSink struct{ buf []byte }

func (c *captureSink) Append(b []byte) int64 {
	c.buf = append(c.buf, b...)
	return int64(len(c.buf))
}

// commands decodes the stream into "CMD arg arg" lines.
func (c *captureSink) commands(t *testing.T) []string {
	t.Helper()
	var out []string
	buf := c.buf
	for len(buf) > 0 {
		argv, n, _, err := resp.ParseCommand(buf, nil, resp.DefaultLimits)
		if err != nil || n == 0 {
			t.Fatalf("bad stream at %q: %v", buf, err)
		}
		parts := make([]string, len(argv))
		for i, a := range argv {
			parts[i] = string(a)
		}
		out = append(out, strings.Join(parts, " "))
		buf = buf[n:]
	}
	c.buf = c.buf[:0]
	return out
}

func TestPropagation(t *testing.T) {
	s := newTestServer(t)
	sink := &captureSink{}
	s.SetAOF(sink)
	c := s.NewClient(&nullConn{})
	// "{+N}" in a wanted line stands for the command's own time plus N ms:
	// the time is only known once the command ran.
	abs := func(ms int64) string { return "{+" + strconv.FormatInt(ms, 10) + "}" }
	expand := func(want []string) []string {
		out := make([]string, len(want))
		for i, w := range want {
			if pre, rest, ok := strings.Cut(w, "{+"); ok {
				n, post, _ := strings.Cut(rest, "}")
				ms, _ := strconv.ParseInt(n, 10, 64)
				w = pre + strconv.FormatInt(s.now+ms, 10) + post
			}
			out[i] = w
		}
		return out
	}
	steps := []struct {
		args []string
		want []string // nil: nothing propagated
	}{
		{[]string{"SET", "k", "v"}, []string{"SELECT 0", "SET k v"}},
		{[]string{"GET", "k"}, nil},
		{[]string{"SET", "k", "v", "NX"}, nil}, // not applied: not logged
		{[]string{"SET", "e", "v", "EX", "100"}, []string{"SET e v PXAT " + abs(100000)}},
		{[]string{"SETEX", "e", "100", "v"}, []string{"SET e v PXAT " + abs(100000)}},
		{[]string{"EXPIRE", "k", "50"}, []string{"PEXPIREAT k " + abs(50000)}},
		{[]string{"EXPIRE", "k", "-1"}, []string{"DEL k"}},
		{[]string{"INCRBYFLOAT", "f", "0.1"}, []string{"SET f 0.1 KEEPTTL"}},
		{[]string{"GETDEL", "f"}, []string{"DEL f"}},
		{[]string{"GETEX", "e", "PERSIST"}, []string{"PERSIST e"}},
		{[]string{"SELECT", "3"}, nil},
		{[]string{"INCR", "n"}, []string{"SELECT 3", "INCR n"}},
		{[]string{"MULTI"}, nil},
		{[]string{"INCR", "n"}, nil},
		{[]string{"GET", "n"}, nil},
		{[]string{"SET", "m", "1"}, nil},
		{[]string{"EXEC"}, []string{"MULTI", "INCR n", "SET m 1", "EXEC"}},
		{[]string{"MULTI"}, nil},
		{[]string{"INCR", "n"}, nil},
		{[]string{"EXEC"}, []string{"INCR n"}},
		{[]string{"FLUSHDB"}, []string{"FLUSHDB"}},
	}
	for _, st := range steps {
		run(s, c, st.args...)
		got, want := sink.commands(t), expand(st.want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%q propagated %q; want %q", st.args, got, want)
		}
	}
	// A key found expired by a write is deleted first; the unit is wrapped.
	run(s, c, "SET", "x", "1", "PX", "1")
	sink.commands(t)
	time.Sleep(5 * time.Millisecond)
	run(s, c, "SET", "x", "2")
	got := sink.commands(t)
	if strings.Join(got, "|") != "MULTI|DEL x|SET x 2|EXEC" {
		t.Errorf("write on expired key propagated %q", got)
	}
	// Active expiry deletes are units of their own.
	run(s, c, "SET", "y", "1", "PX", "1")
	sink.commands(t)
	time.Sleep(5 * time.Millisecond)
	s.Cron()
	if got := sink.commands(t); strings.Join(got, "|") != "DEL y" {
		t.Errorf("active expiry propagated %q", got)
	}
}
