package commands

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// Base, table, string and math functions where gopher-lua differs from the
// Lua 5.1 Redis embeds: number formatting ("%.14g"), error positions,
// pcall's handling of Redis error tables, tonumber, string.format, the
// read-only tables, and Redis's own math.random.
// ---------------------------------------------------------------------------

// luaTypeName is the name lua_typename gives v ("no value" past the top).
func luaTypeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// luaCheckNumber is luaL_checknumber: numbers and numeric strings.
func luaCheckNumber(L *lua.LState, n int) float64 {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, ok := luaStr2Number(string(v)); ok {
			return f
		}
	}
	luaArgError(L, n, "number expected, got "+luaTypeName(L, n))
	return 0
}

// luaCheckInt is luaL_checkint: the number cast to lua_Integer, then to
// a C int (the low 32 bits).
func luaCheckInt(L *lua.LState, n int) int32 {
	return int32(luaToInt64(luaCheckNumber(L, n)))
}

// luaCheckString is luaL_checklstring: strings and numbers ("%.14g").
func luaCheckString(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return luaNumberString(float64(v))
	}
	luaArgError(L, n, "string expected, got "+luaTypeName(L, n))
	return ""
}

// luaStr2Number converts s as Lua 5.1's luaO_str2d: strtod (decimal,
// hexadecimal, inf, nan), or strtoul for "0x..." integers, with only
// whitespace around.
func luaStr2Number(s string) (float64, bool) {
	t := strings.TrimFunc(s, isLuaSpace)
	if t == "" || strings.ContainsRune(t, '_') {
		return 0, false
	}
	body := strings.TrimLeft(t, "+-")
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		// glibc's strtod reads hexadecimal integers (as a float).
		t += "p0"
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func isLuaSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

// setBaseFuncs installs the base functions Redis keeps, in Lua 5.1's form.
func (vm *luaVM) setBaseFuncs(g *lua.LTable) {
	L := vm.L
	set := func(name string, fn lua.LGFunction) { g.RawSetString(name, L.NewFunction(fn)) }
	vm.setBaseFuncs51(g)
	set("error", luaError)
	set("pcall", vm.luaPcall)
	set("tostring", luaToStringFunc)
	set("tonumber", luaToNumber)
	set("assert", luaAssert)
	set("gcinfo", func(L *lua.LState) int {
		L.Push(lua.LNumber(vm.memory >> 10))
		return 1
	})
	set("collectgarbage", func(L *lua.LState) int {
		opt := "collect"
		if L.GetTop() >= 1 && L.Get(1) != lua.LNil {
			opt = luaCheckString(L, 1)
		}
		switch opt {
		case "count":
			L.Push(lua.LNumber(float64(vm.memory) / 1024))
		case "step":
			L.Push(lua.LFalse)
		case "stop", "restart", "collect", "setpause", "setstepmul":
			L.Push(lua.LNumber(0))
		default:
			luaArgError(L, 1, "invalid option '"+opt+"'")
		}
		return 1
	})
	set("rawset", func(L *lua.LState) int {
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			luaArgError(L, 1, "table expected, got "+luaTypeName(L, 1))
		}
		if L.GetTop() < 3 {
			luaArgError(L, L.GetTop()+1, "value expected")
		}
		if _, prot := vm.proxies[t]; prot {
			L.Error(lua.LString(errReadonlyTable), 0)
		}
		switch k := L.Get(2).(type) {
		case *lua.LNilType:
			L.Error(lua.LString("table index is nil"), 0)
		case lua.LNumber:
			if k != k {
				L.Error(lua.LString("table index is NaN"), 0)
			}
		}
		L.RawSet(t, L.Get(2), L.Get(3))
		L.SetTop(1)
		return 1
	})
	set("rawget", func(L *lua.LState) int {
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			luaArgError(L, 1, "table expected, got "+luaTypeName(L, 1))
		}
		if L.GetTop() < 2 {
			luaArgError(L, 2, "value expected")
		}
		L.Push(vm.real(t).RawGet(L.Get(2)))
		return 1
	})
	next := L.NewFunction(func(L *lua.LState) int {
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			luaArgError(L, 1, "table expected, got "+luaTypeName(L, 1))
		}
		k, v := vm.real(t).Next(L.Get(2))
		if k == lua.LNil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(k)
		L.Push(v)
		return 2
	})
	g.RawSetString("next", next)
	set("pairs", func(L *lua.LState) int {
		if _, ok := L.Get(1).(*lua.LTable); !ok {
			luaArgError(L, 1, "table expected, got "+luaTypeName(L, 1))
		}
		L.Push(next)
		L.Push(L.Get(1))
		L.Push(lua.LNil)
		return 3
	})
	set("getmetatable", func(L *lua.LState) int {
		if L.GetTop() < 1 {
			luaArgError(L, 1, "value expected")
		}
		obj := L.Get(1)
		if t, ok := obj.(*lua.LTable); ok {
			if _, prot := vm.proxies[t]; prot && t != vm.gproxy {
				L.Push(lua.LNil) // library tables have no metatable in Redis
				return 1
			}
		}
		mt := L.GetMetatable(obj)
		if mtt, ok := mt.(*lua.LTable); ok {
			if p := mtt.RawGetString("__metatable"); p != lua.LNil {
				L.Push(p)
				return 1
			}
			if _, prot := vm.proxies[mtt]; prot || obj == vm.gproxy {
				L.Push(vm.protect(mtt))
				return 1
			}
		}
		L.Push(mt)
		return 1
	})
	set("setmetatable", func(L *lua.LState) int {
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			luaArgError(L, 1, "table expected, got "+luaTypeName(L, 1))
		}
		mt := L.Get(2)
		if mt != lua.LNil {
			if _, ok := mt.(*lua.LTable); !ok {
				luaArgError(L, 2, "nil or table expected")
			}
		}
		if _, prot := vm.proxies[t]; prot {
			L.Error(lua.LString(errReadonlyTable), 0)
		}
		if old, ok := t.Metatable.(*lua.LTable); ok && old.RawGetString("__metatable") != lua.LNil {
			luaRaise(L, "cannot change a protected metatable")
		}
		t.Metatable = mt
		L.SetTop(1)
		return 1
	})
	set("loadstring", func(L *lua.LState) int {
		src := luaCheckString(L, 1)
		source := src
		if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
			source = luaCheckString(L, 2)
		}
		return vm.loadChunk(L, src, source)
	})
	set("load", func(L *lua.LState) int {
		fn, ok := L.Get(1).(*lua.LFunction)
		if !ok {
			luaArgError(L, 1, "function expected, got "+luaTypeName(L, 1))
		}
		name := "=(load)"
		if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
			name = luaCheckString(L, 2)
		}
		var src strings.Builder
		for {
			L.Push(fn)
			L.Call(0, 1)
			piece := L.Get(-1)
			L.Pop(1)
			if piece == lua.LNil {
				break
			}
			s, ok := luaStringOf(piece)
			if !ok {
				L.Push(lua.LNil)
				L.Push(lua.LString("reader function must return a string"))
				return 2
			}
			if s == "" {
				break
			}
			src.WriteString(s)
		}
		return vm.loadChunk(L, src.String(), name)
	})
}

