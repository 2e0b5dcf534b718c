package persistence

import (
	"bytes"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// syncedTracker records OnSynced offsets.
type syncedTracker struct{ off atomic.Int64 }

func (s *syncedTracker) on(off int64) {
	if prev := s.off.Load(); off <= prev {
		panic("OnSynced went backwards")
	}
	s.off.Store(off)
}

func TestOpenFresh(t *testing.T) {
	m := newMemDir(t)
	a := mustOpen(t, memOpts(m))
	names, _ := m.ReadDir("/data/appendonlydir")
	// What redis-server 7.0.15 creates on a first start with appendonly yes.
	want := []string{"appendonly.aof.1.base.aof", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("files %q; want %q", names, want)
	}
	wantMan := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
	if got := string(readMem(t, m, "/data/appendonlydir/appendonly.aof.manifest")); got != wantMan {
		t.Fatalf("manifest %q; want %q", got, wantMan)
	}
	got, _, err := loadAll(t, a)
	if err != nil || len(got) != 0 {
		t.Fatalf("load of a fresh AOF: %q %v", got, err)
	}
	data := cmds(cmd("SELECT", "0"), cmd("SET", "a", "1"))
	if off := a.Append(data); off != int64(len(data)) {
		t.Fatalf("Append returned %d; want %d", off, len(data))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readMem(t, m, "/data/appendonlydir/appendonly.aof.1.incr.aof"); !bytes.Equal(got, data) {
		t.Fatalf("incr %q; want %q", got, data)
	}
	// Everything Close wrote is durable.
	c := m.CrashClone()
	if got := readMem(t, c, "/data/appendonlydir/appendonly.aof.1.incr.aof"); !bytes.Equal(got, data) {
		t.Fatalf("after a crash following Close: incr %q; want %q", got, data)
	}
	// Reopening appends to the same incr file.
	a = mustOpen(t, memOpts(m))
	if _, _, err := loadAll(t, a); err != nil {
		t.Fatal(err)
	}
	a.Append(cmd("SET", "b", "2"))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	want2 := cmds(data, cmd("SET", "b", "2"))
	if got := readMem(t, m, "/data/appendonlydir/appendonly.aof.1.incr.aof"); !bytes.Equal(got, want2) {
		t.Fatalf("incr %q; want %q", got, want2)
	}
	if st := a.Stats(); st.CurrentSize != int64(len(want2)) || st.Synced != int64(len(cmd("SET", "b", "2"))) {
		t.Fatalf("stats %+v", st)
	}
}

func TestOpenBadNames(t *testing.T) {
	for _, o := range []Options{{FileName: "a/b"}, {FileName: ".."}, {DirName: "x/y"}} {
		o.FS, o.Log = NewMemFS(), quietLog()
		if _, err := Open(o); err == nil {
			t.Errorf("Open(%+v) succeeded", o)
		}
	}
}

// TestAlwaysSyncedIsDurable checks that, with FsyncAlways, every offset
// OnSynced reports is on disk: a crash right after the report keeps it.
func TestAlwaysSyncedIsDurable(t *testing.T) {
	m := newMemDir(t)
	opts := memOpts(m)
	var (
		mu       sync.Mutex
		checked  int
		failures []string
		stream   []byte
	)
	opts.OnSynced = func(off int64) {
		c := m.CrashClone()
		b, err := c.ReadFile("/data/appendonlydir/appendonly.aof.1.incr.aof")
		mu.Lock()
		defer mu.Unlock()
		checked++
		if err != nil || int64(len(b)) < off || !bytes.Equal(b[:off], stream[:off]) {
			failures = append(failures, "offset not durable")
		}
	}
	a := mustOpen(t, opts)
	for i := 0; i < 200; i++ {
		c := cmd("RPUSH", "l", string(rune('a'+i%26)))
		mu.Lock()
		stream = append(stream, c...)
		mu.Unlock()
		a.Append(c)
		if i%7 == 0 {
			a.Flush()
		}
	}
	a.Flush()
	waitFor(t, "everything synced", func() bool { return a.Stats().Synced == int64(len(stream)) })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if checked == 0 || len(failures) > 0 {
		t.Fatalf("%d reports checked, failures: %v", checked, failures)
	}
}

// TestGroupCommit holds the first fsync while many batches are appended and
// flushed: they all go out with one more fsync.
func TestGroupCommit(t *testing.T) {
	efs := NewErrorFS(newMemDir(t))
	opts := memOpts(efs)
	var tr syncedTracker
	opts.OnSynced = tr.on
	a := mustOpen(t, opts)
	defer a.Close()

	var syncs atomic.Int32
	entered := make(chan struct{})
	release := make(chan struct{})
	efs.Inject = func(op Op, name string) error {
		if op == OpSync {
			if syncs.Add(1) == 1 {
				close(entered)
				<-release
			}
		}
		return nil
	}
	first := a.Append(cmd("SET", "first", "1"))
	a.Flush()
	<-entered // the writer is inside the first fsync
	var last int64
	for i := 0; i < 100; i++ {
		last = a.Append(cmd("INCR", "n"))
		a.Flush()
	}
	if got := tr.off.Load(); got != 0 {
		t.Fatalf("OnSynced(%d) before the fsync returned", got)
	}
	close(release)
	waitFor(t, "the batches synced", func() bool { return tr.off.Load() == last })
	if n := syncs.Load(); n != 2 {
		t.Fatalf("%d fsyncs for 101 batches; want 2 (group commit)", n)
	}
	if first >= last {
		t.Fatal("offsets must grow")
	}
}

// TestWriteErrorRecovery fills the disk in the middle of a write: the error
// shows, nothing is lost or duplicated, and it clears when space is back.
func TestWriteErrorRecovery(t *testing.T) {
	setTunable(t, &retryInterval, 10*time.Millisecond)
	for _, tc := range []struct {
		name      string
		pol       Policy
		truncFail bool // the short write cannot be undone either
	}{
		{"always", FsyncAlways, false},
		{"everysec", FsyncEverysec, false},
		{"no", FsyncNo, false},
		{"always/truncate fails", FsyncAlways, true},
		{"everysec/truncate fails", FsyncEverysec, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemDir(t)
			efs := NewErrorFS(m)
			opts := memOpts(efs)
			opts.Fsync = tc.pol
			var tr syncedTracker
			opts.OnSynced = tr.on
			a := mustOpen(t, opts)
			if _, _, err := loadAll(t, a); err != nil {
				t.Fatal(err)
			}
			var stream []byte
			appendN := func(n int) {
				for i := 0; i < n; i++ {
					c := cmd("SET", "k", string(rune('a'+i%26)))
					stream = append(stream, c...)
					a.Append(c)
					a.Flush()
				}
			}
			appendN(10)
			waitFor(t, "first batches", func() bool { return tr.off.Load() == int64(len(stream)) })
			efs.FailWritesAfter(25, syscall.ENOSPC) // a short write, then nothing
			if tc.truncFail {
				efs.FailTruncates(syscall.EIO)
			}
			appendN(20)
			waitFor(t, "WriteError", func() bool { return a.WriteError() != nil })
			if err := a.WriteError(); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("WriteError %v; want ENOSPC", err)
			}
			if st := a.Stats(); st.LastWriteError == nil || st.BufferLength == 0 {
				t.Fatalf("stats while failing: %+v", st)
			}
			appendN(5) // the executor would refuse these; the layer keeps them anyway
			efs.Heal()
			a.Flush()
			waitFor(t, "recovery", func() bool { return a.WriteError() == nil && tr.off.Load() == int64(len(stream)) })
			appendN(3)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			got := readMem(t, m, "/data/appendonlydir/appendonly.aof.1.incr.aof")
			if !bytes.Equal(got, stream) {
				t.Fatalf("file holds %d bytes; want the %d appended exactly once\n got %q\nwant %q", len(got), len(stream), got, stream)
			}
		})
	}
}

