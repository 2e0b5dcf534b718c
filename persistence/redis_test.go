package persistence

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/servertest"
)

// These tests run real redis-server 7.0 (installed by `make test`) as the
// oracle of the file formats.

func osOpts(dir string) Options {
	return Options{Dir: dir, Log: quietLog(), Fsync: FsyncAlways}
}

func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readOS(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bulk is the RESP bulk reply for s.
func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func array(items ...string) string {
	return "*" + strconv.Itoa(len(items)) + "\r\n" + strings.Join(items, "")
}

// TestRedisLoadsOurAOF writes a directory with this package (a completed
// rewrite, then an aborted one, so the manifest has a base and two incr
// files) and starts redis-server on it.
func TestRedisLoadsOurAOF(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(osOpts(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadAll(t, a); err != nil {
		t.Fatal(err)
	}
	expireAt := time.Now().Add(time.Hour).UnixMilli()
	exp := strconv.FormatInt(expireAt, 10)
	// Group A: before the rewrite.
	a.Append(cmds(
		cmd("SELECT", "0"),
		cmd("SET", "s", "v"),
		cmd("RPUSH", "l", "a", "b", "c"),
		cmd("HSET", "h", "f1", "v1", "f2", "v2"),
		cmd("SADD", "set", "x", "y", "z"),
		cmd("ZADD", "z", "1", "one", "2.5", "two"),
		cmd("SET", "e", "ev"),
		cmd("PEXPIREAT", "e", exp),
		cmd("SELECT", "2"),
		cmd("SET", "s2", "v2"),
		cmd("MULTI"), cmd("INCR", "n"), cmd("INCR", "n"), cmd("EXEC"),
	))
	a.Flush()
	rw, err := startRewrite(a)
	if err != nil {
		t.Fatal(err)
	}
	// The snapshot of group A, as the executor would serialise it.
	snap := cmds(
		cmd("SELECT", "0"),
		cmd("SET", "s", "v"),
		cmd("RPUSH", "l", "a", "b", "c"),
		cmd("HMSET", "h", "f1", "v1", "f2", "v2"),
		cmd("SADD", "set", "x", "y", "z"),
		cmd("ZADD", "z", "1", "one", "2.5", "two"),
		cmd("SET", "e", "ev"),
		cmd("PEXPIREAT", "e", exp),
		cmd("SELECT", "2"),
		cmd("SET", "s2", "v2"),
		cmd("SET", "n", "2"),
	)
	// Group B, appended while the snapshot is written in slices.
	a.Append(cmds(cmd("SELECT", "0"), cmd("DEL", "s"), cmd("RPUSH", "l", "d")))
	for len(snap) > 0 {
		k := min(len(snap), 17)
		if _, err := rw.Write(snap[:k]); err != nil {
			t.Fatal(err)
		}
		snap = snap[k:]
	}
	if err := finish(t, rw); err != nil {
		t.Fatal(err)
	}
	// Group C during an aborted rewrite, group D after it.
	rw, err = startRewrite(a)
	if err != nil {
		t.Fatal(err)
	}
	a.Append(cmds(cmd("SELECT", "2"), cmd("MULTI"), cmd("INCR", "n"), cmd("SET", "c", "3"), cmd("EXEC")))
	rw.Write(cmd("SELECT", "0"))
	rw.Abort()
	rw.Wait()
	a.Append(cmds(cmd("SELECT", "0"), cmd("ZADD", "z", "3", "three"), cmd("HSET", "h", "f3", "v3")))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	aofDir := filepath.Join(dir, "appendonlydir")
	wantMan := "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
	if got := readOS(t, filepath.Join(aofDir, "appendonly.aof.manifest")); got != wantMan {
		t.Fatalf("manifest %q; want %q", got, wantMan)
	}

	p := servertest.StartRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--dir", dir)
	c := servertest.Dial(t, p.Addr)
	checks := []struct {
		args []string
		want string
	}{
		{[]string{"DBSIZE"}, ":5\r\n"},
		{[]string{"EXISTS", "s"}, ":0\r\n"},
		{[]string{"LRANGE", "l", "0", "-1"}, array(bulk("a"), bulk("b"), bulk("c"), bulk("d"))},
		{[]string{"HGET", "h", "f1"}, bulk("v1")},
		{[]string{"HGET", "h", "f3"}, bulk("v3")},
		{[]string{"HLEN", "h"}, ":3\r\n"},
		{[]string{"SMISMEMBER", "set", "x", "y", "z", "w"}, "*4\r\n:1\r\n:1\r\n:1\r\n:0\r\n"},
		{[]string{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, array(bulk("one"), bulk("1"), bulk("two"), bulk("2.5"), bulk("three"), bulk("3"))},
		{[]string{"GET", "e"}, bulk("ev")},
		{[]string{"PEXPIRETIME", "e"}, ":" + exp + "\r\n"},
		{[]string{"SELECT", "2"}, "+OK\r\n"},
		{[]string{"GET", "s2"}, bulk("v2")},
		{[]string{"GET", "n"}, bulk("3")},
		{[]string{"GET", "c"}, bulk("3")},
		{[]string{"DBSIZE"}, ":3\r\n"},
	}
	for _, ck := range checks {
		if got := string(c.Do(ck.args...)); got != ck.want {
			t.Errorf("%v: redis-server replied %q; want %q", ck.args, got, ck.want)
		}
	}
}

// model is a tiny interpreter of the commands an AOF holds, enough to check
// what Load replays from a directory written by redis-server.
type model struct {
	db      int
	inMulti bool
	data    map[string]string // "db/type/key[/field]" -> value
	expire  map[string]string
}

func newModel() *model { return &model{data: map[string]string{}, expire: map[string]string{}} }

func (m *model) apply(t testing.TB, argv []string) {
	t.Helper()
	k := func(typ string, parts ...string) string {
		return strconv.Itoa(m.db) + "/" + typ + "/" + strings.Join(parts, "/")
	}
	switch strings.ToUpper(argv[0]) {
	case "SELECT":
		m.db, _ = strconv.Atoi(argv[1])
	case "MULTI":
		m.inMulti = true
	case "EXEC":
		m.inMulti = false
	case "SET":
		m.data[k("s", argv[1])] = argv[2]
		for i := 3; i+1 < len(argv); i++ {
			if strings.EqualFold(argv[i], "PXAT") {
				m.expire[strconv.Itoa(m.db)+"/"+argv[1]] = argv[i+1]
			}
		}
	case "PEXPIREAT":
		m.expire[strconv.Itoa(m.db)+"/"+argv[1]] = argv[2]
	case "DEL":
		for _, key := range argv[1:] {
			for kk := range m.data {
				if strings.HasPrefix(kk, strconv.Itoa(m.db)+"/") && strings.Split(kk, "/")[2] == key {
					delete(m.data, kk)
				}
			}
		}
	case "INCR":
		n, _ := strconv.Atoi(m.data[k("s", argv[1])])
		m.data[k("s", argv[1])] = strconv.Itoa(n + 1)
	case "RPUSH":
		m.data[k("l", argv[1])] += strings.Join(argv[2:], ",") + ","
	case "HSET", "HMSET":
		for i := 2; i+1 < len(argv); i += 2 {
			m.data[k("h", argv[1], argv[i])] = argv[i+1]
		}
	case "SADD":
		for _, v := range argv[2:] {
			m.data[k("set", argv[1], v)] = "1"
		}
	case "ZADD":
		for i := 2; i+1 < len(argv); i += 2 {
			m.data[k("z", argv[1], argv[i+1])] = argv[i]
		}
	default:
		t.Fatalf("model: unexpected command %q", argv)
	}
}

// TestLoadRedisAOF has redis-server write an AOF (writes, BGREWRITEAOF, more
// writes, SHUTDOWN) and replays it with Load.
func TestLoadRedisAOF(t *testing.T) {
	p := servertest.StartRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always")
	c := servertest.Dial(t, p.Addr)
	do := func(args ...string) {
		t.Helper()
		if r := c.Do(args...); bytes.HasPrefix(r, []byte("-")) {
			t.Fatalf("%v: %q", args, r)
		}
	}
	do("SET", "s", "v")
	do("RPUSH", "l", "a", "b")
	do("HSET", "h", "f1", "v1")
	do("SADD", "set", "x", "y")
	do("ZADD", "z", "1", "one", "2", "two")
	do("SET", "ttl", "t", "EX", "1000")
	do("SELECT", "1")
	do("SET", "one", "1")
	do("MULTI")
	do("INCR", "n")
	do("INCR", "n")
	do("EXEC")
	do("SELECT", "0")
	do("BGREWRITEAOF")
	aofDir := filepath.Join(p.Dir, "appendonlydir")
	manPath := filepath.Join(aofDir, "appendonly.aof.manifest")
	waitFor(t, "the rewrite", func() bool {
		info := string(c.Do("INFO", "persistence"))
		return strings.Contains(info, "aof_rewrite_in_progress:0") &&
			strings.Contains(info, "aof_rewrite_scheduled:0") &&
			strings.Contains(readOS(t, manPath), "seq 2 type b")
	})
	do("DEL", "s")
	do("RPUSH", "l", "c")
	do("HSET", "h", "f2", "v2")
	do("SELECT", "1")
	do("INCR", "n")
	do("ZADD", "z", "3", "three") // in db 1: a new key
	p.Stop()                      // SIGTERM: Redis fsyncs and exits

	a, err := Open(osOpts(p.Dir))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m := newModel()
	var raw []string
	_, err = a.Load(func(argv [][]byte) error {
		s := make([]string, len(argv))
		for i, v := range argv {
			s[i] = string(v)
		}
		raw = append(raw, strings.Join(s, " "))
		m.apply(t, s)
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"0/l/l":       "a,b,c,",
		"0/h/h/f1":    "v1",
		"0/h/h/f2":    "v2",
		"0/set/set/x": "1",
		"0/set/set/y": "1",
		"0/z/z/one":   "1",
		"0/z/z/two":   "2",
		"0/s/ttl":     "t",
		"1/s/one":     "1",
		"1/s/n":       "3",
		"1/z/z/three": "3",
	}
	if !reflect.DeepEqual(m.data, want) {
		var got []string
		for k, v := range m.data {
			got = append(got, k+"="+v)
		}
		sort.Strings(got)
		t.Fatalf("replayed state %v; want %v\ncommands: %q", got, want, raw)
	}
	if _, ok := m.expire["0/ttl"]; !ok {
		t.Errorf("the expiry of ttl was not replayed: %q", raw)
	}
}

// TestRedisManifestNames compares the manifest and files this package
// creates in a fresh directory with redis-server's, for names that need
// quoting.
func TestRedisManifestNames(t *testing.T) {
	for _, tc := range []struct{ file, dir string }{
		{"appendonly.aof", "appendonlydir"},
		{"my file.aof", "my dir"},
		{"x\x01\"y.aof", "d\tir"},
	} {
		p := servertest.StartRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no",
			"--appendfilename", tc.file, "--appenddirname", tc.dir)
		p.Stop()
		redisDir := filepath.Join(p.Dir, tc.dir)

		dir := t.TempDir()
		o := osOpts(dir)
		o.FileName, o.DirName = tc.file, tc.dir
		a, err := Open(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		ourDir := filepath.Join(dir, tc.dir)
		if got, want := dirNames(t, ourDir), dirNames(t, redisDir); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: files %q; redis-server made %q", tc.file, got, want)
		}
		man := manifestName(tc.file)
		if got, want := readOS(t, filepath.Join(ourDir, man)), readOS(t, filepath.Join(redisDir, man)); got != want {
			t.Errorf("%q: manifest %q; redis-server wrote %q", tc.file, got, want)
		}
	}
}

// TestRedisLegacyUpgrade upgrades the same legacy appendonly.aof with
// redis-server and with Open, compares the results, and has redis-server
// load the directory this package upgraded.
func TestRedisLegacyUpgrade(t *testing.T) {
	legacy := cmds(cmd("SELECT", "0"), cmd("SET", "k", "v"), cmd("RPUSH", "l", "1", "2"))

	// redis-server's upgrade, in its own directory.
	rdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(rdir, "appendonly.aof"), legacy, 0o644); err != nil {
		t.Fatal(err)
	}
	p := servertest.StartRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--dir", rdir)
	p.Stop()

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "appendonly.aof"), legacy, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Open(osOpts(dir))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := loadAll(t, a)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"SELECT 0", "SELECT 0", "SET k v", "RPUSH l 1 2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("loaded %q; want %q", got, want)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"", "appendonlydir"} {
		ours, theirs := dirNames(t, filepath.Join(dir, sub)), dirNames(t, filepath.Join(rdir, sub))
		theirs = slicesDeleteFunc(theirs, func(n string) bool { return strings.HasSuffix(n, ".log") })
		if !reflect.DeepEqual(ours, theirs) {
			t.Errorf("%q holds %q; redis-server left %q", sub, ours, theirs)
		}
	}
	man := filepath.Join("appendonlydir", "appendonly.aof.manifest")
	if got, want := readOS(t, filepath.Join(dir, man)), readOS(t, filepath.Join(rdir, man)); got != want {
		t.Errorf("manifest %q; redis-server wrote %q", got, want)
	}

	p = servertest.StartRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--dir", dir)
	c := servertest.Dial(t, p.Addr)
	if got := string(c.Do("GET", "k")); got != bulk("v") {
		t.Errorf("GET k: %q", got)
	}
	if got := string(c.Do("LRANGE", "l", "0", "-1")); got != array(bulk("1"), bulk("2")) {
		t.Errorf("LRANGE l: %q", got)
	}
}

func slicesDeleteFunc(s []string, del func(string) bool) []string {
	out := s[:0]
	for _, v := range s {
		if !del(v) {
			out = append(out, v)
		}
	}
	return out
}
