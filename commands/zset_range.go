package commands

import (
	"bytes"
	"math"
	"strconv"
)

// ---------------------------------------------------------------------------
// Score and lexicographic ranges of the sorted set commands, and the number
// syntax they accept. Redis parses scores with C's strtod, whose syntax is
// wider than Go's ParseFloat: hexadecimal mantissas without a binary
// exponent ("0x10"), "infinity", leading blanks (in ranges), overflow to
// infinity (in ranges). zstrtod reproduces it.
// ---------------------------------------------------------------------------

// zstrtod parses the longest prefix of b that C's strtod accepts and returns
// the value, the bytes consumed (0 when there is no number, leading blanks
// then included) and whether the result over- or underflowed (ERANGE).
func zstrtod(b []byte) (f float64, n int, erange bool) {
	// Fast path: a plain integer of up to 15 digits is exact in a float64.
	if len(b) > 0 && len(b) <= 16 {
		j, neg := 0, false
		if b[0] == '-' || b[0] == '+' {
			neg = b[0] == '-'
			j = 1
		}
		if j < len(b) && len(b)-j <= 15 {
			var v int64
			for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
				v = v*10 + int64(b[j]-'0')
			}
			if j == len(b) {
				f = float64(v)
				if neg {
					f = -f
				}
				return f, len(b), false
			}
		}
	}
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	sign := func(v float64) float64 {
		if neg {
			return -v
		}
		return v
	}
	if m := matchFold(b[i:], "infinity"); m > 0 {
		return sign(math.Inf(1)), i + m, false
	}
	if m := matchFold(b[i:], "inf"); m > 0 {
		return sign(math.Inf(1)), i + m, false
	}
	if m := matchFold(b[i:], "nan"); m > 0 {
		i += m
		// An optional "(n-char-sequence)".
		if i < len(b) && b[i] == '(' {
			j := i + 1
			for j < len(b) && (isAlnum(b[j]) || b[j] == '_') {
				j++
			}
			if j < len(b) && b[j] == ')' {
				i = j + 1
			}
		}
		return math.NaN(), i, false
	}
	hex := i+1 < len(b) && b[i] == '0' && (b[i+1]|0x20) == 'x' && hasHexMantissa(b[i+2:])
	if hex {
		i += 2
	}
	digits, nonzero := 0, false
	isDigit := func(ch byte) bool {
		if hex {
			return isHexDigit(ch)
		}
		return ch >= '0' && ch <= '9'
	}
	for i < len(b) && isDigit(b[i]) {
		nonzero = nonzero || b[i] != '0'
		i++
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && isDigit(b[i]) {
			nonzero = nonzero || b[i] != '0'
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	hasExp := false
	if i < len(b) && ((!hex && b[i]|0x20 == 'e') || (hex && b[i]|0x20 == 'p')) {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j < len(b) && b[j] >= '0' && b[j] <= '9' {
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			i = j
			hasExp = true
		}
	}
	text := string(b[start:i])
	if hex && !hasExp {
		text += "p0"
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, 0, false
	}
	erange = math.IsInf(f, 0) || (f == 0 && nonzero)
	return f, i, erange
}

func matchFold(b []byte, word string) int {
	if len(b) < len(word) {
		return 0
	}
	for i := 0; i < len(word); i++ {
		if b[i]|0x20 != word[i] {
			return 0
		}
	}
	return len(word)
}

func isHexDigit(ch byte) bool {
	return (ch >= '0' && ch <= '9') || (ch|0x20 >= 'a' && ch|0x20 <= 'f')
}

func isAlnum(ch byte) bool {
	return (ch >= '0' && ch <= '9') || (ch|0x20 >= 'a' && ch|0x20 <= 'z')
}

// hasHexMantissa reports whether b starts like a hex float's mantissa after
// "0x": a hex digit, or '.' then a hex digit.
func hasHexMantissa(b []byte) bool {
	if len(b) > 0 && isHexDigit(b[0]) {
		return true
	}
	return len(b) > 1 && b[0] == '.' && isHexDigit(b[1])
}

// parseScore parses a score argument as Redis's getDoubleFromObject: the
// whole string, no leading blank, no overflow or underflow to zero, no NaN.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	f, n, erange := zstrtod(b)
	if n != len(b) || math.IsNaN(f) || (erange && (math.IsInf(f, 0) || f == 0)) {
		return 0, false
	}
	return f, true
}

