package persistence

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// memAOFDir writes a manifest and its files (name -> content) into /data's
// AOF directory, durably.
func memAOFDir(t testing.TB, manifest string, files map[string][]byte) *MemFS {
	t.Helper()
	m := newMemDir(t)
	if err := m.MkdirAll("/data/appendonlydir", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir("/data"); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile("/data/appendonlydir/appendonly.aof.manifest", []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := m.WriteFile("/data/appendonlydir/"+name, data); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

const (
	b1 = "appendonly.aof.1.base.aof"
	i1 = "appendonly.aof.1.incr.aof"
	i2 = "appendonly.aof.2.incr.aof"
)

var twoIncrManifest = "file " + b1 + " seq 1 type b\nfile " + i1 + " seq 1 type i\nfile " + i2 + " seq 2 type i\n"

func TestLoadOrder(t *testing.T) {
	m := memAOFDir(t, twoIncrManifest, map[string][]byte{
		b1: cmds(cmd("SELECT", "0"), cmd("SET", "a", "1"), cmd("SELECT", "3"), cmd("RPUSH", "l", "x", "y")),
		i1: cmds([]byte("#TS:1700000000\r\n"), cmd("SELECT", "3"), cmd("SET", "b", "2")),
		i2: cmds(cmd("SET", "c", "3"), cmd("MULTI"), cmd("INCR", "n"), cmd("DEL", "a"), cmd("EXEC")),
	})
	a := mustOpen(t, memOpts(m))
	defer a.Close()
	got, st, err := loadAll(t, a)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SELECT 0", "SELECT 0", "SET a 1", "SELECT 3", "RPUSH l x y",
		"SELECT 0", "SELECT 3", "SET b 2",
		"SELECT 0", "SET c 3", "MULTI", "INCR n", "DEL a", "EXEC",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("unexpected commands;\ngot  %q\nwant %q", got, want)
	}
	if st.Files != 3 || st.Commands != 11 || st.Truncated {
		t.Fatalf("unexpected stats %+v", st)
	}
}

// lastCmd is the command whose truncations the table below cuts.
var lastCmd = cmd("SET", "key", "value")

func TestLoadTruncatedTail(t *testing.T) {
	good := cmds(cmd("SELECT", "0"), cmd("SET", "a", "1"))
	cuts := []int{1, 2, 4, 5, 9, 14, 20, 27, 29, len(lastCmd) - 1}
	for _, cut := range cuts {
		for _, allow := range []bool{false, true} {
			t.Run(fmt.Sprintf("cut%d/truncated=%v", cut, allow), func(t *testing.T) {
				incr := cmds(good, lastCmd[:cut])
				m := memAOFDir(t, "file "+b1+" seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{
					b1: cmd("SET", "base", "1"), i1: incr,
				})
				opts := memOpts(m)
				opts.LoadTruncated = allow
				log, lb := captureLog()
				opts.Log = log
				a := mustOpen(t, opts)
				defer a.Close()
				got, st, err := loadAll(t, a)
				if !allow {
					var le *LoadError
					if !errors.As(err, &le) || !errors.Is(err, ErrTruncated) || le.File != i1 || le.Offset != int64(len(good)) {
						t.Fatalf("got %v; want a truncation error at %s offset %d", err, i1, len(good))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"SELECT 0", "SET base 1", "SELECT 0", "SELECT 0", "SET a 1"}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("got %q; want %q", got, want)
				}
				if !st.Truncated || st.TruncatedFile != i1 || st.TruncatedOffset != int64(len(good)) {
					t.Fatalf("unexpected stats %+v", st)
				}
				logs := lb.String()
				if !strings.Contains(logs, "file="+i1) || !strings.Contains(logs, fmt.Sprintf("offset=%d", len(good))) {
					t.Fatalf("the warning must name file and offset; log:\n%s", logs)
				}
				// The tail is gone, and new appends follow the good part.
				a.Append(cmd("SET", "after", "1"))
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
				if got, want := readMem(t, m, "/data/appendonlydir/"+i1), cmds(good, cmd("SET", "after", "1")); !bytes.Equal(got, want) {
					t.Fatalf("file after truncation: got %q; want %q", got, want)
				}
			})
		}
	}
}

func TestLoadTruncatedNotLast(t *testing.T) {
	m := memAOFDir(t, twoIncrManifest, map[string][]byte{
		b1: cmd("SET", "a", "1"), i1: cmds(cmd("SET", "b", "2"), lastCmd[:10]), i2: cmd("SET", "c", "3"),
	})
	opts := memOpts(m)
	opts.LoadTruncated = true
	a := mustOpen(t, opts)
	defer a.Close()
	_, _, err := loadAll(t, a)
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, ErrTruncated) || le.File != i1 || !strings.Contains(err.Error(), "not the last file") {
		t.Fatalf("got %v; want a fatal truncation in %s", err, i1)
	}
}

