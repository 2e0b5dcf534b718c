package commands

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// The string library of Lua 5.1 (lstrlib.c), ported: gopher-lua's differs
// in its pattern matcher (no %f frontier, other error texts), in how it
// turns numbers into strings and in its argument errors. string.format and
// string.rep are in script_lualib.go.
// ---------------------------------------------------------------------------

const luaMaxCaptures = 32

const (
	capUnfinished = -1
	capPosition   = -2
)

// luaCheckInteger is luaL_checkinteger: a number (or numeric string)
// truncated to an integer.
func luaCheckInteger(L *lua.LState, n int) int64 {
	return luaToInt64(luaCheckNumber(L, n))
}

// luaOptInteger is luaL_optinteger.
func luaOptInteger(L *lua.LState, n int, def int64) int64 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return luaCheckInteger(L, n)
}

// posrelat turns a negative string position into one from the start.
func posrelat(pos int64, l int) int64 {
	if pos < 0 {
		pos += int64(l) + 1
	}
	if pos >= 0 {
		return pos
	}
	return 0
}

func (vm *luaVM) strLib51(t *lua.LTable) {
	L := vm.L
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("len", func(L *lua.LState) int {
		L.Push(lua.LNumber(len(luaCheckString(L, 1))))
		return 1
	})
	set("sub", func(L *lua.LState) int {
		s := luaCheckString(L, 1)
		l := len(s)
		start := posrelat(luaCheckInteger(L, 2), l)
		end := posrelat(luaOptInteger(L, 3, -1), l)
		if start < 1 {
			start = 1
		}
		if end > int64(l) {
			end = int64(l)
		}
		if start <= end {
			L.Push(lua.LString(s[start-1 : end]))
		} else {
			L.Push(lua.LString(""))
		}
		return 1
	})
	set("reverse", func(L *lua.LState) int {
		s := luaCheckString(L, 1)
		b := make([]byte, len(s))
		for i := range s {
			b[len(s)-1-i] = s[i]
		}
		L.Push(lua.LString(b))
		return 1
	})
	set("lower", func(L *lua.LState) int {
		s := luaCheckString(L, 1)
		b := []byte(s)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		L.Push(lua.LString(b))
		return 1
	})
	set("upper", func(L *lua.LState) int {
		s := luaCheckString(L, 1)
		b := []byte(s)
		for i, c := range b {
			if c >= 'a' && c <= 'z' {
				b[i] = c - ('a' - 'A')
			}
		}
		L.Push(lua.LString(b))
		return 1
	})
	set("byte", func(L *lua.LState) int {
		s := luaCheckString(L, 1)
		l := len(s)
		posi := posrelat(luaOptInteger(L, 2, 1), l)
		pose := posrelat(luaOptInteger(L, 3, posi), l)
		if posi <= 0 {
			posi = 1
		}
		if pose > int64(l) {
			pose = int64(l)
		}
		if posi > pose {
			return 0
		}
		n := int(pose - posi + 1)
		if n > 1<<20 {
			luaRaise(L, "string slice too long")
		}
		for i := 0; i < n; i++ {
			L.Push(lua.LNumber(s[int(posi)+i-1]))
		}
		return n
	})
	set("char", func(L *lua.LState) int {
		n := L.GetTop()
		b := make([]byte, 0, n)
		for i := 1; i <= n; i++ {
			c := luaCheckInt(L, i)
			if c < 0 || c > 255 {
				luaArgError(L, i, "invalid value")
			}
			b = append(b, byte(c))
		}
		L.Push(lua.LString(b))
		return 1
	})
	set("find", func(L *lua.LState) int { return luaStrFindAux(L, true) })
	set("match", func(L *lua.LState) int { return luaStrFindAux(L, false) })
	gmatch := L.NewFunction(luaStrGmatch)
	t.RawSetString("gmatch", gmatch)
	t.RawSetString("gfind", gmatch)
	set("gsub", luaStrGsub)
}

// luaMatchState is lstrlib.c's MatchState. The pattern is a C string in
// Lua 5.1: it ends at its first NUL.
type luaMatchState struct {
	L       *lua.LState
	src     string
	pat     string
	level   int
	capInit [luaMaxCaptures]int
	capLen  [luaMaxCaptures]int
}

func cPattern(p string) string {
	if i := strings.IndexByte(p, 0); i >= 0 {
		return p[:i]
	}
	return p
}

