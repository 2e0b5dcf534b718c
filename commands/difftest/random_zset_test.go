package difftest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// Random sorted set commands over the shared small key space, with a small
// member space so that commands collide, scores that include infinities and
// inexact decimals, and occasional threshold changes so that listpack ->
// skiplist conversions happen at random points.

func zmember(r *rand.Rand) string {
	switch r.IntN(12) {
	case 0:
		return strconv.Itoa(r.IntN(5)) // integer-looking members
	case 1:
		return strings.Repeat("L", 60+r.IntN(10)) // around zset-max-listpack-value
	case 2:
		return ""
	default:
		return "m" + strconv.Itoa(r.IntN(10))
	}
}

func zscore(r *rand.Rand) string {
	switch r.IntN(14) {
	case 0:
		return []string{"inf", "-inf", "+inf"}[r.IntN(3)]
	case 1:
		return []string{"0.1", "0.2", "-0.3", "1e300", "-1e300", "1.5e-5"}[r.IntN(6)]
	case 2:
		return []string{"abc", "nan", "", "1e400", "0x10"}[r.IntN(5)]
	case 3:
		return strconv.FormatFloat(r.Float64()*20-10, 'f', r.IntN(4), 64)
	default:
		return strconv.Itoa(r.IntN(10) - 3)
	}
}

func zbound(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return []string{"-inf", "+inf", "inf", "(-inf", "(+inf"}[r.IntN(5)]
	case 1:
		return []string{"abc", "(", "", "((1", "nan"}[r.IntN(5)]
	case 2:
		return "(" + strconv.Itoa(r.IntN(10)-3)
	default:
		return strconv.Itoa(r.IntN(10) - 3)
	}
}

func zlexBound(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return []string{"-", "+"}[r.IntN(2)]
	case 1:
		return []string{"a", "", "(", "[", "-x"}[r.IntN(5)]
	case 2, 3, 4:
		return "[" + zmember(r)
	default:
		return "(" + zmember(r)
	}
}

// lkey returns one of the keys reserved for the lexicographic commands,
// whose members all have score 0: Redis's lex ranges are only defined on
// such sets (on a skiplist with mixed scores the result depends on the
// random node levels).
func lkey(r *rand.Rand) string { return []string{"l0", "l1", "l2"}[r.IntN(3)] }

func zindex(r *rand.Rand) string {
	if r.IntN(15) == 0 {
		return intArg(r)
	}
	return strconv.Itoa(r.IntN(16) - 6)
}

// zkeys returns n (1..3) keys and n as a string.
func zkeys(r *rand.Rand) []string {
	n := 1 + r.IntN(3)
	out := []string{strconv.Itoa(n)}
	for i := 0; i < n; i++ {
		out = append(out, key(r))
	}
	return out
}

func zrangeOpts(r *rand.Rand, withScores bool) []string {
	var out []string
	if withScores && r.IntN(2) == 0 {
		out = append(out, "WITHSCORES")
	}
	if r.IntN(3) == 0 {
		out = append(out, "LIMIT", strconv.Itoa(r.IntN(6)-1), strconv.Itoa(r.IntN(6)-1))
	}
	return out
}

