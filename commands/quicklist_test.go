package commands

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkList compares q with the model and checks the node invariants.
func checkList(t *testing.T, q *quicklist, model [][]byte, what string) {
	t.Helper()
	if q.Len() != len(model) {
		t.Fatalf("%s: Len %d, want %d", what, q.Len(), len(model))
	}
	var got [][]byte
	q.each(func(v []byte) bool {
		got = append(got, append([]byte(nil), v...))
		return true
	})
	if len(got) != len(model) {
		t.Fatalf("%s: each gave %d elements, want %d", what, len(got), len(model))
	}
	for i := range model {
		if !bytes.Equal(got[i], model[i]) {
			t.Fatalf("%s: element %d is %.20q, want %.20q", what, i, got[i], model[i])
		}
	}
	total := 0
	for i := 0; i < q.numNodes(); i++ {
		nd := q.node(i)
		if nd.n <= 0 {
			t.Fatalf("%s: node %d of %d is empty", what, i, q.numNodes())
		}
		n := 0
		for off := nd.lo; off < len(nd.buf); n++ {
			off = qlNext(nd.buf, off)
		}
		if n != nd.n {
			t.Fatalf("%s: node %d holds %d entries, counts %d", what, i, n, nd.n)
		}
		// Walking backwards must find the same entries.
		back := 0
		for end := len(nd.buf); end > nd.lo; back++ {
			end = qlPrev(nd.buf, end)
		}
		if back != nd.n {
			t.Fatalf("%s: node %d walks back over %d entries, counts %d", what, i, back, nd.n)
		}
		total += n
	}
	if total != q.count {
		t.Fatalf("%s: nodes hold %d entries, count is %d", what, total, q.count)
	}
	bufBytes := q.bufBytes
	q.recount()
	if bufBytes != q.bufBytes {
		t.Fatalf("%s: bufBytes %d, recounted %d", what, bufBytes, q.bufBytes)
	}
	// Reverse iteration and random access agree with the model.
	if len(model) > 0 {
		it := q.iter(len(model)-1, false)
		for i := len(model) - 1; i >= 0; i-- {
			v, ok := it.next()
			if !ok || !bytes.Equal(v, model[i]) {
				t.Fatalf("%s: reverse element %d is %.20q, want %.20q", what, i, v, model[i])
			}
		}
		for _, i := range []int{0, len(model) / 3, len(model) / 2, len(model) - 1} {
			var sc [20]byte
			if v := q.index(i, &sc); !bytes.Equal(v, model[i]) {
				t.Fatalf("%s: index(%d) = %.20q, want %.20q", what, i, v, model[i])
			}
		}
	}
}

func TestQuicklistEntryEncoding(t *testing.T) {
	f := func(v string, wantSize int, wantInt bool) {
		t.Helper()
		it := qlPrepare([]byte(v))
		if it.isInt != wantInt || (wantSize > 0 && it.size != wantSize) {
			t.Fatalf("%.20q: isInt %v size %d; want %v %d", v, it.isInt, it.size, wantInt, wantSize)
		}
		buf := make([]byte, it.size+3)
		buf[0], buf[1] = 0xAA, 0xBB // an entry before
		qlPut(buf[2:], &it)
		var sc [20]byte
		got, next := qlValue(buf, 2, &sc)
		if string(got) != v || next != 2+it.size || qlNext(buf, 2) != next {
			t.Fatalf("%.20q: forward decode gave %.20q next %d", v, got, next)
		}
		if start := qlPrev(buf, 2+it.size); start != 2 {
			t.Fatalf("%.20q: backward decode gave start %d", v, start)
		}
		m := qlMatcher([]byte(v))
		if eq, _ := m.at(buf, 2); !eq {
			t.Fatalf("%.20q: matcher does not match itself", v)
		}
		out, _ := qlAppendBulk(nil, buf, 2)
		if want := fmt.Sprintf("$%d\r\n%s\r\n", len(v), v); string(out) != want {
			t.Fatalf("%.20q: bulk %.30q", v, out)
		}
	}
	f("xxx", 5, false)
	f("", 2, false)
	f("0", 2, true)
	f("63", 2, true)
	f("64", 3, true)
	f("-1", 3, true)
	f("127", 3, true)
	f("128", 4, true)
	f("-128", 3, true)
	f("-129", 4, true)
	f("123456", 5, true)
	f("9223372036854775807", 10, true)
	f("-9223372036854775808", 10, true)
	f("9223372036854775808", 0, false) // overflows: a string
	f("007", 5, false)                 // not canonical: a string
	f("-0", 4, false)
	f("+1", 4, false)
	f("1.5", 5, false)
	f(" 1", 4, false)
	for _, n := range []int{126, 127, 128, 16380, 16383, 65535, 65536, 2100000} {
		f(strings.Repeat("z", n), 0, false)
	}
	// Entries of one encoding never match elements of another.
	m := qlMatcher([]byte("12"))
	it := qlPrepare([]byte("012"))
	buf := make([]byte, it.size)
	qlPut(buf, &it)
	if eq, _ := m.at(buf, 0); eq {
		t.Fatal("12 matches 012")
	}
}

