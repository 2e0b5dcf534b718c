package commands

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// Lua 5.1's table and math libraries and the base functions gopher-lua
// words differently (ltablib.c, lmathlib.c, lbaselib.c): their argument
// checks, their error texts, and table.sort's algorithm, which decides the
// order of elements an inconsistent comparator leaves and which comparison
// fails first.
// ---------------------------------------------------------------------------

// luaRaise is luaL_error: msg with the position of the Lua code calling
// the running Go function (none if a Go function called it).
func luaRaise(L *lua.LState, msg string) {
	L.Error(lua.LString(luaWhere(L, 1)+msg), 0)
}

// luaCalledName is getfuncname for the running Go function: how its Lua
// caller named it ("global", "local", "field", "method", "upvalue").
func luaCalledName(L *lua.LState) (kind, name string) {
	f := luaFrameAt(L, 1)
	if f == nil {
		return "", ""
	}
	i := f.fn.Proto.Code[f.pc]
	switch instOp(i) {
	case lopCall, lopTailCall, lopTForLoop:
		return f.objName(instA(i))
	}
	return "", ""
}

// luaArgError is luaL_argerror: "bad argument #n to 'name' (msg)", the
// name being the one the caller used; a method's self is argument 0.
func luaArgError(L *lua.LState, n int, msg string) {
	kind, name := luaCalledName(L)
	if kind == "method" {
		n--
		if n == 0 {
			luaRaise(L, "calling '"+name+"' on bad self ("+msg+")")
		}
	}
	if name == "" {
		name = "?"
	}
	luaRaise(L, "bad argument #"+itoa(n)+" to '"+name+"' ("+msg+")")
}

func itoa(n int) string {
	return string(appendInt(nil, int64(n)))
}

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// luaTagError is luaL_typerror.
func luaTagError(L *lua.LState, n int, tname string) {
	luaArgError(L, n, tname+" expected, got "+luaTypeName(L, n))
}

// luaCheckTable is luaL_checktype(L, n, LUA_TTABLE): the table (the real
// one behind a read-only proxy).
func (vm *luaVM) checkTable(L *lua.LState, n int) *lua.LTable {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok || n > L.GetTop() {
		luaTagError(L, n, "table")
	}
	return vm.real(t)
}

// luaCheckAny is luaL_checkany.
func luaCheckAny(L *lua.LState, n int) {
	if n > L.GetTop() {
		luaArgError(L, n, "value expected")
	}
}

// luaOptInt is luaL_optint.
func luaOptInt(L *lua.LState, n int, def int32) int32 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return luaCheckInt(L, n)
}

// ----- base -----

