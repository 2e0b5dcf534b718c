package difftest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// Streams in the randomized test use small ID and name spaces so that
// commands collide: IDs are <ms>-<0..3> with ms below a clock that XADD
// advances (so that most XADDs succeed), groups g1 g2 g3, consumers c1..c3.

// streamClock is the generator's notion of time: XADD mostly uses IDs
// around it.
var streamClock int

func streamMs(r *rand.Rand) string { return strconv.Itoa(r.IntN(streamClock/3 + 3)) }

func streamIDArg(r *rand.Rand) string {
	switch r.IntN(20) {
	case 0:
		return []string{"-", "+", "abc", "0-0", "18446744073709551615-18446744073709551615", "5-", "(3"}[r.IntN(7)]
	case 1, 2:
		return streamMs(r)
	default:
		return streamMs(r) + "-" + strconv.Itoa(r.IntN(4))
	}
}

// streamRangeArg is an XRANGE bound: an ID, "-"/"+" or an exclusive bound.
func streamRangeArg(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return "-"
	case 1:
		return "+"
	case 2:
		return "(" + streamIDArg(r)
	default:
		return streamIDArg(r)
	}
}

func streamGroup(r *rand.Rand) string    { return []string{"g1", "g2", "g1", "g3"}[r.IntN(4)] }
func streamConsumer(r *rand.Rand) string { return []string{"c1", "c2", "c3"}[r.IntN(3)] }

// streamFields builds field/value pairs, often with the same fields so
// that entries share their node's master fields.
func streamFields(r *rand.Rand) []string {
	switch r.IntN(8) {
	case 0:
		return []string{"a", valArg(r), "b", valArg(r)}
	case 1:
		return []string{valArg(r), valArg(r)}
	case 2:
		return []string{"big", strings.Repeat("v", r.IntN(300))}
	default:
		return []string{"f", strconv.Itoa(r.IntN(1000))}
	}
}

// streamTrimOpts builds MAXLEN/MINID options, sometimes wrong.
func streamTrimOpts(r *rand.Rand) []string {
	var opts []string
	switch r.IntN(3) {
	case 0:
		opts = append(opts, "MAXLEN")
	case 1:
		opts = append(opts, "MINID")
	default:
		opts = append(opts, []string{"maxlen", "minid", "LIMIT"}[r.IntN(3)])
	}
	switch r.IntN(3) {
	case 0:
		opts = append(opts, "~")
	case 1:
		opts = append(opts, "=")
	}
	if opts[0] == "MINID" || opts[0] == "minid" {
		opts = append(opts, streamIDArg(r))
	} else {
		opts = append(opts, strconv.Itoa(r.IntN(12)-1))
	}
	if r.IntN(4) == 0 {
		opts = append(opts, "LIMIT", strconv.Itoa(r.IntN(5)))
	}
	return opts
}

