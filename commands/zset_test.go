package commands

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// refElem is an element of the reference model: a sorted slice.
type refElem struct {
	member string
	score  float64
}

func refLess(a, b refElem) bool {
	return a.score < b.score || (a.score == b.score && a.member < b.member)
}

func refSorted(m map[string]float64) []refElem {
	out := make([]refElem, 0, len(m))
	for k, v := range m {
		out = append(out, refElem{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return refLess(out[i], out[j]) })
	return out
}

// checkZset verifies every access path of z against the reference.
func checkZset(t *testing.T, z *zsetObject, ref map[string]float64) {
	t.Helper()
	want := refSorted(ref)
	if z.Len() != len(want) {
		t.Fatalf("Len = %d; want %d", z.Len(), len(want))
	}
	i := 0
	for p := z.head(); p >= 0; p = z.next(p) {
		m, s := z.at(p)
		if i >= len(want) || string(m) != want[i].member || s != want[i].score {
			t.Fatalf("forward %d: got (%q, %v); want %v", i, m, s, want[i])
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("forward walk saw %d elements; want %d", i, len(want))
	}
	i = len(want) - 1
	for p := z.tail(); p >= 0; p = z.prev(p) {
		m, s := z.at(p)
		if i < 0 || string(m) != want[i].member || s != want[i].score {
			t.Fatalf("backward %d: got (%q, %v)", i, m, s)
		}
		i--
	}
	if i != -1 {
		t.Fatalf("backward walk stopped at %d", i)
	}
	for r, e := range want {
		if m, _ := z.at(z.seek(r, false)); string(m) != e.member {
			t.Fatalf("seek(%d) = %q; want %q", r, m, e.member)
		}
		if m, _ := z.at(z.seek(r, true)); string(m) != want[len(want)-1-r].member {
			t.Fatalf("seek(%d, rev) = %q", r, m)
		}
		if got, ok := z.rank([]byte(e.member), false); !ok || got != r {
			t.Fatalf("rank(%q) = %d, %v; want %d", e.member, got, ok, r)
		}
		if s, ok := z.score([]byte(e.member)); !ok || s != e.score {
			t.Fatalf("score(%q) = %v, %v; want %v", e.member, s, ok, e.score)
		}
	}
	if _, ok := z.score([]byte("not a member")); ok {
		t.Fatal("score of a missing member")
	}
}

func TestListpackEncoding(t *testing.T) {
	// Entries around the one- and two-byte backlen boundaries, and scores
	// in both the varint and the float64 form.
	members := []string{"", "a", strings.Repeat("x", 120), strings.Repeat("y", 127),
		strings.Repeat("z", 200), strings.Repeat("w", 20000), "123", "-0"}
	scores := []float64{0, 1, -1, 0.5, math.Inf(1), math.Inf(-1), 1 << 53, 1<<53 + 2, -(1 << 60), 1e300, 5e-324}
	f := func(member string, score float64) {
		t.Helper()
		var lp []byte
		lp = lpInsert(lp, []byte("before"), math.Inf(-1))
		lp = lpInsert(lp, []byte(member), score)
		lp = lpInsert(lp, []byte("after"), math.Inf(1))
		off, got := lpFind(lp, []byte(member))
		if off < 0 || got != score {
			t.Fatalf("lpFind(%.20q) = %d, %v; want score %v", member, off, got, score)
		}
		if math.IsInf(score, 0) {
			return // it may sort before "before" or after "after"
		}
		if prev := lpPrev(lp, off); prev != 0 {
			t.Fatalf("lpPrev of the middle entry = %d; want 0", prev)
		}
		next := lpNext(lp, off)
		if m := lpMember(lp, next); string(m) != "after" {
			t.Fatalf("entry after %.20q = %q", member, m)
		}
		if back := lpPrev(lp, next); back != off {
			t.Fatalf("lpPrev(next) = %d; want %d", back, off)
		}
		lp = lpDelete(lp, off)
		if _, s := lpFind(lp, []byte("after")); s != math.Inf(1) || lpPrev(lp, len(lp)) != lpNext(lp, 0) {
			t.Fatalf("after delete: %q", lp)
		}
	}
	for _, m := range members {
		for _, s := range scores {
			f(m, s)
		}
	}
	// -0 is stored as 0, as in Redis's listpack.
	lp := lpInsert(nil, []byte("m"), math.Copysign(0, -1))
	if _, s := lpFind(lp, []byte("m")); math.Signbit(s) {
		t.Fatal("-0 kept its sign in the listpack")
	}
}

// TestZsetRandomOps drives both encodings with random operations and checks
// them against a sorted reference after every step.
func TestZsetRandomOps(t *testing.T) {
	for _, lim := range []zsetLimits{{128, 64}, {0, 64}, {16, 4}, {1 << 30, 1 << 30}} {
		t.Run(fmt.Sprintf("entries=%d,value=%d", lim.entries, lim.value), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(lim.entries)))
			z := newZsetListpack()
			ref := map[string]float64{}
			member := func() string {
				if r.IntN(20) == 0 {
					return strings.Repeat("m", r.IntN(10))
				}
				return "m" + strconv.Itoa(r.IntN(300))
			}
			for step := 0; step < 6000; step++ {
				switch op := r.IntN(10); {
				case op < 5:
					m, s := member(), float64(r.IntN(40)-20)/4
					out, got := z.add(s, []byte(m), 0, lim)
					_, had := ref[m]
					if had != (out&zaddOutAdded == 0) || got != s {
						t.Fatalf("add(%q, %v) = %b, %v (had %v)", m, s, out, got, had)
					}
					ref[m] = s
				case op < 7:
					m := member()
					_, had := ref[m]
					if z.remove([]byte(m)) != had {
						t.Fatalf("remove(%q) disagrees", m)
					}
					delete(ref, m)
				case op < 8 && z.Len() > 0:
					p := z.head()
					if r.IntN(2) == 0 {
						p = z.tail()
					}
					m, _ := z.at(p)
					delete(ref, string(m))
					z.removeAt(p)
				case op < 9 && z.Len() > 0:
					a, b := r.IntN(z.Len()), r.IntN(z.Len())
					a, b = min(a, b), max(a, b)
					want := refSorted(ref)
					for _, e := range want[a : b+1] {
						delete(ref, e.member)
					}
					if n := z.removeRangeByRank(a, b); n != b-a+1 {
						t.Fatalf("removeRangeByRank(%d, %d) = %d", a, b, n)
					}
				default:
					rg := scoreRange{min: float64(r.IntN(20) - 10), max: float64(r.IntN(20) - 10), minex: r.IntN(2) == 0, maxex: r.IntN(2) == 0}
					n := 0
					for _, s := range ref {
						if rg.gteMin(s) && rg.lteMax(s) {
							n++
						}
					}
					if got := z.countInRange(&rg); got != n {
						t.Fatalf("countInRange(%+v) = %d; want %d", rg, got, n)
					}
					if r.IntN(3) == 0 {
						for m, s := range ref {
							if rg.gteMin(s) && rg.lteMax(s) {
								delete(ref, m)
							}
						}
						if got := z.removeRangeByScore(&rg); got != n {
							t.Fatalf("removeRangeByScore = %d; want %d", got, n)
						}
					}
				}
				if step%50 == 0 || z.Len() < 20 {
					checkZset(t, z, ref)
				}
				if z.sl != nil {
					checkSkiplistInvariants(t, z.sl)
				}
			}
			checkZset(t, z, ref)
			checkZset(t, z.Copy().(*zsetObject), ref)
		})
	}
}