// pc returns the pattern byte at i, 0 past its end (the C terminator).
func (ms *luaMatchState) pc(i int) byte {
	if i < len(ms.pat) {
		return ms.pat[i]
	}
	return 0
}

// sc returns the subject byte at i, 0 at its end.
func (ms *luaMatchState) sc(i int) byte {
	if i < len(ms.src) {
		return ms.src[i]
	}
	return 0
}

func (ms *luaMatchState) checkCapture(l int) int {
	l -= '1'
	if l < 0 || l >= ms.level || ms.capLen[l] == capUnfinished {
		luaRaise(ms.L, "invalid capture index")
	}
	return l
}

func (ms *luaMatchState) captureToClose() int {
	for level := ms.level - 1; level >= 0; level-- {
		if ms.capLen[level] == capUnfinished {
			return level
		}
	}
	luaRaise(ms.L, "invalid pattern capture")
	return 0
}

func (ms *luaMatchState) classEnd(p int) int {
	c := ms.pc(p)
	p++
	switch c {
	case '%':
		if ms.pc(p) == 0 {
			luaRaise(ms.L, "malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if ms.pc(p) == '^' {
			p++
		}
		for {
			if ms.pc(p) == 0 {
				luaRaise(ms.L, "malformed pattern (missing ']')")
			}
			c := ms.pc(p)
			p++
			if c == '%' && ms.pc(p) != 0 {
				p++
			}
			if ms.pc(p) == ']' {
				break
			}
		}
		return p + 1
	}
	return p
}

func isCPunct(c byte) bool {
	return c >= 33 && c <= 47 || c >= 58 && c <= 64 || c >= 91 && c <= 96 || c >= 123 && c <= 126
}

func luaMatchClass(c, cl byte) bool {
	var res bool
	lower := cl
	if cl >= 'A' && cl <= 'Z' {
		lower = cl + 'a' - 'A'
	}
	switch lower {
	case 'a':
		res = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	case 'c':
		res = c < 32 || c == 127
	case 'd':
		res = c >= '0' && c <= '9'
	case 'l':
		res = c >= 'a' && c <= 'z'
	case 'p':
		res = isCPunct(c)
	case 's':
		res = isCSpace(c)
	case 'u':
		res = c >= 'A' && c <= 'Z'
	case 'w':
		res = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	case 'x':
		res = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if cl >= 'a' && cl <= 'z' {
		return res
	}
	return !res
}

// matchBracketClass matches c against the class pat[p:ec] ("[...]", ec at
// the closing bracket).
func (ms *luaMatchState) matchBracketClass(c byte, p, ec int) bool {
	sig := true
	if ms.pc(p+1) == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		if ms.pc(p) == '%' {
			p++
			if luaMatchClass(c, ms.pc(p)) {
				return sig
			}
		} else if ms.pc(p+1) == '-' && p+2 < ec {
			p += 2
			if ms.pc(p-2) <= c && c <= ms.pc(p) {
				return sig
			}
		} else if ms.pc(p) == c {
			return sig
		}
	}
	return !sig
}

func (ms *luaMatchState) singleMatch(c byte, p, ep int) bool {
	switch ms.pc(p) {
	case '.':
		return true
	case '%':
		return luaMatchClass(c, ms.pc(p+1))
	case '[':
		return ms.matchBracketClass(c, p, ep-1)
	}
	return ms.pc(p) == c
}

func (ms *luaMatchState) matchBalance(s, p int) int {
	if ms.pc(p) == 0 || ms.pc(p+1) == 0 {
		luaRaise(ms.L, "unbalanced pattern")
	}
	if ms.sc(s) != ms.pc(p) || s >= len(ms.src) {
		return -1
	}
	b, e := ms.pc(p), ms.pc(p+1)
	cont := 1
	for s++; s < len(ms.src); s++ {
		if ms.src[s] == e {
			cont--
			if cont == 0 {
				return s + 1
			}
		} else if ms.src[s] == b {
			cont++
		}
	}
	return -1
}

func (ms *luaMatchState) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(ms.src) && ms.singleMatch(ms.src[s+i], p, ep) {
		i++
	}
	for ; i >= 0; i-- {
		if res := ms.match(s+i, ep+1); res >= 0 {
			return res
		}
	}
	return -1
}

func (ms *luaMatchState) minExpand(s, p, ep int) int {
	for {
		if res := ms.match(s, ep+1); res >= 0 {
			return res
		}
		if s < len(ms.src) && ms.singleMatch(ms.src[s], p, ep) {
			s++
		} else {
			return -1
		}
	}
}