// loadChunk compiles src for loadstring/load: the function, or nil and the
// message. source is the chunk's name as Lua keeps it; messages show it as
// luaO_chunkid does, the error handler as it is.
func (vm *luaVM) loadChunk(L *lua.LState, src, source string) int {
	name := luaChunkID(source)
	if len(vm.chunkSources) < 1024 {
		if vm.chunkSources == nil {
			vm.chunkSources = make(map[string]string)
		}
		vm.chunkSources[name] = source
	}
	proto, msg := compileLuaAt(src, name, 1)
	if proto == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(msg))
		return 2
	}
	L.Push(L.NewFunctionFromProto(proto))
	return 1
}

// luaChunkID formats a chunk's name as luaO_chunkid: "=name" and "@name"
// as name, a string chunk as [string "..."].
// Redis builds Lua with LUA_IDSIZE 80 (the messages show 63 characters of
// a string chunk).
func luaChunkID(src string) string {
	const idSize = 80
	if strings.HasPrefix(src, "=") {
		if len(src) > idSize {
			return src[1:idSize]
		}
		return src[1:]
	}
	if strings.HasPrefix(src, "@") {
		const room = idSize - len(" '...' ") - 1
		if name := src[1:]; len(name) > room {
			return "..." + name[len(name)-room:]
		}
		return src[1:]
	}
	const room = idSize - len(" [string \"...\"] ") - 1
	n := strings.IndexAny(src, "\n\r")
	if n < 0 {
		n = len(src)
	}
	if n > room {
		n = room
	}
	if n < len(src) {
		return `[string "` + src[:n] + `..."]`
	}
	return `[string "` + src + `"]`
}

