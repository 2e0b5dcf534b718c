package difftest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// ---------------------------------------------------------------------------
// Blocking list commands, differentially: a scenario drives several client
// connections step by step (some block, others push, unblock, disconnect),
// once against real Redis and once against Spinel, and the transcripts of
// raw replies must be identical. Synchronisation never relies on sleeping:
// "blocked N" polls INFO until N clients are blocked, "quiet" checks that a
// connection has no reply for a moment.
// ---------------------------------------------------------------------------

// bstep is one step of a scenario.
type bstep struct {
	c    int        // the connection
	op   string     // see runBlockingScenario
	args []string   // do, send, unblock
	cmds [][]string // pipe
	n    int        // blocked
}

func do(c int, args ...string) bstep   { return bstep{c: c, op: "do", args: args} }
func send(c int, args ...string) bstep { return bstep{c: c, op: "send", args: args} }
func read(c int) bstep                 { return bstep{c: c, op: "read"} }
func quiet(c int) bstep                { return bstep{c: c, op: "quiet"} }
func drain(c int) bstep                { return bstep{c: c, op: "drain"} }
func closeConn(c int) bstep            { return bstep{c: c, op: "close"} }
func blocked(n int) bstep              { return bstep{op: "blocked", n: n} }
func doType(c int, args ...string) bstep {
	return bstep{c: c, op: "dotype", args: args}
}
func pipe(c int, cmds ...[]string) bstep { return bstep{c: c, op: "pipe", cmds: cmds} }
func unblock(c int, args ...string) bstep {
	return bstep{c: c, op: "unblock", args: args}
}

