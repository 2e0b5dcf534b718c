package commands

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// TestSetConversion checks when a set leaves the intset encoding, as Redis
// 7.0's setTypeCreate and setTypeAdd decide it.
func TestSetConversion(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		members []string
		want    string
	}{
		{"integers", 512, []string{"1", "-2", "9223372036854775807"}, "intset"},
		{"at limit", 3, []string{"1", "2", "3", "3"}, "intset"},
		{"past limit", 3, []string{"1", "2", "3", "4"}, "hashtable"},
		{"zero limit", 0, []string{"1"}, "hashtable"},
		{"string first", 512, []string{"a"}, "hashtable"},
		{"string later", 512, []string{"1", "a"}, "hashtable"},
		{"not canonical: leading zero", 512, []string{"01"}, "hashtable"},
		{"not canonical: plus", 512, []string{"+1"}, "hashtable"},
		{"not canonical: minus zero", 512, []string{"-0"}, "hashtable"},
		{"out of range", 512, []string{"9223372036854775808"}, "hashtable"},
		{"empty string", 512, []string{""}, "hashtable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(128, 64, tc.max)
			o := newSetFor([]byte(tc.members[0]))
			model := map[string]bool{}
			for _, m := range tc.members {
				if added := o.add(s, []byte(m)); added == model[m] {
					t.Fatalf("add(%q) = %v; member=%v", m, added, model[m])
				}
				model[m] = true
			}
			if got := o.Encoding(); got != tc.want {
				t.Errorf("Encoding() = %q; want %q", got, tc.want)
			}
			checkSet(t, o, model)
		})
	}
}

func checkSet(t *testing.T, o *setObject, model map[string]bool) {
	t.Helper()
	if o.Len() != len(model) {
		t.Fatalf("Len() = %d; want %d", o.Len(), len(model))
	}
	for m := range model {
		if !o.contains([]byte(m)) {
			t.Fatalf("contains(%q) = false", m)
		}
	}
	var got []string
	o.each(func(m []byte) bool {
		got = append(got, string(m))
		return true
	})
	if o.ht == nil {
		// An intset iterates in ascending numeric order, which SMEMBERS
		// shows.
		if !slices.IsSortedFunc(got, func(a, b string) int {
			x, _ := strconv.ParseInt(a, 10, 64)
			y, _ := strconv.ParseInt(b, 10, 64)
			return int(min(max(x-y, -1), 1))
		}) {
			t.Fatalf("intset members not ascending: %v", got)
		}
	}
	for _, m := range got {
		if !model[m] {
			t.Fatalf("each returned %q, not a member", m)
		}
	}
}

func TestSetRoundTrip(t *testing.T) {
	s := testServer(128, 64, 1000)
	o := &setObject{}
	model := map[string]bool{}
	for i := -300; i < 300; i += 7 {
		m := strconv.Itoa(i * 1000003)
		o.add(s, []byte(m))
		model[m] = true
	}
	checkSet(t, o, model)
	cp := o.Copy().(*setObject)
	for i := -300; i < 0; i += 7 {
		m := strconv.Itoa(i * 1000003)
		if !o.remove([]byte(m)) || o.remove([]byte(m)) {
			t.Fatalf("remove(%q) misbehaves", m)
		}
		delete(model, m)
	}
	if o.remove([]byte("x")) || o.contains([]byte("x")) {
		t.Fatalf("a string found in an intset")
	}
	checkSet(t, o, model)
	if cp.Len() == o.Len() {
		t.Fatalf("copy changed with the original")
	}
	o.add(s, []byte("x"))
	model["x"] = true
	if o.Encoding() != "hashtable" {
		t.Fatalf("Encoding() = %q after a string", o.Encoding())
	}
	checkSet(t, o, model)
}

func TestSetRewrite(t *testing.T) {
	for _, strs := range []bool{false, true} {
		for _, n := range []int{1, 64, 65, 200} {
			s := testServer(128, 64, 512)
			o := &setObject{}
			for i := 0; i < n; i++ {
				m := strconv.Itoa(i)
				if strs {
					m = "m" + m
				}
				o.add(s, []byte(m))
			}
			rebuilt := &setObject{}
			var sizes []int
			o.Rewrite([]byte("key"), func(argv [][]byte) {
				if string(argv[0]) != "SADD" || string(argv[1]) != "key" {
					t.Fatalf("Rewrite emitted %q %q", argv[0], argv[1])
				}
				sizes = append(sizes, len(argv)-2)
				for _, m := range argv[2:] {
					rebuilt.add(s, m)
				}
			})
			want := []int{}
			for left := n; left > 0; left -= 64 {
				want = append(want, min(left, 64))
			}
			if fmt.Sprint(sizes) != fmt.Sprint(want) {
				t.Errorf("n=%d strs=%v: batches %v; want %v", n, strs, sizes, want)
			}
			if rebuilt.Len() != n || rebuilt.Encoding() != o.Encoding() {
				t.Errorf("n=%d strs=%v: rebuilt %d members as %s; want %d as %s",
					n, strs, rebuilt.Len(), rebuilt.Encoding(), n, o.Encoding())
			}
		}
	}
}
