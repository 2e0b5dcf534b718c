package commands

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestStreamIDParse(t *testing.T) {
	f := func(arg string, mode streamIDMode, want streamID, wantSeqGiven, wantOK bool) {
		t.Helper()
		id, seqGiven, ok := parseStreamID([]byte(arg), mode)
		if ok != wantOK || (ok && (id != want || seqGiven != wantSeqGiven)) {
			t.Errorf("parseStreamID(%q, %+v) = %v %v %v; want %v %v %v", arg, mode, id, seqGiven, ok, want, wantSeqGiven, wantOK)
		}
	}
	loose := streamIDMode{}
	strict := streamIDMode{strict: true}
	xadd := streamIDMode{strict: true, seqStar: true}
	f("1-2", loose, streamID{1, 2}, true, true)
	f("5", loose, streamID{5, 0}, true, true)
	f("5", streamIDMode{missingSeq: math.MaxUint64}, streamID{5, math.MaxUint64}, true, true)
	f("-", loose, streamMinID, true, true)
	f("+", loose, streamMaxID, true, true)
	f("-", strict, streamID{}, false, false)
	f("+", strict, streamID{}, false, false)
	f("5-*", xadd, streamID{5, 0}, false, true)
	f("5-*", strict, streamID{}, false, false)
	f("18446744073709551615-18446744073709551615", strict, streamMaxID, true, true)
	f("18446744073709551616-0", strict, streamID{}, false, false)
	f("", loose, streamID{}, false, false)
	f("abc", loose, streamID{}, false, false)
	f("1-", loose, streamID{}, false, false)
	f("-1", loose, streamID{}, false, false)
	f("1--1", loose, streamID{}, false, false)
	// strtoull accepts blanks, a sign and leading zeros; "-n" wraps.
	f(" 5-1", loose, streamID{5, 1}, true, true)
	f("+6-1", loose, streamID{6, 1}, true, true)
	f("007-1", loose, streamID{7, 1}, true, true)
	f("9--01", loose, streamID{9, math.MaxUint64}, true, true)
	f("9--0", loose, streamID{9, 0}, true, true)
	// C string: the argument ends at a NUL.
	f("7\x00-3", loose, streamID{7, 0}, true, true)
	f(string(make([]byte, 128)), loose, streamID{}, false, false)
}

func TestStreamIDIncrDecr(t *testing.T) {
	if id, ok := (streamID{1, math.MaxUint64}).incr(); !ok || id != (streamID{2, 0}) {
		t.Errorf("incr carry: got %v %v", id, ok)
	}
	if id, ok := streamMaxID.incr(); ok || id != streamMinID {
		t.Errorf("incr max: got %v %v", id, ok)
	}
	if id, ok := (streamID{2, 0}).decr(); !ok || id != (streamID{1, math.MaxUint64}) {
		t.Errorf("decr borrow: got %v %v", id, ok)
	}
	if id, ok := streamMinID.decr(); ok || id != streamMaxID {
		t.Errorf("decr min: got %v %v", id, ok)
	}
}

// TestStreamLpSizes checks the Redis listpack element sizes at the
// encoding boundaries.
func TestStreamLpSizes(t *testing.T) {
	f := func(v string, want int) {
		t.Helper()
		if got := streamLpStrSize([]byte(v)); got != want {
			t.Errorf("streamLpStrSize(%q) = %d; want %d", v, got, want)
		}
	}
	f("0", 2)
	f("127", 2)
	f("128", 3)
	f("-1", 3)
	f("4095", 3)
	f("-4096", 3)
	f("4096", 4)
	f("32767", 4)
	f("32768", 5)
	f("8388607", 5)
	f("8388608", 6)
	f("2147483647", 6)
	f("2147483648", 10)
	f("9223372036854775807", 10)
	f("9223372036854775808", 21) // not an int64: a 20-byte string
	f("01", 4)
	f("", 2)
	f("a", 3)
	f(string(make([]byte, 63)), 65)
	f(string(make([]byte, 64)), 67)
	f(string(make([]byte, 125)), 128)
	f(string(make([]byte, 126)), 130) // 128 bytes of encoding need a 2-byte backlen
	f(string(make([]byte, 4095)), 4099)
	f(string(make([]byte, 4096)), 4103)
}

func TestStreamBacklen(t *testing.T) {
	for _, l := range []int{0, 1, 127, 128, 16383, 16384, 1 << 21, 1<<30 + 5} {
		b := streamAppendBacklen([]byte{9, 9}, l)
		if len(b)-2 != streamBacklenSize(l) {
			t.Errorf("backlen(%d) size %d; want %d", l, len(b)-2, streamBacklenSize(l))
		}
		got, start := streamReadBacklen(b, len(b))
		if got != l || start != 2 {
			t.Errorf("backlen(%d) read back %d at %d", l, got, start)
		}
	}
}

