package difftest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// hfield draws a hash field from a small space, so that commands collide,
// with now and then one longer than hash-max-listpack-value.
func hfield(r *rand.Rand) string {
	switch r.IntN(80) {
	case 0:
		return strings.Repeat("f", 60+r.IntN(10))
	case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10:
		return strconv.Itoa(r.IntN(5))
	default:
		return "f" + strconv.Itoa(r.IntN(8))
	}
}

// hval draws a hash value: numbers (for HINCRBY*), words, and now and then
// one longer than hash-max-listpack-value.
func hval(r *rand.Rand) string {
	if r.IntN(80) == 0 {
		return strings.Repeat("v", 60+r.IntN(10))
	}
	return valArg(r)
}

// randCount is a HRANDFIELD/SRANDMEMBER count: small, either sign, or one of
// the values that make Redis reply with an error.
func randCount(r *rand.Rand) string {
	if r.IntN(10) == 0 {
		return []string{"x", "", "1.5", "-9223372036854775808", "9223372036854775807", "0"}[r.IntN(6)]
	}
	return strconv.Itoa(r.IntN(41) - 20)
}

var hashGens = []gen{
	// Strings (SET) take keys over for good: free them now and then.
	{40, nil, func(r *rand.Rand) []string { return []string{"DEL", key(r)} }},
	{40, nil, func(r *rand.Rand) []string {
		args := []string{"HSET", key(r)}
		for i := 1 + r.IntN(3); i > 0; i-- {
			args = append(args, hfield(r), hval(r))
		}
		if r.IntN(20) == 0 {
			args = args[:len(args)-1] // odd: arity error
		}
		return args
	}},
	{8, nil, func(r *rand.Rand) []string { return []string{"HMSET", key(r), hfield(r), hval(r), hfield(r), hval(r)} }},
	{12, nil, func(r *rand.Rand) []string { return []string{"HSETNX", key(r), hfield(r), hval(r)} }},
	{24, nil, func(r *rand.Rand) []string { return []string{"HGET", key(r), hfield(r)} }},
	{12, nil, func(r *rand.Rand) []string { return []string{"HMGET", key(r), hfield(r), hfield(r), hfield(r)} }},
	{20, nil, func(r *rand.Rand) []string {
		args := []string{"HDEL", key(r)}
		for i := 1 + r.IntN(3); i > 0; i-- {
			args = append(args, hfield(r))
		}
		return args
	}},
	{12, nil, func(r *rand.Rand) []string { return []string{"HEXISTS", key(r), hfield(r)} }},
	{12, nil, func(r *rand.Rand) []string { return []string{"HLEN", key(r)} }},
	{8, nil, func(r *rand.Rand) []string { return []string{"HSTRLEN", key(r), hfield(r)} }},
	{8, []string{"sort"}, func(r *rand.Rand) []string { return []string{"HKEYS", key(r)} }},
	{8, []string{"sort"}, func(r *rand.Rand) []string { return []string{"HVALS", key(r)} }},
	{12, []string{"sortpairs"}, func(r *rand.Rand) []string { return []string{"HGETALL", key(r)} }},
	{16, nil, func(r *rand.Rand) []string { return []string{"HINCRBY", key(r), hfield(r), intArg(r)} }},
	{12, nil, func(r *rand.Rand) []string { return []string{"HINCRBYFLOAT", key(r), hfield(r), valArg(r)} }},
	{8, []string{"type"}, func(r *rand.Rand) []string { return []string{"HRANDFIELD", key(r)} }},
	{12, []string{"len"}, func(r *rand.Rand) []string {
		args := []string{"HRANDFIELD", key(r), randCount(r)}
		if r.IntN(2) == 0 {
			args = append(args, []string{"WITHVALUES", "withvalues", "WITHVALUE"}[r.IntN(3)])
		}
		return args
	}},
	{4, []string{"sort"}, func(r *rand.Rand) []string { return []string{"HRANDFIELD", key(r), "100"} }},
	{4, []string{"sortpairs"}, func(r *rand.Rand) []string { return []string{"HRANDFIELD", key(r), "100", "WITHVALUES"} }},
	{8, []string{"sort2"}, func(r *rand.Rand) []string {
		args := []string{"HSCAN", key(r), "0", "COUNT", "1000"}
		if r.IntN(2) == 0 {
			args = append(args, "MATCH", []string{"f*", "?", "f[1-3]", "*"}[r.IntN(4)])
		}
		return args
	}},
	{12, nil, func(r *rand.Rand) []string { return []string{"OBJECT", "ENCODING", key(r)} }},
	{4, nil, func(r *rand.Rand) []string {
		return []string{"CONFIG", "SET", "hash-max-listpack-entries", []string{"0", "2", "3", "4", "5", "6", "8", "128"}[r.IntN(8)]}
	}},
	{4, nil, func(r *rand.Rand) []string {
		return []string{"CONFIG", "SET", "hash-max-listpack-value", []string{"0", "4", "16", "64", "64", "64"}[r.IntN(6)]}
	}},
}

func TestRandomHash(t *testing.T) {
	runRandom(t, "hash", append(hashGens, stringGens[:3]...), *randomN)
}