func TestQuicklistFillClamp(t *testing.T) {
	f := func(fill, want, limit int) {
		t.Helper()
		q := newQuicklist(fill)
		if q.fill != want || q.byteLimit() != limit {
			t.Fatalf("fill %d: got fill %d limit %d; want %d %d", fill, q.fill, q.byteLimit(), want, limit)
		}
	}
	f(-1, -1, 4096)
	f(-2, -2, 8192)
	f(-5, -5, 65536)
	f(-6, -5, 65536)
	f(-1<<31, -5, 65536)
	f(0, 0, 8192)
	f(128, 128, 8192)
	f(1<<20, qlFillMax, 8192)
}

func TestQuicklistNodeLimits(t *testing.T) {
	cases := []struct {
		fill, n, size int
		maxEntries    int // per node; 0: not checked
		maxBytes      int // per node; 0: not checked
	}{
		{-1, 2000, 10, 0, 4096},
		{-2, 2000, 10, 0, 8192},
		{-2, 100, 100, 0, 8192},
		{-5, 5000, 40, 0, 65536},
		{0, 20, 5, 1, 0},
		{1, 20, 5, 1, 0},
		{5, 23, 5, 5, 0},
		{128, 1000, 100, 128, 8192},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("fill%d_%dx%d", tc.fill, tc.n, tc.size), func(t *testing.T) {
			for _, head := range []bool{false, true} {
				q := newQuicklist(tc.fill)
				var model [][]byte
				for i := 0; i < tc.n; i++ {
					v := []byte(fmt.Sprintf("%0*d", tc.size, i))
					q.push(v, head)
					if head {
						model = append([][]byte{v}, model...)
					} else {
						model = append(model, v)
					}
				}
				checkList(t, q, model, "after pushes")
				for i := 0; i < q.numNodes(); i++ {
					nd := q.node(i)
					if tc.maxEntries > 0 && nd.n > tc.maxEntries {
						t.Fatalf("node %d holds %d entries, limit %d", i, nd.n, tc.maxEntries)
					}
					if tc.maxBytes > 0 && nd.size() > tc.maxBytes {
						t.Fatalf("node %d is %d bytes, limit %d", i, nd.size(), tc.maxBytes)
					}
				}
			}
		})
	}
	// An element larger than the limit gets a node of its own.
	q := newQuicklist(-1)
	q.pushTail([]byte("a"))
	q.pushTail(bytes.Repeat([]byte("b"), 5000))
	q.pushTail([]byte("c"))
	if q.numNodes() != 3 {
		t.Fatalf("big element: %d nodes, want 3", q.numNodes())
	}
}