// luaWhere is luaL_where(L, level): "chunk:line: " for Lua code, "" else.
func luaWhere(L *lua.LState, level int) string {
	dbg, ok := L.GetStack(level)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.What == "G" || dbg.CurrentLine <= 0 {
		return ""
	}
	return dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": "
}

// luaError is Lua 5.1's error(): strings and numbers get the position of
// the level'th caller; other values are raised as they are.
func luaError(L *lua.LState) int {
	level := 1
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		level = int(luaCheckNumber(L, 2))
	}
	v := L.Get(1)
	if s, ok := luaStringOf(v); ok && level > 0 {
		v = lua.LString(luaWhere(L, level) + s)
	}
	L.Error(v, 0)
	return 0
}

// luaPcallHandler puts the VM's error messages in Lua 5.1's words while
// the failing frame is still there.
func luaPcallHandler(L *lua.LState) int {
	v := L.Get(1)
	if s, ok := v.(lua.LString); ok {
		v = lua.LString(luaVMError(L, 1, string(s)))
	}
	L.Push(v)
	return 1
}

// luaPcall is Redis's pcall: an error that is a Redis error table comes back
// as its message string.
func (vm *luaVM) luaPcall(L *lua.LState) int {
	handler := vm.pcallh
	top := L.GetTop()
	if top == 0 {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a boolean value"))
		return 2
	}
	fn := L.Get(1)
	if fn.Type() != lua.LTFunction && L.GetMetaField(fn, "__call").Type() != lua.LTFunction {
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + fn.Type().String() + " value"))
		return 2
	}
	// lua_pcall is a C call: Lua 5.1 allows 200 of them nested
	// (LUAI_MAXCCALLS), then fails inside the protected call.
	if vm.nCcalls+1 >= luaMaxCCalls {
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(lua.LString("C stack overflow"))
		return 2
	}
	vm.nCcalls++
	defer func() { vm.nCcalls-- }()
	if err := L.PCall(top-1, lua.MultRet, handler); err != nil {
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
			obj = ae.Object
		}
		if t, ok := obj.(*lua.LTable); ok {
			if e := t.RawGetString("err"); e.Type() == lua.LTString || e.Type() == lua.LTNumber {
				obj = e
			}
		}
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

func luaToStringFunc(L *lua.LState) int {
	if L.GetTop() < 1 {
		luaArgError(L, 1, "value expected")
	}
	v := L.Get(1)
	if mm := L.GetMetaField(v, "__tostring"); mm != lua.LNil {
		L.Push(mm)
		L.Push(v)
		L.Call(1, 1)
		return 1
	}
	L.Push(lua.LString(luaToString(v)))
	return 1
}

// luaToNumber is Lua 5.1's tonumber.
func luaToNumber(L *lua.LState) int {
	if L.GetTop() < 1 {
		luaArgError(L, 1, "value expected")
	}
	base := 10
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		base = int(luaCheckNumber(L, 2))
	}
	v := L.Get(1)
	if base == 10 {
		switch x := v.(type) {
		case lua.LNumber:
			L.Push(x)
			return 1
		case lua.LString:
			if f, ok := luaStr2Number(string(x)); ok {
				L.Push(lua.LNumber(f))
				return 1
			}
		}
		L.Push(lua.LNil)
		return 1
	}
	s := luaCheckString(L, 1)
	if base < 2 || base > 36 {
		luaArgError(L, 2, "base out of range")
	}
	t := strings.TrimFunc(s, isLuaSpace)
	neg := false
	if strings.HasPrefix(t, "-") {
		neg, t = true, t[1:]
	} else {
		t = strings.TrimPrefix(t, "+")
	}
	if base == 16 {
		t = strings.TrimPrefix(strings.TrimPrefix(t, "0x"), "0X")
	}
	u, err := strconv.ParseUint(t, base, 64)
	if err != nil || t == "" {
		L.Push(lua.LNil)
		return 1
	}
	f := float64(u)
	if neg {
		f = float64(-u)
	}
	L.Push(lua.LNumber(f))
	return 1
}

