package difftest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// Blocking stream reads and consumer-group flows, run as the same scenario
// on real Redis and on Spinel with raw connections. Each scenario records
// every reply (or the fact that none came) in order; the two transcripts
// must be equal. Times (idle, seen-time, delivery times) are masked.

// streamRec runs one scenario against one server and records the replies.
type streamRec struct {
	t    *testing.T
	addr string
	ctl  *servertest.RawConn // control connection, for waiting
	out  []string
}

func (r *streamRec) dial() *servertest.RawConn {
	c := servertest.Dial(r.t, r.addr)
	r.t.Cleanup(c.Close)
	return c
}

// do runs a command and records its reply with times masked.
func (r *streamRec) do(c *servertest.RawConn, args ...string) []byte {
	r.t.Helper()
	rep := c.Do(args...)
	r.record(strings.Join(args, " "), rep)
	return rep
}

func (r *streamRec) record(label string, rep []byte) {
	r.out = append(r.out, label+" -> "+string(streamMaskTimes(rep)))
}

// send writes a command without reading its reply.
func (r *streamRec) send(c *servertest.RawConn, args ...string) {
	c.Send(servertest.AppendCommand(nil, args...))
}

// read records the next reply of c.
func (r *streamRec) read(c *servertest.RawConn, label string) {
	r.t.Helper()
	rep, err := c.ReadReplyTimeout(servertest.DefaultTimeout)
	if err != nil {
		r.out = append(r.out, label+" -> error "+err.Error())
		return
	}
	r.record(label, rep)
}

// none records whether c stays without a reply for a moment.
func (r *streamRec) none(c *servertest.RawConn, label string) {
	r.t.Helper()
	rep, err := c.ReadReplyTimeout(150 * time.Millisecond)
	if err == servertest.ErrTimeout {
		r.out = append(r.out, label+" -> (still blocked)")
		return
	}
	if err != nil {
		r.out = append(r.out, label+" -> error "+err.Error())
		return
	}
	r.record(label+" (unexpected)", rep)
}

// waitBlocked waits until n clients are blocked.
func (r *streamRec) waitBlocked(n int) {
	r.t.Helper()
	want := "blocked_clients:" + strconv.Itoa(n) + "\r\n"
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if bytes.Contains(r.ctl.Do("INFO", "clients"), []byte(want)) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.out = append(r.out, fmt.Sprintf("timed out waiting for %d blocked clients", n))
}

// streamScenario runs fn against Redis and Spinel and compares the
// transcripts.
func streamScenario(t *testing.T, redisAddr, spinelAddr string, fn func(r *streamRec)) {
	t.Helper()
	var outs [2][]string
	for i, addr := range []string{redisAddr, spinelAddr} {
		r := &streamRec{t: t, addr: addr}
		r.ctl = r.dial()
		r.ctl.Do("FLUSHALL")
		fn(r)
		outs[i] = r.out
	}
	n := max(len(outs[0]), len(outs[1]))
	for i := 0; i < n; i++ {
		var a, b string
		if i < len(outs[0]) {
			a = outs[0][i]
		}
		if i < len(outs[1]) {
			b = outs[1][i]
		}
		if a != b {
			t.Fatalf("step %d differs:\n redis:  %q\n spinel: %q", i, a, b)
		}
	}
}

// streamMaskTimes replaces what depends on the clock in a reply: integers
// after "idle" and "seen-time", unix-ms timestamps, and the idle field of
// XPENDING's extended entries ([id, consumer, idle, count]).
func streamMaskTimes(rep []byte) []byte {
	v, _ := parseValue(rep)
	streamMaskValue(v)
	return v.bytes()
}

func streamMaskValue(v *value) {
	isInt := func(x *value) bool { return len(x.head) > 0 && x.head[0] == ':' && len(x.children) == 0 }
	isBulk := func(x *value) bool { return len(x.head) > 0 && x.head[0] == '$' }
	masked := []byte(":T\r\n")
	if len(v.children) == 4 && isBulk(v.children[0]) && isBulk(v.children[1]) && isInt(v.children[2]) && isInt(v.children[3]) {
		v.children[2] = &value{head: masked}
	}
	for i, c := range v.children {
		if isInt(c) {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(c.head[1:])), 10, 64); err == nil && n > 1e12 {
				v.children[i] = &value{head: masked}
			}
		}
		if i > 0 && isInt(c) {
			prev := string(v.children[i-1].bytes())
			if prev == "$4\r\nidle\r\n" || prev == "$9\r\nseen-time\r\n" {
				v.children[i] = &value{head: masked}
			}
		}
		streamMaskValue(c)
	}
}

