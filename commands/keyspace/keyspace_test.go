package keyspace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDictModel runs random operations against a Dict and a Go map and
// checks they agree, across growth, shrinking and incremental rehashing.
func TestDictModel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	a := NewArena()
	d := NewDict(a)
	model := map[string]string{}
	ids := map[string]uint32{}
	randKey := func() string { return fmt.Sprintf("key:%d", r.IntN(3000)) }
	randVal := func() string { return string(bytes.Repeat([]byte{byte('a' + r.IntN(26))}, r.IntN(300))) }
	for step := 0; step < 200000; step++ {
		k := randKey()
		switch op := r.IntN(10); {
		case op < 4: // set
			v := randVal()
			if id := d.Find([]byte(k)); id != 0 {
				d.SetValue(id, []byte(v))
			} else {
				ids[k] = d.Add([]byte(k), []byte(v))
			}
			model[k] = v
		case op < 6: // delete
			if id := d.Find([]byte(k)); id != 0 {
				d.Delete(id)
				delete(model, k)
				delete(ids, k)
			} else if _, ok := model[k]; ok {
				t.Fatalf("step %d: %s in model but not found", step, k)
			}
		case op < 7: // grow in place (APPEND)
			if id := d.Find([]byte(k)); id != 0 {
				old := model[k]
				add := randVal()
				v := d.GrowValue(id, len(old)+len(add))
				copy(v[len(old):], add)
				model[k] = old + add
			}
		case op < 8:
			d.ShrinkIfNeeded()
			d.Rehash(10)
		default: // get
			id := d.Find([]byte(k))
			v, ok := model[k]
			if (id != 0) != ok {
				t.Fatalf("step %d: find %s = %d, model has %v", step, k, id, ok)
			}
			if ok && string(d.Value(id)) != v {
				t.Fatalf("step %d: value of %s differs", step, k)
			}
			if ok && string(d.Key(id)) != k {
				t.Fatalf("step %d: key of id %d = %q", step, id, d.Key(id))
			}
		}
		if d.Len() != len(model) {
			t.Fatalf("step %d: len %d, model %d", step, d.Len(), len(model))
		}
	}
	// Every id stays stable for the life of its entry.
	for k, id := range ids {
		if string(d.Key(id)) != k {
			t.Fatalf("id %d moved: key %q, want %q", id, d.Key(id), k)
		}
	}
}

// TestDictScanGuarantee checks Redis's SCAN contract: every element present
// for the whole iteration is returned, even when the table grows or shrinks
// between calls.
func TestDictScanGuarantee(t *testing.T) {
	for _, tc := range []struct {
		name          string
		start, change int // keys before the scan; keys added (+) or removed (-) midway
	}{
		{"stable", 1000, 0},
		{"grow", 100, 5000},
		{"shrink", 5000, -4900},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDict(NewArena())
			for i := 0; i < tc.start; i++ {
				d.Add([]byte(fmt.Sprint("s", i)), nil)
			}
			seen := map[string]bool{}
			var cursor uint64
			step := 0
			for {
				cursor = d.Scan(cursor, func(id uint32) { seen[string(d.Key(id))] = true })
				step++
				if step == 3 {
					if tc.change > 0 {
						for i := 0; i < tc.change; i++ {
							d.Add([]byte(fmt.Sprint("n", i)), nil)
						}
					} else {
						for i := tc.start - 1; i >= tc.start+tc.change; i-- {
							d.Delete(d.Find([]byte(fmt.Sprint("s", i))))
						}
						d.ShrinkIfNeeded()
					}
				}
				d.Rehash(1)
				if cursor == 0 {
					break
				}
			}
			keep := tc.start
			if tc.change < 0 {
				keep = tc.start + tc.change
			}
			for i := 0; i < keep; i++ {
				if !seen[fmt.Sprint("s", i)] {
					t.Fatalf("s%d present throughout but never returned", i)
				}
			}
		})
	}
}

func TestDictRandomAndSample(t *testing.T) {
	d := NewDict(NewArena())
	if d.Random() != 0 {
		t.Fatal("Random on empty dict")
	}
	for i := 0; i < 100; i++ {
		d.Add([]byte(fmt.Sprint(i)), nil)
	}
	hits := map[uint32]int{}
	for i := 0; i < 10000; i++ {
		hits[d.Random()]++
	}
	if len(hits) < 90 {
		t.Fatalf("Random reached only %d of 100 keys", len(hits))
	}
	n := 0
	d.Sample(16, func(id uint32) bool {
		if id == 0 {
			t.Fatal("Sample returned id 0")
		}
		n++
		return true
	})
	if n == 0 || n > 16 {
		t.Fatalf("Sample returned %d entries", n)
	}
}

func TestArenaReuse(t *testing.T) {
	a := NewArena()
	var hs []uint64
	for i := 0; i < 10000; i++ {
		h, mem := a.Alloc(40)
		if len(mem) < 40 {
			t.Fatalf("chunk of %d bytes for 40", len(mem))
		}
		mem[0] = byte(i)
		hs = append(hs, h)
	}
	reserved := a.Reserved()
	for _, h := range hs {
		a.Free(h)
	}
	if a.Allocated() != 0 {
		t.Fatalf("allocated %d after freeing all", a.Allocated())
	}
	for i := 0; i < 10000; i++ {
		a.Alloc(40)
	}
	if a.Reserved() > reserved {
		t.Fatalf("reserved grew from %d to %d: freed chunks not reused", reserved, a.Reserved())
	}
	// Large chunks get pages of their own and give them back.
	h, mem := a.Alloc(100000)
	if len(mem) < 100000 {
		t.Fatal("short large chunk")
	}
	before := a.Reserved()
	a.Free(h)
	if a.Reserved() >= before {
		t.Fatal("large page not released")
	}
}

func TestDBBasics(t *testing.T) {
	db := NewDB()
	r := db.SetStr([]byte("k"), []byte("v"), EncEmbstr, false, 5)
	db.SetExpireAt(r, 1000)
	if at, ok := db.ExpireAt(r); !ok || at != 1000 || db.ExpiresLen() != 1 {
		t.Fatalf("expire = %d %v", at, ok)
	}
	// Overwriting drops the TTL unless keepTTL.
	r = db.SetStr([]byte("k"), []byte("w"), EncEmbstr, true, 0)
	if _, ok := db.ExpireAt(r); !ok {
		t.Fatal("keepTTL lost the TTL")
	}
	r = db.SetStr([]byte("k"), []byte("x"), EncEmbstr, false, 0)
	if _, ok := db.ExpireAt(r); ok || db.ExpiresLen() != 0 {
		t.Fatal("overwrite kept the TTL")
	}
	if db.LRU(r) != 5 {
		t.Fatalf("overwrite changed the LRU clock to %d", db.LRU(r))
	}
	db.SetExpireAt(r, 2000)
	nr := db.Rename(r, []byte("k2"))
	if db.Lookup([]byte("k")) != 0 || string(db.Str(nr)) != "x" {
		t.Fatal("rename")
	}
	if at, _ := db.ExpireAt(nr); at != 2000 {
		t.Fatal("rename lost the TTL")
	}
	obj := []int{1, 2, 3}
	or := db.AddObject([]byte("list"), TypeList, &obj, 0)
	if db.Type(or) != TypeList || db.Object(or) != &obj {
		t.Fatal("object")
	}
	db.Delete(or)
	if db.Len() != 1 {
		t.Fatalf("len %d", db.Len())
	}
	db.Flush()
	if db.Len() != 0 || db.ExpiresLen() != 0 {
		t.Fatal("flush")
	}
}
