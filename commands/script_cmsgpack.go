package commands

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// cmsgpack: lua-cmsgpack 0.4.0 as bundled with Redis. pack(...) encodes
// each argument (integral numbers as the smallest integer type, others as
// float when exact, else double; tables whose keys are exactly 1..n as
// arrays, others as maps; nesting deeper than 16 as nil); unpack decodes
// every value of the string, unpack_one/unpack_limit decode some and return
// the next offset (-1 at the end).
// ---------------------------------------------------------------------------

const cmsgpackMaxNesting = 16

func (vm *luaVM) cmsgpackLib() *lua.LTable {
	L := vm.L
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		if n == 0 {
			luaArgError(L, 0, "MessagePack pack needs input.")
		}
		var b []byte
		for i := 1; i <= n; i++ {
			b = vm.mpEncode(b, L.Get(i), 0)
		}
		L.Push(lua.LString(b))
		return 1
	}))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int { return mpUnpack(L, 0, 0) }))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		off := 0
		if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
			off = int(luaCheckNumber(L, 2))
		}
		return mpUnpack(L, 1, off)
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		limit := int(luaCheckNumber(L, 2))
		off := 0
		if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
			off = int(luaCheckNumber(L, 3))
		}
		return mpUnpack(L, limit, off)
	}))
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return t
}

func (vm *luaVM) mpEncode(b []byte, v lua.LValue, level int) []byte {
	switch x := v.(type) {
	case lua.LString:
		return mpEncodeBytes(b, string(x))
	case lua.LBool:
		if x {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(x)
		if !math.IsInf(f, 0) && f == f && f >= -9.223372036854775808e18 && f < 9.223372036854775807e18 && float64(int64(f)) == f {
			return mpEncodeInt(b, int64(f))
		}
		if f32 := float32(f); float64(f32) == f {
			b = append(b, 0xca)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(f32))
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case *lua.LTable:
		if level == cmsgpackMaxNesting {
			return append(b, 0xc0)
		}
		t := vm.real(x)
		if mpIsArray(t) {
			n := t.Len()
			switch {
			case n <= 15:
				b = append(b, 0x90|byte(n))
			case n <= 0xffff:
				b = append(b, 0xdc)
				b = binary.BigEndian.AppendUint16(b, uint16(n))
			default:
				b = append(b, 0xdd)
				b = binary.BigEndian.AppendUint32(b, uint32(n))
			}
			for i := 1; i <= n; i++ {
				b = vm.mpEncode(b, t.RawGetInt(i), level+1)
			}
			return b
		}
		n := 0
		for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
			n++
		}
		switch {
		case n <= 15:
			b = append(b, 0x80|byte(n))
		case n <= 0xffff:
			b = append(b, 0xde)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		default:
			b = append(b, 0xdf)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		for k, val := t.Next(lua.LNil); k != lua.LNil; k, val = t.Next(k) {
			b = vm.mpEncode(b, k, level+1)
			b = vm.mpEncode(b, val, level+1)
		}
		return b
	}
	return append(b, 0xc0)
}

// mpIsArray is table_is_an_array: every key a positive integer and the
// largest equal to the count.
func mpIsArray(t *lua.LTable) bool {
	count, maxIdx := 0, 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f <= 0 || math.IsInf(f, 0) || f > math.MaxInt32 || float64(int32(f)) != f {
			return false
		}
		if int(f) > maxIdx {
			maxIdx = int(f)
		}
		count++
	}
	return maxIdx == count
}

func mpEncodeBytes(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= 0xff:
		b = append(b, 0xd9, byte(n))
	case n <= 0xffff:
		b = append(b, 0xda)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0xdb)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	return append(b, s...)
}

func mpEncodeInt(b []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(b, byte(n))
		case n <= 0xff:
			return append(b, 0xcc, byte(n))
		case n <= 0xffff:
			b = append(b, 0xcd)
			return binary.BigEndian.AppendUint16(b, uint16(n))
		case n <= 0xffffffff:
			b = append(b, 0xce)
			return binary.BigEndian.AppendUint32(b, uint32(n))
		}
		b = append(b, 0xcf)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
	switch {
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= -128:
		return append(b, 0xd0, byte(int8(n)))
	case n >= -32768:
		b = append(b, 0xd1)
		return binary.BigEndian.AppendUint16(b, uint16(int16(n)))
	case n >= -2147483648:
		b = append(b, 0xd2)
		return binary.BigEndian.AppendUint32(b, uint32(int32(n)))
	}
	b = append(b, 0xd3)
	return binary.BigEndian.AppendUint64(b, uint64(n))
}

