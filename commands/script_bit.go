package commands

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// bit: LuaBitOp 1.0.2 as bundled with Redis. Numbers are taken modulo 2^32
// (rounding to the nearest integer, as the 2^52+2^51 trick does) and
// results are signed 32-bit numbers.
// ---------------------------------------------------------------------------

// bitArg is barg(): the low 32 bits of n + 2^52 + 2^51.
func bitArg(L *lua.LState, n int) uint32 {
	f, ok := luaToNumberValue(L.Get(n))
	b := uint32(math.Float64bits(f + 6755399441055744.0))
	if b == 0 && !ok {
		luaArgError(L, n, "number expected, got "+luaTypeName(L, n))
	}
	return b
}

func bitRet(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(int32(b)))
	return 1
}

func (vm *luaVM) bitLib() *lua.LTable {
	L := vm.L
	t := L.NewTable()
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("tobit", func(L *lua.LState) int { return bitRet(L, bitArg(L, 1)) })
	set("bnot", func(L *lua.LState) int { return bitRet(L, ^bitArg(L, 1)) })
	fold := func(name string, op func(a, b uint32) uint32) {
		set(name, func(L *lua.LState) int {
			b := bitArg(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				b = op(b, bitArg(L, i))
			}
			return bitRet(L, b)
		})
	}
	fold("band", func(a, b uint32) uint32 { return a & b })
	fold("bor", func(a, b uint32) uint32 { return a | b })
	fold("bxor", func(a, b uint32) uint32 { return a ^ b })
	shift := func(name string, op func(b, n uint32) uint32) {
		set(name, func(L *lua.LState) int {
			b := bitArg(L, 1)
			n := bitArg(L, 2) & 31
			return bitRet(L, op(b, n))
		})
	}
	shift("lshift", func(b, n uint32) uint32 { return b << n })
	shift("rshift", func(b, n uint32) uint32 { return b >> n })
	shift("arshift", func(b, n uint32) uint32 { return uint32(int32(b) >> n) })
	shift("rol", func(b, n uint32) uint32 { return b<<n | b>>(32-n) })
	shift("ror", func(b, n uint32) uint32 { return b>>n | b<<(32-n) })
	set("bswap", func(L *lua.LState) int {
		b := bitArg(L, 1)
		return bitRet(L, b>>24|(b>>8)&0xff00|(b&0xff00)<<8|b<<24)
	})
	set("tohex", func(L *lua.LState) int {
		b := bitArg(L, 1)
		n := int32(8)
		if L.GetTop() >= 2 {
			n = int32(bitArg(L, 2))
		}
		digits := "0123456789abcdef"
		if n < 0 {
			n = -n
			digits = "0123456789ABCDEF"
		}
		if n > 8 {
			n = 8
		} else if n < 0 {
			n = 0 // -MinInt32
		}
		buf := make([]byte, n)
		for i := int(n) - 1; i >= 0; i-- {
			buf[i] = digits[b&15]
			b >>= 4
		}
		L.Push(lua.LString(buf))
		return 1
	})
	return t
}