var streamGens = []gen{
	{40, nil, func(r *rand.Rand) []string {
		args := []string{"XADD", key(r)}
		if r.IntN(8) == 0 {
			args = append(args, "NOMKSTREAM")
		}
		if r.IntN(5) == 0 {
			args = append(args, streamTrimOpts(r)...)
		}
		streamClock++
		switch r.IntN(10) {
		case 0:
			args = append(args, streamMs(r)+"-*")
		case 1:
			args = append(args, strconv.Itoa(streamClock/3)+"-*")
		case 2, 3, 4:
			args = append(args, streamIDArg(r))
		default:
			args = append(args, strconv.Itoa(streamClock/3)+"-"+strconv.Itoa(streamClock%3))
		}
		return append(args, streamFields(r)...)
	}},
	{4, nil, func(r *rand.Rand) []string { return []string{"XLEN", key(r)} }},
	{8, nil, func(r *rand.Rand) []string {
		args := []string{"XRANGE", key(r), streamRangeArg(r), streamRangeArg(r)}
		if r.IntN(3) == 0 {
			args = append(args, "COUNT", strconv.Itoa(r.IntN(5)-1))
		}
		return args
	}},
	{5, nil, func(r *rand.Rand) []string {
		args := []string{"XREVRANGE", key(r), streamRangeArg(r), streamRangeArg(r)}
		if r.IntN(3) == 0 {
			args = append(args, "COUNT", strconv.Itoa(r.IntN(5)-1))
		}
		return args
	}},
	{6, nil, func(r *rand.Rand) []string {
		args := []string{"XDEL", key(r)}
		for i := r.IntN(4); i >= 0; i-- {
			args = append(args, streamIDArg(r))
		}
		return args
	}},
	{4, nil, func(r *rand.Rand) []string { return append([]string{"XTRIM", key(r)}, streamTrimOpts(r)...) }},
	{2, nil, func(r *rand.Rand) []string {
		args := []string{"XSETID", key(r), streamIDArg(r)}
		if r.IntN(3) == 0 {
			args = append(args, "ENTRIESADDED", strconv.Itoa(r.IntN(40)-1))
		}
		if r.IntN(3) == 0 {
			args = append(args, "MAXDELETEDID", streamIDArg(r))
		}
		return args
	}},
	{6, nil, func(r *rand.Rand) []string {
		args := []string{"XREAD"}
		if r.IntN(3) == 0 {
			args = append(args, "COUNT", strconv.Itoa(r.IntN(4)))
		}
		n := 1 + r.IntN(2)
		args = append(args, "STREAMS")
		for i := 0; i < n; i++ {
			args = append(args, key(r))
		}
		for i := 0; i < n; i++ {
			if r.IntN(4) == 0 {
				args = append(args, "$")
			} else {
				args = append(args, streamIDArg(r))
			}
		}
		return args
	}},
	{6, nil, func(r *rand.Rand) []string {
		args := []string{"XGROUP", "CREATE", key(r), streamGroup(r)}
		switch r.IntN(3) {
		case 0:
			args = append(args, "$")
		default:
			args = append(args, streamIDArg(r))
		}
		if r.IntN(2) == 0 {
			args = append(args, "MKSTREAM")
		}
		if r.IntN(4) == 0 {
			args = append(args, "ENTRIESREAD", strconv.Itoa(r.IntN(10)-2))
		}
		return args
	}},
	{2, nil, func(r *rand.Rand) []string {
		args := []string{"XGROUP", "SETID", key(r), streamGroup(r), []string{"$", "0", streamIDArg(r)}[r.IntN(3)]}
		if r.IntN(3) == 0 {
			args = append(args, "ENTRIESREAD", strconv.Itoa(r.IntN(10)-2))
		}
		return args
	}},
	{1, nil, func(r *rand.Rand) []string { return []string{"XGROUP", "DESTROY", key(r), streamGroup(r)} }},
	{2, nil, func(r *rand.Rand) []string {
		return []string{"XGROUP", "CREATECONSUMER", key(r), streamGroup(r), streamConsumer(r)}
	}},
	{1, nil, func(r *rand.Rand) []string {
		return []string{"XGROUP", "DELCONSUMER", key(r), streamGroup(r), streamConsumer(r)}
	}},
	{10, nil, func(r *rand.Rand) []string {
		args := []string{"XREADGROUP", "GROUP", streamGroup(r), streamConsumer(r)}
		if r.IntN(2) == 0 {
			args = append(args, "COUNT", strconv.Itoa(r.IntN(4)))
		}
		if r.IntN(5) == 0 {
			args = append(args, "NOACK")
		}
		n := 1 + r.IntN(2)
		args = append(args, "STREAMS")
		for i := 0; i < n; i++ {
			args = append(args, key(r))
		}
		for i := 0; i < n; i++ {
			if r.IntN(4) == 0 {
				args = append(args, streamIDArg(r))
			} else {
				args = append(args, ">")
			}
		}
		return args
	}},
	{6, nil, func(r *rand.Rand) []string {
		args := []string{"XACK", key(r), streamGroup(r)}
		for i := r.IntN(3); i >= 0; i-- {
			args = append(args, streamIDArg(r))
		}
		return args
	}},
	{4, nil, func(r *rand.Rand) []string { return []string{"XPENDING", key(r), streamGroup(r)} }},
	{3, []string{"len"}, func(r *rand.Rand) []string {
		args := []string{"XPENDING", key(r), streamGroup(r)}
		if r.IntN(3) == 0 {
			args = append(args, "IDLE", []string{"0", "1000000"}[r.IntN(2)])
		}
		args = append(args, streamRangeArg(r), streamRangeArg(r), strconv.Itoa(r.IntN(5)))
		if r.IntN(2) == 0 {
			args = append(args, streamConsumer(r))
		}
		return args
	}},
	{4, nil, func(r *rand.Rand) []string {
		args := []string{"XCLAIM", key(r), streamGroup(r), streamConsumer(r), []string{"0", "1000000"}[r.IntN(2)]}
		for i := r.IntN(3); i >= 0; i-- {
			args = append(args, streamIDArg(r))
		}
		opts := [][]string{{"FORCE"}, {"JUSTID"}, {"RETRYCOUNT", strconv.Itoa(r.IntN(5))}, {"LASTID", streamIDArg(r)}, {"IDLE", "0"}}
		for i := r.IntN(3); i > 0; i-- {
			args = append(args, opts[r.IntN(len(opts))]...)
		}
		return args
	}},
	{4, nil, func(r *rand.Rand) []string {
		args := []string{"XAUTOCLAIM", key(r), streamGroup(r), streamConsumer(r), []string{"0", "1000000"}[r.IntN(2)], streamRangeArg(r)}
		if r.IntN(2) == 0 {
			args = append(args, "COUNT", strconv.Itoa(r.IntN(4)))
		}
		if r.IntN(2) == 0 {
			args = append(args, "JUSTID")
		}
		return args
	}},
	{4, nil, func(r *rand.Rand) []string { return []string{"XINFO", "STREAM", key(r)} }},
	{1, []string{"len"}, func(r *rand.Rand) []string { return []string{"XINFO", "STREAM", key(r), "FULL"} }},
	{3, nil, func(r *rand.Rand) []string { return []string{"XINFO", "GROUPS", key(r)} }},
	{2, []string{"len"}, func(r *rand.Rand) []string { return []string{"XINFO", "CONSUMERS", key(r), streamGroup(r)} }},
	{1, nil, func(r *rand.Rand) []string {
		return []string{"CONFIG", "SET", "stream-node-max-entries", []string{"2", "3", "5", "100"}[r.IntN(4)]}
	}},
	{1, nil, func(r *rand.Rand) []string {
		return []string{"CONFIG", "SET", "stream-node-max-bytes", []string{"0", "300", "1000", "4096"}[r.IntN(4)]}
	}},
	{1, nil, func(r *rand.Rand) []string { return []string{"OBJECT", "ENCODING", key(r)} }},
	{1, nil, func(r *rand.Rand) []string { return []string{"TYPE", key(r)} }},
	{2, nil, func(r *rand.Rand) []string { return []string{"DEL", key(r)} }},
}

func TestRandomStream(t *testing.T) {
	// Strings share two of the keys, so that WRONGTYPE is hit while most
	// stream commands still find streams.
	strs := append([]gen(nil), stringGens[:3]...)
	for i := range strs {
		build := strs[i].build
		strs[i].weight = 2
		strs[i].build = func(r *rand.Rand) []string {
			args := build(r)
			args[1] = randKeys[6+r.IntN(2)]
			return args
		}
	}
	runRandom(t, "stream", append(streamGens, strs...), *randomN)
}