func (ms *luaMatchState) startCapture(s, p, what int) int {
	level := ms.level
	if level >= luaMaxCaptures {
		luaRaise(ms.L, "too many captures")
	}
	ms.capInit[level] = s
	ms.capLen[level] = what
	ms.level = level + 1
	res := ms.match(s, p)
	if res < 0 {
		ms.level--
	}
	return res
}

func (ms *luaMatchState) endCapture(s, p int) int {
	l := ms.captureToClose()
	ms.capLen[l] = s - ms.capInit[l]
	res := ms.match(s, p)
	if res < 0 {
		ms.capLen[l] = capUnfinished
	}
	return res
}

func (ms *luaMatchState) matchCapture(s int, l int) int {
	l = ms.checkCapture(l)
	n := ms.capLen[l]
	if len(ms.src)-s >= n && ms.src[ms.capInit[l]:ms.capInit[l]+n] == ms.src[s:s+n] {
		return s + n
	}
	return -1
}

// match is lstrlib.c's match: the end of the match of pat[p:] at src[s:],
// or -1.
func (ms *luaMatchState) match(s, p int) int {
	for {
		switch ms.pc(p) {
		case '(':
			if ms.pc(p+1) == ')' {
				return ms.startCapture(s, p+2, capPosition)
			}
			return ms.startCapture(s, p+1, capUnfinished)
		case ')':
			return ms.endCapture(s, p+1)
		case 0:
			return s
		case '%':
			switch ms.pc(p + 1) {
			case 'b':
				s = ms.matchBalance(s, p+2)
				if s < 0 {
					return -1
				}
				p += 4
				continue
			case 'f':
				p += 2
				if ms.pc(p) != '[' {
					luaRaise(ms.L, "missing '[' after '%f' in pattern")
				}
				ep := ms.classEnd(p)
				var prev byte
				if s > 0 {
					prev = ms.src[s-1]
				}
				if ms.matchBracketClass(prev, p, ep-1) || !ms.matchBracketClass(ms.sc(s), p, ep-1) {
					return -1
				}
				p = ep
				continue
			default:
				if d := ms.pc(p + 1); d >= '0' && d <= '9' {
					s = ms.matchCapture(s, int(d))
					if s < 0 {
						return -1
					}
					p += 2
					continue
				}
			}
		case '$':
			if ms.pc(p+1) == 0 {
				if s == len(ms.src) {
					return s
				}
				return -1
			}
		}
		// A single-character class, maybe with a repetition.
		ep := ms.classEnd(p)
		m := s < len(ms.src) && ms.singleMatch(ms.src[s], p, ep)
		switch ms.pc(ep) {
		case '?':
			if m {
				if res := ms.match(s+1, ep+1); res >= 0 {
					return res
				}
			}
			p = ep + 1
			continue
		case '*':
			return ms.maxExpand(s, p, ep)
		case '+':
			if m {
				return ms.maxExpand(s+1, p, ep)
			}
			return -1
		case '-':
			return ms.minExpand(s, p, ep)
		}
		if !m {
			return -1
		}
		s++
		p = ep
	}
}

// capture returns capture i of a match of src[s:e] (push_onecapture).
func (ms *luaMatchState) capture(i, s, e int) lua.LValue {
	if i >= ms.level {
		if i == 0 {
			return lua.LString(ms.src[s:e])
		}
		luaRaise(ms.L, "invalid capture index")
	}
	l := ms.capLen[i]
	if l == capUnfinished {
		luaRaise(ms.L, "unfinished capture")
	}
	if l == capPosition {
		return lua.LNumber(ms.capInit[i] + 1)
	}
	return lua.LString(ms.src[ms.capInit[i] : ms.capInit[i]+l])
}

// pushCaptures pushes the captures (the whole match if none, when
// whole is set) and returns how many.
func (ms *luaMatchState) pushCaptures(s, e int, whole bool) int {
	n := ms.level
	if n == 0 && whole {
		n = 1
	}
	for i := 0; i < n; i++ {
		ms.L.Push(ms.capture(i, s, e))
	}
	return n
}