// streamModel is a plain model of the entries for the round-trip tests.
type streamModelEntry struct {
	id streamID
	fv []string
}

func entriesOf(st *stream, rev bool) []streamModelEntry {
	var out []streamModelEntry
	it := st.iter(streamMinID, streamMaxID, rev)
	var e streamEntry
	for it.next(&e) {
		me := streamModelEntry{id: e.id}
		e.each(func(f, v []byte) { me.fv = append(me.fv, string(f), string(v)) })
		out = append(out, me)
	}
	return out
}

// TestStreamNodesRoundTrip appends, deletes and trims at random and checks
// the stream against a model, forwards and backwards, with node limits that
// force many nodes.
func TestStreamNodesRoundTrip(t *testing.T) {
	for _, lim := range []streamNodeLimits{{4096, 100}, {0, 3}, {200, 0}, {1, 1}} {
		t.Run(fmt.Sprintf("%d-%d", lim.maxBytes, lim.maxEntries), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(lim.maxEntries)))
			st := newStream()
			var model []streamModelEntry
			for step := 0; step < 3000; step++ {
				switch op := r.IntN(10); {
				case op < 6:
					var fv [][]byte
					var sfv []string
					fields := [][]string{{"a"}, {"a", "b"}, {"x"}}[r.IntN(3)]
					for _, f := range fields {
						v := strconv.Itoa(r.IntN(1000))
						if r.IntN(4) == 0 {
							v = fmt.Sprintf("%0*d", r.IntN(100), 7)
						}
						fv = append(fv, []byte(f), []byte(v))
						sfv = append(sfv, f, v)
					}
					var id streamID
					var res int
					if r.IntN(2) == 0 {
						id, res = st.appendEntry(fv, nil, false, int64(step/3), lim)
					} else {
						want := streamID{uint64(step), uint64(r.IntN(3))}
						id, res = st.appendEntry(fv, &want, true, 0, lim)
					}
					if res == appendOK {
						model = append(model, streamModelEntry{id, sfv})
					}
				case op < 8 && len(model) > 0:
					i := r.IntN(len(model))
					if st.deleteIDs([]streamID{model[i].id}) != 1 {
						t.Fatalf("step %d: delete %v failed", step, model[i].id)
					}
					model = append(model[:i], model[i+1:]...)
				case op < 9 && len(model) > 0:
					keep := int64(r.IntN(len(model) + 1))
					a := streamTrimArgs{strategy: trimMaxLen, maxLen: keep}
					st.trim(&a)
					if int64(len(model)) > keep {
						model = model[int64(len(model))-keep:]
					}
				case len(model) > 0:
					min := model[r.IntN(len(model))].id
					a := streamTrimArgs{strategy: trimMinID, minID: min}
					st.trim(&a)
					for len(model) > 0 && model[0].id.cmp(min) < 0 {
						model = model[1:]
					}
				}
				if st.length != uint64(len(model)) {
					t.Fatalf("step %d: length %d; model %d", step, st.length, len(model))
				}
				if step%97 == 0 || step == 2999 {
					fwd := entriesOf(st, false)
					rev := entriesOf(st, true)
					if fmt.Sprint(fwd) != fmt.Sprint(model) {
						t.Fatalf("step %d: forward\n got %v\nwant %v", step, fwd, model)
					}
					for i := range rev {
						if fmt.Sprint(rev[i]) != fmt.Sprint(model[len(model)-1-i]) {
							t.Fatalf("step %d: reverse mismatch at %d", step, i)
						}
					}
					var nb int64
					for _, n := range st.nodes {
						nb += n.heapBytes()
					}
					if nb != st.nodeBytes {
						t.Fatalf("step %d: nodeBytes %d; nodes hold %d", step, st.nodeBytes, nb)
					}
					if len(model) > 0 && st.firstID != model[0].id {
						t.Fatalf("step %d: firstID %v; want %v", step, st.firstID, model[0].id)
					}
				}
			}
		})
	}
}

