package eventloop_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// healthy checks the server answers and the reference data is intact.
func healthy(t *testing.T, addr string) {
	t.Helper()
	if !pingOK(addr) {
		t.Fatal("server does not answer PING")
	}
	c := servertest.Dial(t, addr)
	defer c.Close()
	if got := string(c.Do("GET", "canary")); got != "$5\r\nalive\r\n" {
		t.Fatalf("dataset damaged: canary = %q", got)
	}
}

func setCanary(t *testing.T, addr string) {
	c := servertest.Dial(t, addr)
	defer c.Close()
	c.Do("SET", "canary", "alive")
}

// waitClosed reads from c until the server closes it.
func waitClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 1<<20)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("connection still open after %v", within)
			}
			return
		}
	}
}

// TestSlowReaderDisconnected: a client that sends requests but never reads
// the replies is disconnected by client-output-buffer-limit; others are
// unaffected.
func TestSlowReaderDisconnected(t *testing.T) {
	srv := spineltest.Start(t, "--client-output-buffer-limit", "normal 4mb 1mb 1")
	setCanary(t, srv.Addr)
	c := servertest.Dial(t, srv.Addr)
	c.Do("SET", "big", strings.Repeat("x", 1<<20))
	c.Close()
	slow, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	// Ask for 200 MB of replies without reading any of them.
	req := bytes.Repeat(servertest.AppendCommand(nil, "GET", "big"), 200)
	go func() { _, _ = slow.Write(req) }()
	time.Sleep(500 * time.Millisecond)
	healthy(t, srv.Addr)
	waitClosed(t, slow, 10*time.Second)
	healthy(t, srv.Addr)
}

// TestSlowSubscriberDisconnected: a subscriber that does not read is
// disconnected at the pubsub class limit (default 32mb 8mb 60).
func TestSlowSubscriberDisconnected(t *testing.T) {
	srv := spineltest.Start(t)
	setCanary(t, srv.Addr)
	sub, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Write(servertest.AppendCommand(nil, "SUBSCRIBE", "news")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	pub := servertest.Dial(t, srv.Addr)
	msg := strings.Repeat("m", 64<<10)
	receivers := ""
	for i := 0; i < 1000; i++ { // 64 MB, never read
		receivers = string(pub.Do("PUBLISH", "news", msg))
		if receivers == ":0\r\n" {
			break // the subscriber is gone
		}
	}
	if receivers != ":0\r\n" {
		t.Fatal("the slow subscriber was never disconnected")
	}
	waitClosed(t, sub, 5*time.Second)
	healthy(t, srv.Addr)
}

// TestHugePipelineUnread: a client pipelining 200,000 commands before
// reading anything gets every reply once it reads, in order, and others are
// served meanwhile.
func TestHugePipelineUnread(t *testing.T) {
	srv := spineltest.Start(t)
	setCanary(t, srv.Addr)
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200000
	var req []byte
	for i := 0; i < n; i++ {
		req = servertest.AppendCommand(req, "INCR", "counter")
	}
	done := make(chan error, 1)
	go func() { _, err := c.Write(req); done <- err }()
	time.Sleep(300 * time.Millisecond)
	healthy(t, srv.Addr) // served while the pipeline is stuck behind unread replies
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	got, want := 0, 0
	buf := make([]byte, 1<<20)
	var rest []byte
	for got < n {
		m, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d replies: %v", got, err)
		}
		rest = append(rest, buf[:m]...)
		for {
			i := bytes.Index(rest, []byte("\r\n"))
			if i < 0 {
				break
			}
			want++
			if string(rest[:i]) != fmt.Sprintf(":%d", want) {
				t.Fatalf("reply %d = %q", want, rest[:i])
			}
			rest = rest[i+2:]
			got++
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	healthy(t, srv.Addr)
}

// TestGarbage: random bytes on many connections are answered with
// protocol errors and closed; the server and the data are fine.
func TestGarbage(t *testing.T) {
	srv := spineltest.Start(t)
	setCanary(t, srv.Addr)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		junk := make([]byte, 1+r.IntN(100000))
		for j := range junk {
			junk[j] = byte(r.IntN(256))
		}
		if i%3 == 0 {
			junk[0] = '*' // look like a multibulk
		}
		_, _ = c.Write(junk)
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}
	healthy(t, srv.Addr)
}

// TestQueryBufferLimit: an endless argument is cut off at
// client-query-buffer-limit.
func TestQueryBufferLimit(t *testing.T) {
	srv := spineltest.Start(t, "--client-query-buffer-limit", "1mb", "--proto-max-bulk-len", "100mb")
	setCanary(t, srv.Addr)
	c, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("*2\r\n$3\r\nGET\r\n$50000000\r\n"))
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	for i := 0; i < 100; i++ {
		if _, err := c.Write(chunk); err != nil {
			break // closed by the server: good
		}
	}
	waitClosed(t, c, 10*time.Second)
	healthy(t, srv.Addr)
}

// TestConnectionChurn: 50,000 connect/PING/disconnect cycles leave no
// client, goroutine or memory behind.
func TestConnectionChurn(t *testing.T) {
	srv := spineltest.Start(t)
	setCanary(t, srv.Addr)
	measure := func() (int, uint64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	cycles := 50000
	if testing.Short() {
		cycles = 5000
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	run := func(n int) {
		defer wg.Done()
		buf := make([]byte, 16)
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp", srv.Addr)
			if err != nil {
				errs <- err
				return
			}
			_, _ = c.Write([]byte("PING\r\n"))
			if _, err := io.ReadAtLeast(c, buf, 7); err != nil {
				errs <- err
				c.Close()
				return
			}
			c.Close()
		}
	}
	// Warm up, then measure around the churn.
	wg.Add(1)
	run(1000)
	g0, h0 := measure()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go run(cycles / 8)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := servertest.Dial(t, srv.Addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info := string(c.Do("INFO", "clients"))
		if strings.Contains(info, "connected_clients:1\r\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clients left behind:\n%s", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.Close()
	time.Sleep(200 * time.Millisecond)
	g1, h1 := measure()
	if g1 > g0+5 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if h1 > h0+8<<20 {
		t.Errorf("heap grew from %d to %d over %d connections", h0, h1, cycles)
	}
	t.Logf("%d cycles: goroutines %d -> %d, heap %d KB -> %d KB", cycles, g0, g1, h0>>10, h1>>10)
	healthy(t, srv.Addr)
}

// TestManyConnections: 10,000 connections open at once (fewer if the open
// files limit does not allow them both ends in this process), all served.
func TestManyConnections(t *testing.T) {
	var lim syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	n := min(10000, (int(lim.Cur)-300)/2)
	if n < 1000 {
		t.Fatalf("open files limit %d is too low to test many connections", lim.Cur)
	}
	srv := spineltest.Start(t, "--maxclients", "10000")
	setCanary(t, srv.Addr)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	buf := make([]byte, 16)
	for i, c := range conns {
		if i%10 != 0 {
			continue
		}
		_, _ = c.Write([]byte("PING\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAtLeast(c, buf, 7); err != nil || string(buf[:7]) != "+PONG\r\n" {
			t.Fatalf("connection %d: %q %v", i, buf[:7], err)
		}
	}
	c := servertest.Dial(t, srv.Addr)
	info := string(c.Do("INFO", "clients"))
	if !strings.Contains(info, fmt.Sprintf("connected_clients:%d\r\n", n+1)) {
		t.Fatalf("INFO clients does not count %d clients:\n%s", n+1, info)
	}
	t.Logf("%d connections open at once", n)
	healthy(t, srv.Addr)
}
