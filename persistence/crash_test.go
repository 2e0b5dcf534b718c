package persistence

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
)

// crashPoint is the durable state right after one FS operation, and how much
// of the stream had been acknowledged as durable at that moment.
type crashPoint struct {
	fs    *MemFS
	acked int64 // stream offset known durable
	op    string
}

// recordCrashes takes a CrashClone and a CrashCloneOrdered after every FS
// operation on m. ackedOff
// is read before each clone: what it reports was durable before the
// operation, so it must still be in the clone.
func recordCrashes(m *MemFS, ackedOff func() int64) func() []crashPoint {
	var mu sync.Mutex
	var points []crashPoint
	m.AfterOp = func(op Op, name string) {
		acked := ackedOff()
		c, o := m.CrashClone(), m.CrashCloneOrdered()
		mu.Lock()
		desc := fmt.Sprintf("#%d %s %s", len(points)/2, op, name)
		points = append(points,
			crashPoint{fs: c, acked: acked, op: desc + " (strict)"},
			crashPoint{fs: o, acked: acked, op: desc + " (ordered dirs)"})
		mu.Unlock()
	}
	return func() []crashPoint {
		m.AfterOp = nil
		mu.Lock()
		defer mu.Unlock()
		return points
	}
}

// TestCrashDuringRewrite crashes (in the strict MemFS sense) after every FS
// operation of a session that opens a fresh AOF, appends, completes a
// rewrite, aborts one and completes another, with appends interleaved
// everywhere. Each crashed directory must open and load to a prefix of the
// appended log that contains every acknowledged item: no loss, no
// duplicate, no error.
func TestCrashDuringRewrite(t *testing.T) {
	for _, pol := range []Policy{FsyncAlways, FsyncEverysec} {
		t.Run(pol.String(), func(t *testing.T) {
			m := newMemDir(t)
			var aofp atomic.Pointer[AOF]
			var onSynced atomic.Int64
			acked := func() int64 {
				if pol == FsyncAlways {
					return onSynced.Load()
				}
				if a := aofp.Load(); a != nil {
					return a.syncedPub.Load()
				}
				return 0
			}
			points := recordCrashes(m, acked)

			opts := memOpts(m)
			opts.Fsync = pol
			opts.OnSynced = func(off int64) { onSynced.Store(off) }
			a := mustOpen(t, opts)
			aofp.Store(a)
			items(t, a)

			var (
				ends []int64 // ends[i-1]: stream offset after item i
				n    int
			)
			appendItems := func(k int) {
				for j := 0; j < k; j++ {
					n++
					ends = append(ends, a.Append(push(n)))
					if n%2 == 0 {
						a.Flush()
					}
				}
				a.Flush()
			}
			a.Append(cmd("SELECT", "0"))
			appendItems(6)
			rewrite := func(abort bool) {
				rw, err := startRewrite(a)
				if err != nil {
					t.Fatal(err)
				}
				snap := snapshot(n)
				a.Append(cmd("SELECT", "0"))
				for _, p := range snap {
					if _, err := rw.Write(p); err != nil {
						t.Fatal(err)
					}
					appendItems(1)
				}
				if abort {
					rw.Abort()
					rw.Wait()
					return
				}
				if err := finish(t, rw); err != nil {
					t.Fatal(err)
				}
			}
			rewrite(false)
			appendItems(3)
			rewrite(true)
			appendItems(3)
			rewrite(false)
			appendItems(3)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			pts := points()
			t.Logf("%d crash points, %d items", len(pts), n)

			ackedItems := func(off int64) int {
				k := 0
				for k < len(ends) && ends[k] <= off {
					k++
				}
				return k
			}
			for _, p := range append(pts, crashPoint{fs: m.CrashClone(), acked: ends[n-1], op: "after Close"}) {
				o := memOpts(p.fs)
				a, err := Open(o)
				if err != nil {
					t.Fatalf("crash after %s: Open: %v", p.op, err)
				}
				var got []int
				_, err = a.Load(func(argv [][]byte) error {
					if string(argv[0]) == "RPUSH" {
						for _, v := range argv[2:] {
							var x int
							fmt.Sscan(string(v), &x)
							got = append(got, x)
						}
					}
					return nil
				}, nil)
				if err != nil {
					t.Fatalf("crash after %s: Load: %v", p.op, err)
				}
				if len(got) > n || !reflect.DeepEqual(got, seq(1, len(got))) {
					t.Fatalf("crash after %s: loaded %v; want 1..k", p.op, got)
				}
				if k := ackedItems(p.acked); len(got) < k {
					t.Fatalf("crash after %s: loaded %d items; %d were acknowledged", p.op, len(got), k)
				}
				// Reopening the recovered directory works again.
				a.Append(push(len(got) + 1))
				if err := a.Close(); err != nil {
					t.Fatalf("crash after %s: Close: %v", p.op, err)
				}
				a = mustOpen(t, o)
				if got2 := items(t, a); !reflect.DeepEqual(got2, seq(1, len(got)+1)) {
					t.Fatalf("crash after %s: reopened: %v", p.op, got2)
				}
				a.Close()
			}
		})
	}
}

// TestCrashDuringUpgrade crashes after every operation of a legacy upgrade:
// every state loads the legacy file's commands exactly once.
func TestCrashDuringUpgrade(t *testing.T) {
	m := newMemDir(t)
	legacy := cmds(cmd("SELECT", "0"), push(1), push(2), push(3))
	if err := m.WriteFile("/data/appendonly.aof", legacy); err != nil {
		t.Fatal(err)
	}
	points := recordCrashes(m, func() int64 { return 0 })
	a := mustOpen(t, memOpts(m))
	if got := items(t, a); !reflect.DeepEqual(got, seq(1, 3)) {
		t.Fatalf("items %v", got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	pts := points()
	if len(pts) < 5 {
		t.Fatalf("only %d crash points", len(pts))
	}
	for _, p := range pts {
		a, err := Open(memOpts(p.fs))
		if err != nil {
			t.Fatalf("crash after %s: Open: %v", p.op, err)
		}
		if got := items(t, a); !reflect.DeepEqual(got, seq(1, 3)) {
			t.Fatalf("crash after %s: items %v", p.op, got)
		}
		a.Close()
	}
}