// A truncated base followed only by empty incr files is the last file with
// data: Redis (which creates the incr after loading) cuts it too.
func TestLoadTruncatedBaseEmptyIncr(t *testing.T) {
	m := memAOFDir(t, "file "+b1+" seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{
		b1: cmds(cmd("SET", "a", "1"), lastCmd[:7]), i1: nil,
	})
	opts := memOpts(m)
	opts.LoadTruncated = true
	a := mustOpen(t, opts)
	defer a.Close()
	got, st, err := loadAll(t, a)
	if err != nil || !st.Truncated || st.TruncatedFile != b1 || len(got) != 2 {
		t.Fatalf("got %q %+v %v", got, st, err)
	}
	if size := len(readMem(t, m, "/data/appendonlydir/"+b1)); size != len(cmd("SET", "a", "1")) {
		t.Fatalf("base not truncated: %d bytes", size)
	}
}

func TestLoadCorruption(t *testing.T) {
	pre := cmds(cmd("SELECT", "0"), cmd("SET", "a", "1"))
	post := cmd("SET", "z", "9")
	tests := []struct {
		name, bad, msg string
	}{
		{"no star", "+OK\r\n", "expected '*'"},
		{"zero args", "*0\r\n", "invalid multibulk length"},
		{"bad count", "*x\r\n", "invalid * length line"},
		{"negative count", "*-1\r\n", "invalid * length line"},
		{"no dollar", "*1\r\n:1\r\n", "expected '$'"},
		{"bad bulk len", "*1\r\n$1a\r\nx\r\n", "invalid $ length line"},
		{"no crlf after bulk", "*1\r\n$1\r\nxy\r\n", "not terminated by CRLF"},
		{"nul bytes", "\x00\x00\x00\x00", "expected '*'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := memAOFDir(t, "file "+b1+" seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{
				b1: cmds(pre, []byte(tt.bad), post), i1: cmd("SET", "i", "1"),
			})
			opts := memOpts(m)
			opts.LoadTruncated = true // corruption is never a truncated tail
			a := mustOpen(t, opts)
			defer a.Close()
			_, _, err := loadAll(t, a)
			var le *LoadError
			var fe *FormatError
			if !errors.As(err, &le) || !errors.As(err, &fe) || le.File != b1 || le.Offset != int64(len(pre)) ||
				!strings.Contains(fe.Msg, tt.msg) {
				t.Fatalf("got %v; want a format error %q in %s at offset %d", err, tt.msg, b1, len(pre))
			}
			want := fmt.Sprintf("AOF file %s at offset %d: bad file format: ", b1, len(pre))
			if !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error text %q; want prefix %q", err, want)
			}
		})
	}
}

