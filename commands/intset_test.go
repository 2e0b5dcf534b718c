package commands

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func checkIntset(t *testing.T, is *intset, model []int64) {
	t.Helper()
	if is.Len() != len(model) {
		t.Fatalf("Len() = %d; want %d", is.Len(), len(model))
	}
	for i, v := range model {
		if got := is.Get(i); got != v {
			t.Fatalf("Get(%d) = %d; want %d", i, got, v)
		}
		if !is.Contains(v) {
			t.Fatalf("Contains(%d) = false", v)
		}
	}
}

func TestIntsetWidths(t *testing.T) {
	tests := []struct {
		name  string
		add   []int64
		width uint8
	}{
		{"empty", nil, 0},
		{"int16", []int64{3, -2, math.MaxInt16, math.MinInt16}, 2},
		{"int32 upgrade high", []int64{1, 2, math.MaxInt16 + 1}, 4},
		{"int32 upgrade low", []int64{1, 2, math.MinInt16 - 1}, 4},
		{"int64 upgrade high", []int64{1, math.MaxInt32, math.MaxInt32 + 1}, 8},
		{"int64 upgrade low", []int64{5, math.MinInt32 - 1, 7}, 8},
		{"extremes", []int64{math.MaxInt64, math.MinInt64, 0}, 8},
		{"first member wide", []int64{-5000000000}, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var is intset
			var model []int64
			for _, v := range tc.add {
				if !is.Add(v) {
					t.Fatalf("Add(%d) = false for a new member", v)
				}
				model = append(model, v)
			}
			slices.Sort(model)
			checkIntset(t, &is, model)
			if is.width != tc.width {
				t.Errorf("width = %d; want %d", is.width, tc.width)
			}
			for _, v := range tc.add {
				if is.Add(v) {
					t.Errorf("Add(%d) = true for a member", v)
				}
			}
			// A member wider than the encoding is never there.
			if len(tc.add) > 0 && is.width < 8 && is.Contains(math.MaxInt64) {
				t.Errorf("Contains(MaxInt64) = true")
			}
			cl := is.Clone()
			for _, v := range tc.add {
				if !is.Remove(v) {
					t.Fatalf("Remove(%d) = false", v)
				}
			}
			checkIntset(t, &is, nil)
			checkIntset(t, &cl, model)
			if is.width != tc.width {
				t.Errorf("width after removals = %d; want %d (intsets never downgrade)", is.width, tc.width)
			}
		})
	}
}

func TestIntsetRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var is intset
	set := map[int64]bool{}
	draw := func() int64 {
		switch r.IntN(4) {
		case 0:
			return int64(r.Uint64())
		case 1:
			return r.Int64N(1<<40) - 1<<39
		default:
			return r.Int64N(200) - 100
		}
	}
	for step := 0; step < 5000; step++ {
		v := draw()
		if r.IntN(3) == 0 {
			if got := is.Remove(v); got != set[v] {
				t.Fatalf("Remove(%d) = %v; want %v", v, got, set[v])
			}
			delete(set, v)
		} else {
			if got := is.Add(v); got == set[v] {
				t.Fatalf("Add(%d) = %v with member=%v", v, got, set[v])
			}
			set[v] = true
		}
	}
	var model []int64
	for v := range set {
		model = append(model, v)
	}
	slices.Sort(model)
	checkIntset(t, &is, model)
}
