package difftest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// Scripting flows that need more than one connection or a server state of
// their own: busy scripts and SCRIPT/FUNCTION KILL, SHUTDOWN NOSAVE during
// an unkillable script, INFO's scripting fields, scripts inside MULTI/EXEC
// and against WATCH, ACL and maxmemory inside scripts. Each flow runs on
// real Redis and on Spinel and records every reply; the two transcripts
// must be equal byte for byte (durations are masked).

// busyThreshold is the busy-reply-threshold (ms) the busy flows run with:
// short, so that the tests are fast, but long enough that a script which
// ends at once never goes busy on a loaded machine.
const busyThreshold = "100"

// flowRec runs one flow against one server and records the replies.
type flowRec struct {
	t    *testing.T
	name string // "redis" or "spinel"
	addr string
	out  []string
}

func (r *flowRec) dial() *servertest.RawConn { return servertest.Dial(r.t, r.addr) }

func (r *flowRec) record(label string, rep []byte) {
	r.out = append(r.out, label+" -> "+string(maskDurations(rep)))
}

// do runs a command and records its reply.
func (r *flowRec) do(c *servertest.RawConn, args ...string) []byte {
	r.t.Helper()
	rep := c.Do(args...)
	r.record(strings.Join(args, " "), rep)
	return rep
}

// send writes a command without reading its reply.
func (r *flowRec) send(c *servertest.RawConn, args ...string) {
	c.Send(servertest.AppendCommand(nil, args...))
}

// read records c's next reply, or that the connection was closed.
func (r *flowRec) read(c *servertest.RawConn, label string) {
	r.t.Helper()
	rep, err := c.ReadReplyTimeout(servertest.DefaultTimeout)
	switch {
	case err == nil:
		r.record(label, rep)
	case errors.Is(err, servertest.ErrTimeout):
		r.out = append(r.out, label+" -> (no reply)")
	default:
		r.out = append(r.out, label+" -> (connection closed)")
	}
}

// none records whether c stays without a reply for a moment (a caller
// parked behind its own busy script).
func (r *flowRec) none(c *servertest.RawConn, label string) {
	r.t.Helper()
	rep, err := c.ReadReplyTimeout(200 * time.Millisecond)
	if errors.Is(err, servertest.ErrTimeout) {
		r.out = append(r.out, label+" -> (waiting)")
		return
	}
	if err != nil {
		r.out = append(r.out, label+" -> error "+err.Error())
		return
	}
	r.record(label+" (unexpected)", rep)
}

// waitBusy polls with PING on c until the server answers -BUSY: a script
// sent on another connection has outlived busy-reply-threshold. Nothing is
// recorded: how many PINGs came before depends on timing.
func (r *flowRec) waitBusy(c *servertest.RawConn) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if bytes.HasPrefix(c.Do("PING"), []byte("-BUSY ")) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatalf("%s: the script never went busy", r.name)
}

// waitNotBusy polls with PING on c until the server answers again (a
// killed script whose caller is gone leaves no reply to wait for).
func (r *flowRec) waitNotBusy(c *servertest.RawConn) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if !bytes.HasPrefix(c.Do("PING"), []byte("-BUSY ")) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatalf("%s: the server stayed busy", r.name)
}

// durationMs masks FUNCTION STATS' duration_ms.
var durationMs = regexp.MustCompile(`(\$11\r\nduration_ms\r\n):[0-9]+\r\n`)

func maskDurations(rep []byte) []byte {
	return durationMs.ReplaceAll(rep, []byte("${1}:?\r\n"))
}

// compareFlows reports the first step where the transcripts differ.
func compareFlows(t *testing.T, redis, spinel []string) {
	t.Helper()
	n := max(len(redis), len(spinel))
	for i := 0; i < n; i++ {
		var a, b string
		if i < len(redis) {
			a = redis[i]
		}
		if i < len(spinel) {
			b = spinel[i]
		}
		if a != b {
			t.Fatalf("step %d differs:\n redis:  %q\n spinel: %q", i, a, b)
		}
	}
}

// runFlow runs fn against Redis and against Spinel and compares the
// transcripts. Each side gets the address of its server.
func runFlow(t *testing.T, redisAddr, spinelAddr string, fn func(r *flowRec)) {
	t.Helper()
	var outs [2][]string
	for i, addr := range []string{redisAddr, spinelAddr} {
		r := &flowRec{t: t, name: [2]string{"redis", "spinel"}[i], addr: addr}
		fn(r)
		outs[i] = r.out
	}
	compareFlows(t, outs[0], outs[1])
}

// startPair starts real Redis and Spinel with the same arguments.
func startPair(t *testing.T, args ...string) (redisAddr string, spinel *spineltest.Instance) {
	t.Helper()
	return servertest.StartRedis(t, args...).Addr, spineltest.Start(t, args...)
}

const busyLib = "#!lua name=busylib\n" +
	"redis.register_function('loop', function(keys, args) while true do end end)\n" +
	"redis.register_function('wloop', function(keys, args) redis.call('set', 'fw', '1') while true do end end)\n" +
	"redis.register_function{function_name='roloop', callback=function(keys, args) while true do end end, flags={'no-writes'}}\n"