// TestQuicklistRandomOps runs random operations against a slice model, for
// several fills, checking contents and invariants after each.
func TestQuicklistRandomOps(t *testing.T) {
	for _, fill := range []int{-2, -1, 0, 1, 3, 16} {
		t.Run(fmt.Sprintf("fill%d", fill), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(fill+10), 99))
			q := newQuicklist(fill)
			var model [][]byte
			val := func() []byte {
				switch r.IntN(10) {
				case 0:
					return bytes.Repeat([]byte{'L'}, 100+r.IntN(6000))
				case 1:
					return []byte{}
				case 2:
					return []byte(fmt.Sprint(r.Int64N(1<<40) - 1<<39))
				default:
					return []byte(strings.Repeat("v", r.IntN(2)) + fmt.Sprint(r.IntN(8)))
				}
			}
			for step := 0; step < 3000; step++ {
				op := r.IntN(13)
				what := fmt.Sprintf("step %d op %d", step, op)
				switch {
				case op == 11:
					// A burst of pushes, so that lists span many nodes.
					head := r.IntN(2) == 0
					for k := r.IntN(60); k > 0; k-- {
						v := []byte(fmt.Sprint(r.IntN(8)))
						q.push(v, head)
						if head {
							model = append([][]byte{v}, model...)
						} else {
							model = append(model, v)
						}
					}
				case op <= 1 || len(model) == 0:
					v := val()
					head := r.IntN(2) == 0
					q.push(v, head)
					if head {
						model = append([][]byte{v}, model...)
					} else {
						model = append(model, v)
					}
				case op == 2:
					head := r.IntN(2) == 0
					n := 1 + r.IntN(min(len(model), 5))
					q.trimEnd(n, head)
					if head {
						model = model[n:]
					} else {
						model = model[:len(model)-n]
					}
				case op == 3:
					i := r.IntN(len(model))
					v := val()
					q.set(i, v)
					model[i] = v
				case op == 4 || op == 5:
					pivot := model[r.IntN(len(model))]
					if r.IntN(4) == 0 {
						pivot = []byte("absent")
					}
					after := r.IntN(2) == 0
					v := val()
					found := q.insertPivot(pivot, v, after)
					at := -1
					for i := range model {
						if bytes.Equal(model[i], pivot) {
							at = i
							break
						}
					}
					if found != (at >= 0) {
						t.Fatalf("%s: insertPivot found=%v, model %d", what, found, at)
					}
					if at >= 0 {
						if after {
							at++
						}
						model = append(model[:at], append([][]byte{v}, model[at:]...)...)
					}
				case op == 6:
					v := model[r.IntN(len(model))]
					v = append([]byte(nil), v...)
					limit := int64(r.IntN(3))
					fromTail := r.IntN(2) == 0
					got := q.remove(v, limit, fromTail)
					var removed int64
					var keep [][]byte
					if !fromTail {
						for _, e := range model {
							if bytes.Equal(e, v) && (limit == 0 || removed < limit) {
								removed++
								continue
							}
							keep = append(keep, e)
						}
					} else {
						for i := len(model) - 1; i >= 0; i-- {
							e := model[i]
							if bytes.Equal(e, v) && (limit == 0 || removed < limit) {
								removed++
								continue
							}
							keep = append([][]byte{e}, keep...)
						}
					}
					if got != removed {
						t.Fatalf("%s: remove gave %d, want %d", what, got, removed)
					}
					model = keep
				case op == 7:
					start := r.IntN(len(model))
					n := 1 + r.IntN(len(model)-start)
					reverse := r.IntN(2) == 0
					out := q.appendRange(nil, start, n, reverse)
					var want []byte
					for k := 0; k < n; k++ {
						i := start + k
						if reverse {
							i = len(model) - 1 - start - k
						}
						want = fmt.Appendf(want, "$%d\r\n%s\r\n", len(model[i]), model[i])
					}
					if !bytes.Equal(out, want) {
						t.Fatalf("%s: appendRange(%d, %d, %v) differs", what, start, n, reverse)
					}
				case op == 8:
					from, to := r.IntN(2) == 0, r.IntN(2) == 0
					var sc [20]byte
					v := append([]byte(nil), q.end(from, &sc)...)
					q.trimEnd(1, from)
					q.push(v, to)
					if from {
						model = model[1:]
					} else {
						model = model[:len(model)-1]
					}
					if to {
						model = append([][]byte{v}, model...)
					} else {
						model = append(model, v)
					}
				case op == 9:
					cp := q.Copy().(*quicklist)
					checkList(t, cp, model, what+" copy")
				default:
					if r.IntN(20) == 0 {
						n := r.IntN(len(model) + 1)
						q.trimHead(n)
						model = model[n:]
					}
				}
				checkList(t, q, model, what)
			}
		})
	}
}

func TestQuicklistRewrite(t *testing.T) {
	q := newQuicklist(-2)
	for i := 0; i < 130; i++ {
		q.pushTail([]byte(fmt.Sprint(i)))
	}
	var sizes []int
	var all []string
	q.Rewrite([]byte("k"), func(argv [][]byte) {
		if string(argv[0]) != "RPUSH" || string(argv[1]) != "k" {
			t.Fatalf("bad command %q", argv[:2])
		}
		sizes = append(sizes, len(argv)-2)
		for _, a := range argv[2:] {
			all = append(all, string(a))
		}
	})
	if fmt.Sprint(sizes) != "[64 64 2]" || len(all) != 130 || all[129] != "129" {
		t.Fatalf("rewrite batches %v, %d elements", sizes, len(all))
	}
}

func TestQuicklistMemoryUsage(t *testing.T) {
	q := newQuicklist(-2)
	for i := 0; i < 100000; i++ {
		q.pushHead([]byte("xxx"))
	}
	per := float64(q.MemoryUsage()) / 100000
	// Redis's listpack spends 5 bytes on such an element; allow node slack.
	if per > 7 {
		t.Fatalf("%.2f bytes per element", per)
	}
	if q.MemoryUsage() <= 100000*5 {
		t.Fatalf("MemoryUsage %d is below the payload", q.MemoryUsage())
	}
}

func BenchmarkQuicklistPushPop(b *testing.B) {
	q := newQuicklist(-2)
	v := []byte("xxx")
	for i := 0; i < 1000; i++ {
		q.pushTail(v)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		q.pushHead(v)
		q.trimTail(1)
	}
}

func BenchmarkQuicklistRange600(b *testing.B) {
	q := newQuicklist(-2)
	for i := 0; i < 600; i++ {
		q.pushHead([]byte("xxx"))
	}
	out := make([]byte, 0, 8192)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		out = q.appendRange(out[:0], 0, 600, false)
	}
}
