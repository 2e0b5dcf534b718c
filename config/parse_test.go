package config

import "testing"

func TestParseMemory(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"", 0, true}, // as Redis's memtoull
		{"mb", 0, true},
		{"1", 1, true},
		{"1b", 1, true},
		{"1B", 1, true},
		{"1k", 1000, true},
		{"1kb", 1024, true},
		{"1Kb", 1024, true},
		{"2m", 2000000, true},
		{"1MB", 1 << 20, true},
		{"1g", 1000000000, true},
		{"1gb", 1 << 30, true},
		{"512mb", 512 << 20, true},
		{"007", 7, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false},
		{"-1", 0, false},
		{"1.5mb", 0, false},
		{"1bb", 0, false},
		{"1tb", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"+1", 0, false},
		{"0x10", 0, false},
	}
	for _, tc := range cases {
		got, err := ParseMemory(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestKeyspaceEvents compares with the value redis-server 7.0.15 shows in
// CONFIG GET notify-keyspace-events after CONFIG SET of the input.
func TestKeyspaceEvents(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"K", "K"},
		{"E", "E"},
		{"A", "A"},
		{"KEA", "AKE"},
		{"AKE", "AKE"},
		{"g$lshzxetd", "A"},
		{"Kg$lshzxetd", "AK"},
		{"KEm", "KEm"},
		{"n", "n"},
		{"KEn", "nKE"},
		{"An", "A"}, // A hides n, as in Redis
		{"Am", "Am"},
		{"AKEmn", "AKEm"},
		{"Exe", "xeE"},
		{"KEd", "dKE"},
		{"KEA$", "AKE"},
		{"gg", "g"},
		{"KEg$lshzxet", "g$lshzxetKE"},
		{"Ktzxhsl$ge", "g$lshzxetK"},
		{"Kgn", "gnK"},
		{"Egnm", "gnEm"},
	}
	for _, tc := range cases {
		flags, ok := ParseKeyspaceEvents(tc.in)
		if !ok {
			t.Errorf("ParseKeyspaceEvents(%q) failed", tc.in)
			continue
		}
		if got := FormatKeyspaceEvents(flags); got != tc.want {
			t.Errorf("events %q -> %q; want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"a", " ", "Kz!", "L", "Ktzyxhsl$ge"} {
		if _, ok := ParseKeyspaceEvents(bad); ok {
			t.Errorf("ParseKeyspaceEvents(%q) accepted", bad)
		}
	}
	if NotifyAll != 0x27fc || NotifyNew != 1<<14 {
		t.Errorf("flag values differ from Redis's server.h: all %#x", NotifyAll)
	}
}
