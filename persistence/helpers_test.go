package persistence

import (
	"bytes"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// cmd encodes args as a RESP multibulk command.
func cmd(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

// cmds concatenates encoded commands.
func cmds(cs ...[]byte) []byte { return bytes.Join(cs, nil) }

// logBuf is a concurrency-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func captureLog() (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	return slog.New(slog.NewTextHandler(lb, nil)), lb
}

// newMemDir returns a MemFS with a durable, empty /data directory.
func newMemDir(t testing.TB) *MemFS {
	t.Helper()
	m := NewMemFS()
	if err := m.MkdirAll("/data", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	return m
}

func memOpts(fsys FS) Options {
	return Options{Dir: "/data", FS: fsys, Log: quietLog(), Fsync: FsyncAlways}
}

func mustOpen(t testing.TB, opts Options) *AOF {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return a
}

// loadAll runs Load and returns the applied commands, joined by spaces.
func loadAll(t testing.TB, a *AOF) ([]string, LoadStats, error) {
	t.Helper()
	var got []string
	st, err := a.Load(func(argv [][]byte) error {
		parts := make([]string, len(argv))
		for i, v := range argv {
			parts[i] = string(v)
		}
		got = append(got, strings.Join(parts, " "))
		return nil
	}, nil)
	return got, st, err
}

// waitFor polls cond until it holds, failing after 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// setTunable sets a package tunable for the test and restores it after.
func setTunable[T any](t *testing.T, p *T, v T) {
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}

// readMem returns a MemFS file's contents or fails.
func readMem(t testing.TB, m *MemFS, name string) []byte {
	t.Helper()
	b, err := m.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startRewrite starts a rewrite and waits for the switch to the new incr
// file, so tests can look at the manifest.
func startRewrite(a *AOF) (*RewriteWriter, error) {
	rw, err := a.StartRewrite()
	if err != nil {
		return nil, err
	}
	if err := rw.WaitSwitched(); err != nil {
		rw.Abort()
		return nil, err
	}
	return rw, nil
}
