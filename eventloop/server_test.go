package eventloop_test

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

func TestMaxClients(t *testing.T) {
	srv := spineltest.Start(t, "--maxclients", "2")
	a := servertest.Dial(t, srv.Addr)
	b := servertest.Dial(t, srv.Addr)
	a.Do("PING")
	b.Do("PING")
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(c)
	if string(got) != "-ERR max number of clients reached\r\n" {
		t.Fatalf("third client got %q", got)
	}
	if info := string(a.Do("INFO", "stats")); !strings.Contains(info, "rejected_connections:1\r\n") {
		t.Fatalf("INFO stats lacks rejected_connections:1")
	}
	b.Close()
	// Once a slot frees up, a new client gets in.
	deadline := time.Now().Add(5 * time.Second)
	for !pingOK(srv.Addr) {
		if time.Now().After(deadline) {
			t.Fatal("no slot after a client left")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pingOK reports whether a new connection gets +PONG.
func pingOK(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 64)
	n, _ := io.ReadAtLeast(c, buf, 7)
	return string(buf[:n]) == "+PONG\r\n"
}

func TestIdleTimeout(t *testing.T) {
	srv := spineltest.Start(t, "--timeout", "1")
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 16))
	if err != io.EOF || n != 0 {
		t.Fatalf("idle client: read %d, %v; want EOF", n, err)
	}
}

func TestShutdownCommand(t *testing.T) {
	srv := spineltest.Start(t)
	c := servertest.Dial(t, srv.Addr)
	c.Send(servertest.AppendCommand(nil, "SHUTDOWN", "NOSAVE"))
	select {
	case <-srv.Srv.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("server still running 10s after SHUTDOWN")
	}
	if _, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
		t.Fatal("server still accepts connections after SHUTDOWN")
	}
}

func TestBigValues(t *testing.T) {
	srv := spineltest.Start(t)
	c := servertest.Dial(t, srv.Addr)
	big := strings.Repeat("0123456789", 2<<20) // 20 MB
	if got := c.Do("SET", "big", big); string(got) != "+OK\r\n" {
		t.Fatalf("SET big: %q", got)
	}
	got := c.Do("GET", "big")
	want := []byte("$20971520\r\n" + big + "\r\n")
	if !bytes.Equal(got, want) {
		t.Fatalf("GET big: %d bytes back, want %d", len(got), len(want))
	}
	if got := c.Do("STRLEN", "big"); string(got) != ":20971520\r\n" {
		t.Fatalf("STRLEN big: %q", got)
	}
}

func TestProtoMaxBulkLen(t *testing.T) {
	srv := spineltest.Start(t, "--proto-max-bulk-len", "1mb")
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(c)
	if string(got) != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Fatalf("got %q", got)
	}
}

// TestClientKillMaxAge: CLIENT KILL MAXAGE (Redis 7.4) closes only the
// connections older than the given number of seconds.
func TestClientKillMaxAge(t *testing.T) {
	srv := spineltest.Start(t)
	old := servertest.Dial(t, srv.Addr)
	if got := string(old.Do("PING")); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	time.Sleep(2100 * time.Millisecond)
	young := servertest.Dial(t, srv.Addr)
	admin := servertest.Dial(t, srv.Addr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLIENT", "KILL", "MAXAGE", "x"}, "-ERR maxage is not an integer or out of range\r\n"},
		{[]string{"CLIENT", "KILL", "MAXAGE", "0"}, "-ERR maxage should be greater than 0\r\n"},
		{[]string{"CLIENT", "KILL", "MAXAGE", "1"}, ":1\r\n"}, // old only
		{[]string{"CLIENT", "KILL", "MAXAGE", "1"}, ":0\r\n"},
	} {
		if got := string(admin.Do(tc.args...)); got != tc.want {
			t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := string(young.Do("PING")); got != "+PONG\r\n" {
		t.Fatalf("young client: PING = %q", got)
	}
	if r, err := old.ReadReplyTimeout(5 * time.Second); err == nil || err == servertest.ErrTimeout {
		t.Fatalf("old client still open: %q, %v", r, err)
	}
}
