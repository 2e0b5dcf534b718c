package difftest

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// smember draws a set member: mostly small integers (intsets), some wide
// ones (intset width upgrades) and some strings (conversions).
func smember(r *rand.Rand) string {
	switch n := r.IntN(40); {
	case n < 32:
		return strconv.Itoa(r.IntN(12))
	case n < 36:
		return []string{"-1", "-40000", "100000", "5000000000", "-9223372036854775808", "01", "+1", "1.0"}[r.IntN(8)]
	default:
		return []string{"a", "b", "c", "", "a b"}[r.IntN(5)]
	}
}

func setKeys(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = key(r)
	}
	return out
}

// setGens exercise sets on the shared key space. SPOP with a count below
// the size and SPOP without a count remove random members, which would make
// the two servers' contents diverge: on the shared keys SPOP only pops
// everything (or nothing); random pops go to the dedicated key "sp", whose
// contents are compared only through counts and the encoding, which depend
// on counts alone because its members are all integers.
var setGens = []gen{
	// Strings (SET) take keys over for good: free them now and then.
	{40, nil, func(r *rand.Rand) []string { return []string{"DEL", key(r)} }},
	{40, nil, func(r *rand.Rand) []string {
		args := []string{"SADD", key(r)}
		for i := 1 + r.IntN(3); i > 0; i-- {
			args = append(args, smember(r))
		}
		return args
	}},
	{4, nil, func(r *rand.Rand) []string {
		args := []string{"SADD", key(r)}
		for i := 5 + r.IntN(15); i > 0; i-- {
			args = append(args, strconv.Itoa(r.IntN(40)))
		}
		return args
	}},
	{24, nil, func(r *rand.Rand) []string {
		args := []string{"SREM", key(r)}
		for i := 1 + r.IntN(3); i > 0; i-- {
			args = append(args, smember(r))
		}
		return args
	}},
	{16, nil, func(r *rand.Rand) []string { return []string{"SISMEMBER", key(r), smember(r)} }},
	{8, nil, func(r *rand.Rand) []string { return []string{"SMISMEMBER", key(r), smember(r), smember(r)} }},
	{12, nil, func(r *rand.Rand) []string { return []string{"SCARD", key(r)} }},
	{12, []string{"sort"}, func(r *rand.Rand) []string { return []string{"SMEMBERS", key(r)} }},
	{4, []string{"type"}, func(r *rand.Rand) []string { return []string{"SRANDMEMBER", key(r)} }},
	{8, []string{"len"}, func(r *rand.Rand) []string { return []string{"SRANDMEMBER", key(r), randCount(r)} }},
	{4, []string{"sort"}, func(r *rand.Rand) []string { return []string{"SRANDMEMBER", key(r), "100"} }},
	{12, nil, func(r *rand.Rand) []string { return []string{"SMOVE", key(r), key(r), smember(r)} }},
	{8, []string{"sort"}, func(r *rand.Rand) []string { return append([]string{"SINTER"}, setKeys(r, 1+r.IntN(3))...) }},
	{8, nil, func(r *rand.Rand) []string {
		n := 1 + r.IntN(3)
		args := append([]string{"SINTERCARD", strconv.Itoa(n)}, setKeys(r, n)...)
		if r.IntN(2) == 0 {
			args = append(args, "LIMIT", []string{"0", "1", "2", "5", "-1", "x"}[r.IntN(6)])
		}
		if r.IntN(20) == 0 {
			args[1] = []string{"0", "5", "x"}[r.IntN(3)]
		}
		return args
	}},
	{8, nil, func(r *rand.Rand) []string {
		return append([]string{"SINTERSTORE", key(r)}, setKeys(r, 1+r.IntN(3))...)
	}},
	{8, []string{"sort"}, func(r *rand.Rand) []string { return append([]string{"SUNION"}, setKeys(r, 1+r.IntN(3))...) }},
	{8, nil, func(r *rand.Rand) []string {
		return append([]string{"SUNIONSTORE", key(r)}, setKeys(r, 1+r.IntN(3))...)
	}},
	{8, []string{"sort"}, func(r *rand.Rand) []string { return append([]string{"SDIFF"}, setKeys(r, 1+r.IntN(4))...) }},
	{8, nil, func(r *rand.Rand) []string {
		return append([]string{"SDIFFSTORE", key(r)}, setKeys(r, 1+r.IntN(4))...)
	}},
	{8, []string{"sort2"}, func(r *rand.Rand) []string {
		args := []string{"SSCAN", key(r), "0", "COUNT", "1000"}
		if r.IntN(2) == 0 {
			args = append(args, "MATCH", []string{"1*", "?", "[a-b]", "*"}[r.IntN(4)])
		}
		return args
	}},
	{12, nil, func(r *rand.Rand) []string { return []string{"OBJECT", "ENCODING", key(r)} }},
	{4, []string{"sort"}, func(r *rand.Rand) []string {
		return []string{"SPOP", key(r), []string{"0", "1000", "-1", "x"}[r.IntN(4)]}
	}},
	{4, nil, func(r *rand.Rand) []string {
		return []string{"CONFIG", "SET", "set-max-intset-entries", []string{"0", "3", "8", "16", "512"}[r.IntN(5)]}
	}},
	// Random pops on "sp".
	{8, []string{"type"}, func(r *rand.Rand) []string {
		args := []string{"SADD", "sp"}
		for i := 0; i < 20; i++ {
			args = append(args, strconv.Itoa(i))
		}
		return args
	}},
	{12, []string{"len"}, func(r *rand.Rand) []string { return []string{"SPOP", "sp", strconv.Itoa(r.IntN(25))} }},
	{4, []string{"type"}, func(r *rand.Rand) []string { return []string{"SPOP", "sp"} }},
	{4, []string{"len"}, func(r *rand.Rand) []string { return []string{"SRANDMEMBER", "sp", randCount(r)} }},
	{8, nil, func(r *rand.Rand) []string { return []string{"SCARD", "sp"} }},
	{8, nil, func(r *rand.Rand) []string { return []string{"OBJECT", "ENCODING", "sp"} }},
}

func TestRandomSet(t *testing.T) {
	runRandom(t, "set", append(setGens, stringGens[:3]...), *randomN)
}
