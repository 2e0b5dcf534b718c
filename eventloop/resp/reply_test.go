package resp

import (
	"bytes"
	"testing"
)

func TestReplyLen(t *testing.T) {
	f := func(in string, wantN int, wantErr bool) {
		t.Helper()
		n, err := ReplyLen([]byte(in))
		if n != wantN || (err != nil) != wantErr {
			t.Errorf("ReplyLen(%q): unexpected result; got %d, %v; want %d, err=%v", in, n, err, wantN, wantErr)
		}
	}
	// Complete values, with trailing bytes that belong to the next reply.
	f("+OK\r\n", 5, false)
	f("+OK\r\n+OK\r\n", 5, false)
	f("-ERR x y\r\n", 10, false)
	f(":0\r\n", 4, false)
	f(":-9223372036854775808\r\n", 23, false)
	f("$0\r\n\r\n", 6, false)
	f("$3\r\nfoo\r\n:1", 9, false)
	f("$-1\r\n", 5, false)
	f("$5\r\na\r\nbc\r\n", 11, false) // CRLF inside a bulk is data
	f("*-1\r\n", 5, false)
	f("*0\r\n", 4, false)
	f("*2\r\n:1\r\n$1\r\na\r\n", 15, false)
	f("*2\r\n*1\r\n+a\r\n*0\r\n", 16, false)
	f("%1\r\n+a\r\n:1\r\n", 12, false)
	f("%0\r\n", 4, false)
	f("~2\r\n+a\r\n+b\r\n", 12, false)
	f(">2\r\n+message\r\n+x\r\n", 18, false)
	f("|1\r\n+ttl\r\n:3\r\n+v\r\n", 18, false)     // attribute + value
	f("*1\r\n|1\r\n+a\r\n+b\r\n:1\r\n", 20, false) // attribute inside an array
	f(",1.5\r\n", 6, false)
	f(",-inf\r\n", 7, false)
	f("#t\r\n", 4, false)
	f("#f\r\n", 4, false)
	f("_\r\n", 3, false)
	f("(3492890328409238509324850943850943825024385\r\n", 46, false)
	f("=8\r\ntxt:abcd\r\n", 14, false)
	f("!5\r\nERR x\r\n", 11, false)
	f("+\r\n", 3, false)

	// Incomplete values.
	f("", 0, false)
	f("+", 0, false)
	f("+OK", 0, false)
	f("+OK\r", 0, false)
	f("$3\r\nfo", 0, false)
	f("$3\r\nfoo", 0, false)
	f("$3\r\nfoo\r", 0, false)
	f("*2\r\n:1\r\n", 0, false)
	f("*3\r\n", 0, false)
	f("%1\r\n+a\r\n", 0, false)
	f("|1\r\n+a\r\n+b\r\n", 0, false) // attribute without its value
	f("*2147483647\r\n", 0, false)
	f("*1\r\n*1\r\n*1\r\n", 0, false)

	// Malformed values.
	f("x\r\n", 0, true)
	f("x", 0, true)
	f("\r\n", 0, true)
	f("+OK\n", 0, true)
	f("+O\rK\r\n", 0, true)
	f(":abc\r\n", 0, true)
	f(":\r\n", 0, true)
	f(":99999999999999999999\r\n", 0, true)
	f("$-2\r\n", 0, true)
	f("$x\r\n", 0, true)
	f("$\r\n", 0, true)
	f("$3\r\nfooXY", 0, true)
	f("$3\r\nfoo\rX", 0, true)
	f("*-2\r\n", 0, true)
	f("%-1\r\n", 0, true)
	f("*2147483648\r\n", 0, true)
	f("*?\r\n", 0, true)
	f("$?\r\n", 0, true)
	f("#x\r\n", 0, true)
	f("#\r\n", 0, true)
	f("_x\r\n", 0, true)
	f(",\r\n", 0, true)
	f("(12a\r\n", 0, true)
	f("=3\r\ntxt\r\n", 0, true)
	f("=4\r\ntxtx\r\n", 0, true)
	f("*2\r\n:1\r\n?\r\n", 0, true)
}

func TestReplyLenNoAllocs(t *testing.T) {
	buf := []byte("*3\r\n%1\r\n+a\r\n:1\r\n$3\r\nfoo\r\n~1\r\n,1.5\r\n")
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := ReplyLen(buf); n != len(buf) || err != nil {
			t.Fatalf("ReplyLen: got %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReplyLen allocates %.0f times; want 0", allocs)
	}
}

// FuzzReplyLen checks ReplyLen's contract on arbitrary input: no panic,
// n <= len(buf), a complete value is complete on its own and every proper
// prefix of it is incomplete, and malformed input stays malformed however it
// is extended.
func FuzzReplyLen(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+a\r\n~1\r\n_\r\n", "|1\r\n+a\r\n+b\r\n#t\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		n, err := ReplyLen(buf)
		if n < 0 || n > len(buf) {
			t.Fatalf("ReplyLen(%q) = %d, out of range", buf, n)
		}
		if err != nil {
			if n != 0 {
				t.Fatalf("ReplyLen(%q) = %d with error %v", buf, n, err)
			}
			ext := append(bytes.Clone(buf), "\r\n+OK\r\n$1\r\nx\r\n"...)
			if _, err2 := ReplyLen(ext); err2 == nil {
				t.Fatalf("ReplyLen(%q) failed (%v) but its extension %q did not", buf, err, ext)
			}
			return
		}
		if n == 0 {
			return
		}
		if m, err := ReplyLen(buf[:n]); m != n || err != nil {
			t.Fatalf("ReplyLen(%q) = %d, but on its own the value gives %d, %v", buf, n, m, err)
		}
		step := 1
		if n > 512 {
			step = n / 256
		}
		for i := 0; i < n; i += step {
			if m, err := ReplyLen(buf[:i]); m != 0 || err != nil {
				t.Fatalf("prefix %q of complete value %q: got %d, %v; want incomplete", buf[:i], buf[:n], m, err)
			}
		}
	})
}