var zsetGens = []gen{
	{14, nil, func(r *rand.Rand) []string {
		args := []string{"ZADD", key(r)}
		opts := []string{"NX", "XX", "GT", "LT", "CH", "INCR"}
		for i := r.IntN(3); i > 0; i-- {
			args = append(args, opts[r.IntN(len(opts))])
		}
		for i := 1 + r.IntN(4); i > 0; i-- {
			args = append(args, zscore(r), zmember(r))
		}
		return args
	}},
	{5, nil, func(r *rand.Rand) []string { return []string{"ZINCRBY", key(r), zscore(r), zmember(r)} }},
	{5, nil, func(r *rand.Rand) []string { return []string{"ZREM", key(r), zmember(r), zmember(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"ZCARD", key(r)} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"ZSCORE", key(r), zmember(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"ZMSCORE", key(r), zmember(r), zmember(r)} }},
	{3, nil, func(r *rand.Rand) []string {
		return []string{[]string{"ZRANK", "ZREVRANK"}[r.IntN(2)], key(r), zmember(r)}
	}},
	{3, nil, func(r *rand.Rand) []string { return []string{"ZCOUNT", key(r), zbound(r), zbound(r)} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"ZLEXCOUNT", lkey(r), zlexBound(r), zlexBound(r)} }},
	{6, nil, func(r *rand.Rand) []string {
		args := []string{"ZRANGE", key(r)}
		switch r.IntN(3) {
		case 0:
			args = append(args, zindex(r), zindex(r))
		case 1:
			args = append(args, zbound(r), zbound(r), "BYSCORE")
		default:
			args = []string{"ZRANGE", lkey(r), zlexBound(r), zlexBound(r), "BYLEX"}
		}
		if r.IntN(2) == 0 {
			args = append(args, "REV")
		}
		return append(args, zrangeOpts(r, true)...)
	}},
	{3, nil, func(r *rand.Rand) []string {
		cmd := []string{"ZRANGEBYSCORE", "ZREVRANGEBYSCORE"}[r.IntN(2)]
		return append([]string{cmd, key(r), zbound(r), zbound(r)}, zrangeOpts(r, true)...)
	}},
	{3, nil, func(r *rand.Rand) []string {
		cmd := []string{"ZRANGEBYLEX", "ZREVRANGEBYLEX"}[r.IntN(2)]
		return append([]string{cmd, lkey(r), zlexBound(r), zlexBound(r)}, zrangeOpts(r, r.IntN(8) == 0)...)
	}},
	{2, nil, func(r *rand.Rand) []string {
		args := []string{"ZREVRANGE", key(r), zindex(r), zindex(r)}
		if r.IntN(2) == 0 {
			args = append(args, "WITHSCORES")
		}
		return args
	}},
	{3, nil, func(r *rand.Rand) []string {
		args := []string{"ZRANGESTORE", key(r), key(r)}
		switch r.IntN(3) {
		case 0:
			args = append(args, zindex(r), zindex(r))
		case 1:
			args = append(args, zbound(r), zbound(r), "BYSCORE")
		default:
			args = []string{"ZRANGESTORE", lkey(r), lkey(r), zlexBound(r), zlexBound(r), "BYLEX"}
		}
		if r.IntN(2) == 0 {
			args = append(args, "REV")
		}
		return append(args, zrangeOpts(r, false)...)
	}},
	{2, nil, func(r *rand.Rand) []string { return []string{"ZREMRANGEBYRANK", key(r), zindex(r), zindex(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"ZREMRANGEBYSCORE", key(r), zbound(r), zbound(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"ZREMRANGEBYLEX", lkey(r), zlexBound(r), zlexBound(r)} }},
	{6, nil, func(r *rand.Rand) []string {
		args := []string{"ZADD", lkey(r)}
		for i := 1 + r.IntN(4); i > 0; i-- {
			args = append(args, "0", zmember(r))
		}
		return args
	}},
	{2, nil, func(r *rand.Rand) []string { return []string{"ZREM", lkey(r), zmember(r), zmember(r)} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"ZPOPMIN", lkey(r), strconv.Itoa(r.IntN(3))} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"OBJECT", "ENCODING", lkey(r)} }},
	{4, nil, func(r *rand.Rand) []string {
		args := []string{[]string{"ZPOPMIN", "ZPOPMAX"}[r.IntN(2)], key(r)}
		if r.IntN(2) == 0 {
			args = append(args, strconv.Itoa(r.IntN(5)-1))
		}
		return args
	}},
	{2, nil, func(r *rand.Rand) []string {
		args := append([]string{"ZMPOP"}, zkeys(r)...)
		args = append(args, []string{"MIN", "MAX"}[r.IntN(2)])
		if r.IntN(2) == 0 {
			args = append(args, "COUNT", strconv.Itoa(r.IntN(5)))
		}
		return args
	}},
	{2, nil, func(r *rand.Rand) []string {
		// With data these pop at once; on missing keys they time out at once
		// too, which keeps the sequence quick.
		if r.IntN(2) == 0 {
			return []string{[]string{"BZPOPMIN", "BZPOPMAX"}[r.IntN(2)], key(r), key(r), "0.01"}
		}
		args := append([]string{"BZMPOP", "0.01"}, zkeys(r)...)
		return append(args, []string{"MIN", "MAX"}[r.IntN(2)], "COUNT", strconv.Itoa(1+r.IntN(3)))
	}},
	{2, nil, func(r *rand.Rand) []string {
		// Counts at least the size are deterministic (the whole set).
		args := []string{"ZRANDMEMBER", key(r), strconv.Itoa(100 + r.IntN(3))}
		if r.IntN(2) == 0 {
			args = append(args, "WITHSCORES")
		}
		return args
	}},
	{1, []string{"len"}, func(r *rand.Rand) []string {
		return []string{"ZRANDMEMBER", key(r), strconv.Itoa(r.IntN(9) - 4), "WITHSCORES"}[:3+r.IntN(2)]
	}},
	{4, nil, func(r *rand.Rand) []string {
		cmd := []string{"ZUNION", "ZINTER", "ZDIFF"}[r.IntN(3)]
		args := append([]string{cmd}, zkeys(r)...)
		n, _ := strconv.Atoi(args[1])
		if cmd != "ZDIFF" && r.IntN(2) == 0 {
			args = append(args, "WEIGHTS")
			for i := 0; i < n; i++ {
				args = append(args, []string{"1", "2", "-1", "0", "0.5", "inf"}[r.IntN(6)])
			}
		}
		if cmd != "ZDIFF" && r.IntN(2) == 0 {
			args = append(args, "AGGREGATE", []string{"SUM", "MIN", "MAX"}[r.IntN(3)])
		}
		if r.IntN(2) == 0 {
			args = append(args, "WITHSCORES")
		}
		return args
	}},
	{3, nil, func(r *rand.Rand) []string {
		cmd := []string{"ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"}[r.IntN(3)]
		args := append([]string{cmd, key(r)}, zkeys(r)...)
		if cmd != "ZDIFFSTORE" && r.IntN(2) == 0 {
			args = append(args, "AGGREGATE", []string{"SUM", "MIN", "MAX"}[r.IntN(3)])
		}
		return args
	}},
	{1, nil, func(r *rand.Rand) []string {
		args := append([]string{"ZINTERCARD"}, zkeys(r)...)
		if r.IntN(2) == 0 {
			args = append(args, "LIMIT", strconv.Itoa(r.IntN(3)))
		}
		return args
	}},
	{2, []string{"sort2"}, func(r *rand.Rand) []string {
		args := []string{"ZSCAN", key(r), "0", "COUNT", "1000"}
		if r.IntN(3) == 0 {
			args = append(args, "MATCH", "m[0-4]*")
		}
		return args
	}},
	{2, nil, func(r *rand.Rand) []string { return []string{"SADD", key(r), zmember(r), zmember(r)} }},
	{6, nil, func(r *rand.Rand) []string { return []string{"DEL", key(r)} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"OBJECT", "ENCODING", key(r)} }},
	{1, []string{"type"}, func(r *rand.Rand) []string {
		// Switch protocols: the replies after it are compared in RESP3 or
		// RESP2 (HELLO's own reply holds the client id, so only its type).
		return []string{"HELLO", []string{"2", "3"}[r.IntN(2)]}
	}},
	{1, nil, func(r *rand.Rand) []string {
		return []string{"CONFIG", "SET", "zset-max-listpack-entries", []string{"2", "4", "8", "128"}[r.IntN(4)]}
	}},
}

