package commands

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// struct: Roberto Ierusalimschy's struct library (lua_struct.c) as bundled
// with Redis, for a little-endian 64-bit host: b/B char, h/H short, l/L
// long (8), T size_t (8), i/I[n] int (default 4, at most 32), f float, d
// double, c[n] chars, s zero-terminated string, x padding, < > = endianness,
// ![n] alignment.
// ---------------------------------------------------------------------------

const (
	structMaxIntSize = 32
	structMaxAlign   = 8
)

type structHeader struct {
	little bool
	align  int
}

type structFmt struct {
	L *lua.LState
	f string
	i int
}

func (sf *structFmt) more() bool { return sf.i < len(sf.f) }

func (sf *structFmt) next() byte {
	c := sf.f[sf.i]
	sf.i++
	return c
}

// getnum reads an optional decimal size.
func (sf *structFmt) getnum(df int) int {
	if !sf.more() || !isDigit(sf.f[sf.i]) {
		return df
	}
	a := 0
	for sf.more() && isDigit(sf.f[sf.i]) {
		d := int(sf.f[sf.i] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			sf.L.RaiseError("integral size overflow")
		}
		a = a*10 + d
		sf.i++
	}
	return a
}

// optsize is the size of one option (0 for those without a fixed one).
func (sf *structFmt) optsize(opt byte) int {
	switch opt {
	case 'B', 'b':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T', 'd':
		return 8
	case 'f':
		return 4
	case 'x':
		return 1
	case 'c':
		return sf.getnum(1)
	case 'i', 'I':
		sz := sf.getnum(4)
		if sz > structMaxIntSize {
			sf.L.RaiseError("integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return sz
	}
	return 0
}

func structToAlign(n int, h *structHeader, opt byte, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > h.align {
		size = h.align
	}
	return (size - (n & (size - 1))) & (size - 1)
}

func (sf *structFmt) control(opt byte, h *structHeader) {
	switch opt {
	case ' ':
	case '>':
		h.little = false
	case '<', '=':
		h.little = true
	case '!':
		a := sf.getnum(structMaxAlign)
		if a == 0 || a&(a-1) != 0 {
			sf.L.RaiseError("alignment %d is not a power of 2", a)
		}
		h.align = a
	default:
		luaArgError(sf.L, 1, "invalid format option '"+string(opt)+"'")
	}
}

func (vm *luaVM) structLib() *lua.LTable {
	L := vm.L
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

func putStructInt(b []byte, n float64, little bool, size int) []byte {
	var v uint64
	if n < 0 {
		v = uint64(luaToInt64(n))
	} else {
		v = luaToUint64(n)
	}
	buf := make([]byte, size)
	for i := 0; i < size; i++ {
		k := i
		if !little {
			k = size - 1 - i
		}
		buf[k] = byte(v)
		v >>= 8
	}
	return append(b, buf...)
}

func structPack(L *lua.LState) int {
	sf := &structFmt{L: L, f: luaCheckString(L, 1)}
	h := structHeader{little: true, align: 1}
	// b_pack pushes a nil to separate the arguments from its buffer: a
	// missing argument is "got nil".
	L.Push(lua.LNil)
	arg := 2
	var b []byte
	total := 0
	for sf.more() {
		opt := sf.next()
		size := sf.optsize(opt)
		pad := structToAlign(total, &h, opt, size)
		total += pad
		for ; pad > 0; pad-- {
			b = append(b, 0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			b = putStructInt(b, luaCheckNumber(L, arg), h.little, size)
			arg++
		case 'x':
			b = append(b, 0)
		case 'f':
			v := math.Float32bits(float32(luaCheckNumber(L, arg)))
			arg++
			if h.little {
				b = binary.LittleEndian.AppendUint32(b, v)
			} else {
				b = binary.BigEndian.AppendUint32(b, v)
			}
		case 'd':
			v := math.Float64bits(luaCheckNumber(L, arg))
			arg++
			if h.little {
				b = binary.LittleEndian.AppendUint64(b, v)
			} else {
				b = binary.BigEndian.AppendUint64(b, v)
			}
		case 'c', 's':
			s := luaCheckString(L, arg)
			arg++
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				luaArgError(L, arg, "string too short")
			}
			b = append(b, s[:size]...)
			if opt == 's' {
				b = append(b, 0)
				size++
			}
		default:
			sf.control(opt, &h)
		}
		total += size
	}
	L.Push(lua.LString(b))
	return 1
}

func getStructInt(data []byte, little, signed bool, size int) float64 {
	var l uint64
	for i := 0; i < size; i++ {
		k := size - 1 - i
		if !little {
			k = i
		}
		l = l<<8 | uint64(data[k])
	}
	if !signed {
		return float64(l)
	}
	if size*8-1 < 64 {
		mask := ^uint64(0) << (size*8 - 1)
		if l&mask != 0 {
			l |= mask
		}
	}
	return float64(int64(l))
}

func structUnpack(L *lua.LState) int {
	sf := &structFmt{L: L, f: luaCheckString(L, 1)}
	data := luaCheckString(L, 2)
	ld := len(data)
	pos := 0
	if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
		pos = int(luaCheckNumber(L, 3)) - 1
	}
	if pos < 0 || pos > ld {
		luaArgError(L, 3, "offset must be 1 or greater")
	}
	h := structHeader{little: true, align: 1}
	var out []lua.LValue
	for sf.more() {
		opt := sf.next()
		size := sf.optsize(opt)
		pos += structToAlign(pos, &h, opt, size)
		if size > ld || pos > ld-size {
			luaArgError(L, 2, "data string too short")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := opt >= 'a' && opt <= 'z'
			out = append(out, lua.LNumber(getStructInt([]byte(data[pos:pos+size]), h.little, signed, size)))
		case 'x':
		case 'f':
			var v uint32
			if h.little {
				v = binary.LittleEndian.Uint32([]byte(data[pos:]))
			} else {
				v = binary.BigEndian.Uint32([]byte(data[pos:]))
			}
			out = append(out, lua.LNumber(math.Float32frombits(v)))
		case 'd':
			var v uint64
			if h.little {
				v = binary.LittleEndian.Uint64([]byte(data[pos:]))
			} else {
				v = binary.BigEndian.Uint64([]byte(data[pos:]))
			}
			out = append(out, lua.LNumber(math.Float64frombits(v)))
		case 'c':
			if size == 0 {
				if len(out) == 0 {
					L.RaiseError("format 'c0' needs a previous size")
				}
				n, ok := out[len(out)-1].(lua.LNumber)
				if !ok {
					L.RaiseError("format 'c0' needs a previous size")
				}
				size = int(n)
				out = out[:len(out)-1]
				if size > ld || pos > ld-size || size < 0 {
					luaArgError(L, 2, "data string too short")
				}
			}
			out = append(out, lua.LString(data[pos:pos+size]))
		case 's':
			e := strings.IndexByte(data[pos:], 0)
			if e < 0 {
				L.RaiseError("unfinished string in data")
			}
			size = e + 1
			out = append(out, lua.LString(data[pos:pos+e]))
		default:
			sf.control(opt, &h)
		}
		pos += size
	}
	for _, v := range out {
		L.Push(v)
	}
	L.Push(lua.LNumber(pos + 1))
	return len(out) + 1
}

func structSize(L *lua.LState) int {
	sf := &structFmt{L: L, f: luaCheckString(L, 1)}
	h := structHeader{little: true, align: 1}
	pos := 0
	for sf.more() {
		opt := sf.next()
		size := sf.optsize(opt)
		pos += structToAlign(pos, &h, opt, size)
		if opt == 's' {
			luaArgError(L, 1, "option 's' has no fixed size")
		} else if opt == 'c' && size == 0 {
			luaArgError(L, 1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			sf.control(opt, &h)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}