// TestBusyScriptKill: a looping EVAL goes busy; other clients get -BUSY
// except for the allow-busy commands; the caller's pipelined command waits;
// SCRIPT KILL ends the script with Redis's error and the server serves
// again. The threshold is set with CONFIG SET lua-time-limit, the old name.
func TestBusyScriptKill(t *testing.T) {
	redisAddr, spinel := startPair(t)
	runFlow(t, redisAddr, spinel.Addr, func(r *flowRec) {
		a, b := r.dial(), r.dial()
		r.do(b, "CONFIG", "SET", "lua-time-limit", busyThreshold)
		r.do(b, "CONFIG", "GET", "busy-reply-threshold")
		r.do(b, "SET", "k", "v")
		r.send(a, "EVAL", "while true do end", "0")
		r.send(a, "GET", "k") // pipelined behind the script: waits for it
		r.waitBusy(b)
		for _, cmd := range [][]string{
			{"GET", "k"}, {"PING"}, {"SET", "k", "w"}, {"EVAL", "return 1", "0"},
			{"SCRIPT", "LOAD", "return 1"}, {"INFO", "server"}, {"CLIENT", "LIST"},
			{"FUNCTION", "STATS"}, {"FUNCTION", "KILL"}, {"SHUTDOWN"}, {"SHUTDOWN", "SAVE"},
			{"AUTH", "nosuchuser", "pw"}, {"DISCARD"}, {"WATCH", "k"}, {"UNWATCH"},
			{"MULTI"}, {"INCR", "k"}, {"EXEC"},
		} {
			r.do(b, cmd...)
		}
		r.none(a, "caller while busy")
		r.do(b, "SCRIPT", "KILL")
		r.read(a, "killed EVAL")
		r.read(a, "GET k after the kill")
		r.do(b, "GET", "k")
		r.do(b, "SCRIPT", "KILL")
		r.do(b, "FUNCTION", "KILL")
		r.do(a, "EVAL", "return redis.call('incr', KEYS[1])", "1", "n")
		r.do(b, "INFO", "errorstats")

		// Scripts busy in redis.call, or catching errors with pcall, die
		// the same way; the error names the line the script was on.
		for _, script := range []string{
			"while true do redis.call('get', 'k') end",
			"while true do redis.pcall('get', 'k') end",
			"while true do pcall(function() while true do end end) end",
			"local ok, err = pcall(function() while true do end end)\nreturn {ok, err}",
		} {
			r.send(a, "EVAL", script, "0")
			r.waitBusy(b)
			r.do(b, "SCRIPT", "KILL")
			r.read(a, "killed: "+script)
		}

		// The caller hangs up while its script is busy: SCRIPT KILL still
		// ends it and the server goes on.
		gone := r.dial()
		r.send(gone, "EVAL", "while true do end", "0")
		r.waitBusy(b)
		gone.Close()
		r.do(b, "SCRIPT", "KILL")
		r.waitNotBusy(b)
		r.do(b, "GET", "k")
	})
}

// TestBusyFunctionKill: the same with FCALL: FUNCTION STATS shows the
// running function, SCRIPT KILL is refused with the function's -BUSY text,
// FUNCTION KILL ends it; a no-writes function (FCALL_RO) too.
func TestBusyFunctionKill(t *testing.T) {
	redisAddr, spinel := startPair(t, "--busy-reply-threshold", busyThreshold)
	runFlow(t, redisAddr, spinel.Addr, func(r *flowRec) {
		a, b := r.dial(), r.dial()
		r.do(b, "FUNCTION", "LOAD", busyLib)
		r.send(a, "FCALL", "loop", "0")
		r.waitBusy(b)
		r.do(b, "GET", "k")
		r.do(b, "SCRIPT", "KILL")
		r.do(b, "FUNCTION", "STATS")
		r.none(a, "caller while busy")
		r.do(b, "FUNCTION", "KILL")
		r.read(a, "killed FCALL")
		r.do(b, "FUNCTION", "STATS")
		r.do(b, "FUNCTION", "KILL")

		r.send(a, "FCALL_RO", "roloop", "0")
		r.waitBusy(b)
		r.do(b, "SET", "k", "v")
		r.do(b, "FUNCTION", "KILL")
		r.read(a, "killed FCALL_RO")
		r.do(a, "SET", "k", "v")
		r.do(a, "GET", "k")
		// A script that ends within the threshold never makes anyone wait.
		r.do(a, "EVAL", "local n = 0 for i = 1, 1000 do n = n + i end return n", "0")
		r.do(b, "SCRIPT", "KILL")
	})
}

// TestBusyInsideExec: a script queued in MULTI goes busy inside EXEC as it
// does alone: other clients get -BUSY, SCRIPT KILL / FUNCTION KILL end it,
// and the rest of the transaction runs after it (the EXEC reply holds the
// kill error in the script's place). Two busy scripts in one transaction
// are killed one after the other.
func TestBusyInsideExec(t *testing.T) {
	redisAddr, spinel := startPair(t, "--busy-reply-threshold", busyThreshold)
	runFlow(t, redisAddr, spinel.Addr, func(r *flowRec) {
		a, b, w := r.dial(), r.dial(), r.dial()
		r.do(b, "FUNCTION", "LOAD", "REPLACE", busyLib)
		r.do(b, "SET", "m", "0")
		r.do(w, "WATCH", "m")
		r.do(a, "MULTI")
		r.do(a, "INCR", "m")
		r.do(a, "EVAL", "while true do end", "0")
		r.do(a, "INCR", "m")
		r.do(a, "EVAL", "return redis.call('incr', KEYS[1])", "1", "m")
		r.send(a, "EXEC")
		r.send(a, "GET", "m")
		r.waitBusy(b)
		r.do(b, "GET", "m")
		r.do(b, "FUNCTION", "STATS")
		r.do(b, "MULTI")
		r.do(b, "DISCARD")
		r.none(a, "EXEC while its script is busy")
		r.do(b, "SCRIPT", "KILL")
		r.read(a, "EXEC")
		r.read(a, "GET m after the EXEC")
		r.do(b, "GET", "m")
		// The transaction touched m: w's WATCH fails.
		r.do(w, "MULTI")
		r.do(w, "SET", "m", "w")
		r.do(w, "EXEC")

		// A function: FUNCTION STATS shows the FCALL, FUNCTION KILL ends it.
		r.do(a, "MULTI")
		r.do(a, "SET", "before", "1")
		r.do(a, "FCALL", "loop", "0")
		r.do(a, "SET", "after", "1")
		r.send(a, "EXEC")
		r.waitBusy(b)
		r.do(b, "FUNCTION", "STATS")
		r.do(b, "SCRIPT", "KILL")
		r.do(b, "FUNCTION", "KILL")
		r.read(a, "EXEC")
		r.do(b, "MGET", "before", "after")

		// Two busy scripts: each is killed in turn.
		r.do(a, "MULTI")
		r.do(a, "EVAL", "while true do end", "0")
		r.do(a, "SET", "between", "1")
		r.do(a, "EVAL", "local n = 0\nwhile true do n = n + 1 end", "0")
		r.do(a, "SET", "last", "1")
		r.send(a, "EXEC")
		r.waitBusy(b)
		r.do(b, "SCRIPT", "KILL")
		r.waitBusy(b)
		r.do(b, "EXISTS", "between")
		r.do(b, "SCRIPT", "KILL")
		r.read(a, "EXEC")
		r.do(b, "MGET", "between", "last")
		r.do(b, "SCRIPT", "KILL")
	})
}