func luaStrFindAux(L *lua.LState, find bool) int {
	s := luaCheckString(L, 1)
	p := luaCheckString(L, 2)
	l1 := len(s)
	init := posrelat(luaOptInteger(L, 3, 1), l1) - 1
	if init < 0 {
		init = 0
	} else if init > int64(l1) {
		init = int64(l1)
	}
	if find && (lua.LVAsBool(L.Get(4)) || !strings.ContainsAny(cPattern(p), "^$*+?.([%-")) {
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(lua.LNumber(int(init) + i + 1))
			L.Push(lua.LNumber(int(init) + i + len(p)))
			return 2
		}
	} else {
		ms := &luaMatchState{L: L, src: s, pat: cPattern(p)}
		pstart := 0
		anchor := ms.pc(0) == '^'
		if anchor {
			pstart = 1
		}
		for s1 := int(init); ; s1++ {
			ms.level = 0
			if res := ms.match(s1, pstart); res >= 0 {
				if find {
					L.Push(lua.LNumber(s1 + 1))
					L.Push(lua.LNumber(res))
					return ms.pushCaptures(0, 0, false) + 2
				}
				return ms.pushCaptures(s1, res, true)
			}
			if s1 >= len(s) || anchor {
				break
			}
		}
	}
	L.Push(lua.LNil)
	return 1
}

func luaStrGmatch(L *lua.LState) int {
	s := luaCheckString(L, 1)
	p := luaCheckString(L, 2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		ms := &luaMatchState{L: L, src: s, pat: cPattern(p)}
		for src := pos; src <= len(s); src++ {
			ms.level = 0
			if e := ms.match(src, 0); e >= 0 {
				pos = e
				if e == src {
					pos++
				}
				return ms.pushCaptures(src, e, true)
			}
		}
		return 0
	}))
	return 1
}

func luaStrGsub(L *lua.LState) int {
	src := luaCheckString(L, 1)
	p := cPattern(luaCheckString(L, 2))
	repl := L.Get(3)
	tr := repl.Type()
	maxS := int64(len(src) + 1)
	if L.Get(4) != lua.LNil {
		maxS = int64(luaCheckInt(L, 4))
	}
	if tr != lua.LTNumber && tr != lua.LTString && tr != lua.LTFunction && tr != lua.LTTable {
		luaArgError(L, 3, "string/function/table expected")
	}
	var replStr string
	if tr == lua.LTNumber || tr == lua.LTString {
		replStr, _ = luaStringOf(repl)
	}
	ms := &luaMatchState{L: L, src: src, pat: p}
	pstart := 0
	anchor := ms.pc(0) == '^'
	if anchor {
		pstart = 1
	}
	var b []byte
	n := int64(0)
	s := 0
	for n < maxS {
		ms.level = 0
		e := ms.match(s, pstart)
		if e >= 0 {
			n++
			b = ms.addValue(b, repl, replStr, s, e)
		}
		if e >= 0 && e > s {
			s = e
		} else if s < len(src) {
			b = append(b, src[s])
			s++
		} else {
			break
		}
		if anchor {
			break
		}
	}
	b = append(b, src[s:]...)
	L.Push(lua.LString(b))
	L.Push(lua.LNumber(n))
	return 2
}

// addValue appends the replacement of the match src[s:e] (add_value).
func (ms *luaMatchState) addValue(b []byte, repl lua.LValue, replStr string, s, e int) []byte {
	L := ms.L
	var v lua.LValue
	switch repl.Type() {
	case lua.LTNumber, lua.LTString:
		// add_s: the replacement is a C string after its length, so a
		// trailing '%' escapes its NUL terminator.
		for i := 0; i < len(replStr); i++ {
			c := replStr[i]
			if c != '%' {
				b = append(b, c)
				continue
			}
			i++
			var d byte
			if i < len(replStr) {
				d = replStr[i]
			}
			switch {
			case d < '0' || d > '9':
				b = append(b, d)
			case d == '0':
				b = append(b, ms.src[s:e]...)
			default:
				cv, _ := luaStringOf(ms.capture(int(d-'1'), s, e))
				b = append(b, cv...)
			}
		}
		return b
	case lua.LTFunction:
		L.Push(repl)
		n := ms.pushCaptures(s, e, true)
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	case lua.LTTable:
		v = L.GetTable(repl, ms.capture(0, s, e))
	}
	if !lua.LVAsBool(v) {
		return append(b, ms.src[s:e]...)
	}
	str, ok := luaStringOf(v)
	if !ok {
		luaRaise(L, "invalid replacement value (a "+v.Type().String()+")")
	}
	return append(b, str...)
}
