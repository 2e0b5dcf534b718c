package commands

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"spinel/eventloop/servertest"
)

// getKeysCases are command lines and the key positions Redis 7.0.15's
// COMMAND GETKEYS finds in them (recorded from redis-server, and checked
// against it again by TestGetKeysMatchesRedis). Arguments are separated by
// one blank, so two blanks make an empty argument. A nil want with an empty
// err means "no keys, no error" (no_mandatory_keys commands).
var getKeysCases = []struct {
	line string
	want []int
	err  error
}{
	{line: "get k", want: []int{1}},
	{line: "set k v", want: []int{1}},         // setGetKeys: OW update
	{line: "set k v get", want: []int{1}},     // setGetKeys: RW access update
	{line: "set k v GeT", want: []int{1}},     // case-insensitive
	{line: "mset a 1 b 2", want: []int{1, 3}}, // range, step 2
	{line: "mget a b c", want: []int{1, 2, 3}},
	{line: "del a b", want: []int{1, 2}},
	{line: "msetnx a 1 b", want: []int{1, 3}},
	{line: "blpop a b 0", want: []int{1, 2}}, // lastkey -2
	{line: "brpop a b c 0", want: []int{1, 2, 3}},
	{line: "brpoplpush s d 0", want: []int{1, 2}},
	{line: "lmove s d left right", want: []int{1, 2}},
	{line: "lmpop 2 a b left", want: []int{2, 3}}, // keynum
	{line: "lmpop 0 a left", err: errGetKeysInvalidArgs},
	{line: "lmpop 4294967297 a left", want: []int{2}}, // count truncated to a C int
	{line: "lmpop 1x a left", want: []int{2}},         // spec fails, proc's atoi reads 1
	{line: "blmpop 0 2 a b left", want: []int{3, 4}},
	{line: "zunionstore d 2 a b", want: []int{1, 3, 4}},
	{line: "zunionstore d 2x a b", want: []int{3, 4, 1}}, // proc: destination last
	{line: "zunion 2 a b", want: []int{2, 3}},
	{line: "zinter 3 a b", err: errGetKeysInvalidArgs},
	{line: "zdiffstore d 1 a", want: []int{1, 3}},
	{line: "zintercard 2 a b limit 1", want: []int{2, 3}},
	{line: "sintercard 1 a", want: []int{2}},
	{line: "zmpop 1 a min", want: []int{2}},
	{line: "bzmpop 0 1 a min", want: []int{3}},
	{line: "eval s 2 a b c", want: []int{3, 4}},
	{line: "eval s 0"}, // no_mandatory_keys
	{line: "eval s 1x k", want: []int{3}},
	{line: "eval s -1 k"},
	{line: "evalsha_ro s 1 k", want: []int{3}},
	{line: "fcall f 1 k a", want: []int{3}},
	{line: "fcall_ro f 0"},
	{line: "sort k", want: []int{1}},
	{line: "sort k store d", want: []int{1, 3}},
	{line: "sort k limit 0 1 store d by p get g store e", want: []int{1, 12}},
	{line: "sort k store", want: []int{1}},
	{line: "sort_ro k by p", want: []int{1}},
	{line: "migrate h p k 0 1000", want: []int{3}},
	{line: "migrate h p  0 1000 keys a b", want: []int{7, 8}},
	{line: "migrate h p  0 1000 auth pw keys a", want: []int{9}},
	{line: "migrate h p  0 1000 auth2 u pw copy replace keys a b", want: []int{12, 13}},
	{line: "migrate h p k 0 1000 keys a", err: errGetKeysInvalidArgs},
	{line: "georadius k 1 2 3 km store d", want: []int{1, 7}},
	{line: "georadius k 1 2 3 km storedist d withdist", want: []int{1, 7}},
	{line: "georadiusbymember k m 3 km store d", want: []int{1, 6}},
	{line: "georadius_ro k 1 2 3 km", want: []int{1}},
	{line: "xread count 1 streams a b 0 0", want: []int{4, 5}}, // keyword + limit 2
	{line: "xread streams a 0", want: []int{2}},
	{line: "xread streams a b 0", want: []int{2}},
	{line: "xreadgroup group g c streams a 0", want: []int{5}},
	{line: "xreadgroup group g c count 1 noack streams a b 0 0", want: []int{8, 9}},
	{line: "bitfield k get u8 0", want: []int{1}},
	{line: "bitfield k get u8 0 set u8 0 1", want: []int{1}},
	{line: "bitfield k overflow sat", want: []int{1}},
	{line: "bitfield_ro k get u8 0", want: []int{1}},
	{line: "memory usage k", want: []int{2}}, // subcommand: positions count the container
	{line: "object encoding k", want: []int{2}},
	{line: "rename a b", want: []int{1, 2}},
	{line: "copy a b db 1", want: []int{1, 2}},
	{line: "pfcount a b", want: []int{1, 2}},
	{line: "watch a b", want: []int{1, 2}},
	{line: "bitop and d a b", want: []int{2, 3, 4}},
	{line: "smove a b m", want: []int{1, 2}},
	{line: "zrangestore d s 0 1", want: []int{1, 2}},
	{line: "lcs a b", want: []int{1, 2}},
	{line: "xadd s * f v", want: []int{1}},
	{line: "publish ch msg", err: errGetKeysNoKeys},
	{line: "spublish ch m", err: errGetKeysNoKeys}, // channels are not keys
	{line: "blpop a", err: errGetKeysArity},
	{line: "debug object k", err: errGetKeysNoKeys},
	{line: "client list", err: errGetKeysNoKeys},
	{line: "ping", err: errGetKeysNoKeys},
	{line: "get", err: errGetKeysArity},
}

