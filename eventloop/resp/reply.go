package resp

import (
	"math"
	"strconv"
)

// ReplyError is a malformed reply seen by ReplyLen.
type ReplyError struct {
	Msg    string
	Offset int // byte offset of the problem in the buffer
}

// Error returns the problem and where it is.
func (e *ReplyError) Error() string {
	return "malformed reply at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// maxAggregateLen bounds an aggregate's element count, as hiredis does
// (INT_MAX): a larger count is malformed, not merely incomplete.
const maxAggregateLen = math.MaxInt32

// ReplyLen returns the length of the first complete RESP2 or RESP3 value in
// buf: simple strings (+), errors (-), integers (:), bulk strings ($, with
// the RESP2 null $-1), arrays (*, with the RESP2 null *-1), and the RESP3
// types map (%), set (~), push (>), attribute (|, counted together with the
// value it annotates), double (,), boolean (#), null (_), big number ((),
// verbatim string (=) and blob error (!). Aggregates nest to any depth.
//
// Results:
//   - a complete value: n > 0 bytes, err == nil;
//   - an incomplete value: n == 0, err == nil (read more and call again);
//   - a malformed value: err is a *ReplyError. Once a buffer is malformed,
//     every extension of it is malformed too.
//
// Nested aggregates are walked iteratively, so depth costs no stack. ReplyLen
// does not allocate unless it reports an error. RESP3 streamed
// strings and aggregates ("$?", "*?") are reported as malformed: Redis never
// sends them.
func ReplyLen(buf []byte) (n int, err error) {
	pos := 0
	// pending counts the values still to be read. An aggregate header
	// consumes one pending value and adds its elements; an attribute adds its
	// pairs without consuming, since the value it annotates follows it.
	pending := 1
	for pending > 0 {
		// Every value takes at least three bytes ("_\r\n"): if the rest of
		// the buffer cannot hold what is pending, the reply is incomplete.
		// This also keeps pending from overflowing on absurd counts.
		if pending > 1 && pending > (len(buf)-pos)/3 {
			return 0, nil
		}
		if pos >= len(buf) {
			return 0, nil
		}
		typ := buf[pos]
		if !isType(typ) {
			return 0, &ReplyError{Msg: "unknown type byte " + quoteByte(typ), Offset: pos}
		}
		lineEnd, err := findLineEnd(buf, pos+1)
		if err != nil || lineEnd < 0 {
			return 0, err
		}
		line := buf[pos+1 : lineEnd]
		next := lineEnd + 2
		switch typ {
		case '+', '-':
			// Any text without CR or LF (findLineEnd checked).
		case ':':
			if _, ok := parseLen(line, math.MinInt64); !ok {
				return 0, &ReplyError{Msg: "invalid integer", Offset: pos}
			}
		case '(':
			if !isBigNumber(line) {
				return 0, &ReplyError{Msg: "invalid big number", Offset: pos}
			}
		case ',':
			if len(line) == 0 {
				return 0, &ReplyError{Msg: "empty double", Offset: pos}
			}
		case '#':
			if len(line) != 1 || (line[0] != 't' && line[0] != 'f') {
				return 0, &ReplyError{Msg: "invalid boolean", Offset: pos}
			}
		case '_':
			if len(line) != 0 {
				return 0, &ReplyError{Msg: "invalid null", Offset: pos}
			}
		case '$', '=', '!':
			min := int64(0)
			if typ == '$' {
				min = -1
			}
			l, ok := parseLen(line, min)
			if !ok {
				return 0, &ReplyError{Msg: "invalid bulk length", Offset: pos}
			}
			if l >= 0 {
				if typ == '=' && l < 4 {
					return 0, &ReplyError{Msg: "verbatim string shorter than its format", Offset: pos}
				}
				if l > int64(len(buf)-next) {
					return 0, nil
				}
				end := next + int(l)
				if len(buf)-end < 2 {
					if len(buf) > end && buf[end] != '\r' {
						return 0, &ReplyError{Msg: "bulk string not terminated by CRLF", Offset: end}
					}
					return 0, nil
				}
				if buf[end] != '\r' || buf[end+1] != '\n' {
					return 0, &ReplyError{Msg: "bulk string not terminated by CRLF", Offset: end}
				}
				if typ == '=' && buf[next+3] != ':' {
					return 0, &ReplyError{Msg: "verbatim string without format", Offset: next}
				}
				next = end + 2
			}
		case '*', '~', '>', '%', '|':
			min := int64(0)
			if typ == '*' {
				min = -1
			}
			l, ok := parseLen(line, min)
			if !ok || l > maxAggregateLen {
				return 0, &ReplyError{Msg: "invalid aggregate length", Offset: pos}
			}
			if l > 0 {
				if typ == '%' || typ == '|' {
					l *= 2
				}
				pending += int(l)
			}
			if typ == '|' {
				pending++ // the annotated value is still to come
			}
		}
		pending--
		pos = next
	}
	return pos, nil
}

func isType(c byte) bool {
	switch c {
	case '+', '-', ':', '(', ',', '#', '_', '$', '=', '!', '*', '~', '>', '%', '|':
		return true
	}
	return false
}

// findLineEnd returns the index of the CR of the first CRLF at or after
// from, or -1 if the line is not complete yet. A bare CR or LF is malformed.
func findLineEnd(buf []byte, from int) (int, error) {
	for i := from; i < len(buf); i++ {
		switch buf[i] {
		case '\r':
			if i+1 == len(buf) {
				return -1, nil
			}
			if buf[i+1] != '\n' {
				return 0, &ReplyError{Msg: "CR not followed by LF", Offset: i}
			}
			return i, nil
		case '\n':
			return 0, &ReplyError{Msg: "LF without CR", Offset: i}
		}
	}
	return -1, nil
}

// parseLen parses a decimal integer of at least min, without sign other than
// a leading '-', and without overflow.
func parseLen(b []byte, min int64) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	var n int64
	switch {
	case !neg && v <= math.MaxInt64:
		n = int64(v)
	case neg && v <= math.MaxInt64:
		n = -int64(v)
	case neg && v == math.MaxInt64+1:
		n = math.MinInt64
	default:
		return 0, false
	}
	return n, n >= min
}

func isBigNumber(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func quoteByte(c byte) string {
	const hex = "0123456789abcdef"
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}
