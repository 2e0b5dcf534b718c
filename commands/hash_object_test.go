package commands

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"spinel/config"
)

func testServer(hashEntries, hashValue, intsetEntries int) *Server {
	return &Server{cfg: &config.Config{
		HashMaxListpackEntries: hashEntries,
		HashMaxListpackValue:   hashValue,
		SetMaxIntsetEntries:    intsetEntries,
	}}
}

// TestHashConversion checks when a hash leaves the listpack encoding, as
// Redis's hashTypeTryConversion and hashTypeSet decide it.
func TestHashConversion(t *testing.T) {
	long := strings.Repeat("x", 9)
	tests := []struct {
		name    string
		entries int
		value   int
		sets    [][2]string // field, value, through set()
		try     []string    // arguments given to tryConversion first
		want    string
	}{
		{"at entry limit", 3, 8, [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}}, nil, "listpack"},
		{"past entry limit", 3, 8, [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}, nil, "hashtable"},
		{"updates do not count", 3, 8, [][2]string{{"a", "1"}, {"a", "2"}, {"a", "3"}, {"a", "4"}}, nil, "listpack"},
		{"zero entries", 0, 8, [][2]string{{"a", "1"}}, nil, "hashtable"},
		{"value at limit", 8, 8, [][2]string{{"a", "12345678"}}, nil, "listpack"},
		{"value past limit", 8, 8, [][2]string{{"a", long}}, nil, "hashtable"},
		{"field past limit", 8, 8, [][2]string{{long, "a"}}, nil, "hashtable"},
		{"zero value limit, empty strings", 8, 0, [][2]string{{"", ""}}, nil, "listpack"},
		{"tryConversion on a long argument", 8, 8, nil, []string{"a", long}, "hashtable"},
		{"tryConversion on short arguments", 8, 8, nil, []string{"a", "b"}, "listpack"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(tc.entries, tc.value, 512)
			h := &hashObject{}
			if tc.try != nil {
				args := make([][]byte, len(tc.try))
				for i, a := range tc.try {
					args[i] = []byte(a)
				}
				h.tryConversion(s, args)
			}
			model := map[string]string{}
			for _, fv := range tc.sets {
				_, had := model[fv[0]]
				if created := h.set(s, []byte(fv[0]), []byte(fv[1])); created == had {
					t.Fatalf("set(%q) created=%v; had=%v", fv[0], created, had)
				}
				model[fv[0]] = fv[1]
			}
			if got := h.Encoding(); got != tc.want {
				t.Errorf("Encoding() = %q; want %q", got, tc.want)
			}
			checkHash(t, h, model)
		})
	}
}

func checkHash(t *testing.T, h *hashObject, model map[string]string) {
	t.Helper()
	if h.Len() != len(model) {
		t.Fatalf("Len() = %d; want %d", h.Len(), len(model))
	}
	for f, v := range model {
		got, ok := h.get([]byte(f))
		if !ok || string(got) != v {
			t.Fatalf("get(%q) = %q, %v; want %q", f, got, ok, v)
		}
	}
	n := 0
	h.each(func(f, v []byte) bool {
		if model[string(f)] != string(v) {
			t.Fatalf("each: %q = %q; want %q", f, v, model[string(f)])
		}
		n++
		return true
	})
	if n != len(model) {
		t.Fatalf("each visited %d pairs; want %d", n, len(model))
	}
	for i := 0; i < h.Len(); i++ {
		f, v := h.pair(i)
		if model[string(f)] != string(v) {
			t.Fatalf("pair(%d) = %q/%q", i, f, v)
		}
	}
}

// TestHashRoundTrip runs the same writes on both encodings, then converts,
// deletes and copies.
func TestHashRoundTrip(t *testing.T) {
	for _, entries := range []int{1000, 0} {
		t.Run(fmt.Sprint("entries=", entries), func(t *testing.T) {
			s := testServer(entries, 64, 512)
			h := &hashObject{}
			model := map[string]string{}
			for i := 0; i < 300; i++ {
				f, v := "f"+strconv.Itoa(i%97), strings.Repeat("v", i%40)
				h.set(s, []byte(f), []byte(v))
				model[f] = v
			}
			checkHash(t, h, model)
			cp := h.Copy().(*hashObject)
			for i := 0; i < 97; i += 3 {
				f := "f" + strconv.Itoa(i)
				if !h.del([]byte(f)) {
					t.Fatalf("del(%q) = false", f)
				}
				if h.del([]byte(f)) {
					t.Fatalf("second del(%q) = true", f)
				}
				delete(model, f)
			}
			checkHash(t, h, model)
			if cp.Len() != 97 {
				t.Fatalf("copy changed with the original: Len() = %d", cp.Len())
			}
			h.convert()
			if h.Encoding() != "hashtable" {
				t.Fatalf("convert() left %q", h.Encoding())
			}
			checkHash(t, h, model)
			if h.MemoryUsage() <= 0 {
				t.Fatalf("MemoryUsage() = %d", h.MemoryUsage())
			}
		})
	}
}

// TestHashRewrite checks the AOF rewrite: HMSET in batches of 64 pairs that
// rebuild the hash.
func TestHashRewrite(t *testing.T) {
	for _, n := range []int{1, 64, 65, 130} {
		s := testServer(128, 64, 512)
		h := &hashObject{}
		for i := 0; i < n; i++ {
			h.set(s, []byte("f"+strconv.Itoa(i)), []byte("v"+strconv.Itoa(i)))
		}
		rebuilt := &hashObject{}
		var sizes []int
		h.Rewrite([]byte("key"), func(argv [][]byte) {
			if string(argv[0]) != "HMSET" || string(argv[1]) != "key" {
				t.Fatalf("Rewrite emitted %q %q", argv[0], argv[1])
			}
			sizes = append(sizes, (len(argv)-2)/2)
			for i := 2; i < len(argv); i += 2 {
				rebuilt.set(s, argv[i], argv[i+1])
			}
		})
		want := []int{}
		for left := n; left > 0; left -= 64 {
			want = append(want, min(left, 64))
		}
		if fmt.Sprint(sizes) != fmt.Sprint(want) {
			t.Errorf("n=%d: batches %v; want %v", n, sizes, want)
		}
		if rebuilt.Len() != n {
			t.Errorf("n=%d: rebuilt %d fields", n, rebuilt.Len())
		}
	}
}
