package commands

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"spinel/eventloop/resp"
)

// Number parsing with the exact acceptance rules of Redis's string2ll,
// string2ld and strtod-based helpers, so that the same inputs are accepted
// and rejected with the same errors.

// parseInt parses a signed 64-bit integer as Redis's string2ll.
func parseInt(b []byte) (int64, bool) { return resp.ParseInt(b) }

// getInt parses an integer argument or replies with Redis's error.
func (c *Client) getInt(b []byte) (int64, bool) {
	v, ok := parseInt(b)
	if !ok {
		c.addError(ErrNotInteger)
	}
	return v, ok
}

// getInt32 parses an int-range argument (getIntFromObjectOrReply).
func (c *Client) getInt32(b []byte, msg string) (int, bool) {
	v, ok := parseInt(b)
	if !ok || v < math.MinInt32 || v > math.MaxInt32 {
		if msg == "" {
			msg = ErrNotInteger
		}
		c.addError(msg)
		return 0, false
	}
	return int(v), true
}

// parseFloat parses a double as Redis's getDoubleFromObject: strtod syntax,
// no leading blank, the whole string, and no NaN.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) || len(b) > 5*1024 {
		return 0, false
	}
	s := string(b)
	if f, ok := parseInfinity(s); ok {
		return f, true
	}
	if !validStrtod(s) {
		return 0, false
	}
	if hexWithoutExponent(s) {
		s += "p0" // strtod reads 0x10 as 16; Go wants the binary exponent
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// strtod reports ERANGE for overflow (HUGE_VAL); Redis rejects it.
		// Underflow to zero is also an error there.
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func isCSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r'
}

// parseInfinity accepts strtod's spellings of infinity.
func parseInfinity(s string) (float64, bool) {
	sign := 1.0
	t := s
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	if strings.EqualFold(t, "inf") || strings.EqualFold(t, "infinity") {
		return math.Inf(int(sign)), true
	}
	return 0, false
}

// hexWithoutExponent reports whether s is a hexadecimal float without a
// "p" exponent.
func hexWithoutExponent(s string) bool {
	t := strings.TrimLeft(s, "+-")
	return len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && !strings.ContainsAny(t, "pP")
}

// validStrtod reports whether all of s is a number strtod accepts: decimal
// with optional fraction and exponent, or a hexadecimal float. (Infinity is
// handled separately and NaN is refused by every caller.)
func validStrtod(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	hex := false
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') {
		hex = true
		i += 2
	}
	isDigit := func(ch byte) bool {
		if hex {
			return (ch >= '0' && ch <= '9') || (ch|0x20 >= 'a' && ch|0x20 <= 'f')
		}
		return ch >= '0' && ch <= '9'
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && ((!hex && (s[i] == 'e' || s[i] == 'E')) || (hex && (s[i] == 'p' || s[i] == 'P'))) {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// ---------------------------------------------------------------------------
// Long doubles. Redis computes INCRBYFLOAT and HINCRBYFLOAT in C's long
// double (x87 80-bit: a 64-bit mantissa) and prints the result with "%.17Lf"
// minus trailing zeros. big.Float with 64 bits of precision rounds exactly
// as the x87 unit does, so the results match byte for byte.
// ---------------------------------------------------------------------------

const longDoublePrec = 64

// maxLongDoubleExp is the binary exponent beyond which an x87 long double
// overflows to infinity.
const maxLongDoubleExp = 16384

// parseLongDouble parses b as Redis's string2ld (strtold, whole string, no
// blank, no NaN, no overflow).
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || isCSpace(b[0]) || len(b) > 5*1024 {
		return nil, false
	}
	s := string(b)
	if f, ok := parseInfinity(s); ok {
		return new(big.Float).SetPrec(longDoublePrec).SetInf(f < 0), true
	}
	if !validStrtod(s) {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 0, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if f.MantExp(nil) > maxLongDoubleExp {
		return nil, false
	}
	return f, true
}

// addLongDouble returns a+b rounded to a long double, and false if the sum
// overflows to infinity or is NaN (inf + -inf).
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	sum := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(a, b)
	if sum.MantExp(nil) > maxLongDoubleExp {
		return nil, false
	}
	return sum, true
}

// formatLongDouble prints f as Redis's humanfriendly long double format:
// "%.17Lf" with trailing zeros and a trailing dot removed.
func formatLongDouble(f *big.Float) []byte {
	out := []byte(f.Text('f', 17))
	if i := indexByte(out, '.'); i >= 0 {
		for len(out) > 0 && out[len(out)-1] == '0' {
			out = out[:len(out)-1]
		}
		if out[len(out)-1] == '.' {
			out = out[:len(out)-1]
		}
	}
	if len(out) == 2 && out[0] == '-' && out[1] == '0' {
		out = out[1:]
	}
	return out
}

func indexByte(b []byte, ch byte) int {
	for i, x := range b {
		if x == ch {
			return i
		}
	}
	return -1
}

// appendInt formats an integer into a stack buffer.
func formatInt(buf []byte, v int64) []byte { return strconv.AppendInt(buf[:0], v, 10) }