func (vm *luaVM) setBaseFuncs51(g *lua.LTable) {
	L := vm.L
	set := func(name string, fn lua.LGFunction) { g.RawSetString(name, L.NewFunction(fn)) }
	set("type", func(L *lua.LState) int {
		luaCheckAny(L, 1)
		L.Push(lua.LString(L.Get(1).Type().String()))
		return 1
	})
	set("rawequal", func(L *lua.LState) int {
		luaCheckAny(L, 1)
		luaCheckAny(L, 2)
		a, b := L.Get(1), L.Get(2)
		if at, ok := a.(*lua.LTable); ok {
			a = vm.real(at)
		}
		if bt, ok := b.(*lua.LTable); ok {
			b = vm.real(bt)
		}
		L.Push(lua.LBool(a == b))
		return 1
	})
	set("select", func(L *lua.LState) int {
		n := L.GetTop()
		if s, ok := L.Get(1).(lua.LString); ok && strings.HasPrefix(string(s), "#") {
			L.Push(lua.LNumber(n - 1))
			return 1
		}
		i := int(luaCheckInt(L, 1))
		if i < 0 {
			i = n + i
		} else if i > n {
			i = n
		}
		if i < 1 {
			luaArgError(L, 1, "index out of range")
		}
		return n - i
	})
	set("unpack", func(L *lua.LState) int {
		t := vm.checkTable(L, 1)
		i := int64(luaOptInt(L, 2, 1))
		var e int64
		if L.Get(3) == lua.LNil {
			e = int64(t.Len())
		} else {
			e = int64(luaCheckInt(L, 3))
		}
		if i > e {
			return 0
		}
		n := e - i + 1
		if n <= 0 || n >= 8000 {
			luaRaise(L, "too many results to unpack")
		}
		for ; i <= e; i++ {
			L.Push(t.RawGetInt(int(i)))
		}
		return int(n)
	})
	ipairsAux := L.NewFunction(func(L *lua.LState) int {
		i := luaCheckInt(L, 2) + 1
		t := vm.checkTable(L, 1)
		v := t.RawGetInt(int(i))
		if v == lua.LNil {
			return 0
		}
		L.Push(lua.LNumber(i))
		L.Push(v)
		return 2
	})
	set("ipairs", func(L *lua.LState) int {
		vm.checkTable(L, 1)
		L.Push(ipairsAux)
		L.Push(L.Get(1))
		L.Push(lua.LNumber(0))
		return 3
	})
	pcallh := L.NewFunction(luaPcallHandler)
	set("xpcall", func(L *lua.LState) int {
		luaCheckAny(L, 2)
		L.SetTop(2)
		fn, handler := L.Get(1), L.Get(2)
		// The handler sees the message in Lua 5.1's words: the rewrite
		// runs first, where the failing frame still is.
		h := L.NewFunction(func(L *lua.LState) int {
			v := L.Get(1)
			if s, ok := v.(lua.LString); ok {
				v = lua.LString(luaVMError(L, 1, string(s)))
			}
			L.Push(handler)
			L.Push(v)
			L.Call(1, 1)
			return 1
		})
		L.SetTop(0)
		// fail is lua_pcall failing before the call: the handler gets
		// Lua's error message and xpcall returns false and its result.
		fail := func(msg string) int {
			L.Push(handler)
			L.Push(lua.LString(msg))
			var v lua.LValue
			if err := L.PCall(1, 1, pcallh); err != nil {
				v = luaErrorObject(err)
			} else {
				v = L.Get(-1)
			}
			L.SetTop(0)
			L.Push(lua.LFalse)
			L.Push(v)
			return 2
		}
		if fn.Type() != lua.LTFunction && L.GetMetaField(fn, "__call").Type() != lua.LTFunction {
			return fail("attempt to call a " + fn.Type().String() + " value")
		}
		if vm.nCcalls+1 >= luaMaxCCalls {
			return fail("C stack overflow")
		}
		vm.nCcalls++
		defer func() { vm.nCcalls-- }()
		L.Push(fn)
		if err := L.PCall(0, lua.MultRet, h); err != nil {
			L.SetTop(0)
			L.Push(lua.LFalse)
			L.Push(luaErrorObject(err))
			return 2
		}
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	})
}

// luaErrorObject is the value a failed PCall raised.
func luaErrorObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		return ae.Object
	}
	return lua.LString(err.Error())
}

// ----- table -----