// TestStreamNodeSplit checks where nodes split: by entries (live and
// deleted) and by listpack bytes.
func TestStreamNodeSplit(t *testing.T) {
	st := newStream()
	lim := streamNodeLimits{maxBytes: 4096, maxEntries: 100}
	fv := [][]byte{[]byte("f"), []byte("v")}
	for i := 1; i <= 250; i++ {
		id := streamID{uint64(i), 0}
		st.appendEntry(fv, &id, true, 0, lim)
	}
	if len(st.nodes) != 3 || st.nodes[0].live != 100 || st.nodes[2].live != 50 {
		t.Fatalf("250 small entries: %d nodes", len(st.nodes))
	}
	// Big values: the byte limit splits first.
	st = newStream()
	big := [][]byte{[]byte("f"), make([]byte, 1000)}
	for i := 1; i <= 10; i++ {
		id := streamID{uint64(i), 0}
		st.appendEntry(big, &id, true, 0, lim)
	}
	// Node bytes: header 7 + count/deleted 4 + master (2+3+2) + entries of
	// (2+2+2 + 1005 + 2) = 1013: a node takes 4 entries (4070 + 1000 >=
	// 4096 closes it).
	if len(st.nodes) != 3 || st.nodes[0].live != 4 {
		t.Fatalf("10 big entries: %d nodes, first has %d", len(st.nodes), st.nodes[0].live)
	}
}

func TestIDMap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var m idMap[int]
	model := map[streamID]int{}
	for step := 0; step < 20000; step++ {
		id := streamID{uint64(r.IntN(500)), uint64(r.IntN(3))}
		switch r.IntN(3) {
		case 0, 1:
			_, had := model[id]
			if m.insert(id, step) == had {
				t.Fatalf("insert %v: had=%v", id, had)
			}
			if !had {
				model[id] = step
			}
		case 2:
			_, had := model[id]
			if m.remove(id) != had {
				t.Fatalf("remove %v: had=%v", id, had)
			}
			delete(model, id)
		}
		if m.len() != len(model) {
			t.Fatalf("len %d; want %d", m.len(), len(model))
		}
	}
	var prev *streamID
	n := 0
	m.ascend(streamMinID, func(id streamID, v *int) bool {
		if prev != nil && prev.cmp(id) >= 0 {
			t.Fatalf("out of order: %v then %v", *prev, id)
		}
		if model[id] != *v {
			t.Fatalf("value of %v: %d; want %d", id, *v, model[id])
		}
		p := id
		prev = &p
		n++
		return true
	})
	if n != len(model) {
		t.Fatalf("ascend saw %d; want %d", n, len(model))
	}
	for id, v := range model {
		if p := m.get(id); p == nil || *p != v {
			t.Fatalf("get %v", id)
		}
		k, _, ok := m.ceil(id)
		if !ok || k != id {
			t.Fatalf("ceil %v = %v", id, k)
		}
	}
}

func TestStreamRaxNodes(t *testing.T) {
	f := func(ids []streamID, want int64) {
		t.Helper()
		st := newStream()
		for _, id := range ids {
			st.nodes = append(st.nodes, &streamNode{master: id})
		}
		if got := st.radixTreeNodes(); got != want {
			t.Errorf("radixTreeNodes(%v) = %d; want %d", ids, got, want)
		}
	}
	f(nil, 1)
	f([]streamID{{1, 1}}, 2)
	f([]streamID{{1, 1}, {1, 2}}, 4)              // differ in the last byte
	f([]streamID{{1, 1}, {2, 1}}, 6)              // differ in the middle
	f([]streamID{{1, 0}, {1 << 63, 0}}, 5)        // differ in the first byte
	f([]streamID{{1, 1}, {1, 2}, {1, 3}}, 5)      // one branch, three leaves
	f([]streamID{{1, 1}, {1, 2}, {1, 1 << 8}}, 7) // nested branches
}

// BenchmarkXadd measures XADD with an auto ID through the gate, as
// redis-benchmark's "XADD mystream * myfield value".
func BenchmarkXadd(b *testing.B) {
	s := newTestServer(b)
	c := s.NewClient(&nullConn{})
	argv := [][]byte{[]byte("XADD"), []byte("mystream"), []byte("*"), []byte("myfield"), []byte("xxx")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.BeginBatch()
		s.Execute(c, argv)
		c.out = c.out[:0]
	}
}

// BenchmarkXrange measures reading 100 entries.
func BenchmarkXrange(b *testing.B) {
	s := newTestServer(b)
	c := s.NewClient(&nullConn{})
	for i := 0; i < 1000; i++ {
		run(s, c, "XADD", "s", "*", "field", strconv.Itoa(i))
	}
	argv := [][]byte{[]byte("XRANGE"), []byte("s"), []byte("-"), []byte("+"), []byte("COUNT"), []byte("100")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.BeginBatch()
		s.Execute(c, argv)
		c.out = c.out[:0]
	}
}

