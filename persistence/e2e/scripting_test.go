package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/servertest"
)

// Scripts and functions through the AOF. Scripts are propagated by their
// effects, so what a script computed from random numbers or the clock is
// replayed as the values clients saw; function libraries are persisted by
// FUNCTION LOAD/DELETE/FLUSH/RESTORE and by AOF rewrites. The effects flow
// runs on real Redis too, restarted the same way, with the same
// expectations.

// restartable is a server with an AOF that can be restarted on its files.
type restartable struct {
	name    string
	addr    string
	restart func(t *testing.T, kill bool) // stop (SIGTERM) or kill -9, start again
}

func spinelRestartable(t *testing.T, args ...string) *restartable {
	dir := t.TempDir()
	p := start(t, dir, "", args...)
	r := &restartable{name: "spinel", addr: p.addr}
	r.restart = func(t *testing.T, kill bool) {
		t.Helper()
		if kill {
			p.kill()
		} else {
			p.stop(t)
		}
		p = start(t, dir, "", args...)
		r.addr = p.addr
	}
	return r
}

func redisRestartable(t *testing.T, args ...string) *restartable {
	dir := t.TempDir()
	args = append(args, "--dir", dir)
	p := servertest.StartRedis(t, args...)
	r := &restartable{name: "redis", addr: p.Addr}
	r.restart = func(t *testing.T, kill bool) {
		t.Helper()
		if kill {
			p.Kill()
		} else {
			p.Stop()
		}
		p = servertest.StartRedis(t, args...)
		r.addr = p.Addr
	}
	return r
}

// bulk returns the payload of a bulk string reply.
func bulk(t *testing.T, reply []byte) string {
	t.Helper()
	if !bytes.HasPrefix(reply, []byte("$")) {
		t.Fatalf("not a bulk string: %q", reply)
	}
	parts := strings.SplitN(string(reply), "\r\n", 3)
	return parts[1]
}

