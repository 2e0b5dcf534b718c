package persistence

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// items loads the AOF and returns the elements RPUSHed to "log", in order.
func items(t testing.TB, a *AOF) []int {
	t.Helper()
	var got []int
	_, err := a.Load(func(argv [][]byte) error {
		if string(argv[0]) != "RPUSH" {
			return nil
		}
		for _, v := range argv[2:] {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return err
			}
			got = append(got, n)
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return got
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func push(i int) []byte { return cmd("RPUSH", "log", strconv.Itoa(i)) }

// snapshot is what the executor would serialise for a log of n items.
func snapshot(n int) [][]byte {
	out := [][]byte{cmd("SELECT", "0")}
	for i := 1; i <= n; i += 3 {
		args := []string{"RPUSH", "log"}
		for j := i; j <= n && j < i+3; j++ {
			args = append(args, strconv.Itoa(j))
		}
		out = append(out, cmd(args...))
	}
	return out
}

func manifestText(t testing.TB, m *MemFS) string {
	t.Helper()
	return string(readMem(t, m, "/data/appendonlydir/appendonly.aof.manifest"))
}

func finish(t testing.TB, rw *RewriteWriter) error {
	t.Helper()
	done := make(chan error, 1)
	rw.Finish(func(err error) { done <- err })
	return <-done
}

func TestRewrite(t *testing.T) {
	m := newMemDir(t)
	opts := memOpts(m)
	var a *AOF
	// OnSynced may call Stats, also while StartRewrite waits for the writer.
	opts.OnSynced = func(int64) { _ = a.Stats() }
	a = mustOpen(t, opts)
	items(t, a)
	a.Append(cmd("SELECT", "0"))
	for i := 1; i <= 5; i++ {
		a.Append(push(i))
	}
	a.Flush()
	rw, err := startRewrite(a)
	if err != nil {
		t.Fatal(err)
	}
	// 1c) the manifest lists the new incr file.
	want := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
	if got := manifestText(t, m); got != want {
		t.Fatalf("manifest during the rewrite %q; want %q", got, want)
	}
	if _, err := a.StartRewrite(); !errors.Is(err, ErrRewriteInProgress) {
		t.Fatalf("second StartRewrite: %v", err)
	}
	if !a.Stats().RewriteInProgress {
		t.Fatal("rewrite not reported in progress")
	}
	a.Append(cmd("SELECT", "0"))
	for i, part := range snapshot(5) {
		if _, err := rw.Write(part); err != nil {
			t.Fatal(err)
		}
		a.Append(push(6 + i))
		a.Flush()
	}
	n := 5 + len(snapshot(5))
	// aof_base_size is taken when the base is installed: let the writer
	// goroutine put the appends above into the incr file first.
	for st := a.Stats(); st.Written != st.Appended; st = a.Stats() {
		time.Sleep(time.Millisecond)
	}
	if err := finish(t, rw); err != nil {
		t.Fatal(err)
	}
	// As redis-server 7.0.15 leaves it after BGREWRITEAOF.
	want = "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
	if got := manifestText(t, m); got != want {
		t.Fatalf("manifest after the rewrite %q; want %q", got, want)
	}
	names, _ := m.ReadDir("/data/appendonlydir")
	if w := []string{"appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"}; !reflect.DeepEqual(names, w) {
		t.Fatalf("files %q; want %q", names, w)
	}
	if _, err := rw.Write([]byte("x")); !errors.Is(err, ErrRewriteFinished) {
		t.Fatalf("Write after Finish: %v", err)
	}
	st := a.Stats()
	if st.RewriteInProgress || st.Rewrites != 1 || st.LastRewriteError != nil || st.LastRewrite < 0 ||
		st.BaseSize != int64(len(readMem(t, m, "/data/appendonlydir/appendonly.aof.2.base.aof")))+int64(len(readMem(t, m, "/data/appendonlydir/appendonly.aof.2.incr.aof"))) {
		t.Fatalf("stats %+v", st)
	}
	n++
	a.Append(push(n))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = mustOpen(t, memOpts(m))
	defer a.Close()
	if got := items(t, a); !reflect.DeepEqual(got, seq(1, n)) {
		t.Fatalf("items %v; want 1..%d", got, n)
	}
}

func TestRewriteAbort(t *testing.T) {
	m := newMemDir(t)
	a := mustOpen(t, memOpts(m))
	items(t, a)
	a.Append(cmds(cmd("SELECT", "0"), push(1), push(2)))
	rw, err := startRewrite(a)
	if err != nil {
		t.Fatal(err)
	}
	a.Append(cmds(cmd("SELECT", "0"), push(3)))
	rw.Write(snapshot(2)[0])
	rw.Abort()
	rw.Wait()
	if _, err := rw.Write([]byte("x")); !errors.Is(err, ErrRewriteAborted) {
		t.Fatalf("Write after Abort: %v", err)
	}
	names, _ := m.ReadDir("/data/appendonlydir")
	for _, n := range names {
		if strings.HasPrefix(n, "temp-") {
			t.Fatalf("temp file %s left", n)
		}
	}
	want := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
	if got := manifestText(t, m); got != want {
		t.Fatalf("manifest after abort %q; want %q", got, want)
	}
	// The next rewrite retires both incr files.
	rw, err = startRewrite(a)
	if err != nil {
		t.Fatal(err)
	}
	a.Append(cmds(cmd("SELECT", "0"), push(4)))
	for _, p := range snapshot(3) {
		rw.Write(p)
	}
	if err := finish(t, rw); err != nil {
		t.Fatal(err)
	}
	want = "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
	if got := manifestText(t, m); got != want {
		t.Fatalf("manifest %q; want %q", got, want)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = mustOpen(t, memOpts(m))
	defer a.Close()
	if got := items(t, a); !reflect.DeepEqual(got, seq(1, 4)) {
		t.Fatalf("items %v", got)
	}
}

func TestRewriteWriteError(t *testing.T) {
	m := newMemDir(t)
	efs := NewErrorFS(m)
	a := mustOpen(t, memOpts(efs))
	items(t, a)
	efs.Inject = func(op Op, name string) error {
		if op == OpWrite && strings.Contains(name, tempRewritePrefix) {
			return syscall.ENOSPC
		}
		return nil
	}
	a.Append(cmds(cmd("SELECT", "0"), push(1)))
	rw, err := startRewrite(a)
	if err != nil {
		t.Fatal(err)
	}
	rw.Write(snapshot(1)[0])
	err = finish(t, rw)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Finish: %v; want ENOSPC", err)
	}
	st := a.Stats()
	if st.LastRewriteError == nil || st.RewriteConsecutiveFailures != 1 || st.RewriteInProgress {
		t.Fatalf("stats %+v", st)
	}
	if a.WriteError() != nil {
		t.Fatal("a failed rewrite is not an AOF write error")
	}
	a.Append(cmds(cmd("SELECT", "0"), push(2)))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = mustOpen(t, memOpts(m))
	defer a.Close()
	if got := items(t, a); !reflect.DeepEqual(got, seq(1, 2)) {
		t.Fatalf("items %v", got)
	}
}

func TestCloseDuringRewrite(t *testing.T) {
	m := newMemDir(t)
	a := mustOpen(t, memOpts(m))
	items(t, a)
	a.Append(cmds(cmd("SELECT", "0"), push(1)))
	rw, err := startRewrite(a)
	if err != nil {
		t.Fatal(err)
	}
	rw.Write(snapshot(1)[0])
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	names, _ := m.ReadDir("/data/appendonlydir")
	for _, n := range names {
		if strings.HasPrefix(n, "temp-") {
			t.Fatalf("temp file %s left", n)
		}
	}
	a = mustOpen(t, memOpts(m))
	defer a.Close()
	if got := items(t, a); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("items %v", got)
	}
}

// TestStartRewriteWhileFailing: the current incr file cannot be completed,
// so no rewrite starts (the new incr would otherwise hold older bytes).
func TestStartRewriteWhileFailing(t *testing.T) {
	m := newMemDir(t)
	efs := NewErrorFS(m)
	a := mustOpen(t, memOpts(efs))
	items(t, a)
	efs.FailWritesAfter(0, syscall.ENOSPC)
	a.Append(cmds(cmd("SELECT", "0"), push(1)))
	a.Flush()
	waitFor(t, "WriteError", func() bool { return a.WriteError() != nil })
	if _, err := a.StartRewrite(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("StartRewrite while failing: %v", err)
	}
	if a.Stats().LastRewriteError == nil {
		t.Fatal("aof_last_bgrewrite_status not set")
	}
	want := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
	if got := manifestText(t, m); got != want {
		t.Fatalf("manifest %q; want %q", got, want)
	}
	efs.Heal()
	waitFor(t, "WriteError cleared", func() bool { return a.WriteError() == nil })
	rw, err := startRewrite(a)
	if err != nil {
		t.Fatal(err)
	}
	a.Append(cmds(cmd("SELECT", "0"), push(2)))
	for _, p := range snapshot(1) {
		rw.Write(p)
	}
	if err := finish(t, rw); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = mustOpen(t, memOpts(m))
	defer a.Close()
	if got := items(t, a); !reflect.DeepEqual(got, seq(1, 2)) {
		t.Fatalf("items %v", got)
	}
}
