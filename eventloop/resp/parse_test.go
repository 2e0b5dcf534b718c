package resp

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		in   string
		argv []string
		n    int
		err  string
	}{
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET", "k"}, 20, ""},
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nrest", []string{"GET", "k"}, 20, ""},
		{"PING\r\n", []string{"PING"}, 6, ""},
		{"PING\n", []string{"PING"}, 5, ""},
		{"  SET  a   b \r\n", []string{"SET", "a", "b"}, 15, ""},
		{"\r\n", nil, 2, ""},
		{"*0\r\n", nil, 4, ""},
		{"*-1\r\n", nil, 5, ""},
		{"SET \"a b\" 'c d'\r\n", []string{"SET", "a b", "c d"}, 17, ""},
		{"ECHO \"\\x41\\n\\t\"\r\n", []string{"ECHO", "A\n\t"}, 17, ""},
		{"ECHO 'it\\'s'\r\n", []string{"ECHO", "it's"}, 14, ""},
		{"*1\r\n$0\r\n\r\n", []string{""}, 10, ""},
		{"*abc\r\n", nil, 0, "Protocol error: invalid multibulk length"},
		{"*1\r\n$x\r\n", nil, 0, "Protocol error: invalid bulk length"},
		{"*1\r\n$-1\r\n", nil, 0, "Protocol error: invalid bulk length"},
		{"*1\r\nx\r\n", nil, 0, "Protocol error: expected '$', got 'x'"},
		{"*2147483648\r\n", nil, 0, "Protocol error: invalid multibulk length"},
		{"*1\r\n$536870913\r\n", nil, 0, "Protocol error: invalid bulk length"},
		{"GET \"a\r\n", nil, 0, "Protocol error: unbalanced quotes in request"},
		{"GET \"a\"b\r\n", nil, 0, "Protocol error: unbalanced quotes in request"},
		{strings.Repeat("a", 65*1024), nil, 0, "Protocol error: too big inline request"},
		{"*" + strings.Repeat("1", 65*1024), nil, 0, "Protocol error: too big mbulk count string"},
		{"*1\r\n$" + strings.Repeat("1", 65*1024), nil, 0, "Protocol error: too big bulk count string"},
	}
	for _, tc := range cases {
		argv, n, _, err := ParseCommand([]byte(tc.in), nil, DefaultLimits)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: err = %v; want %q", trunc(tc.in), err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: unexpected err %v", tc.in, err)
			continue
		}
		if n != tc.n || fmt.Sprintf("%q", argv) != fmt.Sprintf("%q", toBytes(tc.argv)) {
			t.Errorf("%q: got %q n=%d; want %q n=%d", tc.in, argv, n, tc.argv, tc.n)
		}
	}
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, 0, len(ss))
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func TestParseIncomplete(t *testing.T) {
	full := []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n")
	for i := 0; i < len(full); i++ {
		_, n, need, err := ParseCommand(full[:i], nil, DefaultLimits)
		if err != nil || n != 0 {
			t.Fatalf("prefix %d: n=%d err=%v; want incomplete", i, n, err)
		}
		if need <= i || need > len(full) {
			t.Fatalf("prefix %d: need=%d out of (%d, %d]", i, need, i, len(full))
		}
	}
}

// parseAll parses every complete command of buf, returning the commands and
// the bytes consumed, or the first error.
func parseAll(buf []byte) ([][][]byte, int, error) {
	var out [][][]byte
	pos := 0
	for pos < len(buf) {
		argv, n, _, err := ParseCommand(buf[pos:], nil, Limits{MaxBulkLen: 1 << 20, MaxInline: 256})
		if err != nil {
			return out, pos, err
		}
		if n == 0 {
			break
		}
		if n < 0 || pos+n > len(buf) {
			panic(fmt.Sprintf("n=%d out of range", n))
		}
		cp := make([][]byte, len(argv))
		for i, a := range argv {
			cp[i] = append([]byte(nil), a...)
		}
		out = append(out, cp)
		pos += n
	}
	return out, pos, nil
}

