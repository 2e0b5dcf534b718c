package commands

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkListpack compares lp with the model, entry by entry, through every
// accessor.
func checkListpack(t *testing.T, lp *listpack, model [][]byte) {
	t.Helper()
	if lp.Len() != len(model) {
		t.Fatalf("Len() = %d; want %d", lp.Len(), len(model))
	}
	offs := lp.Offsets(nil)
	if len(offs) != len(model) {
		t.Fatalf("Offsets() has %d entries; want %d", len(offs), len(model))
	}
	off := 0
	for i, want := range model {
		if offs[i] != off {
			t.Fatalf("Offsets()[%d] = %d; want %d", i, offs[i], off)
		}
		if s := lp.Seek(i); s != off {
			t.Fatalf("Seek(%d) = %d; want %d", i, s, off)
		}
		if s := lp.Seek(i - len(model)); s != off {
			t.Fatalf("Seek(%d) = %d; want %d", i-len(model), s, off)
		}
		got, next := lp.Entry(off)
		if !bytes.Equal(got, want) {
			t.Fatalf("entry %d = %q; want %q", i, got, want)
		}
		off = next
	}
	if off != lp.End() {
		t.Fatalf("entries end at %d; End() = %d", off, lp.End())
	}
	if lp.Seek(len(model)) != -1 || lp.Seek(-len(model)-1) != -1 {
		t.Fatalf("Seek out of range did not return -1")
	}
}

func TestListpackOps(t *testing.T) {
	// Sizes around the uvarint length boundaries (1 byte up to 127, 2 up to
	// 16383) so that Replace and Insert shift by different amounts.
	sizes := []int{0, 1, 5, 126, 127, 128, 129, 300, 16383, 16384}
	val := func(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }

	tests := []struct {
		name string
		run  func(lp *listpack, model [][]byte) [][]byte
	}{
		{"append", func(lp *listpack, m [][]byte) [][]byte {
			for i, n := range sizes {
				v := val(n, byte('a'+i))
				lp.Append(v)
				m = append(m, v)
			}
			return m
		}},
		{"append pairs", func(lp *listpack, m [][]byte) [][]byte {
			lp.Append([]byte("f"), val(200, 'v'), []byte("g"), nil)
			return append(m, []byte("f"), val(200, 'v'), []byte("g"), []byte{})
		}},
		{"insert front middle end", func(lp *listpack, m [][]byte) [][]byte {
			lp.Append([]byte("b"), []byte("d"))
			lp.Insert(0, []byte("a"))
			lp.Insert(lp.Seek(2), val(130, 'c'))
			lp.Insert(lp.End(), []byte("e"), []byte("f"))
			return append(m, []byte("a"), []byte("b"), val(130, 'c'), []byte("d"), []byte("e"), []byte("f"))
		}},
		{"delete", func(lp *listpack, m [][]byte) [][]byte {
			lp.Append([]byte("a"), val(500, 'b'), []byte("c"), []byte("d"), []byte("e"))
			lp.Delete(lp.Seek(1), 2) // b, c
			lp.Delete(lp.Seek(-1), 1)
			lp.Delete(0, 1)
			return append(m, []byte("d"))
		}},
		{"replace grow shrink same", func(lp *listpack, m [][]byte) [][]byte {
			lp.Append([]byte("a"), []byte("b"), []byte("c"))
			lp.Replace(lp.Seek(1), val(127, 'x')) // same header size, grows
			lp.Replace(lp.Seek(1), val(128, 'y')) // header grows
			lp.Replace(lp.Seek(0), val(20000, 'z'))
			lp.Replace(lp.Seek(0), []byte("A")) // shrinks
			lp.Replace(lp.Seek(2), []byte("C")) // same size
			return append(m, []byte("A"), val(128, 'y'), []byte("C"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var lp listpack
			model := tc.run(&lp, nil)
			checkListpack(t, &lp, model)
			cl := lp.Clone()
			lp.Append([]byte("after"))
			checkListpack(t, &cl, model)
		})
	}
}

func TestListpackFind(t *testing.T) {
	var lp listpack
	// field/value pairs where a value equals another pair's field
	lp.Append([]byte("f1"), []byte("f2"), []byte("f2"), []byte("v2"), []byte(""), []byte("f1"))
	f := func(v string, start, skip, want int) {
		t.Helper()
		if got := lp.Find([]byte(v), start, skip); got != want {
			t.Errorf("Find(%q, %d, %d) = %d; want %d", v, start, skip, got, want)
		}
	}
	f("f1", 0, 1, lp.Seek(0))
	f("f2", 0, 1, lp.Seek(2)) // the value "f2" at 1 is skipped
	f("f2", 0, 0, lp.Seek(1))
	f("", 0, 1, lp.Seek(4))
	f("v2", 0, 1, -1)
	f("v2", lp.Seek(1), 1, lp.Seek(3))
	f("nope", 0, 0, -1)
}

// TestListpackRandom runs random operations against a [][]byte model.
func TestListpackRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var lp listpack
	var model [][]byte
	for step := 0; step < 3000; step++ {
		v := []byte(strings.Repeat(string(rune('a'+r.IntN(26))), []int{0, 1, 10, 127, 128, 200}[r.IntN(6)]))
		switch op := r.IntN(4); {
		case op == 0 || len(model) == 0:
			i := r.IntN(len(model) + 1)
			off := lp.End()
			if i < len(model) {
				off = lp.Seek(i)
			}
			lp.Insert(off, v)
			model = append(model[:i], append([][]byte{v}, model[i:]...)...)
		case op == 1:
			i := r.IntN(len(model))
			n := 1 + r.IntN(min(3, len(model)-i))
			lp.Delete(lp.Seek(i), n)
			model = append(model[:i], model[i+n:]...)
		default:
			i := r.IntN(len(model))
			lp.Replace(lp.Seek(i), v)
			model[i] = v
		}
		if step%100 == 0 {
			checkListpack(t, &lp, model)
		}
	}
	checkListpack(t, &lp, model)
}