// getScore parses a score argument or replies with msg (Redis's default
// "value is not a valid float" when empty).
func (c *Client) getScore(b []byte, msg string) (float64, bool) {
	f, ok := parseScore(b)
	if !ok {
		if msg == "" {
			c.addError(ErrNotFloat)
		} else {
			c.addError("ERR " + msg)
		}
	}
	return f, ok
}

// scoreRange is Redis's zrangespec: min and max, each inclusive or not.
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

func (r *scoreRange) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r *scoreRange) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

// empty reports the ranges that can hold nothing.
func (r *scoreRange) empty() bool {
	return r.min > r.max || (r.min == r.max && (r.minex || r.maxex))
}

// parseRangeItem parses one bound as zslParseRange: an optional "(" for an
// exclusive bound, then what strtod takes; the argument is read as a C
// string (up to its first NUL), so "" is 0 and leading blanks are allowed.
func parseRangeItem(b []byte) (v float64, ex, ok bool) {
	b = cString(b, len(b))
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	f, n, _ := zstrtod(b)
	if n != len(b) || math.IsNaN(f) {
		return 0, false, false
	}
	return f, ex, true
}

// parseScoreRange parses min and max, or replies with Redis's error.
func (c *Client) parseScoreRange(min, max []byte) (scoreRange, bool) {
	var r scoreRange
	var ok1, ok2 bool
	r.min, r.minex, ok1 = parseRangeItem(min)
	r.max, r.maxex, ok2 = parseRangeItem(max)
	if !ok1 || !ok2 {
		c.addError("ERR min or max is not a float")
		return r, false
	}
	return r, true
}

// Lexicographic bound kinds: "-" and "+" are below and above every string.
const (
	lexValue = iota
	lexMinusInf
	lexPlusInf
)

// lexRange is Redis's zlexrangespec.
type lexRange struct {
	min, max         []byte
	minKind, maxKind int
	minex, maxex     bool
}

// lexCmp compares a member with a bound, as Redis's sdscmplex.
func lexCmp(v []byte, bound []byte, kind int) int {
	switch kind {
	case lexMinusInf:
		return 1
	case lexPlusInf:
		return -1
	}
	return bytes.Compare(v, bound)
}

func (r *lexRange) gteMin(v []byte) bool {
	c := lexCmp(v, r.min, r.minKind)
	if r.minex {
		return c > 0
	}
	return c >= 0
}

func (r *lexRange) lteMax(v []byte) bool {
	c := lexCmp(v, r.max, r.maxKind)
	if r.maxex {
		return c < 0
	}
	return c <= 0
}

// empty reports the ranges that can hold nothing (sdscmplex(min, max)).
func (r *lexRange) empty() bool {
	var c int
	switch {
	case r.minKind == r.maxKind && r.minKind != lexValue:
		c = 0
	case r.minKind == lexMinusInf || r.maxKind == lexPlusInf:
		c = -1
	case r.minKind == lexPlusInf || r.maxKind == lexMinusInf:
		c = 1
	default:
		c = bytes.Compare(r.min, r.max)
	}
	return c > 0 || (c == 0 && (r.minex || r.maxex))
}

// parseLexItem parses "(x", "[x", "-" or "+" as zslParseLexRangeItem. The
// bound bytes alias the argument.
func parseLexItem(b []byte) (v []byte, kind int, ex, ok bool) {
	if len(b) == 0 {
		return nil, 0, false, false
	}
	switch b[0] {
	case '+', '-':
		// C reads c[1] == '\0': a NUL right after the sign also ends it.
		if len(b) > 1 && b[1] != 0 {
			return nil, 0, false, false
		}
		if b[0] == '+' {
			return nil, lexPlusInf, true, true
		}
		return nil, lexMinusInf, true, true
	case '(':
		return b[1:], lexValue, true, true
	case '[':
		return b[1:], lexValue, false, true
	}
	return nil, 0, false, false
}

// parseLexRange parses min and max, or replies with Redis's error.
func (c *Client) parseLexRange(min, max []byte) (lexRange, bool) {
	var r lexRange
	var ok1, ok2 bool
	r.min, r.minKind, r.minex, ok1 = parseLexItem(min)
	r.max, r.maxKind, r.maxex, ok2 = parseLexItem(max)
	if !ok1 || !ok2 {
		c.addError("ERR min or max not valid string range item")
		return r, false
	}
	return r, true
}
