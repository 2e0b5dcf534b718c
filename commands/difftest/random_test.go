package difftest

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

var (
	seed     = flag.Uint64("seed", 20261123, "seed of the randomized differential test")
	randomN  = flag.Int("random.n", 4000, "commands per randomized sequence")
	randKeys = []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}
)

// gen builds one random command; mods are the normalisation modifiers of the
// script format (see script_test.go).
type gen struct {
	weight int
	mods   []string
	build  func(r *rand.Rand) []string
}

func key(r *rand.Rand) string { return randKeys[r.IntN(len(randKeys))] }

func intArg(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return strconv.FormatInt(r.Int64N(1<<62)-(1<<61), 10)
	case 1:
		return "-" + strconv.Itoa(r.IntN(100))
	case 2:
		return []string{"9223372036854775807", "-9223372036854775808", "0", "x", "1.5", ""}[r.IntN(6)]
	default:
		return strconv.Itoa(r.IntN(20) - 5)
	}
}

func valArg(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return intArg(r)
	case 1:
		return strconv.FormatFloat(r.Float64()*100-50, 'f', r.IntN(5), 64)
	case 2:
		return strings.Repeat("x", r.IntN(60))
	default:
		return []string{"a", "hello", "", "a b", "v1", "v2", "0.5"}[r.IntN(7)]
	}
}

// stringGens exercise strings and generic key commands over a small key
// space, so that commands hit existing keys, missing keys and wrong types.
var stringGens = []gen{
	{10, nil, func(r *rand.Rand) []string { return []string{"SET", key(r), valArg(r)} }},
	{3, nil, func(r *rand.Rand) []string {
		opts := [][]string{{"NX"}, {"XX"}, {"GET"}, {"EX", "1000"}, {"PX", "1000000"}, {"KEEPTTL"}, {"EX", intArg(r)}}
		args := []string{"SET", key(r), valArg(r)}
		for i := r.IntN(3); i > 0; i-- {
			args = append(args, opts[r.IntN(len(opts))]...)
		}
		return args
	}},
	{10, nil, func(r *rand.Rand) []string { return []string{"GET", key(r)} }},
	{4, nil, func(r *rand.Rand) []string { return []string{"INCR", key(r)} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"INCRBY", key(r), intArg(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"DECRBY", key(r), intArg(r)} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"INCRBYFLOAT", key(r), valArg(r)} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"APPEND", key(r), valArg(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"STRLEN", key(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"GETRANGE", key(r), intArg(r), intArg(r)} }},
	{2, nil, func(r *rand.Rand) []string {
		return []string{"SETRANGE", key(r), strconv.Itoa(r.IntN(30)), valArg(r)}
	}},
	{2, nil, func(r *rand.Rand) []string { return []string{"MGET", key(r), key(r), key(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"MSET", key(r), valArg(r), key(r), valArg(r)} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"MSETNX", key(r), valArg(r), key(r), valArg(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"SETNX", key(r), valArg(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"GETSET", key(r), valArg(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"GETDEL", key(r)} }},
	{2, nil, func(r *rand.Rand) []string {
		return []string{"GETEX", key(r), []string{"PERSIST", "EX", "PX"}[r.IntN(3)], "100000"}[:2+r.IntN(3)]
	}},
	{3, nil, func(r *rand.Rand) []string { return []string{"DEL", key(r), key(r)} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"EXISTS", key(r), key(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"TYPE", key(r)} }},
	{3, nil, func(r *rand.Rand) []string {
		args := []string{"EXPIRE", key(r), strconv.Itoa(1000 + r.IntN(1000))}
		if r.IntN(2) == 0 {
			args = append(args, []string{"NX", "XX", "GT", "LT"}[r.IntN(4)])
		}
		return args
	}},
	{3, nil, func(r *rand.Rand) []string { return []string{"TTL", key(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"PERSIST", key(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"RENAME", key(r), key(r)} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"RENAMENX", key(r), key(r)} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"COPY", key(r), key(r), "REPLACE"}[:3+r.IntN(2)] }},
	{1, nil, func(r *rand.Rand) []string { return []string{"LCS", key(r), key(r)} }},
	{1, []string{"sort"}, func(r *rand.Rand) []string { return []string{"KEYS", "k[0-3]"} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"DBSIZE"} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"OBJECT", "ENCODING", key(r)} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"SORT", key(r), "ALPHA", "LIMIT", "0", "5"} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"SORT", key(r), "DESC"} }},
}

// runRandom sends n commands drawn from gens to both servers and compares
// the replies.
func runRandom(t *testing.T, name string, gens []gen, n int) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	rc := servertest.Dial(t, redis.Addr)
	sc := servertest.Dial(t, spinel.Addr)
	total := 0
	for _, g := range gens {
		total += g.weight
	}
	r := rand.New(rand.NewPCG(*seed, uint64(len(name))))
	failures := 0
	var history [][]string
	for i := 0; i < n; i++ {
		pick := r.IntN(total)
		var g gen
		for _, g = range gens {
			if pick < g.weight {
				break
			}
			pick -= g.weight
		}
		args := g.build(r)
		history = append(history, args)
		want := normalize(rc.Do(args...), g.mods)
		got := normalize(sc.Do(args...), g.mods)
		if !bytes.Equal(want, got) {
			failures++
			t.Errorf("%s seed=%d step %d: %q\n redis:  %q\n spinel: %q\n%s", name, *seed, i, args, want, got, related(history, args))
			if failures >= 10 {
				t.Fatalf("too many failures (rerun with -seed=%d)", *seed)
			}
		}
	}
}

func TestRandomStrings(t *testing.T) { runRandom(t, "strings", stringGens, *randomN) }

// related lists the recent commands that touched the keys of args, to make a
// failure readable.
func related(history [][]string, args []string) string {
	var out []string
	for i := len(history) - 2; i >= 0 && len(out) < 12; i-- {
		for _, a := range history[i][1:] {
			if slicesContains(args[1:], a) && strings.HasPrefix(a, "k") {
				out = append(out, fmt.Sprintf("  step %d: %q", i, history[i]))
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