// checkSkiplistInvariants verifies spans, back links, the tail and the hash
// table of zs.
func checkSkiplistInvariants(t *testing.T, zs *zskiplist) {
	t.Helper()
	rank := map[uint32]int{}
	i := 0
	prev := uint32(0)
	for x := zs.first(); x != 0; x = zs.fwd(x) {
		i++
		rank[x] = i
		if zs.nodes[x].back != prev {
			t.Fatalf("node %d: back = %d; want %d", x, zs.nodes[x].back, prev)
		}
		if zs.find(zs.member(x)) != x {
			t.Fatalf("hash lookup of %q failed", zs.member(x))
		}
		prev = x
	}
	if i != zs.length || zs.tail != prev {
		t.Fatalf("length %d, walked %d; tail %d, last %d", zs.length, i, zs.tail, prev)
	}
	for lvl := 0; lvl < zs.level; lvl++ {
		pos := 0
		for x := uint32(0); ; {
			l := zs.lv(x, lvl)
			if l.fwd == 0 {
				break
			}
			if rank[l.fwd]-pos != int(l.span) {
				t.Fatalf("level %d: span from rank %d = %d; want %d", lvl, pos, l.span, rank[l.fwd]-pos)
			}
			pos = rank[l.fwd]
			x = l.fwd
		}
	}
	n := 0
	for _, head := range zs.buckets {
		for x := head; x != 0; x = zs.nodes[x].hnext {
			n++
		}
	}
	if n != zs.length {
		t.Fatalf("hash holds %d nodes; want %d", n, zs.length)
	}
}