func TestLoadTransactions(t *testing.T) {
	tests := []struct {
		name     string
		incr     []byte
		want     []string // applied from the incr file, after its SELECT 0
		errMsg   string   // a format error
		errOff   int      // its offset
		truncOff int      // with a truncated tail: where it is cut; else -1
	}{
		{
			name: "complete",
			incr: cmds(cmd("SET", "a", "1"), cmd("MULTI"), cmd("SET", "b", "2"), cmd("EXEC")),
			want: []string{"SET a 1", "MULTI", "SET b 2", "EXEC"}, truncOff: -1,
		},
		{
			name:     "MULTI without EXEC at the end",
			incr:     cmds(cmd("SET", "a", "1"), cmd("MULTI"), cmd("SET", "b", "2"), cmd("INCR", "c")),
			want:     []string{"SET a 1"},
			truncOff: len(cmd("SET", "a", "1")),
		},
		{
			name:     "MULTI cut inside a queued command",
			incr:     cmds(cmd("SET", "a", "1"), cmd("MULTI"), cmd("SET", "b", "2"), cmd("INCR", "c")[:9]),
			want:     []string{"SET a 1"},
			truncOff: len(cmd("SET", "a", "1")),
		},
		{
			name:   "nested MULTI",
			incr:   cmds(cmd("MULTI"), cmd("SET", "b", "2"), cmd("multi"), cmd("EXEC")),
			errMsg: "MULTI inside MULTI", errOff: len(cmds(cmd("MULTI"), cmd("SET", "b", "2"))),
		},
		{
			name:   "EXEC without MULTI",
			incr:   cmds(cmd("SET", "b", "2"), cmd("exec")),
			errMsg: "EXEC without MULTI", errOff: len(cmd("SET", "b", "2")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := memAOFDir(t, "file "+b1+" seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{b1: nil, i1: tt.incr})
			opts := memOpts(m)
			opts.LoadTruncated = true
			a := mustOpen(t, opts)
			defer a.Close()
			got, st, err := loadAll(t, a)
			if tt.errMsg != "" {
				var le *LoadError
				if !errors.As(err, &le) || le.Offset != int64(tt.errOff) || !strings.Contains(err.Error(), tt.errMsg) {
					t.Fatalf("got %v; want %q at offset %d", err, tt.errMsg, tt.errOff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[1:], tt.want) {
				t.Fatalf("got %q; want %q", got[1:], tt.want)
			}
			if (tt.truncOff >= 0) != st.Truncated || (st.Truncated && st.TruncatedOffset != int64(tt.truncOff)) {
				t.Fatalf("stats %+v; want truncation at %d", st, tt.truncOff)
			}
		})
	}
	// Without aof-load-truncated, a MULTI without EXEC fails the load, at
	// the MULTI.
	m := memAOFDir(t, "file "+b1+" seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{
		b1: cmd("SET", "a", "1"), i1: cmds(cmd("MULTI"), cmd("SET", "b", "2")),
	})
	a := mustOpen(t, memOpts(m))
	defer a.Close()
	applied := 0
	_, err := a.Load(func([][]byte) error { applied++; return nil }, nil)
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, ErrTruncated) || le.File != i1 || le.Offset != 0 {
		t.Fatalf("got %v; want a truncation error at the MULTI", err)
	}
	if applied != 3 { // SELECT 0, SET a 1, SELECT 0: nothing of the transaction
		t.Fatalf("applied %d commands; want 3", applied)
	}
}

func TestLoadApplyError(t *testing.T) {
	m := memAOFDir(t, "file "+b1+" seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{
		b1: cmds(cmd("SET", "a", "1"), cmd("BOGUS", "x"), cmd("SET", "b", "2")), i1: nil,
	})
	a := mustOpen(t, memOpts(m))
	defer a.Close()
	boom := errors.New("unknown command 'BOGUS'")
	_, err := a.Load(func(argv [][]byte) error {
		if string(argv[0]) == "BOGUS" {
			return boom
		}
		return nil
	}, nil)
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, boom) || le.File != b1 || le.Offset != int64(len(cmd("SET", "a", "1"))) {
		t.Fatalf("got %v; want the apply error at the second command", err)
	}
}

func TestLoadRDBBase(t *testing.T) {
	m := memAOFDir(t, "file appendonly.aof.1.base.rdb seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{
		"appendonly.aof.1.base.rdb": []byte("REDIS0010\xfa\x09redis-ver"), i1: cmd("SET", "a", "1"),
	})
	a := mustOpen(t, memOpts(m))
	defer a.Close()
	_, _, err := loadAll(t, a)
	if !errors.Is(err, ErrRDBBase) || !strings.Contains(err.Error(), "RDB-format base files are not supported; rewrite it with aof-use-rdb-preamble no") {
		t.Fatalf("got %v; want ErrRDBBase", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	m := memAOFDir(t, twoIncrManifest, map[string][]byte{b1: nil, i2: nil})
	_, err := Open(memOpts(m))
	if err == nil || !strings.Contains(err.Error(), i1) {
		t.Fatalf("got %v; want an error naming the missing %s", err, i1)
	}
}

func TestLegacyUpgrade(t *testing.T) {
	m := newMemDir(t)
	legacy := cmds(cmd("SELECT", "0"), cmd("SET", "k", "v"), cmd("RPUSH", "l", "1"))
	if err := m.WriteFile("/data/appendonly.aof", legacy); err != nil {
		t.Fatal(err)
	}
	a := mustOpen(t, memOpts(m))
	got, _, err := loadAll(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"SELECT 0", "SELECT 0", "SET k v", "RPUSH l 1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q; want %q", got, want)
	}
	a.Append(cmds(cmd("SELECT", "0"), cmd("SET", "new", "1")))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// The same layout redis-server 7.0.15 produces (TestRedisLegacyUpgrade).
	names, _ := m.ReadDir("/data")
	if !reflect.DeepEqual(names, []string{"appendonlydir"}) {
		t.Fatalf("dir holds %q", names)
	}
	names, _ = m.ReadDir("/data/appendonlydir")
	if want := []string{"appendonly.aof", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("AOF dir holds %q; want %q", names, want)
	}
	wantMan := "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
	if got := string(readMem(t, m, "/data/appendonlydir/appendonly.aof.manifest")); got != wantMan {
		t.Fatalf("manifest %q; want %q", got, wantMan)
	}
	// Reopened, it loads both.
	a = mustOpen(t, memOpts(m))
	defer a.Close()
	got, _, err = loadAll(t, a)
	if err != nil || len(got) != 7 {
		t.Fatalf("reload: %q, %v", got, err)
	}
}