// TestRandomZset mixes in the first string generators, at a low weight so
// that keys spend most of their life as sorted sets, to hit WRONGTYPE.
func TestRandomZset(t *testing.T) {
	gens := append([]gen(nil), zsetGens...)
	for _, g := range stringGens[:3] {
		g.weight = 1
		gens = append(gens, g)
	}
	runRandom(t, "zset", gens, *randomN)
}

// TestZsetKeyspaceEvents compares the keyspace notifications (names,
// classes, order) that the sorted set commands publish.
func TestZsetKeyspaceEvents(t *testing.T) {
	cmds := [][]string{
		{"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
		{"ZADD", "z", "NX", "1", "a"},
		{"ZADD", "z", "10", "a"},
		{"ZADD", "z", "XX", "1", "nothere"},
		{"ZINCRBY", "z", "1", "b"},
		{"ZADD", "z", "INCR", "1", "c"},
		{"ZREM", "z", "nothere"},
		{"ZREM", "z", "a"},
		{"ZREMRANGEBYRANK", "z", "0", "0"},
		{"ZREMRANGEBYSCORE", "z", "100", "200"},
		{"ZREMRANGEBYSCORE", "z", "0", "3"},
		{"ZADD", "z", "0", "x", "0", "y"},
		{"ZREMRANGEBYLEX", "z", "[x", "[x"},
		{"ZPOPMIN", "z"},
		{"ZPOPMAX", "z", "1"},
		{"ZADD", "z", "1", "a", "2", "b"},
		{"ZMPOP", "1", "z", "MIN", "COUNT", "10"},
		{"ZADD", "z", "1", "a", "2", "b"},
		{"BZPOPMIN", "z", "0"},
		{"BZMPOP", "0", "1", "z", "MAX"},
		{"ZADD", "z", "1", "a", "2", "b"},
		{"ZRANGESTORE", "d", "z", "0", "-1"},
		{"ZRANGESTORE", "d", "z", "0", "0"},
		{"ZRANGESTORE", "d", "z", "5", "6"},
		{"SET", "s", "v"},
		{"ZRANGESTORE", "s", "z", "0", "0"},
		{"ZUNIONSTORE", "u", "1", "z"},
		{"ZINTERSTORE", "u", "2", "z", "z"},
		{"ZDIFFSTORE", "u", "2", "z", "z"},
		{"ZDIFFSTORE", "u", "1", "z"},
		{"ZINTERSTORE", "u", "2", "z", "missing"},
		{"ZREM", "z", "a", "b"},
		{"ZADD", "z", "1", "a"},
		{"ZREMRANGEBYRANK", "z", "0", "-1"},
		{"ZADD", "z", "1", "a"},
		{"ZREMRANGEBYLEX", "z", "-", "+"},
	}
	transcript := func(addr string) []string {
		ctl := servertest.Dial(t, addr)
		ctl.Do("FLUSHALL")
		ctl.Do("CONFIG", "SET", "notify-keyspace-events", "KEAn")
		defer ctl.Do("CONFIG", "SET", "notify-keyspace-events", "")
		sub := servertest.Dial(t, addr)
		sub.Do("PSUBSCRIBE", "__key*__:*")
		sub.Do("SUBSCRIBE", "marker")
		var out []string
		for _, cmd := range cmds {
			ctl.Do(cmd...)
			// Everything the command published comes before the marker.
			ctl.Do("PUBLISH", "marker", "end")
			out = append(out, strings.Join(cmd, " "))
			for {
				msg := string(sub.ReadReply())
				// *4 pmessage pattern channel message: keep channel and
				// message; *3 message marker end closes the command.
				parts := strings.Split(msg, "\r\n")
				if strings.HasPrefix(msg, "*3") {
					break
				}
				out = append(out, "  "+parts[6]+" "+parts[8])
			}
		}
		return out
	}
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	want, got := transcript(redis.Addr), transcript(spinel.Addr)
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Fatalf("events differ at line %d:\n redis:  %q\n spinel: %q\nredis's events:\n%s", i, w, g, strings.Join(want, "\n"))
		}
	}
}

