package difftest

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// rawExchange writes input on a fresh connection and returns everything the
// server sends back until it closes the connection or stays quiet for a
// moment, and whether it closed.
func rawExchange(t *testing.T, addr string, input []byte) ([]byte, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(input); err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, true
		}
		if err != nil {
			return out, false
		}
	}
}

// TestProtocolErrors mirrors Redis's tests/unit/protocol.tcl: malformed
// input gets Redis's exact error and the connection is closed, and odd but
// valid input is handled the same way.
func TestProtocolErrors(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	cases := []string{
		"*1\r\n$4\r\nPING\r\n",
		"PING\r\n",
		"PING\n",
		"  PING   \r\n",
		"\r\n\r\nPING\r\n",
		"*-1\r\n*1\r\n$4\r\nPING\r\n",
		"*0\r\n*1\r\n$4\r\nPING\r\n",
		"*abc\r\n",
		"*3\r\n$a\r\n",
		"*1\r\n$-1\r\n",
		"*1\r\nx3\r\n",
		"*1\r\n$3\r\nabcde\r\n",
		"*2147483648\r\n",
		"*1\r\n$536870913\r\n",
		"*1\r\n$-10\r\n",
		"$3\r\nabc\r\n",
		"GET \"a\r\n",
		"SET a \"b\"c\r\n",
		"SET 'a b' 'c'\r\nGET 'a b'\r\n",
		"SET \"k\\x41\\n\" v\r\nGET \"k\\x41\\n\"\r\n",
		"ECHO \"a\\\"b\"\r\n",
		"ECHO 'it\\'s'\r\n",
		"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"QUIT\r\nPING\r\n",
		"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n",
		"ECHO " + strings.Repeat("a", 70000) + "\r\n",
		strings.Repeat("a", 70000),
		"*" + strings.Repeat("1", 70000),
		"*1\r\n$" + strings.Repeat("1", 70000),
	}
	for _, in := range cases {
		want, wantClosed := rawExchange(t, redis.Addr, []byte(in))
		got, gotClosed := rawExchange(t, spinel.Addr, []byte(in))
		if !bytes.Equal(want, got) || wantClosed != gotClosed {
			t.Errorf("input %q\n redis:  %q closed=%v\n spinel: %q closed=%v",
				trunc(in), trunc(string(want)), wantClosed, trunc(string(got)), gotClosed)
		}
	}
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// TestPipelineSplit sends a long pipeline cut at every possible place and
// checks the replies are the same as Redis's: partial frames survive across
// reads.
func TestPipelineSplit(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	var in []byte
	for i := 0; i < 50; i++ {
		in = servertest.AppendCommand(in, "SET", "key", strings.Repeat("v", i*37))
		in = servertest.AppendCommand(in, "APPEND", "key", "x")
		in = servertest.AppendCommand(in, "GET", "key")
	}
	in = append(in, "PING\r\n"...)
	want, _ := rawExchange(t, redis.Addr, in)
	for _, chunk := range []int{1, 7, 64, 1000, 4096} {
		c, err := net.Dial("tcp", spinel.Addr)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(in); off += chunk {
			end := min(off+chunk, len(in))
			if _, err := c.Write(in[off:end]); err != nil {
				t.Fatal(err)
			}
			if chunk < 64 && off%(chunk*50) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		got := make([]byte, 0, len(want))
		buf := make([]byte, 64<<10)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for len(got) < len(want) {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		c.Close()
		if !bytes.Equal(want, got) {
			t.Errorf("chunk %d: replies differ (len %d vs %d)", chunk, len(want), len(got))
		}
	}
}