// TestStreamRewrite rebuilds streams from Rewrite's commands on a fresh
// server and checks that entries, counters, groups and pending entries come
// back.
func TestStreamRewrite(t *testing.T) {
	s := newTestServer(t)
	c := s.NewClient(&nullConn{})
	for _, cmd := range [][]string{
		{"XADD", "s", "1-0", "a", "1", "b", "2"},
		{"XADD", "s", "2-0", "a", "3", "b", "4"},
		{"XADD", "s", "3-0", "x", "5"},
		{"XADD", "s", "4-0", "a", "6", "b", "7"},
		{"XDEL", "s", "2-0"},
		{"XSETID", "s", "10-0"},
		{"XGROUP", "CREATE", "s", "g1", "0"},
		{"XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "7"},
		{"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s", ">"},
		{"XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", ">"},
		{"XCLAIM", "s", "g1", "bob", "0", "1-0", "TIME", "1234", "RETRYCOUNT", "9", "JUSTID"},
		{"XGROUP", "CREATECONSUMER", "s", "g2", "carol"},
		{"XADD", "empty", "1-0", "f", "v"},
		{"XDEL", "empty", "1-0"},
		{"XGROUP", "CREATE", "empty", "g", "$"},
	} {
		if rep := run(s, c, cmd...); rep[0] == '-' {
			t.Fatalf("%q: %s", cmd, rep)
		}
	}
	s2 := newTestServer(t)
	c2 := s2.NewClient(&nullConn{})
	for _, key := range []string{"s", "empty"} {
		r := s.dbs[0].kv.Lookup([]byte(key))
		st := s.dbs[0].kv.Object(r).(*stream)
		st.Rewrite([]byte(key), func(argv [][]byte) {
			args := make([]string, len(argv))
			for i, a := range argv {
				args[i] = string(a)
			}
			if rep := run(s2, c2, args...); rep[0] == '-' {
				t.Fatalf("replaying %q: %s", args, rep)
			}
		})
	}
	for _, cmd := range [][]string{
		{"XRANGE", "s", "-", "+"},
		{"XINFO", "GROUPS", "s"},
		{"XPENDING", "s", "g1"},
		{"XPENDING", "s", "g2"},
		{"XINFO", "GROUPS", "empty"},
		{"XLEN", "empty"},
	} {
		if a, b := run(s, c, cmd...), run(s2, c2, cmd...); a != b {
			t.Errorf("%q after rewrite:\n got %q\nwant %q", cmd, b, a)
		}
	}
	// Counters and delivery data (not the consumers' seen times).
	for _, key := range []string{"s", "empty"} {
		a := s.dbs[0].kv.Object(s.dbs[0].kv.Lookup([]byte(key))).(*stream)
		b := s2.dbs[0].kv.Object(s2.dbs[0].kv.Lookup([]byte(key))).(*stream)
		if a.lastID != b.lastID || a.entriesAdded != b.entriesAdded || a.maxDeletedID != b.maxDeletedID || a.firstID != b.firstID || a.length != b.length {
			t.Errorf("%s counters: got %+v want %+v", key, b, a)
		}
		for i, g := range a.groups {
			h := b.groups[i]
			g.pel.ascend(streamMinID, func(id streamID, n *streamNACK) bool {
				m := h.pel.get(id)
				if m == nil || m.deliveryTime != n.deliveryTime || m.deliveryCount != n.deliveryCount || m.consumer.name != n.consumer.name {
					t.Errorf("%s %s pending %v: got %+v want %+v", key, g.name, id, m, n)
				}
				return true
			})
			if len(g.consumers) != len(h.consumers) {
				t.Errorf("%s %s: %d consumers; want %d", key, g.name, len(h.consumers), len(g.consumers))
			}
		}
	}
}

// TestStreamSignalDeletedStreams checks the helper FLUSHALL, FLUSHDB and
// SWAPDB call: XREADGROUP waiters on a stream that went away are released
// with Redis's error; XREAD waiters stay.
func TestStreamSignalDeletedStreams(t *testing.T) {
	s := newTestServer(t)
	c := s.NewClient(&nullConn{})
	group := s.NewClient(&nullConn{})
	plain := s.NewClient(&nullConn{})
	run(s, c, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
	if rep := run(s, group, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"); rep != "" || !group.isBlocked() {
		t.Fatalf("XREADGROUP did not block: %q", rep)
	}
	if rep := run(s, plain, "XREAD", "BLOCK", "0", "STREAMS", "s", "$"); rep != "" || !plain.isBlocked() {
		t.Fatalf("XREAD did not block: %q", rep)
	}
	db := s.dbs[0]
	db.kv.Delete(db.kv.Lookup([]byte("s"))) // as FLUSHALL empties the database
	s.signalDeletedStreams(db)
	s.handleReadyKeys()
	if got := string(group.out); got != "-UNBLOCKED the stream key no longer exists\r\n" || group.isBlocked() {
		t.Errorf("XREADGROUP waiter: %q blocked=%v", got, group.isBlocked())
	}
	if len(plain.out) != 0 || !plain.isBlocked() {
		t.Errorf("XREAD waiter: %q blocked=%v", plain.out, plain.isBlocked())
	}
}
