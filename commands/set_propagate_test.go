package commands

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"spinel/config"
	"spinel/eventloop/resp"
)

// hsSink records the propagated write stream.
type hsSink struct{ buf []byte }

func (k *hsSink) Append(b []byte) int64 {
	k.buf = append(k.buf, b...)
	return int64(len(k.buf))
}

// take decodes and clears the stream as "CMD arg ..." lines.
func (k *hsSink) take(t *testing.T) []string {
	t.Helper()
	var out []string
	for buf := k.buf; len(buf) > 0; {
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
	k.buf = k.buf[:0]
	return out
}

// TestSetHashPropagation checks what the non-deterministic commands log:
// SPOP as SREMs (or DEL when it empties the set), HINCRBYFLOAT as HSET of
// the result, as Redis rewrites them.
func TestSetHashPropagation(t *testing.T) {
	s := NewServer(config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	sink := &hsSink{}
	s.SetAOF(sink)
	c := s.NewClient(discardConn{})
	do := func(args ...string) []string {
		t.Helper()
		hsExec(s, c, hsArgs(args...)...)
		return sink.take(t)
	}
	if got := do("SADD", "one", "x"); strings.Join(got, "|") != "SELECT 0|SADD one x" {
		t.Fatalf("SADD propagated %q", got)
	}
	if got := do("SPOP", "one"); strings.Join(got, "|") != "SREM one x" {
		t.Errorf("SPOP propagated %q; want SREM one x", got)
	}
	do("SADD", "p", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
	if got := do("SPOP", "p", "0"); got != nil {
		t.Errorf("SPOP p 0 propagated %q; want nothing", got)
	}
	for _, tc := range []struct {
		count string
		srems int
	}{{"2", 2}, {"7", 7}} { // case 2, then case 3 (few survivors)
		got := do("SPOP", "p", tc.count)
		if len(got) != tc.srems+2 || got[0] != "MULTI" || got[len(got)-1] != "EXEC" {
			t.Fatalf("SPOP p %s propagated %q; want MULTI, %d SREM, EXEC", tc.count, got, tc.srems)
		}
		for _, op := range got[1 : len(got)-1] {
			if !strings.HasPrefix(op, "SREM p ") || len(strings.Fields(op)) != 3 {
				t.Errorf("SPOP p %s propagated %q", tc.count, op)
			}
		}
	}
	if got := do("SPOP", "p", "100"); strings.Join(got, "|") != "DEL p" {
		t.Errorf("SPOP p 100 propagated %q; want DEL p", got)
	}
	if got := do("HINCRBYFLOAT", "h", "f", "1.50"); strings.Join(got, "|") != "HSET h f 1.5" {
		t.Errorf("HINCRBYFLOAT propagated %q; want HSET h f 1.5", got)
	}
	if got := do("HINCRBYFLOAT", "h", "f", "x"); got != nil {
		t.Errorf("failed HINCRBYFLOAT propagated %q", got)
	}
	if got := do("HINCRBY", "h", "i", "2"); strings.Join(got, "|") != "HINCRBY h i 2" {
		t.Errorf("HINCRBY propagated %q", got)
	}
}
