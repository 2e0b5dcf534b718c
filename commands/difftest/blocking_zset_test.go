package difftest

import (
	"flag"
	"testing"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// ---------------------------------------------------------------------------
// BZPOPMIN, BZPOPMAX and BZMPOP, differentially, with the scenario runner of
// blocking_list_test.go: several connections block, others write, time out,
// unblock or disconnect, and the transcripts of raw replies from Redis and
// Spinel must be identical.
// ---------------------------------------------------------------------------

func TestBlockingZset(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	for _, sc := range blockingZsetScenarios {
		t.Run(sc.name, func(t *testing.T) {
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

// TestBlockingZsetMixedTypes: clients blocked on one key for different
// types. Redis offers a ready key to each of its blocked clients in turn,
// skipping those waiting for another type (handleClientsBlockedOnKeys
// dispatches on the key's type). Spinel's serveKey (blocking.go) stops at
// the first client whose serve function declines, so a BLPOP client that
// blocked first keeps a later BZPOPMIN client waiting. Skipped until
// blocking.go changes; run with -run MixedTypes -zset.mixed to check.
func TestBlockingZsetMixedTypes(t *testing.T) {
	if !*zsetMixed {
		t.Skip("needs blocking.go's serveKey to skip clients that decline; see the comment")
	}
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	steps := []bstep{
		send(1, "BLPOP", "k", "0"), blocked(1),
		send(2, "BZPOPMIN", "k", "0"), blocked(2),
		do(0, "ZADD", "k", "1", "a"),
		read(2), quiet(1),
		do(0, "RPUSH", "k", "x"),
		read(1),
	}
	want := runBlockingScenario(t, redis.Addr, 3, steps)
	got := runBlockingScenario(t, spinel.Addr, 3, steps)
	for i := range want {
		if i >= len(got) || want[i] != got[i] {
			t.Errorf("transcripts differ:\n redis:  %s\n spinel: %v", want[i], got)
			break
		}
	}
}

var zsetMixed = flag.Bool("zset.mixed", false, "run TestBlockingZsetMixedTypes")

var blockingZsetScenarios = []blockingScenario{
	{"fifo", 4, []bstep{
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		send(2, "BZPOPMAX", "k", "0"), blocked(2),
		send(3, "BZMPOP", "0", "1", "k", "MIN", "COUNT", "2"), blocked(3),
		do(0, "ZADD", "k", "1", "a"),
		read(1), quiet(2), quiet(3), blocked(2),
		do(0, "ZADD", "k", "2", "b", "3", "c", "4", "d", "5", "e"),
		read(2), read(3), blocked(0),
		do(0, "ZRANGE", "k", "0", "-1", "WITHSCORES"),
		// One write serves as many clients as it has elements for.
		send(1, "BZPOPMAX", "j", "0"), blocked(1),
		send(2, "BZPOPMIN", "j", "0"), blocked(2),
		send(3, "BZPOPMIN", "j", "0"), blocked(3),
		do(0, "ZADD", "j", "1.5", "x", "0.1", "y"),
		read(1), read(2), quiet(3),
		do(0, "EXISTS", "j"),
		do(0, "ZADD", "j", "-inf", "z"),
		read(3),
	}},
	{"bzmpop count and deletion", 4, []bstep{
		send(1, "BZMPOP", "0", "1", "k", "MAX", "COUNT", "10"), blocked(1),
		send(2, "BZMPOP", "0", "2", "k", "j", "MIN"), blocked(2),
		do(0, "ZADD", "k", "1", "a", "2", "b", "3", "c"),
		read(1), quiet(2), blocked(1),
		do(0, "EXISTS", "k"),
		do(0, "ZADD", "j", "7", "q"),
		read(2),
		send(1, "BZMPOP", "0", "1", "k", "MIN", "COUNT", "2"), blocked(1),
		send(2, "BZPOPMAX", "k", "0"), blocked(2),
		do(0, "ZADD", "k", "1", "a", "2", "b", "3", "c"),
		read(1), read(2),
		do(0, "EXISTS", "k"),
	}},
	{"several keys", 3, []bstep{
		send(1, "BZPOPMIN", "a", "b", "c", "0"), blocked(1),
		do(0, "ZADD", "c", "1", "x"),
		read(1),
		do(0, "ZADD", "a", "2", "y"),
		do(0, "ZRANGE", "a", "0", "-1"),
		send(1, "BZPOPMAX", "a1", "b1", "0"), blocked(1),
		send(2, "BZPOPMAX", "b1", "a1", "0"), blocked(2),
		do(0, "ZADD", "a1", "1", "m1", "2", "m2"),
		read(1), read(2),
		do(0, "EXISTS", "a1", "b1"),
		send(1, "BZPOPMIN", "d", "d", "e", "0"), blocked(1),
		do(0, "ZADD", "d", "1", "v"),
		read(1), blocked(0),
		// With data the first non-empty key wins, a wrong type before it
		// is an error.
		do(0, "SET", "s1", "x"),
		do(0, "ZADD", "z1", "1", "w"),
		do(0, "BZPOPMIN", "missing", "s1", "z1", "0"),
		do(0, "BZPOPMIN", "missing", "z1", "s1", "0"),
		do(0, "BZMPOP", "0", "3", "missing", "s1", "z1", "MIN"),
	}},
	{"timeouts", 2, []bstep{
		do(1, "BZPOPMIN", "nokey", "0.1"),
		do(1, "BZPOPMAX", "nokey", "other", ".1"),
		do(1, "BZPOPMIN", "nokey", "1e-1"),
		do(1, "BZMPOP", "0.15", "2", "nokey", "other", "MIN"),
		do(1, "BZMPOP", "0.1", "1", "nokey", "MAX", "COUNT", "5"),
		do(1, "BZPOPMAX", "nokey", "0x0.2p0"),
		blocked(0),
		doType(1, "HELLO", "3"),
		do(1, "BZPOPMIN", "nokey", "0.1"),
		do(1, "BZMPOP", "0.1", "1", "nokey", "MIN"),
		// The timer does not serve: data that comes later is left alone.
		do(1, "ZADD", "nokey", "1", "late"),
		do(1, "ZRANGE", "nokey", "0", "-1"),
	}},
	{"resp3 replies", 3, []bstep{
		doType(1, "HELLO", "3"),
		doType(2, "HELLO", "3"),
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		send(2, "BZMPOP", "0", "1", "k", "MAX", "COUNT", "2"), blocked(2),
		do(0, "ZADD", "k", "0.5", "a", "inf", "b", "-2", "c", "3", "d"),
		read(1), read(2),
		do(1, "BZPOPMAX", "k", "0"),
		do(1, "BZMPOP", "0.05", "1", "k", "MIN"),
		do(1, "BZPOPMIN", "k", "0.05"),
		do(0, "ZADD", "k", "-0.25", "neg", "1e20", "big"),
		do(1, "BZMPOP", "0", "1", "k", "MIN", "COUNT", "5"),
	}},
	{"multi exec serves after exec with the final state", 3, []bstep{
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		send(2, "BZPOPMIN", "k", "0"), blocked(2),
		do(0, "MULTI"),
		do(0, "ZADD", "k", "1", "a", "2", "b"),
		do(0, "ZREM", "k", "a"),
		do(0, "ZADD", "k", "3", "c"),
		quiet(1),
		do(0, "EXEC"),
		read(1), read(2),
		do(0, "EXISTS", "k"),
		send(1, "BZPOPMAX", "k", "0"), blocked(1),
		do(0, "MULTI"),
		do(0, "ZADD", "k", "1", "a"),
		do(0, "DEL", "k"),
		do(0, "EXEC"),
		quiet(1), blocked(1),
		do(0, "MULTI"),
		do(0, "ZADD", "k", "1", "a"),
		do(0, "SET", "k", "str"),
		do(0, "EXEC"),
		quiet(1), blocked(1),
		do(0, "DEL", "k"),
		do(0, "ZADD", "k", "9", "finally"),
		read(1),
		// Inside MULTI a blocking command does not block, even on data
		// that arrives later in the same transaction.
		do(2, "MULTI"),
		do(2, "BZPOPMIN", "m", "0"),
		do(2, "ZADD", "m", "1", "x"),
		do(2, "BZPOPMIN", "m", "0"),
		do(2, "BZMPOP", "0", "1", "m", "MIN"),
		do(2, "BZPOPMAX", "none", "0.5"),
		do(2, "EXEC"),
	}},
	{"client unblock", 3, []bstep{
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		unblock(1),
		read(1), blocked(0),
		send(1, "BZMPOP", "0", "1", "k", "MIN"), blocked(1),
		unblock(1, "TIMEOUT"),
		read(1),
		send(1, "BZPOPMAX", "k", "0"), blocked(1),
		unblock(1, "ERROR"),
		read(1),
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		do(0, "ZADD", "k", "1", "v"),
		read(1),
		// Pipelined commands after the unblocked one run.
		pipe(1, []string{"BZPOPMIN", "k", "0"}, []string{"PING"}, []string{"ECHO", "after"}),
		blocked(1), quiet(1),
		unblock(1, "ERROR"),
		read(1), read(1), read(1),
		doType(1, "HELLO", "3"),
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		unblock(1),
		read(1),
	}},
	{"disconnect while blocked", 3, []bstep{
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		send(2, "BZMPOP", "0", "1", "k", "MIN", "COUNT", "5"), blocked(2),
		closeConn(1), blocked(1),
		closeConn(2), blocked(0),
		do(0, "ZADD", "k", "1", "a", "2", "b"),
		do(0, "ZRANGE", "k", "0", "-1"),
	}},
	{"wrong types", 3, []bstep{
		// A key that gets another type keeps its clients blocked.
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		do(0, "SET", "k", "str"),
		quiet(1), blocked(1),
		do(0, "DEL", "k"),
		do(0, "SADD", "k", "m"),
		quiet(1),
		do(0, "DEL", "k"),
		do(0, "ZADD", "k", "1", "ok"),
		read(1),
	}},
	{"pipelined commands wait", 2, []bstep{
		pipe(1, []string{"BZPOPMIN", "k", "0"}, []string{"ZCARD", "k"}, []string{"ZADD", "k", "5", "mine"}, []string{"PING"}),
		blocked(1), quiet(1),
		do(0, "ZCARD", "k"),
		do(0, "ZADD", "k", "1", "a", "2", "b"),
		read(1), read(1), read(1), read(1),
		do(0, "ZRANGE", "k", "0", "-1", "WITHSCORES"),
		pipe(1, []string{"BZPOPMIN", "k", "0"}, []string{"BZPOPMIN", "k", "0"}, []string{"BZPOPMIN", "k", "0.1"}, []string{"ECHO", "end"}),
		read(1), read(1), read(1), read(1),
	}},
	{"databases", 3, []bstep{
		do(1, "SELECT", "1"),
		send(1, "BZPOPMIN", "k", "0"), blocked(1),
		do(0, "ZADD", "k", "1", "db0"),
		quiet(1),
		do(0, "SELECT", "1"),
		do(0, "ZADD", "k", "2", "db1"),
		read(1),
		do(0, "SELECT", "0"),
		do(0, "ZRANGE", "k", "0", "-1"),
		send(1, "BZPOPMAX", "sw", "0"), blocked(1),
		do(0, "ZADD", "sw", "1", "from0"),
		do(0, "SWAPDB", "0", "1"),
		read(1),
	}},
	{"other commands that create sorted sets serve", 3, []bstep{
		do(0, "ZADD", "src", "1", "a", "2", "b", "3", "c"),
		send(1, "BZPOPMIN", "dst", "0"), blocked(1),
		do(0, "ZUNIONSTORE", "dst", "1", "src"),
		read(1),
		do(0, "DEL", "dst"),
		send(1, "BZPOPMAX", "dst", "0"), blocked(1),
		do(0, "ZRANGESTORE", "dst", "src", "0", "0"),
		read(1),
		send(1, "BZPOPMIN", "dst", "0"), blocked(1),
		do(0, "ZINTERSTORE", "dst", "2", "src", "src"),
		read(1),
		do(0, "DEL", "dst"),
		send(1, "BZPOPMIN", "dst", "0"), blocked(1),
		do(0, "ZDIFFSTORE", "dst", "1", "src"),
		read(1),
		do(0, "DEL", "dst"),
		send(1, "BZPOPMIN", "dst", "0"), blocked(1),
		do(0, "ZINCRBY", "dst", "5", "inc"),
		read(1),
		send(1, "BZPOPMIN", "dst", "0"), blocked(1),
		do(0, "ZADD", "dst", "INCR", "6", "inc2"),
		read(1),
		send(1, "BZPOPMIN", "dst", "0"), blocked(1),
		do(0, "COPY", "src", "dst"),
		read(1),
		do(0, "DEL", "dst"),
		send(1, "BZPOPMIN", "dst", "0"), blocked(1),
		do(0, "RENAME", "src", "dst"),
		read(1),
		do(0, "ZRANGE", "dst", "0", "-1"),
		// Writes that add nothing do not serve.
		send(1, "BZPOPMIN", "none", "0"), blocked(1),
		do(0, "ZADD", "none", "XX", "1", "a"),
		do(0, "ZINTERSTORE", "none", "2", "dst", "missing"),
		quiet(1),
		do(0, "ZADD", "none", "1", "a"),
		read(1),
	}},
}