// runBlockingScenario runs steps on nconns fresh connections to addr and
// returns the transcript. Ops:
//
//	do      send args and record the reply
//	dotype  send args and record the reply's type byte only (HELLO)
//	send    send args without reading (the command blocks)
//	pipe    send several commands in one write without reading
//	read    record the next reply (waiting up to 5s)
//	quiet   record whatever arrives within 150ms (nothing, normally)
//	drain   record every reply until the connection is quiet (pub/sub)
//	close   close the connection
//	blocked wait until INFO reports n blocked clients
//	unblock CLIENT UNBLOCK <id of connection c> args..., from a control
//	        connection, recording the reply
func runBlockingScenario(t *testing.T, addr string, nconns int, steps []bstep) []string {
	t.Helper()
	ctl := servertest.Dial(t, addr)
	ctl.Do("FLUSHALL")
	conns := make([]*servertest.RawConn, nconns)
	ids := make([]string, nconns)
	for i := range conns {
		conns[i] = servertest.Dial(t, addr)
		id := string(conns[i].Do("CLIENT", "ID"))
		ids[i] = strings.TrimSuffix(strings.TrimPrefix(id, ":"), "\r\n")
	}
	var out []string
	rec := func(i int, s string) { out = append(out, fmt.Sprintf("step %d: %s", i, s)) }
	for i, st := range steps {
		c := conns[st.c]
		switch st.op {
		case "do":
			rec(i, fmt.Sprintf("c%d %q -> %q", st.c, st.args, c.Do(st.args...)))
		case "dotype":
			rec(i, fmt.Sprintf("c%d %q -> %q", st.c, st.args, c.Do(st.args...)[:1]))
		case "send":
			c.Send(servertest.AppendCommand(nil, st.args...))
		case "pipe":
			var b []byte
			for _, cmd := range st.cmds {
				b = servertest.AppendCommand(b, cmd...)
			}
			c.Send(b)
		case "read":
			r, err := c.ReadReplyTimeout(5 * time.Second)
			if err != nil {
				rec(i, fmt.Sprintf("c%d read: %v", st.c, err))
				continue
			}
			rec(i, fmt.Sprintf("c%d read %q", st.c, r))
		case "quiet", "drain":
			for {
				r, err := c.ReadReplyTimeout(150 * time.Millisecond)
				if errors.Is(err, servertest.ErrTimeout) {
					rec(i, fmt.Sprintf("c%d quiet", st.c))
					break
				}
				if err != nil {
					rec(i, fmt.Sprintf("c%d read: %v", st.c, err))
					break
				}
				rec(i, fmt.Sprintf("c%d got %q", st.c, r))
				if st.op == "quiet" {
					break
				}
			}
		case "close":
			c.Close()
		case "blocked":
			deadline := time.Now().Add(5 * time.Second)
			last := -1
			for time.Now().Before(deadline) {
				if last = blockedClients(ctl.Do("INFO", "clients")); last == st.n {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			rec(i, fmt.Sprintf("blocked_clients %d (want %d)", last, st.n))
		case "unblock":
			args := append([]string{"CLIENT", "UNBLOCK", ids[st.c]}, st.args...)
			rec(i, fmt.Sprintf("unblock c%d %q -> %q", st.c, st.args, ctl.Do(args...)))
		default:
			t.Fatalf("bad op %q", st.op)
		}
	}
	return out
}

// blockedClients extracts blocked_clients from an INFO reply.
func blockedClients(info []byte) int {
	s := string(info)
	i := strings.Index(s, "blocked_clients:")
	if i < 0 {
		return -1
	}
	s = s[i+len("blocked_clients:"):]
	n, _ := strconv.Atoi(s[:strings.IndexByte(s, '\r')])
	return n
}

type blockingScenario struct {
	name   string
	nconns int
	steps  []bstep
}

// blockingSkips names the scenarios that cannot pass yet, and why.
var blockingSkips = map[string]string{
	"clients of other types on the same key": "blocking.go serveKey stops at the first client " +
		"its key cannot serve (here BZPOPMIN on a list); Redis 7.0 skips it and serves the BLPOP behind",
}

func TestBlockingList(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	for _, sc := range blockingScenarios {
		t.Run(sc.name, func(t *testing.T) {
			if why := blockingSkips[sc.name]; why != "" {
				t.Skip(why)
			}
			want := runBlockingScenario(t, redis.Addr, sc.nconns, sc.steps)
			got := runBlockingScenario(t, spinel.Addr, sc.nconns, sc.steps)
			for i := 0; i < max(len(want), len(got)); i++ {
				var w, g string
				if i < len(want) {
					w = want[i]
				}
				if i < len(got) {
					g = got[i]
				}
				if w != g {
					t.Errorf("transcripts differ:\n redis:  %s\n spinel: %s", w, g)
				}
			}
		})
	}
}

var blockingScenarios = []blockingScenario{
	{"fifo", 4, []bstep{
		send(1, "BLPOP", "k", "0"), blocked(1),
		send(2, "BRPOP", "k", "0"), blocked(2),
		send(3, "BLPOP", "k", "0"), blocked(3),
		do(0, "RPUSH", "k", "a"),
		read(1), quiet(2), quiet(3), blocked(2),
		do(0, "RPUSH", "k", "b"),
		read(2), quiet(3),
		do(0, "LPUSH", "k", "c"),
		read(3), blocked(0),
		do(0, "EXISTS", "k"),
	}},
	{"one push serves several in order", 5, []bstep{
		send(1, "BLPOP", "k", "0"), blocked(1),
		send(2, "BLPOP", "k", "0"), blocked(2),
		send(3, "BRPOP", "k", "0"), blocked(3),
		send(4, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"), blocked(4),
		do(0, "RPUSH", "k", "a", "b", "c", "d", "e", "f"),
		read(1), read(2), read(3), read(4),
		do(0, "LRANGE", "k", "0", "-1"),
		send(1, "BLPOP", "j", "0"), blocked(1),
		send(2, "BLPOP", "j", "0"), blocked(2),
		send(3, "BLPOP", "j", "0"), blocked(3),
		do(0, "LPUSH", "j", "a", "b"),
		read(1), read(2), quiet(3),
		do(0, "LPUSH", "j", "z"),
		read(3),
		do(0, "EXISTS", "j"),
	}},
	{"several keys", 3, []bstep{
		send(1, "BLPOP", "a", "b", "c", "0"), blocked(1),
		do(0, "RPUSH", "c", "x"),
		read(1),
		do(0, "RPUSH", "a", "y"),
		do(0, "LRANGE", "a", "0", "-1"),
		send(1, "BRPOP", "a1", "b1", "0"), blocked(1),
		send(2, "BRPOP", "b1", "a1", "0"), blocked(2),
		do(0, "RPUSH", "a1", "1", "2"),
		read(1), read(2),
		do(0, "EXISTS", "a1", "b1"),
		send(1, "BLPOP", "d", "d", "e", "0"), blocked(1),
		do(0, "RPUSH", "d", "v"),
		read(1), blocked(0),
		// Two of its keys get data in one transaction: the first made
		// ready serves it, the other keeps its element.
		send(1, "BLPOP", "a2", "b2", "0"), blocked(1),
		do(0, "MULTI"),
		do(0, "RPUSH", "b2", "1"),
		do(0, "RPUSH", "a2", "2"),
		do(0, "EXEC"),
		read(1), blocked(0),
		do(0, "LRANGE", "a2", "0", "-1"),
		do(0, "LRANGE", "b2", "0", "-1"),
		do(0, "MSET", "s1", "x"),
		do(0, "RPUSH", "l1", "w"),
		do(0, "BLPOP", "missing", "s1", "l1", "0"),
		do(0, "BLPOP", "missing", "l1", "s1", "0"),
	}},
	{"timeouts", 2, []bstep{
		do(1, "BLPOP", "nokey", "0.1"),
		do(1, "BRPOP", "nokey", "other", ".1"),
		do(1, "BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "1e-1"),
		do(1, "BRPOPLPUSH", "nokey", "dst", "0.15"),
		do(1, "BLMPOP", "0.1", "2", "nokey", "other", "LEFT"),
		do(1, "BLMPOP", "0.1", "1", "nokey", "RIGHT", "COUNT", "5"),
		do(1, "BLPOP", "nokey", "0x0.2p0"),
		do(1, "EXISTS", "dst"),
		blocked(0),
		doType(1, "HELLO", "3"),
		do(1, "BLPOP", "nokey", "0.1"),
		do(1, "BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.1"),
		do(1, "BLMPOP", "0.1", "1", "nokey", "LEFT"),
		// The timer does not serve: data that comes later is left alone.
		do(1, "RPUSH", "nokey", "late"),
		do(1, "LRANGE", "nokey", "0", "-1"),
	}},
	{"multi exec serves after exec with the final state", 3, []bstep{
		send(1, "BLPOP", "k", "0"), blocked(1),
		send(2, "BLPOP", "k", "0"), blocked(2),
		do(0, "MULTI"),
		do(0, "RPUSH", "k", "a", "b"),
		do(0, "LPOP", "k"),
		do(0, "LPUSH", "k", "z"),
		quiet(1),
		do(0, "EXEC"),
		read(1), read(2),
		do(0, "EXISTS", "k"),
		send(1, "BLPOP", "k", "0"), blocked(1),
		do(0, "MULTI"),
		do(0, "RPUSH", "k", "a"),
		do(0, "DEL", "k"),
		do(0, "EXEC"),
		quiet(1), blocked(1),
		do(0, "MULTI"),
		do(0, "RPUSH", "k", "a"),
		do(0, "SET", "k", "str"),
		do(0, "EXEC"),
		quiet(1), blocked(1),
		do(0, "DEL", "k"),
		do(0, "RPUSH", "k", "finally"),
		read(1),
		// Inside MULTI a blocking command does not block, even on data
		// that arrives later in the same transaction.
		do(2, "MULTI"),
		do(2, "BLPOP", "m", "0"),
		do(2, "RPUSH", "m", "x"),
		do(2, "BLPOP", "m", "0"),
		do(2, "BLMOVE", "none", "m", "LEFT", "LEFT", "0"),
		do(2, "EXEC"),
	}},
	{"client unblock", 3, []bstep{
		send(1, "BLPOP", "k", "0"), blocked(1),
		unblock(1),
		read(1), blocked(0),
		send(1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0"), blocked(1),
		unblock(1, "TIMEOUT"),
		read(1),
		send(1, "BLMPOP", "0", "1", "k", "LEFT"), blocked(1),
		unblock(1, "ERROR"),
		read(1),
		send(1, "BRPOPLPUSH", "k", "d", "0"), blocked(1),
		unblock(1, "error"),
		read(1),
		send(1, "BLPOP", "k", "0"), blocked(1),
		unblock(1, "FOO"),
		unblock(2),
		unblock(2, "ERROR"),
		do(0, "CLIENT", "UNBLOCK", "999999"),
		do(0, "CLIENT", "UNBLOCK", "x"),
		do(0, "RPUSH", "k", "v"),
		read(1),
		// Pipelined commands after the unblocked one run.
		pipe(1, []string{"BLPOP", "k", "0"}, []string{"PING"}, []string{"ECHO", "after"}),
		blocked(1), quiet(1),
		unblock(1, "ERROR"),
		read(1), read(1), read(1),
		doType(1, "HELLO", "3"),
		send(1, "BLPOP", "k", "0"), blocked(1),
		unblock(1),
		read(1),
	}},
	{"disconnect while blocked", 3, []bstep{
		send(1, "BLPOP", "k", "0"), blocked(1),
		send(2, "BLMOVE", "k", "d", "LEFT", "LEFT", "0"), blocked(2),
		closeConn(1), blocked(1),
		closeConn(2), blocked(0),
		do(0, "RPUSH", "k", "a", "b"),
		do(0, "LRANGE", "k", "0", "-1"),
		do(0, "EXISTS", "d"),
	}},
	{"blmove chains", 5, []bstep{
		send(1, "BLMOVE", "k1", "k2", "LEFT", "RIGHT", "0"), blocked(1),
		send(2, "BRPOPLPUSH", "k2", "k3", "0"), blocked(2),
		send(3, "BLMPOP", "0", "2", "x", "k3", "RIGHT", "COUNT", "10"), blocked(3),
		do(0, "RPUSH", "k1", "v1", "v2"),
		read(1), read(2), read(3),
		do(0, "LRANGE", "k1", "0", "-1"),
		do(0, "EXISTS", "k2", "k3"),
		// A cycle: each move feeds the other client.
		send(1, "BLMOVE", "a", "b", "RIGHT", "LEFT", "0"), blocked(1),
		send(2, "BLMOVE", "b", "a", "RIGHT", "LEFT", "0"), blocked(2),
		do(0, "RPUSH", "a", "x"),
		read(1), read(2),
		do(0, "LRANGE", "a", "0", "-1"),
		do(0, "EXISTS", "b"),
		// Source and destination the same key.
		send(1, "BLMOVE", "r", "r", "LEFT", "RIGHT", "0"), blocked(1),
		send(2, "BLPOP", "r", "0"), blocked(2),
		do(0, "RPUSH", "r", "1", "2"),
		read(1), read(2),
		do(0, "LRANGE", "r", "0", "-1"),
	}},
	{"wrong types", 4, []bstep{
		// A key that gets another type keeps its clients blocked.
		send(1, "BLPOP", "k", "0"), blocked(1),
		do(0, "SET", "k", "str"),
		quiet(1), blocked(1),
		do(0, "DEL", "k"),
		do(0, "HSET", "k", "f", "v"),
		quiet(1),
		do(0, "DEL", "k"),
		do(0, "RPUSH", "k", "ok"),
		read(1),
		// BLMOVE whose destination is not a list: WRONGTYPE when served,
		// and the next client gets the element.
		do(0, "SET", "dst", "str"),
		send(1, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0"), blocked(1),
		send(2, "BRPOPLPUSH", "src", "dst", "0"), blocked(2),
		send(3, "BLPOP", "src", "0"), blocked(3),
		do(0, "RPUSH", "src", "a", "b"),
		read(1), read(2), read(3),
		do(0, "LRANGE", "src", "0", "-1"),
		do(0, "GET", "dst"),
		do(0, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0"),
		do(0, "LRANGE", "src", "0", "-1"),
	}},
	{"pipelined commands wait", 2, []bstep{
		pipe(1, []string{"BLPOP", "k", "0"}, []string{"LLEN", "k"}, []string{"RPUSH", "k", "mine"}, []string{"PING"}),
		blocked(1), quiet(1),
		do(0, "LLEN", "k"),
		do(0, "RPUSH", "k", "a", "b"),
		read(1), read(1), read(1), read(1),
		do(0, "LRANGE", "k", "0", "-1"),
		// A blocking command served at once in the middle of a pipeline.
		pipe(1, []string{"BLPOP", "k", "0"}, []string{"BLPOP", "k", "0"}, []string{"BLPOP", "k", "0.1"}, []string{"ECHO", "end"}),
		read(1), read(1), read(1), read(1),
	}},
	{"databases", 3, []bstep{
		do(1, "SELECT", "1"),
		send(1, "BLPOP", "k", "0"), blocked(1),
		do(0, "RPUSH", "k", "db0"),
		quiet(1),
		do(0, "SELECT", "1"),
		do(0, "RPUSH", "k", "db1"),
		read(1),
		do(0, "LRANGE", "k", "0", "-1"),
		do(0, "SELECT", "0"),
		do(0, "LRANGE", "k", "0", "-1"),
		// SWAPDB offers the keys that now have data to the clients
		// blocked in the swapped databases.
		send(1, "BLPOP", "sw", "0"), blocked(1),
		do(0, "RPUSH", "sw", "from0"),
		do(0, "SWAPDB", "0", "1"),
		read(1),
		do(0, "LRANGE", "sw", "0", "-1"),
	}},
	{"other commands that create lists serve", 3, []bstep{
		send(1, "BLPOP", "dst", "0"), blocked(1),
		do(0, "RPUSH", "src", "a", "b"),
		do(0, "LMOVE", "src", "dst", "LEFT", "LEFT"),
		read(1),
		send(1, "BLPOP", "dst", "0"), blocked(1),
		do(0, "RPOPLPUSH", "src", "dst"),
		read(1),
		send(1, "BLPOP", "dst", "0"), blocked(1),
		do(0, "RPUSH", "src", "c", "d"),
		do(0, "LMPOP", "1", "src", "LEFT"),
		do(0, "RENAME", "src", "dst"),
		read(1),
		do(0, "EXISTS", "src", "dst"),
		send(1, "BLPOP", "dst", "0"), blocked(1),
		do(0, "RPUSH", "src", "e"),
		do(0, "COPY", "src", "dst"),
		read(1),
		send(1, "BLPOP", "dst", "0"), blocked(1),
		do(0, "SELECT", "2"),
		do(0, "RPUSH", "dst", "f"),
		do(0, "MOVE", "dst", "0"),
		read(1),
		do(0, "SELECT", "0"),
		do(0, "LRANGE", "src", "0", "-1"),
		send(1, "BLPOP", "dst", "0"), blocked(1),
		do(0, "DEL", "src"),
		do(0, "RPUSH", "dst", "pushed"),
		read(1),
		send(1, "BLPOP", "dst", "0"), blocked(1),
		do(0, "RPUSH", "src", "a"),
		do(0, "RENAMENX", "src", "dst"),
		read(1),
	}},
	{"resp3 replies", 3, []bstep{
		doType(1, "HELLO", "3"),
		send(1, "BLPOP", "k", "0"), blocked(1),
		do(0, "RPUSH", "k", "a", "b", "c", "d"),
		read(1),
		send(1, "BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "2"),
		read(1),
		send(1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0"),
		read(1),
		send(1, "BLMPOP", "0", "1", "k2", "RIGHT", "COUNT", "2"), blocked(1),
		do(0, "RPUSH", "k2", "x"),
		read(1),
	}},
	{"clients of other types on the same key", 4, []bstep{
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		send(2, "BLPOP", "k", "0"), blocked(2),
		send(3, "XREAD", "BLOCK", "0", "STREAMS", "k", "$"), blocked(3),
		do(0, "RPUSH", "k", "a"),
		read(2), quiet(1), quiet(3),
		do(0, "DEL", "k"),
		do(0, "ZADD", "k", "1", "m"),
		read(1), quiet(3),
	}},
	{"keyspace events", 4, []bstep{
		do(0, "CONFIG", "SET", "notify-keyspace-events", "KEA"),
		do(3, "PSUBSCRIBE", "__key*__:*"),
		do(0, "RPUSH", "l", "a", "b", "c", "d"),
		do(0, "LPUSH", "l", "z"),
		do(0, "LPUSHX", "nokey", "z"),
		do(0, "RPUSHX", "l", "y"),
		do(0, "LPOP", "l"),
		do(0, "RPOP", "l", "2"),
		do(0, "LSET", "l", "0", "A"),
		do(0, "LINSERT", "l", "BEFORE", "A", "B"),
		do(0, "LINSERT", "l", "BEFORE", "nothere", "B"),
		do(0, "LREM", "l", "0", "nothere"),
		do(0, "LREM", "l", "1", "B"),
		do(0, "LTRIM", "l", "0", "-1"),
		do(0, "LMOVE", "l", "m", "LEFT", "RIGHT"),
		do(0, "RPOPLPUSH", "m", "m"),
		do(0, "LMPOP", "2", "x", "l", "LEFT", "COUNT", "10"),
		do(0, "LMOVE", "m", "m", "LEFT", "LEFT"),
		do(0, "LTRIM", "m", "1", "0"),
		do(0, "RPUSH", "p", "1"),
		do(0, "RPOP", "p"),
		drain(3),
		send(1, "BLPOP", "q", "0"), blocked(1),
		send(2, "BLMOVE", "q", "r", "RIGHT", "LEFT", "0"), blocked(2),
		do(0, "RPUSH", "q", "1", "2", "3"),
		read(1), read(2),
		send(1, "BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5"),
		read(1),
		drain(3),
		do(0, "CONFIG", "SET", "notify-keyspace-events", ""),
	}},
}