// TestFsyncErrorAlways fails fsyncs with FsyncAlways: nothing is reported
// synced meanwhile, and after recovery the unsynced bytes were written again
// (Linux may drop dirty pages after a failed fsync) and are durable.
func TestFsyncErrorAlways(t *testing.T) {
	setTunable(t, &retryInterval, 10*time.Millisecond)
	m := newMemDir(t)
	efs := NewErrorFS(m)
	opts := memOpts(efs)
	var tr syncedTracker
	opts.OnSynced = tr.on
	a := mustOpen(t, opts)
	var truncates atomic.Int32
	efs.Inject = func(op Op, name string) error {
		if op == OpTruncate {
			truncates.Add(1)
		}
		return nil
	}
	ok := a.Append(cmd("SET", "a", "1"))
	a.Flush()
	waitFor(t, "first sync", func() bool { return tr.off.Load() == ok })
	efs.FailSyncs(syscall.EIO)
	var last int64
	for i := 0; i < 10; i++ {
		last = a.Append(cmd("INCR", "n"))
		a.Flush()
	}
	waitFor(t, "WriteError", func() bool { return a.WriteError() != nil })
	if got := tr.off.Load(); got != ok {
		t.Fatalf("OnSynced(%d) while fsync fails; want %d", got, ok)
	}
	efs.Heal()
	waitFor(t, "recovery", func() bool { return a.WriteError() == nil && tr.off.Load() == last })
	if truncates.Load() == 0 {
		t.Fatal("the unsynced bytes were not rewritten")
	}
	want := cmd("SET", "a", "1")
	for i := 0; i < 10; i++ {
		want = append(want, cmd("INCR", "n")...)
	}
	c := m.CrashClone()
	if got := readMem(t, c, "/data/appendonlydir/appendonly.aof.1.incr.aof"); !bytes.Equal(got, want) {
		t.Fatalf("durable file %q; want %q", got, want)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestEverysec checks the background fsync, and that a write waiting for a
// slow fsync goes out after delayedWriteLimit, counted in DelayedFsync.
func TestEverysec(t *testing.T) {
	setTunable(t, &everysecInterval, 10*time.Millisecond)
	setTunable(t, &delayedWriteLimit, 50*time.Millisecond)
	efs := NewErrorFS(newMemDir(t))
	opts := memOpts(efs)
	opts.Fsync = FsyncEverysec
	var tr syncedTracker
	opts.OnSynced = tr.on
	a := mustOpen(t, opts)
	defer a.Close()

	off := a.Append(cmd("SET", "a", "1"))
	a.Flush()
	waitFor(t, "written", func() bool { return tr.off.Load() == off })
	waitFor(t, "background fsync", func() bool { return a.Stats().Synced == off })

	var hold atomic.Bool
	hold.Store(true)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	efs.Inject = func(op Op, name string) error {
		if op == OpSync && hold.Load() {
			hold.Store(false)
			entered <- struct{}{}
			<-release
		}
		return nil
	}
	off2 := a.Append(cmd("SET", "b", "2"))
	a.Flush()
	<-entered // a background fsync is stuck
	if !a.Stats().PendingBioFsync {
		t.Fatal("aof_pending_bio_fsync not reported")
	}
	off3 := a.Append(cmd("SET", "c", "3"))
	a.Flush() // postponed, then written anyway after delayedWriteLimit
	waitFor(t, "delayed write", func() bool { return tr.off.Load() == off3 })
	if n := a.Stats().DelayedFsync; n != 1 {
		t.Fatalf("aof_delayed_fsync %d; want 1", n)
	}
	close(release)
	waitFor(t, "fsync done", func() bool { return !a.Stats().PendingBioFsync })
	waitFor(t, "all synced", func() bool { return a.Stats().Synced == off3 })
	_ = off2
}

// TestBackpressure: when the writer is far behind, Append waits for it.
func TestBackpressure(t *testing.T) {
	setTunable(t, &maxBehind, 1000)
	efs := NewErrorFS(newMemDir(t))
	opts := memOpts(efs)
	opts.Fsync = FsyncNo
	a := mustOpen(t, opts)
	defer a.Close()
	release := make(chan struct{})
	var once sync.Once
	efs.Inject = func(op Op, name string) error {
		if op == OpWrite {
			<-release
		}
		return nil
	}
	big := make([]byte, 600)
	a.Append(big)
	a.Flush() // the writer blocks in write
	a.Append(big)
	done := make(chan int64)
	go func() { done <- a.Append(big) }() // 1200 bytes behind: waits
	select {
	case <-done:
		t.Fatal("Append did not wait for a writer 1200 bytes behind")
	case <-time.After(50 * time.Millisecond):
	}
	once.Do(func() { close(release) })
	if off := <-done; off != 1800 {
		t.Fatalf("offset %d; want 1800", off)
	}
}

func TestSetPolicy(t *testing.T) {
	m := newMemDir(t)
	opts := memOpts(m)
	opts.Fsync = FsyncNo
	var tr syncedTracker
	opts.OnSynced = tr.on
	a := mustOpen(t, opts)
	defer a.Close()
	off := a.Append(cmd("SET", "a", "1"))
	a.Flush()
	waitFor(t, "written", func() bool { return tr.off.Load() == off })
	if a.Stats().Synced != 0 {
		t.Fatal("FsyncNo must not fsync")
	}
	a.SetPolicy(FsyncAlways)
	if a.Policy() != FsyncAlways {
		t.Fatal("policy not set")
	}
	off = a.Append(cmd("SET", "b", "1"))
	a.Flush()
	waitFor(t, "synced", func() bool { return a.Stats().Synced == off && tr.off.Load() == off })
	for _, s := range []string{"no", "always", "everysec", "EverySec"} {
		if p, ok := ParsePolicy(s); !ok || !bytes.EqualFold([]byte(p.String()), []byte(s)) {
			t.Errorf("ParsePolicy(%q) = %v, %v", s, p, ok)
		}
	}
	if _, ok := ParsePolicy("sometimes"); ok {
		t.Error("ParsePolicy accepted a bad value")
	}
}