// TestZscanFullIteration walks big sorted sets (skiplist encoding) with
// ZSCAN until the cursor returns to 0: the cursors differ from Redis's (the
// hash functions differ) but every member must come back, with the same
// score text, and MATCH must filter the same way.
func TestZscanFullIteration(t *testing.T) {
	collect := func(addr string, match string) map[string]string {
		c := servertest.Dial(t, addr)
		c.Do("DEL", "big")
		for i := 0; i < 500; i++ {
			score := strconv.FormatFloat(float64(i)/7, 'g', -1, 64)
			if i%50 == 0 {
				score = []string{"inf", "-inf", "1152921504606846976", "-0"}[i/50%4]
			}
			c.Do("ZADD", "big", score, "m"+strconv.Itoa(i))
		}
		out := map[string]string{}
		cursor := "0"
		for n := 0; ; n++ {
			args := []string{"ZSCAN", "big", cursor, "COUNT", "7"}
			if match != "" {
				args = append(args, "MATCH", match)
			}
			v, _ := parseValue(c.Do(args...))
			cursor = strings.Split(string(v.children[0].head), "\r\n")[1]
			items := v.children[1].children
			for i := 0; i+1 < len(items); i += 2 {
				out[string(items[i].bytes())] = string(items[i+1].bytes())
			}
			if cursor == "0" {
				break
			}
			if n > 10000 {
				t.Fatal("ZSCAN does not terminate")
			}
		}
		return out
	}
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	for _, match := range []string{"", "m1*"} {
		want, got := collect(redis.Addr, match), collect(spinel.Addr, match)
		if len(want) == 0 || len(want) != len(got) {
			t.Fatalf("MATCH %q: redis returned %d members, spinel %d", match, len(want), len(got))
		}
		for m, s := range want {
			if got[m] != s {
				t.Errorf("MATCH %q: member %q: redis score %q, spinel %q", match, m, s, got[m])
			}
		}
	}
}