// scriptWorkload runs scripts whose effects depend on randomness and the
// clock, and checks that the data holds what the scripts returned. It
// returns the keys the scripts wrote with redis.set_repl(redis.REPL_NONE),
// which are not propagated and so are gone after a restart.
func scriptWorkload(t *testing.T, name string, c *servertest.RawConn, round string) (unreplicated []string) {
	t.Helper()
	eval := func(args ...string) []byte {
		t.Helper()
		return c.Do(append([]string{"EVAL"}, args...)...)
	}
	for i := 0; i < 20; i++ {
		eval("return redis.call('incr', KEYS[1])", "1", "ctr")
	}
	// A random number the script drew: the replica of it is the value.
	r := eval("local r = math.random(1000000000) redis.call('set', KEYS[1], r) return r", "1", "rnd"+round)
	if got := c.Do("GET", "rnd"+round); string(got) != "$"+strconv.Itoa(len(r)-3)+"\r\n"+string(r[1:len(r)-2])+"\r\n" {
		t.Fatalf("%s: rnd = %q, the script returned %q", name, got, r)
	}
	// The clock as the script read it.
	eval("local t = redis.call('TIME') redis.call('hset', KEYS[1], 'sec', t[1], 'usec', t[2]) return t", "1", "clock"+round)
	// Random members popped and recorded elsewhere.
	c.Do("SADD", "pool"+round, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j")
	for i := 0; i < 3; i++ {
		eval("local m = redis.call('spop', KEYS[1]) redis.call('rpush', KEYS[2], m) return m", "2", "pool"+round, "popped"+round)
	}
	eval("local m = redis.call('srandmember', KEYS[1], 2) redis.call('sadd', KEYS[2], unpack(m)) return m", "2", "pool"+round, "sampled"+round)
	// Floats, relative expiries, a script that fails after writing (the
	// write stays), writes from a function.
	eval("redis.call('incrbyfloat', KEYS[1], '0.1') return redis.call('incrbyfloat', KEYS[1], ARGV[1])", "1", "float"+round, "1.25")
	eval("redis.call('set', KEYS[1], 'v') return redis.call('expire', KEYS[1], 100000)", "1", "ttl"+round)
	if r := eval("redis.call('set', KEYS[1], 'kept') error('boom')", "1", "partial"+round); !bytes.HasPrefix(r, []byte("-ERR user_script:1: boom")) {
		t.Fatalf("%s: failing script: %q", name, r)
	}
	if r := c.Do("FCALL", "rndset", "1", "fn"+round); !bytes.HasPrefix(r, []byte("$")) {
		t.Fatalf("%s: FCALL rndset: %q", name, r)
	}
	// Not replicated: the write lives only until the restart.
	eval("redis.set_repl(redis.REPL_NONE) redis.call('set', KEYS[1], 'local') redis.set_repl(redis.REPL_ALL) return redis.call('set', KEYS[2], 'propagated')",
		"2", "unrepl"+round, "repl"+round)
	// Several writes in one script, one of them to another database.
	eval("redis.call('select', 1) redis.call('set', KEYS[1], 'db1') redis.call('select', 0) return redis.call('lpush', KEYS[2], 'x', 'y')", "2", "indb1"+round, "list"+round)
	return []string{"0:unrepl" + round}
}

const rndLib = "#!lua name=rndlib\n" +
	"redis.register_function('rndset', function(keys, args)\n" +
	"  local v = tostring(math.random(1000000)) .. '-' .. redis.call('TIME')[2]\n" +
	"  redis.call('set', keys[1], v)\n" +
	"  return v\n" +
	"end)\n"

// busyWritingScript writes, runs for about a second (past
// busy-reply-threshold, so its writes are held back while other clients
// get -BUSY), writes again and returns. Its effects must reach the AOF as
// one unit when it ends.
const busyWritingScript = `redis.call('incr', KEYS[1])
local t0 = redis.call('TIME')
while true do
  local t = redis.call('TIME')
  if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1000000 then break end
end
redis.call('set', KEYS[2], math.random(1000000))
return redis.call('get', KEYS[2])`

// TestScriptingEffectsAOF: after a clean restart and after kill -9 (with
// appendfsync always), the dataset is what clients saw, on Spinel and on
// real Redis alike; Spinel's AOF holds the scripts' effects, never EVAL or
// FCALL.
func TestScriptingEffectsAOF(t *testing.T) {
	args := []string{"--appendonly", "yes", "--appendfsync", "always", "--busy-reply-threshold", "100"}
	for _, srv := range []*restartable{redisRestartable(t, args...), spinelRestartable(t, args...)} {
		t.Run(srv.name, func(t *testing.T) {
			c := servertest.Dial(t, srv.addr)
			if r := c.Do("FUNCTION", "LOAD", rndLib); string(r) != "$6\r\nrndlib\r\n" {
				t.Fatalf("FUNCTION LOAD: %q", r)
			}
			gone := scriptWorkload(t, srv.name, c, "1")

			// A busy script that writes: its effects are propagated when it
			// ends.
			a, b := servertest.Dial(t, srv.addr), servertest.Dial(t, srv.addr)
			a.Send(servertest.AppendCommand(nil, "EVAL", busyWritingScript, "2", "busyctr", "busyval"))
			sawBusy := false
			deadline := time.Now().Add(20 * time.Second)
			for !sawBusy && time.Now().Before(deadline) {
				r := b.Do("INCR", "other")
				sawBusy = bytes.HasPrefix(r, []byte("-BUSY "))
				if !sawBusy {
					time.Sleep(2 * time.Millisecond)
				}
			}
			if !sawBusy {
				t.Fatalf("%s: the busy script never made other clients wait", srv.name)
			}
			busyVal := bulk(t, a.ReadReply())
			a.Close()
			b.Close()
			c.Do("SELECT", "0")
			want := servertest.Dump(t, c)
			if got := want["0:busyval"]; !strings.Contains(got, `"`+busyVal+`"`) {
				t.Fatalf("%s: busyval = %s, the script returned %q", srv.name, got, busyVal)
			}
			for _, k := range gone {
				if _, ok := want[k]; !ok {
					t.Fatalf("%s: %s is missing before the restart", srv.name, k)
				}
				delete(want, k)
			}
			if _, ok := want["1:indb11"]; !ok {
				t.Fatalf("%s: the script's write to db 1 is missing", srv.name)
			}
			c.Close()

			srv.restart(t, false)
			c = servertest.Dial(t, srv.addr)
			compareDumps(t, want, servertest.Dump(t, c))
			if r := c.Do("FCALL", "rndset", "1", "fnafter"); !bytes.HasPrefix(r, []byte("$")) {
				t.Fatalf("%s: FCALL after the restart: %q", srv.name, r)
			}

			// More script writes, then kill -9: with appendfsync always every
			// acknowledged effect is there.
			gone = scriptWorkload(t, srv.name, c, "2")
			want = servertest.Dump(t, c)
			for _, k := range gone {
				delete(want, k)
			}
			c.Close()
			srv.restart(t, true)
			compareDumps(t, want, servertest.Dump(t, servertest.Dial(t, srv.addr)))
		})
	}
}

// TestScriptingAOFHoldsEffects: Spinel's AOF has the commands scripts ran
// (a script with several writes wrapped in MULTI/EXEC), never EVAL, EVALSHA
// or FCALL, and nothing a script wrote with REPL_NONE.
func TestScriptingAOFHoldsEffects(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "", "--appendonly", "yes", "--appendfsync", "always")
	c := servertest.Dial(t, p.addr)
	c.Do("FUNCTION", "LOAD", rndLib)
	sha := bulk(t, c.Do("SCRIPT", "LOAD", "return redis.call('incrby', KEYS[1], ARGV[1])"))
	c.Do("EVALSHA", sha, "1", "viasha", "7")
	scriptWorkload(t, "spinel", c, "x")
	c.Close()
	p.stop(t)
	var aof []byte
	for _, f := range aofFiles(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, "appendonlydir", f))
		if err != nil {
			t.Fatal(err)
		}
		aof = append(aof, b...)
	}
	lower := bytes.ToLower(aof)
	for _, bad := range []string{"\r\neval\r\n", "\r\nevalsha\r\n", "\r\nfcall\r\n", "unreplx"} {
		if bytes.Contains(lower, []byte(bad)) {
			t.Errorf("the AOF holds %q", bad)
		}
	}
	for _, want := range []string{"\r\nincrby\r\n", "\r\nviasha\r\n", "\r\nmulti\r\n", "\r\nexec\r\n", "\r\nreplx\r\n", "\r\nfunction\r\n"} {
		if !bytes.Contains(lower, []byte(want)) {
			t.Errorf("the AOF lacks %q", want)
		}
	}
}

