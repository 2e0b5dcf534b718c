package commands

import (
	"io"
	"log/slog"
	"strconv"
	"testing"

	"spinel/config"
	"spinel/eventloop/resp"
)

// scanAll iterates an SSCAN/HSCAN to the end with a small COUNT, as a
// client would, writing between calls, and returns every element seen.
func scanAll(t *testing.T, s *Server, c *Client, cmd, key string, between func(step int)) map[string]int {
	t.Helper()
	seen := map[string]int{}
	cursor := "0"
	for step := 0; ; step++ {
		reply := hsExec(s, c, hsArgs(cmd, key, cursor, "COUNT", "5")...)
		v, _ := parseReplyForTest(t, []byte(reply))
		page := v.([]any)
		cursor = page[0].(string)
		for _, e := range page[1].([]any) {
			seen[e.(string)]++
		}
		if cursor == "0" {
			return seen
		}
		between(step)
		if step > 100000 {
			t.Fatal("scan does not end")
		}
	}
}

// parseReplyForTest decodes bulk strings and arrays.
func parseReplyForTest(t *testing.T, b []byte) (any, []byte) {
	t.Helper()
	n, err := resp.ReplyLen(b)
	if err != nil {
		t.Fatalf("bad reply %q: %v", b, err)
	}
	end := 0
	for end+1 < len(b) && !(b[end] == '\r' && b[end+1] == '\n') {
		end++
	}
	switch b[0] {
	case '$':
		l, _ := strconv.Atoi(string(b[1:end]))
		return string(b[end+2 : end+2+l]), b[n:]
	case '*':
		cnt, _ := strconv.Atoi(string(b[1:end]))
		rest := b[end+2:]
		out := make([]any, cnt)
		for i := range out {
			out[i], rest = parseReplyForTest(t, rest)
		}
		return out, rest
	}
	t.Fatalf("unexpected reply %q", b)
	return nil, nil
}

// TestScanCommandsContract drives SSCAN and HSCAN on hash tables that grow
// and shrink between calls: every element present for the whole scan must
// come back.
func TestScanCommandsContract(t *testing.T) {
	s := NewServer(config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := s.NewClient(discardConn{})
	for i := 0; i < 2000; i++ {
		hsExec(s, c, hsArgs("SADD", "s", "m"+strconv.Itoa(i))...)
		hsExec(s, c, hsArgs("HSET", "h", "f"+strconv.Itoa(i), "v")...)
	}
	type scanCase struct {
		scan, key, prefix string
		add               func(elem string) [][]byte
		del               string
	}
	between := func(tc scanCase) func(int) {
		return func(step int) {
			switch {
			case step < 50: // grow
				for i := 0; i < 40; i++ {
					if r := hsExec(s, c, tc.add("new"+strconv.Itoa(step*40+i))...); r != ":1\r\n" {
						t.Fatalf("adding: %q", r)
					}
				}
			case step < 150: // shrink, sparing the first 500
				for i := 0; i < 15; i++ {
					hsExec(s, c, hsArgs(tc.del, tc.key, tc.prefix+strconv.Itoa(500+(step-50)*15+i))...)
				}
			}
		}
	}
	for _, tc := range []scanCase{
		{"SSCAN", "s", "m", func(e string) [][]byte { return hsArgs("SADD", "s", e) }, "SREM"},
		{"HSCAN", "h", "f", func(e string) [][]byte { return hsArgs("HSET", "h", e, "v") }, "HDEL"},
	} {
		seen := scanAll(t, s, c, tc.scan, tc.key, between(tc))
		for i := 0; i < 500; i++ {
			if k := tc.prefix + strconv.Itoa(i); seen[k] == 0 {
				t.Errorf("%s: %s present throughout, never returned", tc.scan, k)
			}
		}
	}
}