func luaAssert(L *lua.LState) int {
	if L.GetTop() < 1 {
		luaArgError(L, 1, "value expected")
	}
	if lua.LVAsBool(L.Get(1)) {
		return L.GetTop()
	}
	msg := "assertion failed!"
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		msg = luaCheckString(L, 2)
	}
	luaRaise(L, msg)
	return 0
}

// ---------------------------------------------------------------------------
// table
// ---------------------------------------------------------------------------

func (vm *luaVM) tableLib(orig *lua.LTable) *lua.LTable {
	L := vm.L
	t := L.NewTable()
	vm.tableLib51(t)
	t.RawSetString("concat", L.NewFunction(vm.luaTableConcat))
	t.RawSetString("setn", L.NewFunction(func(L *lua.LState) int {
		luaRaise(L, "'setn' is obsolete")
		return 0
	}))
	t.RawSetString("foreach", L.NewFunction(func(L *lua.LState) int {
		tb := vm.checkTable(L, 1)
		fn := luaCheckFunction(L, 2)
		for k, v := tb.Next(lua.LNil); k != lua.LNil; k, v = tb.Next(k) {
			L.Push(fn)
			L.Push(k)
			L.Push(v)
			L.Call(2, 1)
			if r := L.Get(-1); r != lua.LNil {
				return 1
			}
			L.Pop(1)
		}
		return 0
	}))
	t.RawSetString("foreachi", L.NewFunction(func(L *lua.LState) int {
		tb := vm.checkTable(L, 1)
		fn := luaCheckFunction(L, 2)
		n := tb.Len()
		for i := 1; i <= n; i++ {
			L.Push(fn)
			L.Push(lua.LNumber(i))
			L.Push(tb.RawGetInt(i))
			L.Call(2, 1)
			if r := L.Get(-1); r != lua.LNil {
				return 1
			}
			L.Pop(1)
		}
		return 0
	}))
	return t
}

// luaTableConcat is Lua 5.1's table.concat (tconcat): the separator is
// checked before the table.
func (vm *luaVM) luaTableConcat(L *lua.LState) int {
	sep := ""
	if L.Get(2) != lua.LNil {
		sep = luaCheckString(L, 2)
	}
	tb := vm.checkTable(L, 1)
	i := int(luaOptInt(L, 3, 1))
	last := tb.Len()
	if L.Get(4) != lua.LNil {
		last = int(luaCheckInt(L, 4))
	}
	var b strings.Builder
	add := func(k int) {
		s, ok := luaStringOf(tb.RawGetInt(k))
		if !ok {
			// Redis's Lua words this as Lua 5.2 does.
			luaRaise(L, "invalid value ("+tb.RawGetInt(k).Type().String()+") at index "+itoa(k)+" in table for 'concat'")
		}
		b.WriteString(s)
	}
	for ; i < last; i++ {
		add(i)
		b.WriteString(sep)
	}
	if i == last {
		add(i)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// luaCheckFunction is luaL_checktype(L, n, LUA_TFUNCTION).
func luaCheckFunction(L *lua.LState, n int) *lua.LFunction {
	fn, ok := L.Get(n).(*lua.LFunction)
	if !ok {
		luaTagError(L, n, "function")
	}
	return fn
}

// ---------------------------------------------------------------------------
// string
// ---------------------------------------------------------------------------

func (vm *luaVM) stringLib(orig *lua.LTable) *lua.LTable {
	L := vm.L
	t := L.NewTable()
	t.RawSetString("dump", orig.RawGetString("dump"))
	vm.strLib51(t)
	t.RawSetString("format", L.NewFunction(luaStringFormat))
	t.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s := luaCheckString(L, 1)
		n := int(luaCheckNumber(L, 2))
		if n <= 0 || s == "" {
			L.Push(lua.LString(""))
			return 1
		}
		if int64(len(s))*int64(n) > 1<<30 {
			luaRaise(L, "not enough memory")
		}
		L.Push(lua.LString(strings.Repeat(s, n)))
		return 1
	}))
	return t
}