func TestBlockingStream(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	run := func(name string, fn func(r *streamRec)) {
		t.Run(name, func(t *testing.T) { streamScenario(t, redis.Addr, spinel.Addr, fn) })
	}

	run("XREAD BLOCK served by XADD", func(r *streamRec) {
		c := r.dial()
		r.do(r.ctl, "XADD", "s", "1-0", "f", "old")
		r.send(c, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		r.waitBlocked(1)
		r.none(c, "reader")
		r.do(r.ctl, "XADD", "s", "2-0", "f", "new")
		r.read(c, "reader")
		// RESP3 gets a map.
		c.Do("HELLO", "3")
		r.send(c, "XREAD", "BLOCK", "0", "STREAMS", "s", "other", "$", "$")
		r.waitBlocked(1)
		r.do(r.ctl, "XADD", "other", "5-0", "a", "b")
		r.read(c, "reader resp3")
		// Blocking on a key that does not exist yet.
		r.send(c, "XREAD", "BLOCK", "0", "STREAMS", "fresh", "$")
		r.waitBlocked(1)
		r.do(r.ctl, "XADD", "fresh", "1-1", "k", "v")
		r.read(c, "reader fresh")
		// An explicit ID: served only by entries past it.
		r.send(c, "XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "fresh", "3-0")
		r.waitBlocked(1)
		r.do(r.ctl, "XADD", "fresh", "2-0", "k", "v")
		r.none(c, "reader 3-0")
		r.do(r.ctl, "XADD", "fresh", "3-5", "k", "v")
		r.read(c, "reader 3-0")
	})

	run("several readers all served", func(r *streamRec) {
		a, b, c, d := r.dial(), r.dial(), r.dial(), r.dial()
		r.do(r.ctl, "XADD", "s", "5-0", "f", "v")
		// Each client blocks before the next one sends: the order in which
		// clients block is the order they are served in.
		r.send(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		r.waitBlocked(1)
		r.send(b, "XREAD", "BLOCK", "0", "STREAMS", "s", "100-0") // waits for a later ID
		r.waitBlocked(2)
		r.send(c, "XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "0")
		r.read(c, "c (served at once)")
		r.send(c, "XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "5-0")
		r.waitBlocked(3)
		r.send(d, "XREAD", "BLOCK", "0", "STREAMS", "x", "s", "$", "$")
		r.waitBlocked(4)
		r.do(r.ctl, "MULTI")
		r.do(r.ctl, "XADD", "s", "6-0", "f", "v6")
		r.do(r.ctl, "XADD", "s", "7-0", "f", "v7")
		r.do(r.ctl, "EXEC")
		r.read(a, "a")
		r.none(b, "b")
		r.read(c, "c")
		r.read(d, "d")
		r.do(r.ctl, "XADD", "s", "100-1", "f", "v")
		r.read(b, "b")
	})

	run("XREADGROUP BLOCK FIFO", func(r *streamRec) {
		c1, c2, c3, o := r.dial(), r.dial(), r.dial(), r.dial()
		r.do(r.ctl, "XGROUP", "CREATE", "q", "g", "$", "MKSTREAM")
		r.do(r.ctl, "XGROUP", "CREATE", "q", "other", "$")
		r.send(c1, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(1)
		r.send(c2, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(2)
		r.send(c3, "XREADGROUP", "GROUP", "g", "carol", "COUNT", "5", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(3)
		r.send(o, "XREADGROUP", "GROUP", "other", "olga", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(4)
		r.do(r.ctl, "XADD", "q", "1-0", "job", "1")
		r.read(c1, "alice")
		r.none(c2, "bob")
		r.read(o, "olga (other group)")
		r.do(r.ctl, "XADD", "q", "2-0", "job", "2")
		r.read(c2, "bob")
		r.none(c3, "carol")
		r.do(r.ctl, "MULTI")
		r.do(r.ctl, "XADD", "q", "3-0", "job", "3")
		r.do(r.ctl, "XADD", "q", "4-0", "job", "4")
		r.do(r.ctl, "EXEC")
		r.read(c3, "carol")
		r.do(r.ctl, "XPENDING", "q", "g")
		r.do(r.ctl, "XINFO", "GROUPS", "q")
		r.do(r.ctl, "XINFO", "CONSUMERS", "q", "g")
		// NOACK: nothing pending.
		r.send(c1, "XREADGROUP", "GROUP", "other", "olga", "NOACK", "BLOCK", "0", "STREAMS", "q", ">")
		r.read(c1, "olga noack (data waiting)")
		r.send(c1, "XREADGROUP", "GROUP", "other", "olga", "NOACK", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(1)
		r.do(r.ctl, "XADD", "q", "5-0", "job", "5")
		r.read(c1, "olga noack")
		r.do(r.ctl, "XPENDING", "q", "other")
		// RESP3 consumer.
		c2.Do("HELLO", "3")
		r.send(c2, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "q", ">")
		r.read(c2, "bob resp3 (5-0 waiting)")
		r.send(c2, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(1)
		r.do(r.ctl, "XADD", "q", "6-0", "job", "6")
		r.read(c2, "bob resp3")
	})

	run("timeouts", func(r *streamRec) {
		c := r.dial()
		r.do(r.ctl, "XGROUP", "CREATE", "q", "g", "$", "MKSTREAM")
		r.send(c, "XREAD", "BLOCK", "50", "STREAMS", "s", "$")
		r.read(c, "xread timeout")
		r.send(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "50", "STREAMS", "q", ">")
		r.read(c, "xreadgroup timeout")
		r.do(r.ctl, "XINFO", "GROUPS", "q")
		c.Do("HELLO", "3")
		r.send(c, "XREAD", "BLOCK", "50", "STREAMS", "s", "$")
		r.read(c, "xread timeout resp3")
		c.Do("HELLO", "2")
		// Inside MULTI, BLOCK does not block.
		r.do(c, "MULTI")
		r.do(c, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		r.do(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", ">")
		r.do(c, "EXEC")
		// CLIENT UNBLOCK.
		r.do(c, "CLIENT", "SETNAME", "reader")
		id := strings.TrimSpace(strings.TrimPrefix(string(c.Do("CLIENT", "ID")), ":"))
		r.send(c, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		r.waitBlocked(1)
		r.record("CLIENT UNBLOCK", r.ctl.Do("CLIENT", "UNBLOCK", id))
		r.read(c, "unblocked")
		r.send(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(1)
		r.record("CLIENT UNBLOCK ERROR", r.ctl.Do("CLIENT", "UNBLOCK", id, "ERROR"))
		r.read(c, "unblocked with error")
	})

	run("XADD inside MULTI served after EXEC", func(r *streamRec) {
		c := r.dial()
		r.send(c, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		r.waitBlocked(1)
		r.do(r.ctl, "MULTI")
		r.do(r.ctl, "XADD", "s", "1-0", "a", "1")
		r.do(r.ctl, "XADD", "s", "2-0", "a", "2")
		r.do(r.ctl, "XADD", "other", "2-0", "a", "2")
		r.none(c, "before EXEC")
		r.do(r.ctl, "EXEC")
		r.read(c, "after EXEC")
		// Added and deleted in one transaction: Redis 7.0 still serves,
		// with no entries.
		r.send(c, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		r.waitBlocked(1)
		r.do(r.ctl, "MULTI")
		r.do(r.ctl, "XADD", "s", "3-0", "a", "3")
		r.do(r.ctl, "XDEL", "s", "3-0")
		r.do(r.ctl, "EXEC")
		r.read(c, "added and deleted")
		// Without COUNT a blocked read gets at most 1000 entries.
		r.send(c, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
		r.waitBlocked(1)
		var batch []byte
		batch = servertest.AppendCommand(batch, "MULTI")
		for i := 0; i < 1200; i++ {
			batch = servertest.AppendCommand(batch, "XADD", "s", strconv.Itoa(10+i)+"-0", "i", strconv.Itoa(i))
		}
		batch = servertest.AppendCommand(batch, "EXEC")
		r.ctl.Send(batch)
		for i := 0; i < 1202; i++ {
			r.ctl.ReadReply()
		}
		r.read(c, "1000 of 1200")
	})

	run("group or key gone", func(r *streamRec) {
		c := r.dial()
		x := r.dial()
		r.do(r.ctl, "XGROUP", "CREATE", "q", "g", "$", "MKSTREAM")
		r.send(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(1)
		r.do(r.ctl, "XGROUP", "DESTROY", "q", "g")
		r.read(c, "group destroyed")
		r.do(r.ctl, "XGROUP", "CREATE", "q", "g", "$")
		r.send(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(1)
		r.send(x, "XREAD", "BLOCK", "0", "STREAMS", "q", "$")
		r.waitBlocked(2)
		r.do(r.ctl, "DEL", "q")
		r.read(c, "key deleted")
		r.none(x, "xread on deleted key")
		r.do(r.ctl, "XGROUP", "CREATE", "q", "g", "$", "MKSTREAM")
		r.send(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(2)
		r.do(r.ctl, "SET", "q", "string")
		r.read(c, "key overwritten")
		r.none(x, "xread on string key")
		r.do(r.ctl, "DEL", "q")
		r.do(r.ctl, "XADD", "q", "1-0", "f", "v")
		r.read(x, "xread after re-creation")
		// Destroying another group does not release the reader.
		r.do(r.ctl, "XGROUP", "CREATE", "q", "g", "$")
		r.do(r.ctl, "XGROUP", "CREATE", "q", "h", "$")
		r.send(c, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", ">")
		r.waitBlocked(1)
		r.do(r.ctl, "XGROUP", "DESTROY", "q", "h")
		r.none(c, "other group destroyed")
		r.do(r.ctl, "XADD", "q", "2-0", "f", "v")
		r.read(c, "served")
	})

	run("job queue", func(r *streamRec) {
		prod := r.dial()
		w1, w2, dead := r.dial(), r.dial(), r.dial()
		r.do(r.ctl, "XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM")
		// The dead worker takes two jobs and never acks them.
		for i := 1; i <= 6; i++ {
			r.do(prod, "XADD", "jobs", strconv.Itoa(i)+"-0", "job", strconv.Itoa(i))
		}
		r.do(dead, "XREADGROUP", "GROUP", "workers", "dead", "COUNT", "2", "STREAMS", "jobs", ">")
		dead.Close()
		// Workers take a job each, ack it, and wait for more.
		for round := 0; round < 2; round++ {
			for _, w := range []*servertest.RawConn{w1, w2} {
				name := "w1"
				if w == w2 {
					name = "w2"
				}
				rep := r.do(w, "XREADGROUP", "GROUP", "workers", name, "COUNT", "1", "BLOCK", "1000", "STREAMS", "jobs", ">")
				if id := streamFirstID(rep); id != "" {
					r.do(w, "XACK", "jobs", "workers", id)
				}
			}
		}
		r.send(w1, "XREADGROUP", "GROUP", "workers", "w1", "COUNT", "1", "BLOCK", "0", "STREAMS", "jobs", ">")
		r.waitBlocked(1)
		r.send(w2, "XREADGROUP", "GROUP", "workers", "w2", "COUNT", "1", "BLOCK", "0", "STREAMS", "jobs", ">")
		r.waitBlocked(2)
		r.do(prod, "XADD", "jobs", "7-0", "job", "7")
		r.read(w1, "w1 gets job 7")
		r.none(w2, "w2 waits")
		r.do(prod, "XADD", "jobs", "8-0", "job", "8")
		r.read(w2, "w2 gets job 8")
		r.do(w1, "XACK", "jobs", "workers", "7-0")
		r.do(r.ctl, "XPENDING", "jobs", "workers")
		r.do(r.ctl, "XPENDING", "jobs", "workers", "-", "+", "10")
		r.do(r.ctl, "XPENDING", "jobs", "workers", "-", "+", "10", "dead")
		// The dead worker's jobs are reclaimed.
		r.do(w1, "XAUTOCLAIM", "jobs", "workers", "w1", "0", "0", "COUNT", "1")
		r.do(w1, "XAUTOCLAIM", "jobs", "workers", "w1", "0", "0", "COUNT", "10", "JUSTID")
		r.do(r.ctl, "XPENDING", "jobs", "workers")
		r.do(w1, "XACK", "jobs", "workers", "1-0", "2-0", "8-0")
		r.do(r.ctl, "XPENDING", "jobs", "workers")
		r.do(r.ctl, "XGROUP", "DELCONSUMER", "jobs", "workers", "dead")
		r.do(r.ctl, "XINFO", "GROUPS", "jobs")
		r.do(r.ctl, "XINFO", "CONSUMERS", "jobs", "workers")
		r.do(r.ctl, "XINFO", "STREAM", "jobs", "FULL")
	})
}

// streamFirstID returns the first entry ID of an XREADGROUP reply of one
// stream, or "".
func streamFirstID(rep []byte) string {
	v, _ := parseValue(rep)
	if len(v.children) == 0 || len(v.children[0].children) < 2 {
		return ""
	}
	entries := v.children[0].children[1]
	if len(entries.children) == 0 || len(entries.children[0].children) == 0 {
		return ""
	}
	id := entries.children[0].children[0].bytes()
	i := bytes.Index(id, []byte("\r\n"))
	return string(bytes.TrimSuffix(id[i+2:], []byte("\r\n")))
}

// TestStreamKeyspaceEvents compares the keyspace notifications of the
// stream commands.
func TestStreamKeyspaceEvents(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	streamScenario(t, redis.Addr, spinel.Addr, func(r *streamRec) {
		r.ctl.Do("CONFIG", "SET", "notify-keyspace-events", "KEA")
		sub := r.dial()
		sub.Do("PSUBSCRIBE", "__key*__:*")
		cmds := [][]string{
			{"XADD", "s", "1-0", "f", "v"},
			{"XADD", "s", "2-0", "f", "v"},
			{"XADD", "s", "MAXLEN", "1", "3-0", "f", "v"},
			{"XADD", "s", "MAXLEN", "5", "4-0", "f", "v"},
			{"XADD", "s", "1-0", "f", "v"},
			{"XDEL", "s", "3-0"},
			{"XDEL", "s", "3-0"},
			{"XTRIM", "s", "MAXLEN", "5"},
			{"XADD", "s", "5-0", "f", "v"},
			{"XTRIM", "s", "MAXLEN", "1"},
			{"XSETID", "s", "9-0"},
			{"XGROUP", "CREATE", "s", "g", "0"},
			{"XGROUP", "CREATE", "n", "g", "0", "MKSTREAM"},
			{"XGROUP", "SETID", "s", "g", "0"},
			{"XGROUP", "CREATECONSUMER", "s", "g", "c"},
			{"XGROUP", "CREATECONSUMER", "s", "g", "c"},
			{"XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"},
			{"XACK", "s", "g", "5-0"},
			{"XCLAIM", "s", "g", "c3", "0", "5-0", "FORCE"},
			{"XAUTOCLAIM", "s", "g", "c4", "0", "0"},
			{"XGROUP", "DELCONSUMER", "s", "g", "c"},
			{"XGROUP", "DESTROY", "s", "g"},
			{"XADD", "s", "NOMKSTREAM", "MAXLEN", "0", "10-0", "f", "v"},
			{"DEL", "s"},
		}
		for _, cmd := range cmds {
			r.do(r.ctl, cmd...)
		}
		r.do(r.ctl, "PUBLISH", "end", "x")
		for {
			rep, err := sub.ReadReplyTimeout(2 * time.Second)
			if err != nil {
				r.out = append(r.out, "sub: "+err.Error())
				return
			}
			r.record("event", rep)
			if bytes.Contains(rep, []byte("__keyevent@0__:del")) {
				return
			}
		}
	})
}

// TestStreamNodes fills streams past many nodes, with node limits set small
// and large, and compares the node structure (XINFO STREAM's radix tree
// figures) after XADD, XDEL and approximate trimming.
func TestStreamNodes(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	for _, lim := range [][2]string{{"100", "4096"}, {"7", "4096"}, {"100", "300"}, {"0", "1000"}, {"10", "0"}} {
		t.Run(lim[0]+"-"+lim[1], func(t *testing.T) {
			streamScenario(t, redis.Addr, spinel.Addr, func(r *streamRec) {
				r.ctl.Do("CONFIG", "SET", "stream-node-max-entries", lim[0])
				r.ctl.Do("CONFIG", "SET", "stream-node-max-bytes", lim[1])
				defer r.ctl.Do("CONFIG", "SET", "stream-node-max-entries", "100")
				defer r.ctl.Do("CONFIG", "SET", "stream-node-max-bytes", "4096")
				var batch []byte
				n := 0
				for i := 1; i <= 1500; i++ {
					var args []string
					switch {
					case i%97 == 0:
						args = []string{"XADD", "s", strconv.Itoa(i) + "-0", "big", strings.Repeat("x", i%700)}
					case i%13 == 0:
						args = []string{"XADD", "s", strconv.Itoa(i) + "-0", "a", strconv.Itoa(i), "b", "-" + strconv.Itoa(i*1000)}
					default:
						args = []string{"XADD", "s", strconv.Itoa(i) + "-" + strconv.Itoa(i%5), "f", strconv.Itoa(i * i)}
					}
					batch = servertest.AppendCommand(batch, args...)
					n++
					if i%7 == 0 {
						batch = servertest.AppendCommand(batch, "XDEL", "s", strconv.Itoa(i-3)+"-"+strconv.Itoa((i-3)%5))
						n++
					}
				}
				r.ctl.Send(batch)
				for i := 0; i < n; i++ {
					r.ctl.ReadReply()
				}
				r.do(r.ctl, "XINFO", "STREAM", "s")
				r.do(r.ctl, "XRANGE", "s", "-", "+", "COUNT", "30")
				r.do(r.ctl, "XREVRANGE", "s", "+", "-", "COUNT", "30")
				r.do(r.ctl, "XRANGE", "s", "700", "720")
				r.do(r.ctl, "XREVRANGE", "s", "720", "700")
				for _, trim := range [][]string{
					{"MAXLEN", "~", "1200"}, {"MAXLEN", "~", "1000"}, {"MINID", "~", "500"},
					{"MAXLEN", "~", "900", "LIMIT", "50"}, {"MAXLEN", "~", "100", "LIMIT", "300"},
					{"MAXLEN", "=", "550"}, {"MINID", "=", "1100"}, {"MAXLEN", "~", "10"},
				} {
					r.do(r.ctl, append([]string{"XTRIM", "s"}, trim...)...)
					r.do(r.ctl, "XINFO", "STREAM", "s")
				}
				r.do(r.ctl, "XADD", "s", "MAXLEN", "~", "5", "2000-0", "f", "v")
				r.do(r.ctl, "XINFO", "STREAM", "s")
				r.do(r.ctl, "XINFO", "STREAM", "s", "FULL", "COUNT", "3")
				r.do(r.ctl, "XRANGE", "s", "-", "+")
			})
		})
	}
}

// TestRandomStreamBlocking mixes blocking XREAD / XREADGROUP readers with
// random writes on two keys, on Redis and on Spinel, and compares which
// readers are served, in what order, with what.
func TestRandomStreamBlocking(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	steps := max(*randomN/4, 100)
	streamScenario(t, redis.Addr, spinel.Addr, func(r *streamRec) {
		rnd := newStreamRand(*seed)
		const nReaders = 4
		readers := make([]*servertest.RawConn, nReaders)
		blocked := make([]bool, nReaders)
		for i := range readers {
			readers[i] = r.dial()
		}
		nBlocked := 0
		keys := []string{"s1", "s2"}
		clock := 0
		blockedCount := func() int {
			info := string(r.ctl.Do("INFO", "clients"))
			i := strings.Index(info, "blocked_clients:")
			n, _ := strconv.Atoi(info[i+16 : i+16+strings.IndexByte(info[i+16:], '\r')])
			return n
		}
		// collect reads the replies of the readers that were just served.
		collect := func() {
			served := nBlocked - blockedCount()
			for tries := 0; served > 0 && tries < 500; tries++ {
				for i, c := range readers {
					if !blocked[i] {
						continue
					}
					rep, err := c.ReadReplyTimeout(time.Millisecond)
					if err != nil {
						continue
					}
					r.record("reader "+strconv.Itoa(i), rep)
					blocked[i] = false
					nBlocked--
					served--
				}
			}
		}
		for step := 0; step < steps; step++ {
			i := rnd.IntN(nReaders)
			if !blocked[i] && rnd.IntN(2) == 0 {
				var args []string
				n := 1 + rnd.IntN(2)
				group := rnd.IntN(2) == 0
				if group && rnd.IntN(4) != 0 {
					n = 1
				}
				if group {
					args = []string{"XREADGROUP", "GROUP", []string{"g1", "g2"}[rnd.IntN(2)], []string{"c1", "c2", "c3"}[rnd.IntN(3)]}
					if rnd.IntN(4) == 0 {
						args = append(args, "NOACK")
					}
				} else {
					args = []string{"XREAD"}
				}
				if rnd.IntN(2) == 0 {
					args = append(args, "COUNT", strconv.Itoa(1+rnd.IntN(3)))
				}
				args = append(args, "BLOCK", "0", "STREAMS")
				perm := rnd.Perm(2)[:n]
				for _, k := range perm {
					args = append(args, keys[k])
				}
				for range perm {
					switch {
					case group && rnd.IntN(8) == 0:
						args = append(args, "0")
					case group:
						args = append(args, ">")
					case rnd.IntN(3) == 0:
						args = append(args, strconv.Itoa(rnd.IntN(clock/2+2))+"-0")
					default:
						args = append(args, "$")
					}
				}
				r.send(readers[i], args...)
				// Either it is served at once or it blocks.
				label := "reader " + strconv.Itoa(i) + " " + strings.Join(args, " ")
				for {
					if rep, err := readers[i].ReadReplyTimeout(time.Millisecond); err == nil {
						r.record(label, rep)
						break
					}
					if blockedCount() == nBlocked+1 {
						r.out = append(r.out, label+" -> (blocked)")
						blocked[i] = true
						nBlocked++
						break
					}
				}
				continue
			}
			key := keys[rnd.IntN(2)]
			var cmd []string
			if rnd.IntN(6) == 0 {
				// Keep groups around: most reads are group reads.
				r.do(r.ctl, "XGROUP", "CREATE", key, []string{"g1", "g2"}[rnd.IntN(2)], []string{"$", "0"}[rnd.IntN(2)], "MKSTREAM")
			}
			switch op := rnd.IntN(20); {
			case op < 7:
				clock++
				cmd = []string{"XADD", key, strconv.Itoa(clock) + "-0", "f", strconv.Itoa(clock)}
			case op < 9:
				cmd = []string{"XDEL", key, strconv.Itoa(rnd.IntN(clock+1)) + "-0"}
			case op < 10:
				cmd = []string{"XTRIM", key, "MAXLEN", strconv.Itoa(rnd.IntN(3))}
			case op < 13:
				cmd = []string{"XGROUP", "CREATE", key, []string{"g1", "g2"}[rnd.IntN(2)], []string{"$", "0"}[rnd.IntN(2)], "MKSTREAM"}
			case op < 14:
				cmd = []string{"XGROUP", "DESTROY", key, []string{"g1", "g2"}[rnd.IntN(2)]}
			case op < 15:
				cmd = []string{"XGROUP", "SETID", key, []string{"g1", "g2"}[rnd.IntN(2)], "0"}
			case op < 16:
				cmd = []string{"DEL", key}
			case op < 17:
				cmd = []string{"SET", key, "x"}
			case op < 18:
				cmd = []string{"XACK", key, "g1", strconv.Itoa(rnd.IntN(clock+1)) + "-0"}
			default:
				clock += 2
				r.ctl.Do("MULTI")
				r.ctl.Do("XADD", key, strconv.Itoa(clock-1)+"-0", "f", "m")
				r.ctl.Do("XADD", keys[rnd.IntN(2)], strconv.Itoa(clock)+"-0", "f", "m")
				cmd = []string{"EXEC"}
			}
			r.do(r.ctl, cmd...)
			collect()
		}
		r.do(r.ctl, "XINFO", "GROUPS", "s1")
		r.do(r.ctl, "XPENDING", "s2", "g1")
	})
}

// newStreamRand returns the scenario's random source: the same on both
// servers.
func newStreamRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }
