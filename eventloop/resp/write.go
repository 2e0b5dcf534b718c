package resp

import (
	"math"
	"strconv"
)

// AppendSimple appends a simple string: "+s\r\n".
func AppendSimple(b []byte, s string) []byte {
	b = append(b, '+')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendError appends an error reply. msg carries its code ("ERR ...",
// "WRONGTYPE ..."); newlines in it are replaced by blanks as Redis does, so a
// reply can never break the framing.
func AppendError(b []byte, msg string) []byte {
	b = append(b, '-')
	start := len(b)
	b = append(b, msg...)
	for i := start; i < len(b); i++ {
		if b[i] == '\r' || b[i] == '\n' {
			b[i] = ' '
		}
	}
	return append(b, '\r', '\n')
}

// AppendInt appends an integer reply: ":n\r\n".
func AppendInt(b []byte, n int64) []byte {
	b = append(b, ':')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendBulk appends a bulk string.
func AppendBulk(b []byte, v []byte) []byte {
	b = appendLen(b, '$', len(v))
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// AppendBulkString appends a bulk string given as a Go string.
func AppendBulkString(b []byte, s string) []byte {
	b = appendLen(b, '$', len(s))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendBulkInt appends the decimal form of n as a bulk string.
func AppendBulkInt(b []byte, n int64) []byte {
	var tmp [20]byte
	return AppendBulk(b, strconv.AppendInt(tmp[:0], n, 10))
}

// AppendArrayLen appends an array header: "*n\r\n".
func AppendArrayLen(b []byte, n int) []byte { return appendLen(b, '*', n) }

// AppendMapLen appends a RESP3 map header: "%n\r\n" (n pairs).
func AppendMapLen(b []byte, n int) []byte { return appendLen(b, '%', n) }

// AppendSetLen appends a RESP3 set header: "~n\r\n".
func AppendSetLen(b []byte, n int) []byte { return appendLen(b, '~', n) }

// AppendPushLen appends a RESP3 push header: ">n\r\n".
func AppendPushLen(b []byte, n int) []byte { return appendLen(b, '>', n) }

// AppendAttrLen appends a RESP3 attribute header: "|n\r\n".
func AppendAttrLen(b []byte, n int) []byte { return appendLen(b, '|', n) }

// AppendNullBulk appends the RESP2 null bulk string "$-1\r\n".
func AppendNullBulk(b []byte) []byte { return append(b, "$-1\r\n"...) }

// AppendNullArray appends the RESP2 null array "*-1\r\n".
func AppendNullArray(b []byte) []byte { return append(b, "*-1\r\n"...) }

// AppendNull appends the RESP3 null "_\r\n".
func AppendNull(b []byte) []byte { return append(b, "_\r\n"...) }

// AppendBool appends a RESP3 boolean.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "#t\r\n"...)
	}
	return append(b, "#f\r\n"...)
}

// AppendDouble appends a RESP3 double: ",<%.17g>\r\n", with inf and -inf.
func AppendDouble(b []byte, f float64) []byte {
	b = append(b, ',')
	b = AppendFloat(b, f)
	return append(b, '\r', '\n')
}

// AppendBigNumber appends a RESP3 big number: "(digits\r\n".
func AppendBigNumber(b []byte, digits []byte) []byte {
	b = append(b, '(')
	b = append(b, digits...)
	return append(b, '\r', '\n')
}

// AppendVerbatim appends a RESP3 verbatim string with a three-letter format
// such as "txt".
func AppendVerbatim(b []byte, format string, v []byte) []byte {
	b = appendLen(b, '=', len(v)+4)
	b = append(b, format...)
	b = append(b, ':')
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// AppendFloat appends f formatted as C's "%.17g", spelling infinities "inf"
// and "-inf" and NaN "nan", as Redis's addReplyDouble does.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		// glibc prints the sign of a NaN: x86's 0/0 is "-nan".
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

func appendLen(b []byte, prefix byte, n int) []byte {
	b = append(b, prefix)
	if n >= 0 && n < 10 {
		b = append(b, byte('0'+n))
	} else {
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, '\r', '\n')
}