// parseChunked feeds buf in pieces as a network would, keeping the partial
// frame, and must see exactly what parseAll sees.
func parseChunked(buf []byte, cuts []int) ([][][]byte, int, error) {
	var out [][][]byte
	var pending []byte
	consumed := 0
	prev := 0
	for _, cut := range append(cuts, len(buf)) {
		if cut < prev || cut > len(buf) {
			continue
		}
		pending = append(pending, buf[prev:cut]...)
		prev = cut
		cmds, n, err := parseAll(pending)
		out = append(out, cmds...)
		consumed += n
		if err != nil {
			return out, consumed, err
		}
		pending = append([]byte(nil), pending[n:]...)
	}
	return out, consumed, nil
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), uint16(3))
	f.Add([]byte("PING\r\nSET a \"b c\"\r\n"), uint16(5))
	f.Add([]byte("*1\r\n$-1\r\n"), uint16(1))
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n"), uint16(17))
	f.Add([]byte("ECHO '\\x41'\r\n\"unbalanced\r\n"), uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		whole, n1, err1 := parseAll(data)
		if n1 > len(data) {
			t.Fatalf("consumed %d of %d", n1, len(data))
		}
		c := int(cut) % (len(data) + 1)
		split, n2, err2 := parseChunked(data, []int{c, c + (len(data)-c)/2})
		// A protocol error is raised at the same frame however the input is
		// split, and the commands before it are the same.
		if (err1 == nil) != (err2 == nil) {
			// Splitting may reveal an error only later when a count line
			// is cut; both must still agree on the commands they parsed.
			var pe *ProtocolError
			if !errors.As(err1, &pe) && !errors.As(err2, &pe) {
				t.Fatalf("errors differ: %v vs %v", err1, err2)
			}
		}
		if err1 == nil && err2 == nil {
			if n1 != n2 || len(whole) != len(split) {
				t.Fatalf("whole parse %d cmds/%d bytes, split %d cmds/%d bytes", len(whole), n1, len(split), n2)
			}
			for i := range whole {
				if fmt.Sprintf("%q", whole[i]) != fmt.Sprintf("%q", split[i]) {
					t.Fatalf("cmd %d differs: %q vs %q", i, whole[i], split[i])
				}
			}
		}
	})
}

// TestRandomCommands builds random binary commands, encodes them as
// multibulk, and checks each comes back intact whatever the chunking (the
// redcon test, with a fixed seed).
func TestRandomCommands(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	var want [][][]byte
	for i := 0; i < 2000; i++ {
		argc := 1 + r.IntN(5)
		cmd := make([][]byte, argc)
		buf = AppendArrayLen(buf, argc)
		for j := range cmd {
			a := make([]byte, r.IntN(40))
			for k := range a {
				a[k] = byte(r.IntN(256))
			}
			cmd[j] = a
			buf = AppendBulk(buf, a)
		}
		want = append(want, cmd)
	}
	for _, chunk := range []int{1, 3, 100, 4096, len(buf)} {
		var cuts []int
		for c := chunk; c < len(buf); c += chunk {
			cuts = append(cuts, c)
		}
		got, n, err := parseChunked(buf, cuts)
		if err != nil || n != len(buf) || len(got) != len(want) {
			t.Fatalf("chunk %d: err=%v n=%d/%d cmds=%d/%d", chunk, err, n, len(buf), len(got), len(want))
		}
		for i := range want {
			for j := range want[i] {
				if !bytes.Equal(want[i][j], got[i][j]) {
					t.Fatalf("chunk %d: cmd %d arg %d differs", chunk, i, j)
				}
			}
		}
	}
}

func TestParseZeroAlloc(t *testing.T) {
	in := []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
	args := make([][]byte, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		argv, _, _, _ := ParseCommand(in, args, DefaultLimits)
		args = argv[:0]
	})
	if allocs != 0 {
		t.Fatalf("ParseCommand allocates %v times per call; want 0", allocs)
	}
}
