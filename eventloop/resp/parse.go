package resp

import (
	"bytes"
	"math"
)

// Limits bounds what a client may send. The zero value is not useful; start
// from DefaultLimits.
type Limits struct {
	// MaxBulkLen is the longest single argument accepted (proto-max-bulk-len).
	MaxBulkLen int64
	// MaxInline is the longest inline request, and the longest count line of
	// a multibulk request, that may sit in the buffer without a newline
	// (PROTO_INLINE_MAX_SIZE in Redis, 64 KiB).
	MaxInline int
}

// DefaultLimits are Redis's defaults: 512 MiB bulks and 64 KiB inline requests.
var DefaultLimits = Limits{MaxBulkLen: 512 << 20, MaxInline: 64 << 10}

// ProtocolError is a malformed request. Its message is the exact text Redis
// replies with; the connection must be closed after the reply.
type ProtocolError struct{ Msg string }

// Error returns the reply text without the leading "-ERR ".
func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

func protoErr(msg string) *ProtocolError { return &ProtocolError{Msg: msg} }

var (
	errTooBigInline     = protoErr("too big inline request")
	errUnbalanced       = protoErr("unbalanced quotes in request")
	errTooBigMbulkCount = protoErr("too big mbulk count string")
	errTooBigBulkCount  = protoErr("too big bulk count string")
	errInvalidMbulkLen  = protoErr("invalid multibulk length")
	errInvalidBulkLen   = protoErr("invalid bulk length")
)

// ParseCommand parses the first request in buf, in either multibulk
// ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") or inline ("GET k\r\n") form, as Redis's
// processMultibulkBuffer and processInlineBuffer do.
//
// Results:
//   - a complete request: n > 0 bytes were consumed and argv holds its
//     arguments (appended to args[:0]); argv may be empty for a blank line or
//     "*0\r\n", which callers skip.
//   - an incomplete request: n == 0, err == nil, and need is the buffer length
//     worth waiting for before calling again (exact when a bulk length is
//     known, len(buf)+1 otherwise).
//   - a malformed request: err is a *ProtocolError.
//
// Arguments alias buf, except inline arguments written with quotes or
// escapes, which are freshly allocated.
func ParseCommand(buf []byte, args [][]byte, lim Limits) (argv [][]byte, n, need int, err error) {
	argv = args[:0]
	if len(buf) == 0 {
		return argv, 0, 1, nil
	}
	if buf[0] == '*' {
		return parseMultibulk(buf, argv, lim)
	}
	return parseInline(buf, argv, lim)
}

func parseMultibulk(buf []byte, argv [][]byte, lim Limits) ([][]byte, int, int, error) {
	cr := bytes.IndexByte(buf, '\r')
	if cr < 0 {
		if len(buf) > lim.MaxInline {
			return argv, 0, 0, errTooBigMbulkCount
		}
		return argv, 0, len(buf) + 1, nil
	}
	if cr+2 > len(buf) {
		return argv, 0, cr + 2, nil
	}
	count, ok := ParseInt(buf[1:cr])
	if !ok || count > math.MaxInt32 {
		return argv, 0, 0, errInvalidMbulkLen
	}
	// Like Redis, the byte after '\r' is skipped without being checked.
	pos := cr + 2
	if count <= 0 {
		return argv, pos, 0, nil
	}
	for i := int64(0); i < count; i++ {
		if pos >= len(buf) {
			return argv, 0, pos + 1, nil
		}
		cr = bytes.IndexByte(buf[pos:], '\r')
		if cr < 0 {
			if len(buf)-pos > lim.MaxInline {
				return argv, 0, 0, errTooBigBulkCount
			}
			return argv, 0, len(buf) + 1, nil
		}
		cr += pos
		if cr+2 > len(buf) {
			return argv, 0, cr + 2, nil
		}
		if buf[pos] != '$' {
			return argv, 0, 0, protoErr("expected '$', got '" + string(printable(buf[pos])) + "'")
		}
		size, ok := ParseInt(buf[pos+1 : cr])
		if !ok || size < 0 || size > lim.MaxBulkLen {
			return argv, 0, 0, errInvalidBulkLen
		}
		pos = cr + 2
		end := pos + int(size)
		if end+2 > len(buf) {
			return argv, 0, end + 2, nil
		}
		// The two bytes after the payload are skipped unchecked, as in Redis.
		argv = append(argv, buf[pos:end:end])
		pos = end + 2
	}
	return argv, pos, 0, nil
}

// printable maps the bytes Redis strips from error messages to a space.
func printable(c byte) byte {
	if c == '\r' || c == '\n' {
		return ' '
	}
	return c
}

func parseInline(buf []byte, argv [][]byte, lim Limits) ([][]byte, int, int, error) {
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 {
		if len(buf) > lim.MaxInline {
			return argv, 0, 0, errTooBigInline
		}
		return argv, 0, len(buf) + 1, nil
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	argv, ok := SplitArgs(line, argv)
	if !ok {
		return argv[:0], 0, 0, errUnbalanced
	}
	return argv, nl + 1, 0, nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// SplitArgs splits an inline request line into arguments with the rules of
// Redis's sdssplitargs: blanks separate arguments, "double quotes" support
// \xHH, \n, \r, \t, \b, \a and \<c> escapes, 'single quotes' support only \',
// a closing quote must be followed by a blank or the end, and a NUL byte ends
// the line. It reports false for unbalanced quotes.
//
// Plain arguments alias line; quoted ones are newly allocated.
func SplitArgs(line []byte, argv [][]byte) ([][]byte, bool) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p == len(line) {
			return argv, true
		}
		start := p
		plain := true
		for p < len(line) {
			c := line[p]
			if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				break
			}
			if c == '"' || c == '\'' {
				plain = false
				break
			}
			p++
		}
		if plain {
			argv = append(argv, line[start:p:p])
			continue
		}
		// Slow path: the token has quotes somewhere; rebuild it byte by byte.
		var (
			cur         = append([]byte(nil), line[start:p]...)
			inq, insq   bool
			done        bool
			quoteClosed = func(p int) bool { return p+1 >= len(line) || isSpace(line[p+1]) }
		)
		for !done {
			if p >= len(line) {
				if inq || insq {
					return argv, false
				}
				break
			}
			c := line[p]
			switch {
			case inq:
				switch {
				case c == '\\' && p+3 < len(line) && line[p+1] == 'x' && isHex(line[p+2]) && isHex(line[p+3]):
					cur = append(cur, hexVal(line[p+2])<<4|hexVal(line[p+3]))
					p += 3
				case c == '\\' && p+1 < len(line):
					p++
					switch line[p] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[p])
					}
				case c == '"':
					if !quoteClosed(p) {
						return argv, false
					}
					done = true
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && p+1 < len(line) && line[p+1] == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if !quoteClosed(p) {
						return argv, false
					}
					done = true
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t':
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			p++
		}
		argv = append(argv, cur)
	}
}

// ParseInt parses b as a signed 64-bit decimal exactly as Redis's string2ll:
// no sign other than a leading '-', no leading zeros, no blanks, at most 20
// bytes. It is the one integer syntax for protocol lengths and for values.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	p := 0
	if b[0] == '-' {
		neg = true
		p++
		if p == len(b) {
			return 0, false
		}
	}
	if b[p] < '1' || b[p] > '9' {
		return 0, false
	}
	v := uint64(b[p] - '0')
	p++
	for ; p < len(b); p++ {
		c := b[p]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > uint64(math.MaxInt64)+1 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
