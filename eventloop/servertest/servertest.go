// Package servertest is test support shared by every package's tests: it
// starts real redis-server processes (the oracle), opens raw RESP connections
// that return replies byte for byte, and diffs two servers' replies.
//
// It imports nothing from Spinel except eventloop/resp, so any package's
// internal tests may use it without an import cycle.
package servertest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"spinel/eventloop/resp"
)

// DefaultTimeout bounds every read from a RawConn and the start-up of a
// redis-server.
const DefaultTimeout = 10 * time.Second

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it; StartRedis retries
// for that reason.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("servertest: finding a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("servertest: releasing port %d: %v", port, err)
	}
	return port
}

// Process is a running redis-server started by StartRedis.
type Process struct {
	Addr string // "127.0.0.1:port"
	Port int
	Dir  string // working directory (a t.TempDir)

	cmd     *exec.Cmd
	logPath string
	once    sync.Once
	done    chan struct{} // closed when the process has been waited for
	waitErr error
}

// StartRedis starts real redis-server on a free port with
// `--save "" --appendonly no --bind 127.0.0.1 --daemonize no` plus args, in
// t.TempDir(), and waits until it answers PING. The process is killed and
// waited for when the test ends.
func StartRedis(t testing.TB, args ...string) *Process {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("servertest: redis-server not found on PATH (%v); run `make test`, which installs it", err)
	}
	dir := t.TempDir()
	var lastErr error
	// A port found free may be taken before redis-server binds it: retry
	// with another one.
	for attempt := 0; attempt < 5; attempt++ {
		p, err := startRedis(bin, dir, FreePort(t), args)
		if err == nil {
			t.Cleanup(p.Kill)
			return p
		}
		lastErr = err
	}
	t.Fatalf("servertest: starting redis-server: %v", lastErr)
	return nil
}

func startRedis(bin, dir string, port int, args []string) (*Process, error) {
	p := &Process{
		Addr:    "127.0.0.1:" + strconv.Itoa(port),
		Port:    port,
		Dir:     dir,
		logPath: filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log"),
		done:    make(chan struct{}),
	}
	argv := []string{
		"--port", strconv.Itoa(port),
		"--save", "",
		"--appendonly", "no",
		"--bind", "127.0.0.1",
		"--daemonize", "no",
		"--dir", dir,
		"--logfile", p.logPath,
	}
	argv = append(argv, args...)
	p.cmd = exec.Command(bin, argv...)
	p.cmd.Dir = dir
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(DefaultTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("redis-server on port %d exited (%v); log:\n%s", port, p.waitErr, p.log())
		default:
		}
		if ping(p.Addr) {
			return p, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Kill()
	return nil, fmt.Errorf("redis-server on port %d did not answer PING within %v; log:\n%s", port, DefaultTimeout, p.log())
}

// ping reports whether a server at addr answers PING with +PONG.
func ping(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	var buf [64]byte
	n, err := conn.Read(buf[:])
	return err == nil && bytes.HasPrefix(buf[:n], []byte("+PONG"))
}

func (p *Process) log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(b)
}

// Stop asks the server to exit (SIGTERM) and waits for it; after
// DefaultTimeout it is killed.
func (p *Process) Stop() { p.signal(syscall.SIGTERM) }

// Kill kills the server (SIGKILL) and waits for it.
func (p *Process) Kill() { p.signal(syscall.SIGKILL) }

