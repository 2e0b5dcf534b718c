// Package e2e holds the crash and fault tests of persistence: they build the
// spinel binary, drive it over the network, kill it with SIGKILL at bad
// moments, damage its files, and check what comes back.
package e2e

import (
	"bufio"
	"bytes"
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

	"spinel/eventloop/servertest"
)

var spinelBin string

// execCommand builds commands; a variable for readability at call sites.
var execCommand = exec.Command

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spinel-e2e")
	if err != nil {
		panic(err)
	}
	spinelBin = filepath.Join(dir, "spinel")
	build := exec.Command("go", "build", "-o", spinelBin, "spinel")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building spinel:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a spinel process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	port int
	log  *syncBuffer
	done chan error
}

// syncBuffer collects a process's output, read while it is written.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs spinel with args in dir and waits until it answers PING (not
// -LOADING). wrap, when set, runs it through a shell prefix (ulimit).
func start(t *testing.T, dir string, wrap string, args ...string) *proc {
	t.Helper()
	port := servertest.FreePort(t)
	full := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir}, args...)
	var cmd *exec.Cmd
	if wrap != "" {
		quoted := make([]string, len(full))
		for i, a := range full {
			quoted[i] = "'" + a + "'"
		}
		cmd = exec.Command("bash", "-c", wrap+"; exec "+spinelBin+" "+strings.Join(quoted, " "))
	} else {
		cmd = exec.Command(spinelBin, full...)
	}
	p := &proc{cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(port), port: port, log: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if reply, err := rawDo(p.addr, "PING"); err == nil && reply == "+PONG\r\n" {
			return p
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("spinel exited during start-up (%v):\n%s", err, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("spinel did not start:\n%s", p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(10 * time.Second):
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("spinel exited with %v:\n%s", err, p.log.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("spinel did not stop on SIGTERM")
	}
}

// rawDo sends one command on a fresh connection and returns the raw reply.
func rawDo(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(servertest.AppendCommand(nil, args...)); err != nil {
		return "", err
	}
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

// client is a pipelining connection used by the writers.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return &client{c: c, r: bufio.NewReader(c)}
}

// do sends a command and reads its reply line (enough for +OK, :n, -ERR).
func (c *client) do(args ...string) (string, error) {
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write(servertest.AppendCommand(nil, args...)); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

func aofFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "appendonlydir"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func lastIncr(t *testing.T, dir string) string {
	t.Helper()
	var last string
	for _, f := range aofFiles(t, dir) {
		if strings.Contains(f, ".incr.aof") {
			last = f
		}
	}
	if last == "" {
		t.Fatalf("no incr file in %v", aofFiles(t, dir))
	}
	return filepath.Join(dir, "appendonlydir", last)
}