func (vm *luaVM) tableLib51(t *lua.LTable) {
	L := vm.L
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("getn", func(L *lua.LState) int {
		L.Push(lua.LNumber(vm.checkTable(L, 1).Len()))
		return 1
	})
	set("maxn", func(L *lua.LState) int {
		tb := vm.checkTable(L, 1)
		max := 0.0
		for k, _ := tb.Next(lua.LNil); k != lua.LNil; k, _ = tb.Next(k) {
			if n, ok := k.(lua.LNumber); ok && float64(n) > max {
				max = float64(n)
			}
		}
		L.Push(lua.LNumber(max))
		return 1
	})
	set("insert", func(L *lua.LState) int {
		tb := vm.checkTable(L, 1)
		e := tb.Len() + 1
		var pos int
		switch L.GetTop() {
		case 2:
			pos = e
		case 3:
			pos = int(luaCheckInt(L, 2))
			if pos > e {
				e = pos
			}
			for i := e; i > pos; i-- {
				tb.RawSetInt(i, tb.RawGetInt(i-1))
			}
		default:
			luaRaise(L, "wrong number of arguments to 'insert'")
		}
		tb.RawSetInt(pos, L.Get(-1))
		return 0
	})
	set("remove", func(L *lua.LState) int {
		tb := vm.checkTable(L, 1)
		e := tb.Len()
		pos := int(luaOptInt(L, 2, int32(e)))
		if !(1 <= pos && pos <= e) {
			return 0
		}
		v := tb.RawGetInt(pos)
		for ; pos < e; pos++ {
			tb.RawSetInt(pos, tb.RawGetInt(pos+1))
		}
		tb.RawSetInt(e, lua.LNil)
		L.Push(v)
		return 1
	})
	set("sort", func(L *lua.LState) int {
		tb := vm.checkTable(L, 1)
		n := tb.Len()
		if L.Get(2) != lua.LNil {
			if _, ok := L.Get(2).(*lua.LFunction); !ok {
				luaTagError(L, 2, "function")
			}
		}
		L.SetTop(2)
		s := luaSorter{L: L, t: tb, cmp: L.Get(2)}
		s.auxsort(1, n)
		return 0
	})
}

// luaSorter is ltablib.c's auxsort, step for step.
type luaSorter struct {
	L   *lua.LState
	t   *lua.LTable
	cmp lua.LValue
}

func (s *luaSorter) less(a, b lua.LValue) bool {
	if s.cmp != lua.LNil {
		s.L.Push(s.cmp)
		s.L.Push(a)
		s.L.Push(b)
		s.L.Call(2, 1)
		r := lua.LVAsBool(s.L.Get(-1))
		s.L.Pop(1)
		return r
	}
	return luaLessThan(s.L, a, b)
}

// luaLessThan is luaV_lessthan; its error has no position (it is raised
// inside a C function in Lua 5.1).
func luaLessThan(L *lua.LState, a, b lua.LValue) bool {
	if a.Type() != b.Type() {
		L.Error(lua.LString(luaOrderError(a, b)), 0)
	}
	switch x := a.(type) {
	case lua.LNumber:
		return x < b.(lua.LNumber)
	case lua.LString:
		return luaStrcoll(string(x), string(b.(lua.LString))) < 0
	}
	if mm := L.GetMetaField(a, "__lt"); mm != lua.LNil && L.GetMetaField(b, "__lt") == mm {
		L.Push(mm)
		L.Push(a)
		L.Push(b)
		L.Call(2, 1)
		r := lua.LVAsBool(L.Get(-1))
		L.Pop(1)
		return r
	}
	L.Error(lua.LString(luaOrderError(a, b)), 0)
	return false
}

// luaStrcoll is l_strcmp in the C locale: byte order, with a string
// that is a prefix first.
func luaStrcoll(a, b string) int { return strings.Compare(a, b) }

// luaOrderError is luaG_ordererror's message.
func luaOrderError(a, b lua.LValue) string {
	t1, t2 := a.Type().String(), b.Type().String()
	if t1[2] == t2[2] {
		return "attempt to compare two " + t1 + " values"
	}
	return "attempt to compare " + t1 + " with " + t2
}

func (s *luaSorter) get(i int) lua.LValue    { return s.t.RawGetInt(i) }
func (s *luaSorter) set(i int, v lua.LValue) { s.t.RawSetInt(i, v) }