func (p *Process) signal(sig syscall.Signal) {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(sig)
		select {
		case <-p.done:
		case <-time.After(DefaultTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// RawConn is a client connection that returns replies as raw bytes, exactly
// as the server sent them.
type RawConn struct {
	t    testing.TB
	addr string
	conn net.Conn
	buf  []byte // bytes read but not yet returned
}

// Dial connects to addr.
func Dial(t testing.TB, addr string) *RawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, DefaultTimeout)
	if err != nil {
		t.Fatalf("servertest: dial %s: %v", addr, err)
	}
	c := &RawConn{t: t, addr: addr, conn: conn}
	t.Cleanup(c.Close)
	return c
}

// Do sends args as a multibulk command and returns the raw bytes of one reply.
func (c *RawConn) Do(args ...string) []byte {
	c.t.Helper()
	c.Send(AppendCommand(nil, args...))
	return c.ReadReply()
}

// DoBytes is Do with binary arguments.
func (c *RawConn) DoBytes(args ...[]byte) []byte {
	c.t.Helper()
	b := resp.AppendArrayLen(nil, len(args))
	for _, a := range args {
		b = resp.AppendBulk(b, a)
	}
	c.Send(b)
	return c.ReadReply()
}

// AppendCommand appends args encoded as a multibulk command to b.
func AppendCommand(b []byte, args ...string) []byte {
	b = resp.AppendArrayLen(b, len(args))
	for _, a := range args {
		b = resp.AppendBulkString(b, a)
	}
	return b
}

// Send writes raw bytes to the connection.
func (c *RawConn) Send(raw []byte) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(DefaultTimeout))
	if _, err := c.conn.Write(raw); err != nil {
		c.t.Fatalf("servertest: writing %q to %s: %v", truncate(raw), c.addr, err)
	}
}

// ReadReply returns the raw bytes of the next reply, waiting up to
// DefaultTimeout.
func (c *RawConn) ReadReply() []byte {
	c.t.Helper()
	r, err := c.ReadReplyTimeout(DefaultTimeout)
	if err != nil {
		c.t.Fatalf("servertest: reading a reply from %s: %v", c.addr, err)
	}
	return r
}

// ErrTimeout is returned by ReadReplyTimeout when no complete reply arrived
// in time; bytes of a partial reply stay buffered for the next read.
var ErrTimeout = errors.New("servertest: timed out waiting for a reply")

// ReadReplyTimeout returns the raw bytes of the next reply, or ErrTimeout if
// none is complete within d, or the read or protocol error.
func (c *RawConn) ReadReplyTimeout(d time.Duration) ([]byte, error) {
	deadline := time.Now().Add(d)
	for {
		n, err := resp.ReplyLen(c.buf)
		if err != nil {
			return nil, fmt.Errorf("malformed reply %q: %w", truncate(c.buf), err)
		}
		if n > 0 {
			r := bytes.Clone(c.buf[:n])
			c.buf = append(c.buf[:0], c.buf[n:]...)
			return r, nil
		}
		if err := c.conn.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		if cap(c.buf)-len(c.buf) < 4096 {
			c.buf = append(c.buf, make([]byte, 16384)...)[:len(c.buf)]
		}
		m, err := c.conn.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+m]
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, ErrTimeout
			}
			if len(c.buf) > 0 {
				return nil, fmt.Errorf("%w (partial reply %q)", err, truncate(c.buf))
			}
			return nil, err
		}
	}
}

// Close closes the connection; it may be called more than once.
func (c *RawConn) Close() {
	if c.conn != nil {
		_ = c.conn.Close()
	}
}

// maxDiffs is how many mismatches Diff reports before it stops.
const maxDiffs = 5

// Diff sends each command to a and to b and reports (t.Errorf) the first few
// whose raw replies differ, showing the command and both replies.
func Diff(t testing.TB, a, b *RawConn, cmds [][]string) {
	t.Helper()
	bad := 0
	for _, cmd := range cmds {
		ra, rb := a.Do(cmd...), b.Do(cmd...)
		if bytes.Equal(ra, rb) {
			continue
		}
		t.Errorf("%s:\n  %s: %q\n  %s: %q", strings.Join(quoteAll(cmd), " "), a.addr, ra, b.addr, rb)
		if bad++; bad == maxDiffs {
			t.Errorf("servertest: stopping after %d mismatches", maxDiffs)
			return
		}
	}
}

func quoteAll(args []string) []string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return q
}

// truncate shortens b for error messages.
func truncate(b []byte) []byte {
	const max = 512
	if len(b) > max {
		return append(bytes.Clone(b[:max]), "..."...)
	}
	return b
}