// TestBusyFrozenDataset: while a script runs past busy-reply-threshold the
// server's cron leaves the dataset alone, as Redis's whileBlockedCron
// does: keys whose TTL passes meanwhile are not actively expired under the
// script, and the script, whose clock stands at its start, still sees them.
func TestBusyFrozenDataset(t *testing.T) {
	redisAddr, spinel := startPair(t, "--busy-reply-threshold", busyThreshold, "--hz", "50")
	const script = `local before = redis.call('dbsize')
local t0 = redis.call('TIME')
while true do
  local t = redis.call('TIME')
  if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1300000 then break end
end
return {before == redis.call('dbsize') and 1 or 0, redis.call('exists', 'exp:1'), redis.call('get', 'exp:2')}`
	runFlow(t, redisAddr, spinel.Addr, func(r *flowRec) {
		a, b := r.dial(), r.dial()
		var batch []byte
		for i := 0; i < 50; i++ {
			batch = servertest.AppendCommand(batch, "SET", "exp:"+strconv.Itoa(i), "v", "PX", "1000")
		}
		a.Send(batch)
		for i := 0; i < 50; i++ {
			a.ReadReply()
		}
		r.send(a, "EVAL", script, "0")
		r.waitBusy(b)
		r.read(a, "script")
		// Afterwards they are gone.
		r.do(a, "EXISTS", "exp:1")
	})
}

// TestBusyUnkillable: a script that wrote before looping cannot be killed
// (-UNKILLABLE for SCRIPT KILL and FUNCTION KILL); plain SHUTDOWN is -BUSY;
// SHUTDOWN NOSAVE stops the server, closing both connections. Each server
// is its own instance, and each must exit.
func TestBusyUnkillable(t *testing.T) {
	for _, tc := range []struct {
		name string
		call []string
	}{
		{"eval", []string{"EVAL", "redis.call('set', KEYS[1], 'y') while true do end", "1", "x"}},
		{"fcall", []string{"FCALL", "wloop", "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			redis := servertest.StartRedis(t, "--busy-reply-threshold", busyThreshold)
			spinel := spineltest.Start(t, "--busy-reply-threshold", busyThreshold)
			flow := func(r *flowRec) {
				a, b := r.dial(), r.dial()
				r.do(b, "FUNCTION", "LOAD", busyLib)
				r.do(b, "SET", "before", "1")
				r.send(a, tc.call...)
				r.waitBusy(b)
				r.do(b, "GET", "before")
				r.do(b, "SCRIPT", "KILL")
				r.do(b, "FUNCTION", "KILL")
				r.do(b, "SHUTDOWN")
				r.do(b, "SHUTDOWN", "SAVE")
				r.do(b, "SHUTDOWN", "NOSAVE", "SAVE")
				r.do(b, "SHUTDOWN", "ABORT")
				r.send(b, "SHUTDOWN", "NOSAVE")
				r.read(b, "SHUTDOWN NOSAVE")
				r.read(a, "the unkillable script's caller")
			}
			var outs [2][]string
			r := &flowRec{t: t, name: "redis", addr: redis.Addr}
			flow(r)
			outs[0] = r.out
			waitGone(t, redis.Addr)

			r = &flowRec{t: t, name: "spinel", addr: spinel.Addr}
			flow(r)
			outs[1] = r.out
			select {
			case <-spinel.Srv.Done():
			case <-time.After(15 * time.Second):
				t.Fatal("spinel did not exit after SHUTDOWN NOSAVE")
			}
			compareFlows(t, outs[0], outs[1])
			waitScriptGoroutineGone(t)
		})
	}
}

// waitGone waits until nothing accepts connections on addr.
func waitGone(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the server at %s did not exit", addr)
}