// TestScriptingBusyExecAOF: a transaction whose script runs past
// busy-reply-threshold (other clients get -BUSY meanwhile) is written to
// the AOF as one unit, with the commands queued before and after the
// script, and replays to the same data after kill -9.
func TestScriptingBusyExecAOF(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--appendonly", "yes", "--appendfsync", "always", "--busy-reply-threshold", "100"}
	p := start(t, dir, "", args...)
	a, b := servertest.Dial(t, p.addr), servertest.Dial(t, p.addr)
	a.Do("MULTI")
	a.Do("SET", "tx:first", "1")
	a.Do("EVAL", busyWritingScript, "2", "tx:busyctr", "tx:busyval")
	a.Do("RPUSH", "tx:last", "x")
	a.Send(servertest.AppendCommand(nil, "EXEC"))
	sawBusy := false
	deadline := time.Now().Add(20 * time.Second)
	for !sawBusy && time.Now().Before(deadline) {
		sawBusy = bytes.HasPrefix(b.Do("GET", "tx:first"), []byte("-BUSY "))
	}
	if !sawBusy {
		t.Fatal("the transaction's script never went busy")
	}
	reply := string(a.ReadReply())
	if !strings.HasPrefix(reply, "*3\r\n+OK\r\n$") || !strings.HasSuffix(reply, ":1\r\n") {
		t.Fatalf("EXEC = %q", reply)
	}
	want := servertest.Dump(t, b)
	if len(want) != 4 {
		t.Fatalf("dataset after the transaction: %v", want)
	}
	p.kill()

	aof, err := os.ReadFile(lastIncr(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Index(aof, []byte("tx:first"))
	last := bytes.Index(aof, []byte("tx:last"))
	multi := bytes.LastIndex(aof[:max(first, 0)], []byte("MULTI"))
	if first < 0 || last < first || multi < 0 ||
		bytes.Contains(aof[multi:last], []byte("EXEC")) || !bytes.Contains(aof[first:last], []byte("tx:busyval")) {
		t.Fatalf("the transaction is not one MULTI/EXEC unit in the AOF:\n%q", aof)
	}
	q := start(t, dir, "", args...)
	compareDumps(t, want, servertest.Dump(t, servertest.Dial(t, q.addr)))
}

// functionLibs are the libraries TestScriptingFunctionsAOF loads.
const (
	libA = "#!lua name=liba\n" +
		"redis.register_function{function_name='a_set', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end, description='sets a key'}\n" +
		"redis.register_function{function_name='a_get', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-oom'}}\n"
	libB1 = "#!lua name=libb\n" +
		"redis.register_function('b_version', function(keys, args) return 'v1' end)\n"
	libB2 = "#!lua name=libb\n" +
		"redis.register_function('b_version', function(keys, args) return 'v2' end)\n" +
		"redis.register_function('b_push', function(keys, args) return redis.call('rpush', keys[1], unpack(args)) end)\n"
)

// TestScriptingFunctionsAOF: FUNCTION LOAD, LOAD REPLACE, DELETE, FLUSH and
// RESTORE survive restarts, and so do libraries after BGREWRITEAOF; the
// AOF Spinel wrote loads in real Redis with the same libraries.
func TestScriptingFunctionsAOF(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--appendonly", "yes"}
	p := start(t, dir, "", args...)
	c := servertest.Dial(t, p.addr)
	restart := func() {
		t.Helper()
		c.Close()
		p.stop(t)
		p = start(t, dir, "", args...)
		c = servertest.Dial(t, p.addr)
	}
	expect := func(what string, cmd []string, want string) {
		t.Helper()
		if got := string(c.Do(cmd...)); got != want {
			t.Fatalf("%s: %q = %q, want %q", what, cmd, got, want)
		}
	}
	list := func() string { return string(c.Do("FUNCTION", "LIST", "WITHCODE")) }

	expect("load", []string{"FUNCTION", "LOAD", libA}, "$4\r\nliba\r\n")
	expect("load", []string{"FUNCTION", "LOAD", libB1}, "$4\r\nlibb\r\n")
	expect("load replace", []string{"FUNCTION", "LOAD", "REPLACE", libB2}, "$4\r\nlibb\r\n")
	expect("load existing", []string{"FUNCTION", "LOAD", libB1}, "-ERR Library 'libb' already exists\r\n")
	expect("fcall", []string{"FCALL", "a_set", "1", "k", "v"}, "+OK\r\n")
	expect("fcall", []string{"FCALL", "b_push", "1", "l", "x", "y"}, ":2\r\n")
	all := list()
	dump := bulk(t, c.Do("FUNCTION", "DUMP"))
	data := servertest.Dump(t, c)

	restart()
	if got := list(); got != all {
		t.Fatalf("FUNCTION LIST after a restart:\n got  %q\n want %q", got, all)
	}
	compareDumps(t, data, servertest.Dump(t, c))
	expect("replaced library", []string{"FCALL", "b_version", "0"}, "$2\r\nv2\r\n")
	expect("read function", []string{"FCALL_RO", "a_get", "1", "k"}, "$1\r\nv\r\n")

	// After a rewrite the libraries come from the base file.
	c.Do("BGREWRITEAOF")
	waitRewrite(t, c)
	restart()
	if got := list(); got != all {
		t.Fatalf("FUNCTION LIST after BGREWRITEAOF and a restart:\n got  %q\n want %q", got, all)
	}
	compareDumps(t, data, servertest.Dump(t, c))

	// DELETE persists.
	expect("delete", []string{"FUNCTION", "DELETE", "liba"}, "+OK\r\n")
	onlyB := list()
	restart()
	if got := list(); got != onlyB || strings.Contains(got, "liba") {
		t.Fatalf("FUNCTION LIST after DELETE and a restart:\n got  %q\n want %q", got, onlyB)
	}
	expect("deleted function", []string{"FCALL", "a_set", "1", "k", "w"}, "-ERR Function not found\r\n")

	// RESTORE persists (the payload holds both libraries; REPLACE swaps
	// libb for itself).
	expect("restore", []string{"FUNCTION", "RESTORE", dump, "REPLACE"}, "+OK\r\n")
	restart()
	if got := list(); got != all {
		t.Fatalf("FUNCTION LIST after RESTORE and a restart:\n got  %q\n want %q", got, all)
	}

	// The AOF loads in real Redis with the same libraries. (Redis lists
	// libraries and their functions in hash order: compare the libraries
	// one by one, their functions sorted.)
	c.Do("BGREWRITEAOF")
	waitRewrite(t, c)
	expect("fcall after rewrite", []string{"FCALL", "b_push", "1", "l", "z"}, ":3\r\n")
	perLib := map[string]string{}
	for _, lib := range []string{"liba", "libb"} {
		perLib[lib] = string(c.Do("FUNCTION", "LIST", "LIBRARYNAME", lib, "WITHCODE"))
	}
	data = servertest.Dump(t, c)
	c.Close()
	p.stop(t)
	redisDir := t.TempDir()
	if out, err := execCommand("cp", "-r", filepath.Join(dir, "appendonlydir"), redisDir+"/").CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	redis := servertest.StartRedis(t, "--appendonly", "yes", "--dir", redisDir)
	rc := servertest.Dial(t, redis.Addr)
	for lib, want := range perLib {
		got := string(rc.Do("FUNCTION", "LIST", "LIBRARYNAME", lib, "WITHCODE"))
		if got, want = sortFunctions(got), sortFunctions(want); got != want {
			t.Errorf("redis loading Spinel's AOF: library %s:\n got  %q\n want %q", lib, got, want)
		}
	}
	compareDumps(t, data, servertest.Dump(t, rc))
	rc.Close()
	redis.Stop()

	// FLUSH persists, through a restart and through a rewrite.
	p = start(t, dir, "", args...)
	c = servertest.Dial(t, p.addr)
	expect("flush", []string{"FUNCTION", "FLUSH"}, "+OK\r\n")
	restart()
	expect("list after FLUSH and a restart", []string{"FUNCTION", "LIST"}, "*0\r\n")
	c.Do("BGREWRITEAOF")
	waitRewrite(t, c)
	restart()
	expect("list after FLUSH, a rewrite and a restart", []string{"FUNCTION", "LIST"}, "*0\r\n")
	expect("data after FLUSH", []string{"LRANGE", "l", "0", "-1"}, "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n")
}

// sortFunctions sorts the function entries of a one-library FUNCTION LIST
// reply, which Redis gives in its hash table's order.
func sortFunctions(reply string) string {
	const sep = "*6\r\n$4\r\nname\r\n"
	parts := strings.Split(reply, sep)
	if len(parts) < 2 {
		return reply
	}
	tail := ""
	last := parts[len(parts)-1]
	if i := strings.Index(last, "$12\r\nlibrary_code\r\n"); i >= 0 {
		tail = last[i:]
		parts[len(parts)-1] = last[:i]
	}
	fns := parts[1:]
	sort.Strings(fns)
	return parts[0] + sep + strings.Join(fns, sep) + tail
}