// TestSkiplistScan checks SCAN's guarantee: a member present during the
// whole iteration is returned, even when the table grows or shrinks between
// calls.
func TestSkiplistScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	zs := newSkiplist(0)
	const keep = 100
	for i := 0; i < keep; i++ {
		zs.insert(float64(i), []byte("keep"+strconv.Itoa(i)))
	}
	seen := map[string]bool{}
	cursor := uint64(0)
	var tmp [][]byte
	extra, sizes := 0, map[int]bool{}
	for iter := 0; ; iter++ {
		cursor = zs.scan(cursor, func(x uint32) { seen[string(zs.member(x))] = true })
		// Churn between calls: grow to ~1600 members, then shrink back,
		// so that the table doubles and halves under the cursor.
		if iter%20 < 10 {
			for j := 0; j < 150; j++ {
				m := []byte("tmp" + strconv.Itoa(extra))
				extra++
				zs.insert(r.Float64(), m)
				tmp = append(tmp, m)
			}
		} else {
			for j := 0; j < 150 && len(tmp) > 0; j++ {
				x := zs.find(tmp[len(tmp)-1])
				tmp = tmp[:len(tmp)-1]
				zs.remove(x)
			}
		}
		zs = zs.compacted()
		sizes[len(zs.buckets)] = true
		if cursor == 0 {
			break
		}
		if iter > 100000 {
			t.Fatal("scan does not terminate")
		}
	}
	for i := 0; i < keep; i++ {
		if !seen["keep"+strconv.Itoa(i)] {
			t.Fatalf("scan missed keep%d", i)
		}
	}
	if len(sizes) < 2 {
		t.Fatalf("the table never resized during the scan: %v", sizes)
	}
	checkSkiplistInvariants(t, zs)
}

func TestSkiplistCompaction(t *testing.T) {
	zs := newSkiplist(0)
	big := bytes.Repeat([]byte("v"), 100)
	for i := 0; i < 5000; i++ {
		zs.insert(float64(i), append([]byte(strconv.Itoa(i)+":"), big...))
	}
	before := zs.memoryUsage()
	for i := 0; i < 4900; i++ {
		zs.remove(zs.first())
		zs = zs.compacted()
	}
	checkSkiplistInvariants(t, zs)
	if after := zs.memoryUsage(); after > before/4 {
		t.Fatalf("memory after deleting 98%%: %d bytes; before %d", after, before)
	}
	if m := zs.member(zs.first()); !bytes.HasPrefix(m, []byte("4900:")) {
		t.Fatalf("first member after compaction: %.10q", m)
	}
}

// TestZsetConversion checks the listpack -> skiplist boundaries.
func TestZsetConversion(t *testing.T) {
	lim := zsetLimits{entries: 4, value: 8}
	cases := []struct {
		members []string
		want    string
	}{
		{[]string{"a", "b", "c", "d"}, "listpack"},
		{[]string{"a", "b", "c", "d", "e"}, "skiplist"},
		{[]string{"12345678"}, "listpack"},
		{[]string{"123456789"}, "skiplist"},
		{[]string{"a", "a", "a", "a", "a", "a"}, "listpack"},
	}
	for _, tc := range cases {
		z := newZsetListpack()
		ref := map[string]float64{}
		for i, m := range tc.members {
			z.add(float64(i), []byte(m), 0, lim)
			ref[m] = float64(i)
		}
		if z.Encoding() != tc.want {
			t.Errorf("%q: encoding %s; want %s", tc.members, z.Encoding(), tc.want)
		}
		checkZset(t, z, ref)
	}
	// Store results convert back when they fit.
	z := newZsetSkiplist(0)
	z.sl.insert(1, []byte("a"))
	z.convertToListpackIfNeeded(1, lim)
	if z.Encoding() != "listpack" || z.Len() != 1 {
		t.Fatalf("convertToListpackIfNeeded: %s, %d", z.Encoding(), z.Len())
	}
}