func (s *luaSorter) auxsort(l, u int) {
	for l < u {
		// Sort a[l], a[(l+u)/2] and a[u].
		al, au := s.get(l), s.get(u)
		if s.less(au, al) {
			s.set(l, au)
			s.set(u, al)
		}
		if u-l == 1 {
			break
		}
		i := (l + u) / 2
		ai, al := s.get(i), s.get(l)
		if s.less(ai, al) {
			s.set(i, al)
			s.set(l, ai)
		} else {
			au := s.get(u)
			if s.less(au, ai) {
				s.set(i, au)
				s.set(u, ai)
			}
		}
		if u-l == 2 {
			break
		}
		p := s.get(i)
		s.set(i, s.get(u-1))
		s.set(u-1, p)
		i, j := l, u-1
		for {
			for {
				i++
				if !s.less(s.get(i), p) {
					break
				}
				if i > u {
					luaRaise(s.L, "invalid order function for sorting")
				}
			}
			for {
				j--
				if !s.less(p, s.get(j)) {
					break
				}
				if j < l {
					luaRaise(s.L, "invalid order function for sorting")
				}
			}
			if j < i {
				break
			}
			ai, aj := s.get(i), s.get(j)
			s.set(i, aj)
			s.set(j, ai)
		}
		au1, ai := s.get(u-1), s.get(i)
		s.set(u-1, ai)
		s.set(i, au1)
		if i-l < u-i {
			j = l
			i = i - 1
			l = i + 2
		} else {
			j = i + 1
			i = u
			u = j - 2
		}
		s.auxsort(j, i)
	}
}

// ----- math -----

// luaNaN is the NaN x86 produces for an invalid operation (0/0, sqrt(-1)):
// sign bit set, printed "-nan".
var luaNaN = math.Float64frombits(0xfff8000000000000)

// luaNaNResult gives a math function's NaN the sign glibc gives it: a NaN
// argument comes back as it is; a domain error is "-nan" (log, fmod, pow,
// sqrt) or "nan" (acos, asin, log10).
func luaNaNResult(r float64, negative bool, args ...float64) lua.LNumber {
	if r == r {
		return lua.LNumber(r)
	}
	for _, a := range args {
		if a != a {
			return lua.LNumber(a)
		}
	}
	if negative {
		return lua.LNumber(luaNaN)
	}
	return lua.LNumber(math.NaN())
}

func (vm *luaVM) mathLib51(t *lua.LTable) {
	L := vm.L
	one := func(name string, f func(float64) float64) {
		negative := name != "acos" && name != "asin" && name != "log10"
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			x := luaCheckNumber(L, 1)
			L.Push(luaNaNResult(f(x), negative, x))
			return 1
		}))
	}
	two := func(name string, f func(a, b float64) float64) {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			a := luaCheckNumber(L, 1)
			b := luaCheckNumber(L, 2)
			L.Push(luaNaNResult(f(a, b), true, a, b))
			return 1
		}))
	}
	one("abs", math.Abs)
	one("sin", math.Sin)
	one("sinh", math.Sinh)
	one("cos", math.Cos)
	one("cosh", math.Cosh)
	one("tan", math.Tan)
	one("tanh", math.Tanh)
	one("asin", math.Asin)
	one("acos", math.Acos)
	one("atan", math.Atan)
	two("atan2", math.Atan2)
	one("ceil", math.Ceil)
	one("floor", math.Floor)
	two("fmod", math.Mod)
	two("mod", math.Mod)
	one("sqrt", math.Sqrt)
	two("pow", math.Pow)
	one("log", math.Log)
	one("log10", math.Log10)
	one("exp", math.Exp)
	one("deg", func(x float64) float64 { return x / (math.Pi / 180) })
	one("rad", func(x float64) float64 { return x * (math.Pi / 180) })
	t.RawSetString("modf", L.NewFunction(func(L *lua.LState) int {
		x := luaCheckNumber(L, 1)
		ip, fp := math.Modf(x)
		if math.IsInf(ip, 0) {
			fp = math.Copysign(0, x)
		}
		L.Push(luaNaNResult(ip, true, x))
		L.Push(luaNaNResult(fp, true, x))
		return 2
	}))
	t.RawSetString("frexp", L.NewFunction(func(L *lua.LState) int {
		x := luaCheckNumber(L, 1)
		f, e := math.Frexp(x)
		L.Push(luaNaNResult(f, true, x))
		L.Push(lua.LNumber(e))
		return 2
	}))
	t.RawSetString("ldexp", L.NewFunction(func(L *lua.LState) int {
		x := luaCheckNumber(L, 1)
		e := luaCheckInt(L, 2)
		L.Push(luaNaNResult(math.Ldexp(x, int(e)), true, x))
		return 1
	}))
	minmax := func(name string, better func(d, m float64) bool) {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			n := L.GetTop()
			m := luaCheckNumber(L, 1)
			for i := 2; i <= n; i++ {
				if d := luaCheckNumber(L, i); better(d, m) {
					m = d
				}
			}
			L.Push(lua.LNumber(m))
			return 1
		}))
	}
	minmax("min", func(d, m float64) bool { return d < m })
	minmax("max", func(d, m float64) bool { return d > m })
	t.RawSetString("pi", lua.LNumber(math.Pi))
	t.RawSetString("huge", lua.LNumber(math.Inf(1)))
}

