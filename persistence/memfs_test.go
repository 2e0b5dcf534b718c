package persistence

import (
	"errors"
	"io"
	"reflect"
	"syscall"
	"testing"
)

func TestMemFSStrict(t *testing.T) {
	type step func(t *testing.T, m *MemFS)
	write := func(name, data string, sync bool) step {
		return func(t *testing.T, m *MemFS) {
			f, err := m.OpenAppend(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte(data)); err != nil {
				t.Fatal(err)
			}
			if sync {
				if err := f.Sync(); err != nil {
					t.Fatal(err)
				}
			}
			f.Close()
		}
	}
	syncDir := func(dir string) step {
		return func(t *testing.T, m *MemFS) {
			if err := m.SyncDir(dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	rename := func(a, b string) step {
		return func(t *testing.T, m *MemFS) {
			if err := m.Rename(a, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(a string) step {
		return func(t *testing.T, m *MemFS) {
			if err := m.Remove(a); err != nil {
				t.Fatal(err)
			}
		}
	}
	truncate := func(name string, n int64, sync bool) step {
		return func(t *testing.T, m *MemFS) {
			f, _ := m.OpenAppend(name)
			if err := f.Truncate(n); err != nil {
				t.Fatal(err)
			}
			if sync {
				f.Sync()
			}
			f.Close()
		}
	}
	tests := []struct {
		name  string
		steps []step
		want  map[string]string // files in /d after a crash
	}{
		{"unsynced data is lost", []step{write("/d/a", "x", true), syncDir("/d"), write("/d/a", "yz", false)}, map[string]string{"a": "x"}},
		{"synced data survives", []step{write("/d/a", "x", true), write("/d/a", "yz", true), syncDir("/d")}, map[string]string{"a": "xyz"}},
		{"create needs SyncDir", []step{write("/d/a", "x", true)}, map[string]string{}},
		{"rename needs SyncDir", []step{write("/d/a", "x", true), syncDir("/d"), rename("/d/a", "/d/b")}, map[string]string{"a": "x"}},
		{"rename after SyncDir", []step{write("/d/a", "x", true), syncDir("/d"), rename("/d/a", "/d/b"), syncDir("/d")}, map[string]string{"b": "x"}},
		{"remove needs SyncDir", []step{write("/d/a", "x", true), syncDir("/d"), remove("/d/a")}, map[string]string{"a": "x"}},
		{"rename over a file", []step{write("/d/a", "new", true), write("/d/b", "old", true), syncDir("/d"), rename("/d/a", "/d/b"), syncDir("/d")}, map[string]string{"b": "new"}},
		{"unsynced truncate is lost", []step{write("/d/a", "abc", true), syncDir("/d"), truncate("/d/a", 1, false)}, map[string]string{"a": "abc"}},
		{"synced truncate then append", []step{write("/d/a", "abc", true), syncDir("/d"), truncate("/d/a", 1, true), write("/d/a", "Z", true)}, map[string]string{"a": "aZ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemFS()
			m.MkdirAll("/d", 0o755)
			m.SyncDir("/")
			for _, s := range tt.steps {
				s(t, m)
			}
			for _, c := range []*MemFS{m.CrashClone(), func() *MemFS { m.Crash(); return m }()} {
				names, err := c.ReadDir("/d")
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for _, n := range names {
					got[n] = string(readMem(t, c, "/d/"+n))
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("after a crash: %q; want %q", got, tt.want)
				}
			}
		})
	}
}

func TestMemFSDirs(t *testing.T) {
	m := NewMemFS()
	m.MkdirAll("/a/b", 0o755)
	m.WriteFile("/a/b/f", []byte("x")) // syncs /a/b, not /a
	if _, err := m.CrashClone().Stat("/a"); err == nil {
		t.Fatal("a directory whose parent was never synced survived a crash")
	}
	m.SyncDir("/a")
	m.SyncDir("/")
	c := m.CrashClone()
	if b, err := c.ReadFile("/a/b/f"); err != nil || string(b) != "x" {
		t.Fatalf("got %q %v", b, err)
	}
	// The ordered model keeps directory operations, not unsynced bytes.
	f, _ := m.Create("/a/b/g")
	f.Write([]byte("unsynced"))
	o := m.CrashCloneOrdered()
	if b, err := o.ReadFile("/a/b/g"); err != nil || len(b) != 0 {
		t.Fatalf("ordered clone: %q %v; want an empty file", b, err)
	}
	// Handles from before a crash fail.
	m.Crash()
	if _, err := f.Write([]byte("x")); !errors.Is(err, ErrCrashed) {
		t.Fatalf("write after crash: %v", err)
	}
	r, _ := m.Open("/a/b/f")
	if b, _ := io.ReadAll(r); string(b) != "x" {
		t.Fatalf("read %q", b)
	}
}

func TestErrorFS(t *testing.T) {
	m := NewMemFS()
	e := NewErrorFS(m)
	f, _ := e.Create("/f")
	e.FailWritesAfter(3, syscall.ENOSPC)
	n, err := f.Write([]byte("abcde"))
	if n != 3 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("short write: %d %v", n, err)
	}
	if n, err := f.Write([]byte("x")); n != 0 || err == nil {
		t.Fatalf("write on a full disk: %d %v", n, err)
	}
	e.FailSyncs(syscall.EIO)
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync: %v", err)
	}
	e.Heal()
	if _, err := f.Write([]byte("fg")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := string(readMem(t, m, "/f")); got != "abcfg" {
		t.Fatalf("file %q", got)
	}
}