func TestZsetRewrite(t *testing.T) {
	z := newZsetSkiplist(0)
	for i := 0; i < 130; i++ {
		z.sl.insert(float64(i)+0.5, []byte("m"+strconv.Itoa(i)))
	}
	var batches []int
	var first [][]byte
	z.Rewrite([]byte("k"), func(argv [][]byte) {
		if first == nil {
			for _, a := range argv {
				first = append(first, append([]byte(nil), a...))
			}
		}
		batches = append(batches, (len(argv)-2)/2)
	})
	if fmt.Sprint(batches) != "[64 64 2]" {
		t.Fatalf("batches %v; want [64 64 2]", batches)
	}
	if string(first[0]) != "ZADD" || string(first[1]) != "k" || string(first[2]) != "0.5" || string(first[3]) != "m0" {
		t.Fatalf("first command starts %q", first[:4])
	}
}

func TestZstrtod(t *testing.T) {
	cases := []struct {
		in     string
		f      float64
		n      int
		erange bool
	}{
		{"1", 1, 1, false},
		{"", 0, 0, false},
		{" ", 0, 0, false},
		{" 1", 1, 2, false},
		{"1 ", 1, 1, false},
		{"-1.5e3", -1500, 6, false},
		{".5", 0.5, 2, false},
		{"5.", 5, 2, false},
		{".", 0, 0, false},
		{"1e", 1, 1, false},
		{"1e+", 1, 1, false},
		{"0x10", 16, 4, false},
		{"0x", 0, 1, false},
		{"0x1p3", 8, 5, false},
		{"-0x.8p1", -1, 7, false},
		{"inf", math.Inf(1), 3, false},
		{"-Infinity", math.Inf(-1), 9, false},
		{"infinit", math.Inf(1), 3, false},
		{"1e400", math.Inf(1), 5, true},
		{"1e-400", 0, 6, true},
		{"4.9e-324", 5e-324, 8, false},
		{"(1", 0, 0, false},
	}
	for _, tc := range cases {
		f, n, erange := zstrtod([]byte(tc.in))
		if f != tc.f || n != tc.n || erange != tc.erange {
			t.Errorf("zstrtod(%q) = %v, %d, %v; want %v, %d, %v", tc.in, f, n, erange, tc.f, tc.n, tc.erange)
		}
	}
	if f, n, _ := zstrtod([]byte("nan(123)")); !math.IsNaN(f) || n != 8 {
		t.Errorf("zstrtod(nan(123)) = %v, %d", f, n)
	}
	scores := []struct {
		in string
		ok bool
	}{
		{"1", true}, {"0x10", true}, {" 1", false}, {"1 ", false}, {"", false},
		{"nan", false}, {"1e400", false}, {"1e-400", false}, {"-inf", true}, {"4.9e-324", true},
	}
	for _, tc := range scores {
		if _, ok := parseScore([]byte(tc.in)); ok != tc.ok {
			t.Errorf("parseScore(%q) ok = %v; want %v", tc.in, ok, tc.ok)
		}
	}
	ranges := []struct {
		in     string
		f      float64
		ex, ok bool
	}{
		{"", 0, false, true}, {"(", 0, true, true}, {" 1", 1, false, true}, {" ", 0, false, false},
		{"(1e400", math.Inf(1), true, true}, {"nan", 0, false, false}, {"((1", 0, false, false},
		{"1\x00junk", 1, false, true},
	}
	for _, tc := range ranges {
		f, ex, ok := parseRangeItem([]byte(tc.in))
		if f != tc.f || ex != tc.ex || ok != tc.ok {
			t.Errorf("parseRangeItem(%q) = %v, %v, %v; want %v, %v, %v", tc.in, f, ex, ok, tc.f, tc.ex, tc.ok)
		}
	}
}

// TestZaddAllocations keeps the benchmarked ZADD/ZPOPMIN path free of
// per-command allocations once the set exists.
func TestZaddAllocations(t *testing.T) {
	s := newTestServer(t)
	c := s.NewClient(&nullConn{})
	run(s, c, "ZADD", "z", "1", "a")
	// The popped member is the one just added, so the key never empties.
	argv := [][]byte{[]byte("ZADD"), []byte("z"), []byte("0"), []byte("member")}
	pop := [][]byte{[]byte("ZPOPMIN"), []byte("z")}
	allocs := testing.AllocsPerRun(200, func() {
		s.Execute(c, argv)
		s.Execute(c, pop)
		c.out = c.out[:0]
	})
	if allocs > 0 {
		t.Fatalf("ZADD+ZPOPMIN allocate %v times per run", allocs)
	}
}