// TestLoadRandom replays random commands, some larger than the read buffer
// and a transaction spanning several buffers, and checks every argument.
func TestLoadRandom(t *testing.T) {
	const seed = 7
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	var file []byte
	var want []string
	randArg := func() string {
		n := rng.Intn(40)
		switch rng.Intn(400) {
		case 0:
			n = loadBufSize + rng.Intn(loadBufSize) // bigger than the buffer
		case 1:
			n = 0
		}
		b := make([]byte, n)
		rng.Read(b)
		return string(b)
	}
	emit := func(args ...string) {
		file = append(file, cmd(args...)...)
		want = append(want, strings.Join(args, " "))
	}
	want = append(want, "SELECT 0")
	for i := 0; i < 3000; i++ {
		if i == 1500 {
			emit("MULTI")
			for j := 0; j < 3; j++ {
				emit("SET", "big", strings.Repeat("x", loadBufSize))
			}
			emit("EXEC")
			continue
		}
		if rng.Intn(100) == 0 {
			file = append(file, "#TS:12345\r\n"...)
		}
		args := []string{"SET"}
		for j := rng.Intn(5); j >= 0; j-- {
			args = append(args, randArg())
		}
		emit(args...)
	}
	m := memAOFDir(t, "file "+b1+" seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{b1: file, i1: nil})
	a := mustOpen(t, memOpts(m))
	defer a.Close()
	var last int64
	calls := 0
	var got []string
	st, err := a.Load(func(argv [][]byte) error {
		parts := make([]string, len(argv))
		for i, v := range argv {
			parts[i] = string(v)
		}
		got = append(got, strings.Join(parts, " "))
		return nil
	}, func(done, total int64) {
		calls++
		if done < last || done > total || total != int64(len(file)) {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d commands; want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("command %d differs (len %d vs %d)", i, len(got[i]), len(want[i]))
		}
	}
	if st.Bytes != int64(len(file)) || last != int64(len(file)) || calls < 2 {
		t.Fatalf("stats %+v, progress %d in %d calls", st, last, calls)
	}
}

func FuzzParseCommand(f *testing.F) {
	f.Add(cmd("SET", "a", "b"))
	f.Add([]byte("#TS:1\r\n*1\r\n$4\r\nPING\r\n"))
	f.Add([]byte("*2\n$1\nx\r\n$0\n\r\n"))
	f.Add([]byte("*1\r\n$99999999999999999\r\n"))
	f.Add([]byte("*3\r\n$3\r\nSET"))
	f.Fuzz(func(t *testing.T, b []byte) {
		argv, n, need, err := parseCommand(b, nil)
		switch {
		case err != nil:
		case n > 0:
			if n > len(b) {
				t.Fatalf("consumed %d of %d", n, len(b))
			}
			// The same bytes followed by more parse the same way.
			argv2, n2, _, err2 := parseCommand(append(b[:n:n], "*1\r\n"...), nil)
			if err2 != nil || n2 != n || !reflect.DeepEqual(argv, argv2) {
				t.Fatalf("prefix parse differs")
			}
		default:
			if need <= len(b) {
				t.Fatalf("incomplete with need %d <= %d", need, len(b))
			}
		}
	})
}
