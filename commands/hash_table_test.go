package commands

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkTable compares t with the model through Find, Entry and iteration,
// and checks the chains and the byte count.
func checkTable(t *testing.T, tb *strTable, model map[string]string) {
	t.Helper()
	if tb.Len() != len(model) {
		t.Fatalf("Len() = %d; want %d", tb.Len(), len(model))
	}
	var bytes int64
	for k, v := range model {
		i := tb.Find([]byte(k))
		if i < 0 {
			t.Fatalf("Find(%q) = -1", k)
		}
		e := tb.Entry(i)
		if e.key() != k || e.val() != v {
			t.Fatalf("entry of %q = %q/%q; want %q", k, e.key(), e.val(), v)
		}
		bytes += int64(len(k) + len(v))
	}
	if tb.bytes != bytes {
		t.Fatalf("bytes = %d; want %d", tb.bytes, bytes)
	}
	linked := 0
	for b, head := range tb.buckets {
		for i := head; i != 0; i = tb.ents[i-1].next {
			if got := hashString(tb.ents[i-1].key()) & tb.mask(); got != uint64(b) {
				t.Fatalf("entry %q in bucket %d; hashes to %d", tb.ents[i-1].key(), b, got)
			}
			linked++
		}
	}
	if linked != len(model) {
		t.Fatalf("%d entries linked; want %d", linked, len(model))
	}
	if len(tb.buckets) > tableMinBuckets && len(model)*10 < len(tb.buckets) {
		t.Fatalf("%d buckets for %d entries: not shrunk", len(tb.buckets), len(model))
	}
}

func TestStrTableModel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tb := newStrTable(0)
	model := map[string]string{}
	for step := 0; step < 20000; step++ {
		// Grow to a few thousand, then drain, to exercise both resizes.
		space := 3000
		if step > 12000 {
			space = 20
		}
		k := "k" + strconv.Itoa(r.IntN(space))
		switch op := r.IntN(5); {
		case op < 2 && step <= 12000:
			v := strconv.Itoa(r.IntN(1000))
			_, had := model[k]
			if created := tb.Set([]byte(k), []byte(v)); created == had {
				t.Fatalf("Set(%q) created=%v; had=%v", k, created, had)
			}
			model[k] = v
		case op == 2 && tb.Len() > 0:
			i := tb.Random()
			k := tb.Entry(i).key()
			tb.DeleteAt(i)
			delete(model, k)
		default:
			_, had := model[k]
			if got := tb.Delete([]byte(k)); got != had {
				t.Fatalf("Delete(%q) = %v; want %v", k, got, had)
			}
			delete(model, k)
		}
		if step%500 == 0 {
			checkTable(t, tb, model)
		}
	}
	checkTable(t, tb, model)
	cl := tb.Clone()
	tb.Set([]byte("new"), []byte("x"))
	checkTable(t, cl, model)
}

// TestStrTableScanContract checks SCAN's guarantee: an element present
// during the whole iteration is returned at least once, however much the
// table grows or shrinks between calls.
func TestStrTableScanContract(t *testing.T) {
	tests := []struct {
		name      string
		start     int
		perStep   func(tb *strTable, step int, r *rand.Rand)
		stableMax int // keys below this are never removed
	}{
		{"static", 1000, func(*strTable, int, *rand.Rand) {}, 1000},
		{"growing", 100, func(tb *strTable, step int, r *rand.Rand) {
			if step >= 100 {
				return // a table that keeps growing can outrun any scan
			}
			for i := 0; i < 50; i++ {
				tb.Set([]byte("g"+strconv.Itoa(step*50+i)), nil)
			}
		}, 100},
		{"shrinking", 5000, func(tb *strTable, step int, r *rand.Rand) {
			for i := 0; i < 300; i++ {
				tb.Delete([]byte("k" + strconv.Itoa(100+r.IntN(4900))))
			}
		}, 100},
		{"churn", 2000, func(tb *strTable, step int, r *rand.Rand) {
			for i := 0; i < 200; i++ {
				if r.IntN(2) == 0 {
					tb.Set([]byte("c"+strconv.Itoa(r.IntN(5000))), nil)
				} else {
					tb.Delete([]byte("k" + strconv.Itoa(500+r.IntN(1500))))
				}
			}
		}, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			tb := newStrTable(0)
			for i := 0; i < tc.start; i++ {
				tb.Set([]byte("k"+strconv.Itoa(i)), nil)
			}
			seen := map[string]bool{}
			cursor, step := uint64(0), 0
			for {
				cursor = tb.Scan(cursor, func(e *tableEntry) { seen[e.key()] = true })
				if cursor == 0 {
					break
				}
				tc.perStep(tb, step, r)
				step++
				if step > 1<<20 {
					t.Fatal("scan does not terminate")
				}
			}
			for i := 0; i < tc.stableMax; i++ {
				if k := "k" + strconv.Itoa(i); !seen[k] {
					t.Fatalf("%s present throughout but never returned", k)
				}
			}
		})
	}
}
