package glob

import (
	"strings"
	"testing"
)

// matchCases were checked against Redis 7.0.15 (KEYS for case-sensitive
// rows; nocase rows follow stringmatchlen's tolower calls).
var matchCases = []struct {
	pattern, s string
	nocase     bool
	want       bool
}{
	{"", "", false, true},
	{"", "a", false, false},
	{"a", "", false, false},
	{"*", "", false, false}, // KEYS special-cases "*"; the matcher itself does not
	{"**", "", false, false},
	{"*", "anything", false, true},
	{"**", "x", false, true},
	{"h?llo", "hello", false, true},
	{"h?llo", "hllo", false, false},
	{"h*llo", "heeeello", false, true},
	{"h*llo", "hllo", false, true},
	{"h*llo*", "hllo", false, true},
	{"*llo", "hello!", false, false},
	{"h[ae]llo", "hallo", false, true},
	{"h[ae]llo", "hillo", false, false},
	{"h[^e]llo", "hallo", false, true},
	{"h[^e]llo", "hello", false, false},
	{"h[a-b]llo", "hbllo", false, true},
	{"h[b-a]llo", "hbllo", false, true}, // reversed range is swapped
	{"h[a-b]llo", "hcllo", false, false},
	{"[a-]", "-", false, false}, // "a-]" is a range ']'..'a', and the set is unterminated
	{"[a-]", "_", false, true},
	{"[a-]", "b", false, false},
	{"[]", "]", false, false},
	{"[]a]", "a", false, false}, // ']' right after '[' closes the set
	{"[", "x", false, false},    // unterminated, empty set
	{"[^", "x", false, true},    // unterminated, negated empty set
	{"[ab", "b", false, true},
	{"[\\]]", "]", false, true},
	{"[\\", "\\", false, true},
	{"\\*", "*", false, true},
	{"\\*", "a", false, false},
	{"\\", "\\", false, true}, // trailing backslash is literal
	{"a\\", "a\\", false, true},
	{"*\\?", "ab?", false, true},
	{"[\x80-\xff]", "\x90", false, true}, // signed chars: -128..-1
	{"[a-\xff]", "\x90", false, false},   // swapped to -1..97, which excludes 0x80..0xfe
	{"[a-\xff]", "\xff", false, true},
	{"[a-\xff]", "0", false, true},
	{"HELLO", "hello", true, true},
	{"h[A-C]llo", "hbllo", true, true},
	{"h[a-c]llo", "HBLLO", true, true},
	{"[\\A]", "a", true, false}, // escaped bracket members compare exactly
	{"h*", "H", true, true},
	{"\xc4", "\xe4", true, false}, // only ASCII folds
}

func TestMatch(t *testing.T) {
	for _, tc := range matchCases {
		if got := Match([]byte(tc.pattern), []byte(tc.s), tc.nocase); got != tc.want {
			t.Errorf("Match(%q, %q, %v) = %v; want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
		}
		if got := MatchString(tc.pattern, tc.s, tc.nocase); got != tc.want {
			t.Errorf("MatchString(%q, %q, %v) = %v; want %v", tc.pattern, tc.s, tc.nocase, got, tc.want)
		}
	}
}

// TestPathological checks the two protections: without skipLongerMatches
// these would take exponential time and the test would not finish; beyond
// 1000 nested '*' Redis gives up and reports no match.
func TestPathological(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 100), false},
		{strings.Repeat("a*", 50) + "b", strings.Repeat("a", 5000), false},
		{strings.Repeat("*a", 1000), strings.Repeat("a", 1100), true},
		{strings.Repeat("*a", 1001), strings.Repeat("a", 1100), false},
	}
	for _, tc := range cases {
		if got := MatchString(tc.pattern, tc.s, false); got != tc.want {
			t.Errorf("MatchString(%.20q..., %.20q...) = %v; want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestMatchStringNoAlloc(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { MatchString("user:*:[0-9]?", "user:42:7x", false) })
	if allocs != 0 {
		t.Errorf("MatchString allocates %v times; want 0", allocs)
	}
}

func FuzzMatch(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.pattern, tc.s, tc.nocase)
	}
	f.Fuzz(func(t *testing.T, pattern, s string, nocase bool) {
		got := Match([]byte(pattern), []byte(s), nocase)
		if MatchString(pattern, s, nocase) != got {
			t.Fatalf("Match and MatchString disagree on %q, %q", pattern, s)
		}
		// A pattern without special bytes matches only itself.
		if !strings.ContainsAny(pattern, "*?[\\") && !nocase && got != (pattern == s) {
			t.Fatalf("literal pattern %q vs %q = %v", pattern, s, got)
		}
	})
}
