package difftest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// listVal draws list elements from a small space, so that LREM, LPOS and
// LINSERT find their pivots, with now and then a long one.
func listVal(r *rand.Rand) string {
	switch r.IntN(12) {
	case 0:
		return strings.Repeat("L", 50+r.IntN(3000))
	case 1:
		return ""
	case 2:
		// Integers (stored as such) and strings that look like them.
		return []string{"-1", "100", "-70000", "9223372036854775807", "-9223372036854775808",
			"9223372036854775808", "01", "-0", "+1", "1.0"}[r.IntN(10)]
	default:
		return []string{"a", "b", "c", "d", "1", "2"}[r.IntN(6)]
	}
}

func listVals(r *rand.Rand, max int) []string {
	n := 1 + r.IntN(max)
	out := make([]string, n)
	for i := range out {
		out[i] = listVal(r)
	}
	return out
}

// listIndex is an index around the size of the lists the test builds.
func listIndex(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return intArg(r)
	default:
		return strconv.Itoa(r.IntN(40) - 20)
	}
}

func listWhere(r *rand.Rand) string {
	return []string{"LEFT", "RIGHT", "left", "right", "middle"}[r.IntN(5)]
}

// listGens exercise every non-blocking list command (and the blocking ones
// on keys that have data or with a tiny timeout) over a small key space.
var listGens = []gen{
	{12, nil, func(r *rand.Rand) []string {
		return append([]string{[]string{"LPUSH", "RPUSH"}[r.IntN(2)], key(r)}, listVals(r, 6)...)
	}},
	{3, nil, func(r *rand.Rand) []string {
		return append([]string{[]string{"LPUSHX", "RPUSHX"}[r.IntN(2)], key(r)}, listVals(r, 3)...)
	}},
	{1, nil, func(r *rand.Rand) []string {
		// Long pushes make lists that span several quicklist nodes.
		args := []string{"RPUSH", key(r)}
		for i := r.IntN(200); i >= 0; i-- {
			args = append(args, strconv.Itoa(r.IntN(10))+strings.Repeat("x", r.IntN(80)))
		}
		return args
	}},
	{6, nil, func(r *rand.Rand) []string {
		args := []string{[]string{"LPOP", "RPOP"}[r.IntN(2)], key(r)}
		if r.IntN(2) == 0 {
			args = append(args, []string{"0", "1", "2", "5", "-1", "x"}[r.IntN(6)])
		}
		return args
	}},
	{4, nil, func(r *rand.Rand) []string { return []string{"LLEN", key(r)} }},
	{6, nil, func(r *rand.Rand) []string { return []string{"LRANGE", key(r), listIndex(r), listIndex(r)} }},
	{4, nil, func(r *rand.Rand) []string { return []string{"LINDEX", key(r), listIndex(r)} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"LSET", key(r), listIndex(r), listVal(r)} }},
	{3, nil, func(r *rand.Rand) []string {
		return []string{"LINSERT", key(r), []string{"BEFORE", "AFTER", "after", "x"}[r.IntN(4)], listVal(r), listVal(r)}
	}},
	{3, nil, func(r *rand.Rand) []string {
		return []string{"LREM", key(r), strconv.Itoa(r.IntN(7) - 3), listVal(r)}
	}},
	{2, nil, func(r *rand.Rand) []string { return []string{"LTRIM", key(r), listIndex(r), listIndex(r)} }},
	{4, nil, func(r *rand.Rand) []string {
		args := []string{"LPOS", key(r), listVal(r)}
		for i := r.IntN(3); i > 0; i-- {
			switch r.IntN(3) {
			case 0:
				args = append(args, "RANK", []string{"1", "2", "-1", "-2", "0", "3"}[r.IntN(6)])
			case 1:
				args = append(args, "COUNT", []string{"0", "1", "2", "-1"}[r.IntN(4)])
			default:
				args = append(args, "MAXLEN", []string{"0", "1", "3", "10", "-1"}[r.IntN(5)])
			}
		}
		return args
	}},
	{4, nil, func(r *rand.Rand) []string { return []string{"LMOVE", key(r), key(r), listWhere(r), listWhere(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"RPOPLPUSH", key(r), key(r)} }},
	{3, nil, func(r *rand.Rand) []string {
		n := 1 + r.IntN(3)
		args := []string{"LMPOP", strconv.Itoa(n)}
		for i := 0; i < n; i++ {
			args = append(args, key(r))
		}
		args = append(args, listWhere(r))
		if r.IntN(2) == 0 {
			args = append(args, "COUNT", []string{"1", "2", "10", "0"}[r.IntN(4)])
		}
		return args
	}},
	{1, nil, func(r *rand.Rand) []string {
		// Blocking pops: served at once when a key has data, else a short
		// timeout (Redis notices it on its next cron tick, ~100ms: keep
		// these rare).
		switch r.IntN(4) {
		case 0:
			return []string{[]string{"BLPOP", "BRPOP"}[r.IntN(2)], key(r), key(r), "0.001"}
		case 1:
			return []string{"BLMOVE", key(r), key(r), listWhere(r), listWhere(r), "0.001"}
		case 2:
			return []string{"BRPOPLPUSH", key(r), key(r), "0.001"}
		default:
			return []string{"BLMPOP", "0.001", "2", key(r), key(r), listWhere(r), "COUNT", "3"}
		}
	}},
	{1, nil, func(r *rand.Rand) []string { return []string{"OBJECT", "ENCODING", key(r)} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"TYPE", key(r)} }},
}

func TestRandomList(t *testing.T) {
	runRandom(t, "list", append(listGens, stringGens[:3]...), *randomN)
}