// mpUnpack is mp_unpack_full.
func mpUnpack(L *lua.LState, limit, offset int) int {
	s := luaCheckString(L, 1)
	decodeAll := limit == 0 && offset == 0
	if offset < 0 || limit < 0 {
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
	} else if offset > len(s) {
		L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
	}
	if decodeAll {
		limit = math.MaxInt32
	}
	d := mpDecoder{L: L, b: []byte(s[offset:])}
	var out []lua.LValue
	for cnt := 0; len(d.b) > 0 && cnt < limit; cnt++ {
		v := d.decode()
		switch d.err {
		case mpErrEOF:
			L.RaiseError("Missing bytes in input.")
		case mpErrBadFmt:
			L.RaiseError("Bad data format in input.")
		}
		out = append(out, v)
	}
	L.SetTop(0)
	if !decodeAll {
		if len(d.b) == 0 {
			L.Push(lua.LNumber(-1))
		} else {
			L.Push(lua.LNumber(len(s) - len(d.b)))
		}
	}
	for _, v := range out {
		L.Push(v)
	}
	return L.GetTop()
}

const (
	mpErrNone = iota
	mpErrEOF
	mpErrBadFmt
)

type mpDecoder struct {
	L   *lua.LState
	b   []byte
	err int
}

func (d *mpDecoder) need(n int) bool {
	if len(d.b) < n {
		d.err = mpErrEOF
		return false
	}
	return true
}

func (d *mpDecoder) decode() lua.LValue {
	if !d.need(1) {
		return lua.LNil
	}
	c := d.b[0]
	switch {
	case c <= 0x7f:
		d.b = d.b[1:]
		return lua.LNumber(c)
	case c >= 0xe0:
		d.b = d.b[1:]
		return lua.LNumber(int8(c))
	case c&0xe0 == 0xa0:
		return d.bytes(1, int(c&0x1f))
	case c&0xf0 == 0x90:
		d.b = d.b[1:]
		return d.array(int(c & 0xf))
	case c&0xf0 == 0x80:
		d.b = d.b[1:]
		return d.mapping(int(c & 0xf))
	}
	switch c {
	case 0xc0:
		d.b = d.b[1:]
		return lua.LNil
	case 0xc2:
		d.b = d.b[1:]
		return lua.LFalse
	case 0xc3:
		d.b = d.b[1:]
		return lua.LTrue
	case 0xca:
		v, ok := d.header(4)
		if !ok {
			return lua.LNil
		}
		return lua.LNumber(math.Float32frombits(uint32(v)))
	case 0xcb:
		v, ok := d.header(8)
		if !ok {
			return lua.LNil
		}
		return lua.LNumber(math.Float64frombits(v))
	case 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3:
		// uint 8/16/32/64 and int 8/16/32/64.
		size := 1 << (c & 3)
		v, ok := d.header(size)
		if !ok {
			return lua.LNil
		}
		if c >= 0xd0 || c == 0xcf {
			// Signed; Redis's cmsgpack also pushes uint 64 as a signed
			// lua_Integer.
			shift := 64 - 8*size
			return lua.LNumber(int64(v<<shift) >> shift)
		}
		return lua.LNumber(v)
	case 0xd9, 0xda, 0xdb:
		// str 8/16/32. Redis's cmsgpack knows no bin types (0xc4-0xc6):
		// those are a bad format.
		n, ok := d.header(1 << (c&3 - 1))
		if !ok {
			return lua.LNil
		}
		return d.bytes(0, int(n))
	case 0xdc, 0xdd, 0xde, 0xdf:
		// array 16/32, map 16/32.
		n, ok := d.header(2 << (c & 1))
		if !ok {
			return lua.LNil
		}
		if c <= 0xdd {
			return d.array(int(n))
		}
		return d.mapping(int(n))
	}
	d.err = mpErrBadFmt
	return lua.LNil
}

// header consumes the type byte and the size-byte big-endian field after it.
func (d *mpDecoder) header(size int) (uint64, bool) {
	if !d.need(1 + size) {
		return 0, false
	}
	var v uint64
	for _, x := range d.b[1 : 1+size] {
		v = v<<8 | uint64(x)
	}
	d.b = d.b[1+size:]
	return v, true
}

func (d *mpDecoder) bytes(hdr, n int) lua.LValue {
	if !d.need(hdr + n) {
		return lua.LNil
	}
	s := lua.LString(d.b[hdr : hdr+n])
	d.b = d.b[hdr+n:]
	return s
}

func (d *mpDecoder) array(n int) lua.LValue {
	t := d.L.CreateTable(min(n, 1024), 0)
	for i := 1; i <= n; i++ {
		v := d.decode()
		if d.err != mpErrNone {
			return lua.LNil
		}
		t.RawSetInt(i, v)
	}
	return t
}

func (d *mpDecoder) mapping(n int) lua.LValue {
	t := d.L.NewTable()
	for i := 0; i < n; i++ {
		k := d.decode()
		if d.err != mpErrNone {
			return lua.LNil
		}
		v := d.decode()
		if d.err != mpErrNone {
			return lua.LNil
		}
		if k == lua.LNil {
			d.L.RaiseError("table index is nil")
		}
		t.RawSet(k, v)
	}
	return t
}