// luaStringFormat is Lua 5.1's string.format, with C's printf conversions.
func luaStringFormat(L *lua.LState) int {
	f := luaCheckString(L, 1)
	arg := 1
	var b []byte
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			b = append(b, '%')
			continue
		}
		// Scan "[flags][width][.precision]conversion" as scanformat.
		start := i
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		if i-start > 5 {
			luaRaise(L, "invalid format (repeated flags)")
		}
		flags := f[start:i]
		wstart := i
		for k := 0; k < 2 && i < len(f) && isDigit(f[i]); k++ {
			i++
		}
		width := f[wstart:i]
		prec := ""
		hasPrec := false
		if i < len(f) && f[i] == '.' {
			hasPrec = true
			i++
			pstart := i
			for k := 0; k < 2 && i < len(f) && isDigit(f[i]); k++ {
				i++
			}
			prec = f[pstart:i]
		}
		if i < len(f) && isDigit(f[i]) {
			luaRaise(L, "invalid format (width or precision too long)")
		}
		arg++
		conv := byte(0)
		if i < len(f) {
			conv = f[i]
		}
		if arg > L.GetTop() && conv != 0 && strings.IndexByte("cdiouxXeEfgGqs", conv) >= 0 {
			luaArgError(L, arg, "no value")
		}
		spec := "%" + flags + width
		if hasPrec {
			spec += "." + prec
		}
		switch conv {
		case 'c':
			// The piece is added up to its first NUL (strlen of
			// sprintf's buffer): a NUL character ends it.
			ch := byte(luaToInt64(luaCheckNumber(L, arg)))
			piece := appendPadded(nil, []byte{ch}, flags, width)
			if i := bytes.IndexByte(piece, 0); i >= 0 {
				piece = piece[:i]
			}
			b = append(b, piece...)
		case 'd', 'i':
			n := luaToInt64(luaCheckNumber(L, arg))
			b = append(b, fmt.Sprintf(spec+"d", n)...)
		case 'o', 'u', 'x', 'X':
			n := luaToUint64(luaCheckNumber(L, arg))
			verb := string(conv)
			if conv == 'u' {
				verb = "d"
			}
			b = append(b, fmt.Sprintf(spec+verb, n)...)
		case 'e', 'E', 'f', 'g', 'G':
			n := luaCheckNumber(L, arg)
			b = appendCFormatFloat(b, n, flags, width, prec, hasPrec, conv)
		case 'q':
			b = appendLuaQuoted(b, luaCheckString(L, arg))
		case 's':
			s := luaCheckString(L, arg)
			if !hasPrec && len(s) >= 100 {
				// Too long for sprintf's buffer: kept whole.
				b = append(b, s...)
				continue
			}
			// sprintf reads a C string: it ends at a NUL.
			if i := strings.IndexByte(s, 0); i >= 0 {
				s = s[:i]
			}
			if hasPrec {
				p, _ := strconv.Atoi(prec)
				if p < len(s) {
					s = s[:p]
				}
			}
			b = appendPadded(b, []byte(s), flags, width)
		default:
			if arg > L.GetTop() {
				luaArgError(L, arg, "no value")
			}
			// A '%' at the end reads the C string's NUL: "%c" of it
			// prints nothing.
			opt := "%"
			if conv != 0 {
				opt += string([]byte{conv})
			}
			luaRaise(L, "invalid option '"+opt+"' to 'format'")
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// appendPadded pads s to width as printf's %s and %c do (bytes, not runes).
func appendPadded(b, s []byte, flags, width string) []byte {
	w, _ := strconv.Atoi(width)
	pad := w - len(s)
	left := strings.IndexByte(flags, '-') >= 0
	if !left {
		for ; pad > 0; pad-- {
			b = append(b, ' ')
		}
	}
	b = append(b, s...)
	for ; pad > 0; pad-- {
		b = append(b, ' ')
	}
	return b
}

// appendCFormatFloat formats n as printf's %e/%f/%g with the given flags.
func appendCFormatFloat(b []byte, n float64, flags, width, prec string, hasPrec bool, conv byte) []byte {
	if math.IsInf(n, 0) || n != n {
		var s string
		switch {
		case math.IsInf(n, 1):
			s = "inf"
		case math.IsInf(n, -1):
			s = "-inf"
		case math.Signbit(n):
			s = "-nan"
		default:
			s = "nan"
		}
		if conv == 'E' || conv == 'G' {
			s = strings.ToUpper(s)
		}
		if s[0] != '-' {
			if strings.IndexByte(flags, '+') >= 0 {
				s = "+" + s
			} else if strings.IndexByte(flags, ' ') >= 0 {
				s = " " + s
			}
		}
		return appendPadded(b, []byte(s), strings.ReplaceAll(flags, "0", ""), width)
	}
	if !hasPrec {
		prec = "6"
	} else if prec == "" {
		prec = "0"
	}
	spec := "%" + flags + width + "." + prec + string(conv)
	if (conv == 'g' || conv == 'G') && strings.IndexByte(flags, '#') < 0 {
		// Go's %g agrees with C's once the precision is explicit.
		p, _ := strconv.Atoi(prec)
		if p == 0 {
			spec = "%" + flags + width + ".1" + string(conv)
		}
	}
	return append(b, fmt.Sprintf(spec, n)...)
}

func luaToUint64(f float64) uint64 {
	if f < 0 {
		return uint64(luaToInt64(f))
	}
	if f >= 18446744073709551616.0 || f != f {
		return 1 << 63
	}
	return uint64(f)
}

// appendLuaQuoted is string.format's %q (addquoted).
func appendLuaQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '\n':
			b = append(b, '\\', c)
		case '\r':
			b = append(b, '\\', 'r')
		case 0:
			b = append(b, '\\', '0', '0', '0')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// ---------------------------------------------------------------------------
// math: Redis's deterministic random generator (rand.c, lrand48's
// algorithm), one state for both interpreters, seeded as lrand48 is.
// ---------------------------------------------------------------------------

const (
	lrand48Init = 0x1234ABCD330E
	lrand48Max  = 2147483647
)

func (e *scriptEngine) lrand48() int64 {
	e.randState = (0x5DEECE66D*e.randState + 0xB) & (1<<48 - 1)
	return int64(e.randState >> 17)
}

func (vm *luaVM) mathLib(orig *lua.LTable) *lua.LTable {
	L := vm.L
	t := L.NewTable()
	for k, v := orig.Next(lua.LNil); k != lua.LNil; k, v = orig.Next(k) {
		t.RawSet(k, v)
	}
	vm.mathLib51(t)
	t.RawSetString("random", L.NewFunction(func(L *lua.LState) int {
		r := float64(vm.eng.lrand48()%lrand48Max) / lrand48Max
		switch L.GetTop() {
		case 0:
			L.Push(lua.LNumber(r))
		case 1:
			u := luaCheckInt(L, 1)
			if u < 1 {
				luaArgError(L, 1, "interval is empty")
			}
			L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
		case 2:
			l := luaCheckInt(L, 1)
			u := luaCheckInt(L, 2)
			if l > u {
				luaArgError(L, 2, "interval is empty")
			}
			L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
		default:
			luaRaise(L, "wrong number of arguments")
		}
		return 1
	}))
	t.RawSetString("randomseed", L.NewFunction(func(L *lua.LState) int {
		seed := uint64(luaCheckInt(L, 1))
		vm.eng.randState = (seed<<16 | 0x330E) & (1<<48 - 1)
		return 0
	}))
	return t
}