func splitLine(line string) [][]byte {
	var argv [][]byte
	for _, a := range strings.Split(line, " ") {
		argv = append(argv, []byte(a))
	}
	return argv
}

// specForArgv finds the spec a command line runs among all specs.
func specForArgv(set specSet, argv [][]byte) *Spec {
	s := set.find(strings.ToLower(string(argv[0])))
	if s != nil && s.Subcommands != nil && len(argv) > 1 {
		s = set.find(s.FullName + "|" + strings.ToLower(string(argv[1])))
	}
	return s
}

func TestKeyPositions(t *testing.T) {
	set := loadSpecs()
	for _, tc := range getKeysCases {
		argv := splitLine(tc.line)
		s := specForArgv(set, argv)
		if s == nil {
			t.Fatalf("%q: no spec", tc.line)
		}
		got, err := s.keyPositions(argv, nil)
		if err != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("keyPositions(%q): unexpected result; got %v, %v; want %v, %v", tc.line, got, err, tc.want, tc.err)
		}
	}
}

func TestKeyPositionsNoAllocs(t *testing.T) {
	set := loadSpecs()
	var buf [8]int
	for _, line := range []string{"mset a 1 b 2", "zunionstore d 2 a b", "xread count 1 streams a b 0 0", "sort k store d", "eval s 1x k"} {
		argv := splitLine(line)
		s := specForArgv(set, argv)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := s.keyPositions(argv, buf[:0]); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("keyPositions(%q) allocates %.0f times; want 0", line, allocs)
		}
	}
}

// TestGetKeysMatchesRedis renders COMMAND GETKEYS and COMMAND
// GETKEYSANDFLAGS for every case and compares the bytes with real Redis's.
func TestGetKeysMatchesRedis(t *testing.T) {
	redis := servertest.StartRedis(t)
	conn := servertest.Dial(t, redis.Addr)
	set := loadSpecs()
	c := newRenderClient(2)
	for _, tc := range getKeysCases {
		argv := splitLine(tc.line)
		if len(argv) < 2 {
			continue // COMMAND GETKEYS needs a command with arguments
		}
		s := specForArgv(set, argv)
		for _, sub := range []string{"GETKEYS", "GETKEYSANDFLAGS"} {
			want := conn.DoBytes(append([][]byte{[]byte("COMMAND"), []byte(sub)}, argv...)...)
			c.out = c.out[:0]
			c.addSpecKeys(s, argv, sub == "GETKEYSANDFLAGS")
			if !bytes.Equal(c.out, want) {
				t.Errorf("COMMAND %s %s:\n got: %q\nwant: %q", sub, tc.line, c.out, want)
			}
		}
	}
}