// ----- coroutine -----

// coroutineLib51 wraps gopher-lua's coroutines with Lua 5.1's argument
// checks and messages.
func (vm *luaVM) coroutineLib51(orig *lua.LTable) *lua.LTable {
	L := vm.L
	t := L.NewTable()
	for _, name := range []string{"running"} {
		t.RawSetString(name, orig.RawGetString(name))
	}
	create := orig.RawGetString("create")
	resume := orig.RawGetString("resume")
	status := orig.RawGetString("status")
	checkCo := func(L *lua.LState) {
		if _, ok := L.Get(1).(*lua.LState); !ok {
			luaArgError(L, 1, "coroutine expected")
		}
	}
	checkFn := func(L *lua.LState) {
		if fn, ok := L.Get(1).(*lua.LFunction); !ok || fn.IsG {
			luaArgError(L, 1, "Lua function expected")
		}
	}
	call := func(L *lua.LState, fn lua.LValue) int {
		top := L.GetTop()
		L.Insert(fn, 1)
		L.Call(top, lua.MultRet)
		return L.GetTop()
	}
	// resumeMsg is auxresume's wording for a coroutine that cannot run.
	resumeMsg := func(L *lua.LState) {
		if L.Get(1) != lua.LFalse {
			return
		}
		switch L.Get(2).String() {
		case "can not resume a dead thread":
			L.Replace(2, lua.LString("cannot resume dead coroutine"))
		case "can not resume a running thread":
			L.Replace(2, lua.LString("cannot resume running coroutine"))
		}
	}
	// A coroutine's call stack grows as it needs (the interpreter's is
	// fixed at Lua's 20000 frames, too big to allocate per coroutine).
	newThread := func(L *lua.LState) {
		saved := L.Options.MinimizeStackMemory
		L.Options.MinimizeStackMemory = true
		defer func() { L.Options.MinimizeStackMemory = saved }()
		call(L, create)
	}
	t.RawSetString("create", L.NewFunction(func(L *lua.LState) int {
		checkFn(L)
		newThread(L)
		return 1
	}))
	t.RawSetString("status", L.NewFunction(func(L *lua.LState) int {
		checkCo(L)
		return call(L, status)
	}))
	t.RawSetString("resume", L.NewFunction(func(L *lua.LState) int {
		checkCo(L)
		n := call(L, resume)
		resumeMsg(L)
		return n
	}))
	t.RawSetString("yield", L.NewFunction(func(L *lua.LState) int {
		if L.G.MainThread == L {
			L.Error(lua.LString("attempt to yield across metamethod/C-call boundary"), 0)
		}
		return -1
	}))
	t.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		checkFn(L)
		L.SetTop(1)
		newThread(L)
		co := L.Get(1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			L.Insert(co, 1)
			call(L, resume)
			resumeMsg(L)
			if L.Get(1) == lua.LFalse {
				// auxwrap: the error goes on, a message with the
				// position of the call.
				v := L.Get(2)
				if s, ok := luaStringOf(v); ok {
					v = lua.LString(luaWhere(L, 1) + s)
				}
				L.Error(v, 0)
			}
			L.Remove(1)
			return L.GetTop()
		}))
		return 1
	}))
	return t
}