// waitScriptGoroutineGone checks that no goroutine of this process still
// runs a script: an unkillable script must not spin on after its server
// stopped.
func waitScriptGoroutineGone(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.Stack(buf, true)
		var running [][]byte
		for _, g := range bytes.Split(buf[:n], []byte("\n\n")) {
			if bytes.Contains(g, []byte("(*scriptEngine).runScript")) {
				running = append(running, g)
			}
		}
		if len(running) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a script still runs after its server stopped:\n%s", bytes.Join(running, []byte("\n\n")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBusyNotBusy: SCRIPT KILL and FUNCTION KILL with nothing running.
func TestBusyNotBusy(t *testing.T) {
	redisAddr, spinel := startPair(t)
	runFlow(t, redisAddr, spinel.Addr, func(r *flowRec) {
		c := r.dial()
		r.do(c, "SCRIPT", "KILL")
		r.do(c, "FUNCTION", "KILL")
		r.do(c, "SCRIPT", "KILL", "extra")
		r.do(c, "FUNCTION", "KILL", "extra")
		r.do(c, "EVAL", "return redis.call('script', 'kill')", "0")
		r.do(c, "EVAL", "return redis.pcall('function', 'kill')", "0")
		r.do(c, "EVAL", "return redis.pcall('shutdown', 'nosave')", "0")
		r.do(c, "MULTI")
		r.do(c, "SHUTDOWN")
		r.do(c, "EXEC")
		r.do(c, "SHUTDOWN", "ABORT")
		r.do(c, "SHUTDOWN", "ABORT", "NOW")
		r.do(c, "SHUTDOWN", "NOSAVE", "SAVE")
		r.do(c, "SHUTDOWN", "BOGUS")
		r.do(c, "PING")
	})
}

// scriptMemFields are INFO memory's scripting fields in Redis 7.0.
var scriptMemFields = []string{
	"used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human",
	"used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
	"number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total",
	"used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts",
	"used_memory_scripts_human",
}

// infoFields parses an INFO reply into its fields.
func infoFields(t *testing.T, reply []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(string(reply), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	return out
}

// scriptMem reads the scripting fields of INFO memory; all must be there,
// in Redis's order.
func scriptMem(t *testing.T, name string, c *servertest.RawConn) map[string]int64 {
	t.Helper()
	reply := c.Do("INFO", "memory")
	fields := infoFields(t, reply)
	out := map[string]int64{}
	last := -1
	for _, f := range scriptMemFields {
		v, ok := fields[f]
		if !ok {
			t.Fatalf("%s: INFO memory has no %s", name, f)
		}
		pos := bytes.Index(reply, []byte("\r\n"+f+":"))
		if pos < last {
			t.Errorf("%s: %s is out of Redis's order", name, f)
		}
		last = pos
		if strings.HasSuffix(f, "_human") {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: %s:%s is not an integer", name, f, v)
		}
		out[f] = n
	}
	if out["used_memory_lua"] != out["used_memory_vm_eval"] {
		t.Errorf("%s: used_memory_lua %d != used_memory_vm_eval %d", name, out["used_memory_lua"], out["used_memory_vm_eval"])
	}
	if out["used_memory_vm_total"] != out["used_memory_vm_eval"]+out["used_memory_vm_functions"] {
		t.Errorf("%s: used_memory_vm_total is not the sum of the two VMs: %v", name, out)
	}
	if out["used_memory_scripts"] != out["used_memory_scripts_eval"]+out["used_memory_functions"] {
		t.Errorf("%s: used_memory_scripts is not scripts_eval + functions: %v", name, out)
	}
	for _, f := range []string{"used_memory_vm_eval", "used_memory_vm_functions", "used_memory_functions"} {
		if out[f] <= 0 {
			t.Errorf("%s: %s = %d, want > 0", name, f, out[f])
		}
	}
	return out
}

// TestScriptFlowInfo: INFO memory's scripting fields move as Redis's do:
// the counts are equal on both servers, the byte counts go up and down (or
// stay) together; INFO scripting (not a section in 7.0) answers the same;
// MEMORY STATS' lua.caches and functions.caches follow the INFO fields.
func TestScriptFlowInfo(t *testing.T) {
	redisAddr, spinel := startPair(t)
	conns := [2]*servertest.RawConn{servertest.Dial(t, redisAddr), servertest.Dial(t, spinel.Addr)}
	names := [2]string{"redis", "spinel"}
	var prev [2]map[string]int64
	counts := []string{"number_of_cached_scripts", "number_of_functions", "number_of_libraries"}
	// step runs a command on both servers and checks how each field moved:
	// "=" unchanged, "+" grew, "-" shrank, "0" is zero; counts must agree.
	step := func(moves map[string]string, args ...string) {
		t.Helper()
		var replies [2][]byte
		var now [2]map[string]int64
		for i, c := range conns {
			if len(args) > 0 {
				replies[i] = c.Do(args...)
			}
			now[i] = scriptMem(t, names[i], c)
		}
		if !bytes.Equal(replies[0], replies[1]) {
			t.Errorf("%q: redis %q, spinel %q", args, replies[0], replies[1])
		}
		for _, f := range counts {
			if now[0][f] != now[1][f] {
				t.Errorf("after %q: %s: redis %d, spinel %d", args, f, now[0][f], now[1][f])
			}
		}
		for i := range conns {
			for f, move := range moves {
				a, b := prev[i][f], now[i][f]
				ok := false
				switch move {
				case "=":
					ok = a == b
				case "+":
					ok = b > a
				case "-":
					ok = b < a
				case "0":
					ok = b == 0
				}
				if prev[i] != nil && !ok {
					t.Errorf("%s: after %q: %s went from %d to %d, want %q", names[i], args, f, a, b, move)
				}
			}
			prev[i] = now[i]
		}
	}
	lib := func(name string, fns ...string) string {
		code := "#!lua name=" + name + "\n"
		for _, f := range fns {
			code += "redis.register_function('" + f + "', function(keys, args) return 1 end)\n"
		}
		return code
	}
	step(map[string]string{"used_memory_scripts_eval": "0"})
	base := [2]int64{prev[0]["used_memory_functions"], prev[1]["used_memory_functions"]}
	step(map[string]string{"used_memory_scripts_eval": "+"}, "EVAL", "return 1", "0")
	step(map[string]string{"used_memory_scripts_eval": "="}, "EVAL", "return 1", "0")
	step(map[string]string{"used_memory_scripts_eval": "="}, "EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0")
	step(map[string]string{"used_memory_scripts_eval": "+"}, "EVAL", "return 2", "0")
	step(map[string]string{"used_memory_scripts_eval": "+"}, "SCRIPT", "LOAD", "return 3")
	step(map[string]string{"used_memory_scripts_eval": "="}, "SCRIPT", "LOAD", "return 3")
	step(map[string]string{"used_memory_scripts_eval": "="}, "EVAL", "return 1 +", "0")
	step(map[string]string{"used_memory_scripts_eval": "+"}, "EVAL", "error('x')", "0")
	step(map[string]string{"used_memory_functions": "+", "used_memory_scripts_eval": "="},
		"FUNCTION", "LOAD", lib("liba", "fa1", "fa2"))
	step(map[string]string{"used_memory_functions": "+"}, "FUNCTION", "LOAD", lib("libb", "fb1"))
	step(map[string]string{"used_memory_functions": "="}, "FUNCTION", "LOAD", lib("libc", "fa1"))
	step(map[string]string{"used_memory_functions": "="}, "FCALL", "fa1", "0")
	step(map[string]string{"used_memory_functions": "-"}, "FUNCTION", "DELETE", "liba")
	step(map[string]string{"used_memory_scripts_eval": "0", "used_memory_functions": "="}, "SCRIPT", "FLUSH")
	step(map[string]string{"used_memory_functions": "-"}, "FUNCTION", "FLUSH")
	for i := range conns {
		if got := prev[i]["used_memory_functions"]; got != base[i] {
			t.Errorf("%s: used_memory_functions after FUNCTION FLUSH = %d, at start %d", names[i], got, base[i])
		}
	}
	step(nil, "INFO", "scripting")
	step(map[string]string{"used_memory_scripts_eval": "+"}, "EVAL", "return 'again'", "0")

	// MEMORY STATS reports the same caches as INFO.
	for i, c := range conns {
		mem := scriptMem(t, names[i], c)
		stats := string(c.Do("MEMORY", "STATS"))
		for key, field := range map[string]string{"lua.caches": "used_memory_scripts_eval", "functions.caches": "used_memory_functions"} {
			want := fmt.Sprintf("$%d\r\n%s\r\n:%d\r\n", len(key), key, mem[field])
			if !strings.Contains(stats, want) {
				t.Errorf("%s: MEMORY STATS has no %q (INFO %s:%d)", names[i], want, field, mem[field])
			}
		}
	}
}

// TestScriptFlowMultiWatch: scripts inside MULTI/EXEC, and scripts from
// another connection (or the watcher's own) touching a WATCHed key.
func TestScriptFlowMultiWatch(t *testing.T) {
	redisAddr, spinel := startPair(t)
	const setter = "#!lua name=watchlib\n" +
		"redis.register_function('setk', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n" +
		"redis.register_function{function_name='getk', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}}\n"
	runFlow(t, redisAddr, spinel.Addr, func(r *flowRec) {
		a, b := r.dial(), r.dial()
		r.do(a, "FLUSHALL")
		r.do(a, "FUNCTION", "FLUSH")
		r.do(a, "SCRIPT", "FLUSH")
		r.do(a, "FUNCTION", "LOAD", setter)
		r.do(a, "SET", "k", "1")

		// Scripts queued in a transaction run in EXEC, in order.
		r.do(a, "MULTI")
		r.do(a, "EVAL", "return redis.call('incr', KEYS[1])", "1", "k")
		r.do(a, "EVAL", "return redis.call('get', KEYS[1])", "1", "k")
		r.do(a, "EVAL", "return redis.call('hset', KEYS[1], 'f', 'v')", "1", "k")
		r.do(a, "EVAL", "return redis.pcall('hset', KEYS[1], 'f', 'v')", "1", "k")
		r.do(a, "EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0")
		r.do(a, "FCALL", "setk", "1", "k", "from-fcall")
		r.do(a, "FCALL_RO", "getk", "1", "k")
		r.do(a, "EVAL", "return {1, 'two', {3}}", "0")
		r.do(a, "EXEC")
		// A script error at queue time (bad numkeys) aborts the EXEC.
		r.do(a, "MULTI")
		r.do(a, "EVAL", "return 1", "notanumber")
		r.do(a, "EVAL", "return 1")
		r.do(a, "EXEC")

		// Another connection's script writes the watched key: EXEC fails.
		r.do(a, "WATCH", "k")
		r.do(b, "EVAL", "return redis.call('set', KEYS[1], 'fromscript')", "1", "k")
		r.do(a, "MULTI")
		r.do(a, "SET", "k", "mine")
		r.do(a, "EXEC")
		r.do(a, "GET", "k")
		// A read-only script does not touch it.
		r.do(a, "WATCH", "k")
		r.do(b, "EVAL", "return redis.call('get', KEYS[1])", "1", "k")
		r.do(b, "FCALL_RO", "getk", "1", "k")
		r.do(a, "MULTI")
		r.do(a, "SET", "k", "mine")
		r.do(a, "EXEC")
		// FCALL writing it does.
		r.do(a, "WATCH", "k")
		r.do(b, "FCALL", "setk", "1", "k", "fromfcall")
		r.do(a, "MULTI")
		r.do(a, "SET", "k", "mine")
		r.do(a, "EXEC")
		r.do(a, "GET", "k")
		// A script writing another key does not.
		r.do(a, "WATCH", "k")
		r.do(b, "EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "other")
		r.do(a, "MULTI")
		r.do(a, "GET", "k")
		r.do(a, "EXEC")
		// Deleting a key that does not exist touches nothing.
		r.do(a, "WATCH", "missing")
		r.do(b, "EVAL", "return redis.call('del', KEYS[1])", "1", "missing")
		r.do(a, "MULTI")
		r.do(a, "PING")
		r.do(a, "EXEC")
		// The watcher's own script counts too.
		r.do(a, "WATCH", "k")
		r.do(a, "EVAL", "return redis.call('append', KEYS[1], '!')", "1", "k")
		r.do(a, "MULTI")
		r.do(a, "GET", "k")
		r.do(a, "EXEC")
		// A script inside another client's EXEC breaks b's WATCH.
		r.do(b, "WATCH", "k")
		r.do(a, "MULTI")
		r.do(a, "EVAL", "return redis.call('incrby', KEYS[1], 0)", "1", "n")
		r.do(a, "EVAL", "redis.call('set', KEYS[1], 'in-exec') return redis.call('get', KEYS[1])", "1", "k")
		r.do(a, "EXEC")
		r.do(b, "MULTI")
		r.do(b, "GET", "k")
		r.do(b, "EXEC")
		// An expiry set by a script: the key is gone when read later.
		r.do(a, "EVAL", "return redis.call('set', KEYS[1], 'v', 'PX', 1)", "1", "short")
		time.Sleep(20 * time.Millisecond)
		r.do(a, "EVAL", "return redis.call('exists', KEYS[1])", "1", "short")
		r.do(a, "DBSIZE")
	})
}

// TestScriptFlowACL: a user without @scripting is refused EVAL, EVALSHA,
// SCRIPT and FUNCTION; a user allowed EVAL but not SET gets Redis's error
// from redis.call (and redis.pcall, redis.acl_check_cmd); key patterns are
// checked for the keys a script touches; the ACL log records the script
// context.
func TestScriptFlowACL(t *testing.T) {
	redisAddr, spinel := startPair(t)
	runFlow(t, redisAddr, spinel.Addr, func(r *flowRec) {
		admin := r.dial()
		r.do(admin, "FUNCTION", "LOAD", "#!lua name=acllib\n"+
			"redis.register_function('fset', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n")
		r.do(admin, "ACL", "SETUSER", "noscript", "on", ">pw", "~*", "+@all", "-@scripting")
		r.do(admin, "ACL", "SETUSER", "noset", "on", ">pw", "~*", "+@all", "-set")
		r.do(admin, "ACL", "SETUSER", "keyonly", "on", ">pw", "~allowed*", "+@all")
		r.do(admin, "ACL", "SETUSER", "ro", "on", ">pw", "~*", "+@read", "+eval", "+evalsha", "+fcall", "+fcall_ro")
		r.do(admin, "ACL", "LOG", "RESET")

		c := r.dial()
		r.do(c, "AUTH", "noscript", "pw")
		r.do(c, "EVAL", "return 1", "0")
		r.do(c, "EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0")
		r.do(c, "EVAL_RO", "return 1", "0")
		r.do(c, "SCRIPT", "LOAD", "return 1")
		r.do(c, "SCRIPT", "FLUSH")
		r.do(c, "FCALL", "fset", "1", "k", "v")
		r.do(c, "FUNCTION", "LIST")
		r.do(c, "GET", "k")

		c = r.dial()
		r.do(c, "AUTH", "noset", "pw")
		r.do(c, "EVAL", "return redis.call('set', 'k', 'v')", "0")
		r.do(c, "EVAL", "return redis.pcall('set', 'k', 'v')", "0")
		r.do(c, "EVAL", "local ok = redis.pcall('set', 'k', 'v') return ok['err']", "0")
		r.do(c, "EVAL", "return redis.call('get', 'k')", "0")
		r.do(c, "EVAL", "return redis.acl_check_cmd('set', 'k', 'v')", "0")
		r.do(c, "EVAL", "return redis.acl_check_cmd('get', 'k')", "0")
		r.do(c, "EVAL", "return redis.acl_check_cmd('nosuchcommand')", "0")
		r.do(c, "FCALL", "fset", "1", "k", "v")
		r.do(c, "EVAL", "redis.call('incr', 'n') return redis.call('set', 'k', 'v')", "0")
		r.do(c, "GET", "n")

		c = r.dial()
		r.do(c, "AUTH", "keyonly", "pw")
		r.do(c, "EVAL", "return redis.call('set', 'other', 'v')", "0")
		r.do(c, "EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "other")
		r.do(c, "EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "allowed1")
		r.do(c, "FCALL", "fset", "1", "allowed2", "v")
		r.do(c, "FCALL", "fset", "1", "other", "v")

		c = r.dial()
		r.do(c, "AUTH", "ro", "pw")
		r.do(c, "EVAL", "return redis.call('set', 'x', 'v')", "0")
		r.do(c, "EVAL", "return redis.call('get', 'allowed1')", "0")
		r.do(c, "FCALL", "fset", "1", "x", "v")

		r.record("ACL LOG", normLog(admin.Do("ACL", "LOG")))
		r.do(admin, "MGET", "k", "other", "allowed1", "allowed2", "x", "n")
	})
}

// TestScriptFlowOOM: over maxmemory with noeviction, a script's denyoom
// command (SET) fails with Redis's error, while reads, deletes, allow-oom
// and no-writes scripts still run; a script with a shebang and without
// flags is refused at the gate. The error statistics agree too.
func TestScriptFlowOOM(t *testing.T) {
	redisAddr, spinel := startPair(t, "--maxmemory-policy", "noeviction")
	runFlow(t, redisAddr, spinel.Addr, func(r *flowRec) {
		c := r.dial()
		r.do(c, "SET", "k", "v")
		r.do(c, "FUNCTION", "LOAD", "#!lua name=oomlib\n"+
			"redis.register_function('fw', function(keys, args) return redis.call('set', 'y', '1') end)\n"+
			"redis.register_function{function_name='fo', callback=function(keys, args) return redis.call('set', 'y', '1') end, flags={'allow-oom'}}\n"+
			"redis.register_function{function_name='fr', callback=function(keys, args) return redis.call('get', 'k') end, flags={'no-writes'}}\n")
		sha := strings.TrimSpace(string(bytes.Split(r.do(c, "SCRIPT", "LOAD", "return redis.call('set', 'z', '1')"), []byte("\r\n"))[1]))
		r.do(c, "CONFIG", "RESETSTAT")
		r.do(c, "CONFIG", "SET", "maxmemory", "1")
		for _, cmd := range [][]string{
			{"SET", "x", "1"},
			{"EVAL", "return redis.call('set', 'x', '1')", "0"},
			{"EVAL", "return redis.pcall('set', 'x', '1')", "0"},
			{"EVAL", "return redis.call('get', 'k')", "0"},
			{"EVAL", "return redis.call('del', 'k2')", "0"},
			{"EVAL", "return redis.call('incr', 'k3')", "0"},
			{"EVALSHA", sha, "0"},
			{"EVAL", "#!lua\nreturn redis.call('get', 'k')", "0"},
			{"EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0"},
			{"EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')", "0"},
			{"EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'x', '2')", "0"},
			{"EVAL", "#!lua flags=allow-oom\nreturn redis.call('get', 'x')", "0"},
			{"EVAL_RO", "return redis.call('get', 'k')", "0"},
			{"FCALL", "fw", "0"},
			{"FCALL", "fo", "0"},
			{"FCALL", "fr", "0"},
			{"FCALL_RO", "fr", "0"},
			{"MULTI"}, {"EVAL", "return 1", "0"}, {"EXEC"},
		} {
			r.do(c, cmd...)
		}
		r.do(c, "CONFIG", "SET", "maxmemory", "0")
		r.do(c, "EVAL", "return redis.call('set', 'x', '3')", "0")
		// A transaction queued under the limit: EXEC is not deny-oom (no
		// queued command is), but the script inside sees the limit that
		// another client set meanwhile, for its first write.
		d := r.dial()
		r.do(c, "MULTI")
		r.do(c, "EVAL", "return redis.call('set', 'm', '1')", "0")
		r.do(c, "EVAL", "return redis.pcall('set', 'm2', '1')", "0")
		r.do(c, "EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'm3', '1')", "0")
		r.do(c, "GET", "k")
		r.do(d, "CONFIG", "SET", "maxmemory", "1")
		r.do(c, "EXEC")
		r.do(c, "CONFIG", "SET", "maxmemory", "0")
		r.do(c, "MGET", "x", "y", "m", "k3")
		r.do(c, "INFO", "errorstats")
	})
}

// ---------------------------------------------------------------------------
// go-redis v9 flows: the same library code runs against real Redis and
// against Spinel, with the same expectations.
// ---------------------------------------------------------------------------

// TestScriptFlowGoRedis runs typical client-library uses of scripting on
// both servers: redis.Script (EVALSHA falling back to EVAL, also after
// SCRIPT FLUSH), a lock released by token, a sliding-window rate limiter, a
// job queue and concurrent increments. The rate limiter's decisions must
// be the same sequence on both.
func TestScriptFlowGoRedis(t *testing.T) {
	redisAddr, spinel := startPair(t)
	var decisions [2][]int64
	for i, addr := range []string{redisAddr, spinel.Addr} {
		t.Run([2]string{"redis", "spinel"}[i], func(t *testing.T) {
			c := newGoRedis(t, addr, 3)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			t.Run("script", func(t *testing.T) { goRedisScript(ctx, t, c) })
			t.Run("lock", func(t *testing.T) { goRedisLock(ctx, t, c) })
			t.Run("ratelimit", func(t *testing.T) { decisions[i] = goRedisRateLimit(ctx, t, c) })
			t.Run("queue", func(t *testing.T) { goRedisQueue(ctx, t, c) })
			t.Run("concurrent", func(t *testing.T) { goRedisConcurrentScript(ctx, t, c) })
		})
	}
	if fmt.Sprint(decisions[0]) != fmt.Sprint(decisions[1]) {
		t.Errorf("rate limiter decisions differ:\n redis:  %v\n spinel: %v", decisions[0], decisions[1])
	}
}

func goRedisScript(ctx context.Context, t *testing.T, c *redis.Client) {
	incr := redis.NewScript("return redis.call('incrby', KEYS[1], ARGV[1])")
	if ok, err := incr.Exists(ctx, c).Result(); err != nil || ok[0] {
		t.Fatalf("SCRIPT EXISTS before the first run = %v %v", ok, err)
	}
	// Run tries EVALSHA, gets NOSCRIPT and falls back to EVAL, which
	// caches the script.
	if n, err := incr.Run(ctx, c, []string{"counter"}, 5).Int64(); err != nil || n != 5 {
		t.Fatalf("Run = %d %v", n, err)
	}
	if ok, err := incr.Exists(ctx, c).Result(); err != nil || !ok[0] {
		t.Fatalf("SCRIPT EXISTS after Run = %v %v", ok, err)
	}
	if n, err := incr.EvalSha(ctx, c, []string{"counter"}, 2).Int64(); err != nil || n != 7 {
		t.Fatalf("EvalSha = %d %v", n, err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := incr.EvalSha(ctx, c, []string{"counter"}, 1).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOSCRIPT ") {
		t.Fatalf("EvalSha after SCRIPT FLUSH: %v, want NOSCRIPT", err)
	}
	if n, err := incr.Run(ctx, c, []string{"counter"}, 1).Int64(); err != nil || n != 8 {
		t.Fatalf("Run after SCRIPT FLUSH = %d %v", n, err)
	}
	if sha, err := incr.Load(ctx, c).Result(); err != nil || sha != incr.Hash() {
		t.Fatalf("Load = %q %v, want %q", sha, err, incr.Hash())
	}
	// A read-only script through EVALSHA_RO.
	get := redis.NewScript("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])")
	if v, err := get.RunRO(ctx, c, []string{"counter"}).Text(); err != nil || v != "8" {
		t.Fatalf("RunRO = %q %v", v, err)
	}
	write := redis.NewScript("#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'x')")
	if err := write.Run(ctx, c, []string{"counter"}).Err(); err == nil ||
		!strings.HasPrefix(err.Error(), "ERR Write commands are not allowed from read-only scripts.") {
		t.Fatalf("write from a no-writes script: %v", err)
	}
	// Errors and typed replies come through the client as Redis gives them.
	if err := redis.NewScript("return redis.error_reply('MYERR boom')").Run(ctx, c, nil).Err(); err == nil || err.Error() != "MYERR boom" {
		t.Fatalf("error_reply: %v", err)
	}
	if v, err := redis.NewScript("return redis.status_reply('FINE')").Run(ctx, c, nil).Text(); err != nil || v != "FINE" {
		t.Fatalf("status_reply = %q %v", v, err)
	}
	vals, err := redis.NewScript("return {1, 'two', false, {3}}").Run(ctx, c, nil).Slice()
	if err != nil || fmt.Sprint(vals) != "[1 two <nil> [3]]" {
		t.Fatalf("table reply = %#v %v", vals, err)
	}
	if _, err := redis.NewScript("return false").Run(ctx, c, nil).Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("false reply: %v, want redis.Nil", err)
	}
}

// A lock in the usual form: SET NX PX with a random token, released by a
// script only if the token still matches.
var unlockScript = redis.NewScript(`if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`)

func goRedisLock(ctx context.Context, t *testing.T, c *redis.Client) {
	ok, err := c.SetNX(ctx, "lock:res", "token-a", 30*time.Second).Result()
	if err != nil || !ok {
		t.Fatalf("acquire = %v %v", ok, err)
	}
	if ok, _ := c.SetNX(ctx, "lock:res", "token-b", 30*time.Second).Result(); ok {
		t.Fatal("a second holder acquired the lock")
	}
	if n, err := unlockScript.Run(ctx, c, []string{"lock:res"}, "token-b").Int64(); err != nil || n != 0 {
		t.Fatalf("release with the wrong token = %d %v", n, err)
	}
	if v := c.Get(ctx, "lock:res").Val(); v != "token-a" {
		t.Fatalf("lock after a wrong release = %q", v)
	}
	if ttl := c.PTTL(ctx, "lock:res").Val(); ttl <= 0 || ttl > 30*time.Second {
		t.Fatalf("lock PTTL = %v", ttl)
	}
	if n, err := unlockScript.Run(ctx, c, []string{"lock:res"}, "token-a").Int64(); err != nil || n != 1 {
		t.Fatalf("release with the right token = %d %v", n, err)
	}
	if n := c.Exists(ctx, "lock:res").Val(); n != 0 {
		t.Fatal("the lock is still there after its release")
	}
	if n, err := unlockScript.Run(ctx, c, []string{"lock:res"}, "token-a").Int64(); err != nil || n != 0 {
		t.Fatalf("releasing a free lock = %d %v", n, err)
	}

	// Contention: workers do a non-atomic read-modify-write under the lock;
	// no update may be lost.
	const workers, each = 4, 25
	inParallel(t, workers, func(w int) error {
		for i := 0; i < each; i++ {
			token := fmt.Sprintf("w%d-%d", w, i)
			for {
				ok, err := c.SetNX(ctx, "lock:counter", token, 10*time.Second).Result()
				if err != nil {
					return err
				}
				if ok {
					break
				}
				time.Sleep(time.Millisecond)
			}
			n, err := c.Get(ctx, "guarded").Int()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			if err := c.Set(ctx, "guarded", n+1, 0).Err(); err != nil {
				return err
			}
			if r, err := unlockScript.Run(ctx, c, []string{"lock:counter"}, token).Int64(); err != nil || r != 1 {
				return fmt.Errorf("release by %s = %d %v", token, r, err)
			}
		}
		return nil
	})
	if n, _ := c.Get(ctx, "guarded").Int(); n != workers*each {
		t.Fatalf("guarded counter = %d, want %d", n, workers*each)
	}
}

// The sliding-window limiter: at most limit events in any window ms. The
// clock is passed in (ARGV[1]) so that the decisions are deterministic.
var rateScript = redis.NewScript(`local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], 60000)
  return 1
end
return 0`)

func goRedisRateLimit(ctx context.Context, t *testing.T, c *redis.Client) []int64 {
	const window, limit = 1000, 5
	var got, want []int64
	var accepted []int64 // the model: times of accepted events
	now := int64(1_700_000_000_000)
	for i := 0; i < 60; i++ {
		// Bursts of quick events, then pauses.
		if i%12 == 0 {
			now += 700
		} else {
			now += int64(10 + (i*37)%90)
		}
		n, err := rateScript.Run(ctx, c, []string{"rate:user1"}, now, window, limit, fmt.Sprintf("%d-%d", now, i)).Int64()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		kept := accepted[:0]
		for _, at := range accepted {
			if at > now-window {
				kept = append(kept, at)
			}
		}
		accepted = kept
		if len(accepted) < limit {
			accepted = append(accepted, now)
			want = append(want, 1)
		} else {
			want = append(want, 0)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("decisions:\n got  %v\n want %v", got, want)
	}
	if !strings.Contains(fmt.Sprint(want), "0") || !strings.Contains(fmt.Sprint(want), "1") {
		t.Fatalf("the sequence should both allow and deny: %v", want)
	}
	if n := c.ZCard(ctx, "rate:user1").Val(); n != int64(len(accepted)) {
		t.Fatalf("window holds %d events, want %d", n, len(accepted))
	}
	if ttl := c.PTTL(ctx, "rate:user1").Val(); ttl <= 0 {
		t.Fatalf("limiter key PTTL = %v", ttl)
	}
	return got
}

// A job queue: jobs move from pending to processing atomically with their
// status, and are completed by id.
var (
	enqueueScript = redis.NewScript(`redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('HSET', 'job:' .. ARGV[1], 'status', 'queued')
return redis.call('LLEN', KEYS[1])`)
	claimScript = redis.NewScript(`local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
if not id then return false end
redis.call('HSET', 'job:' .. id, 'status', 'processing', 'worker', ARGV[1])
return id`)
	completeScript = redis.NewScript(`local n = redis.call('LREM', KEYS[1], 1, ARGV[1])
if n == 0 then return redis.error_reply('NOTCLAIMED job ' .. ARGV[1] .. ' is not being processed') end
redis.call('HSET', 'job:' .. ARGV[1], 'status', 'done')
return n`)
)

func goRedisQueue(ctx context.Context, t *testing.T, c *redis.Client) {
	keys := []string{"jobs:pending", "jobs:processing"}
	for i := 1; i <= 5; i++ {
		if n, err := enqueueScript.Run(ctx, c, keys[:1], fmt.Sprintf("j%d", i)).Int64(); err != nil || n != int64(i) {
			t.Fatalf("enqueue j%d = %d %v", i, n, err)
		}
	}
	for i := 1; i <= 3; i++ {
		id, err := claimScript.Run(ctx, c, keys, "w1").Text()
		if err != nil || id != fmt.Sprintf("j%d", i) {
			t.Fatalf("claim %d = %q %v (FIFO order)", i, id, err)
		}
	}
	if n, err := completeScript.Run(ctx, c, keys[1:], "j2").Int64(); err != nil || n != 1 {
		t.Fatalf("complete j2 = %d %v", n, err)
	}
	if err := completeScript.Run(ctx, c, keys[1:], "j2").Err(); err == nil || err.Error() != "NOTCLAIMED job j2 is not being processed" {
		t.Fatalf("completing j2 twice: %v", err)
	}
	if err := completeScript.Run(ctx, c, keys[1:], "j5").Err(); err == nil {
		t.Fatal("completed j5, which nobody claimed")
	}
	if got := c.LRange(ctx, "jobs:processing", 0, -1).Val(); fmt.Sprint(got) != "[j3 j1]" {
		t.Fatalf("processing = %v", got)
	}
	st := map[string]string{}
	for i := 1; i <= 5; i++ {
		st[fmt.Sprintf("j%d", i)] = c.HGet(ctx, fmt.Sprintf("job:j%d", i), "status").Val()
	}
	if fmt.Sprint(st) != "map[j1:processing j2:done j3:processing j4:queued j5:queued]" {
		t.Fatalf("statuses = %v", st)
	}

	// Workers drain the rest concurrently: each job is claimed once.
	for i := 6; i <= 40; i++ {
		if err := enqueueScript.Run(ctx, c, keys[:1], fmt.Sprintf("j%d", i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimed := map[string]string{}
	inParallel(t, 4, func(w int) error {
		worker := fmt.Sprintf("w%d", w)
		for {
			id, err := claimScript.Run(ctx, c, keys, worker).Text()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := completeScript.Run(ctx, c, keys[1:], id).Err(); err != nil {
				return err
			}
			mu.Lock()
			prev, dup := claimed[id]
			claimed[id] = worker
			mu.Unlock()
			if dup {
				return fmt.Errorf("%s claimed by %s and %s", id, prev, worker)
			}
		}
	})
	if len(claimed) != 37 { // j4, j5 and j6..j40
		t.Fatalf("claimed %d jobs, want 37", len(claimed))
	}
	if n := c.LLen(ctx, "jobs:pending").Val(); n != 0 {
		t.Fatalf("pending left: %d", n)
	}
	if got := c.LRange(ctx, "jobs:processing", 0, -1).Val(); fmt.Sprint(got) != "[j3 j1]" {
		t.Fatalf("processing after the drain = %v", got)
	}
	for id, worker := range claimed {
		h := c.HGetAll(ctx, "job:"+id).Val()
		if h["status"] != "done" || h["worker"] != worker {
			t.Fatalf("job:%s = %v, want done by %s", id, h, worker)
		}
	}
}

// goRedisConcurrentScript: 8 goroutines increment through a script 1000
// times each; scripts are atomic, so the total is exact.
func goRedisConcurrentScript(ctx context.Context, t *testing.T, c *redis.Client) {
	incr := redis.NewScript(`local v = tonumber(redis.call('get', KEYS[1]) or '0')
redis.call('set', KEYS[1], v + 1)
redis.call('rpush', KEYS[2], ARGV[1])
redis.call('ltrim', KEYS[2], -10, -1)
return v + 1`)
	const workers, each = 8, 1000
	inParallel(t, workers, func(w int) error {
		for i := 0; i < each; i++ {
			if err := incr.Run(ctx, c, []string{"total", "recent"}, w).Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if n, err := c.Get(ctx, "total").Int(); err != nil || n != workers*each {
		t.Fatalf("total = %d %v, want %d", n, err, workers*each)
	}
	if n := c.LLen(ctx, "recent").Val(); n != 10 {
		t.Fatalf("recent = %d entries", n)
	}
}
