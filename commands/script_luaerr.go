package commands

import (
	"reflect"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// Lua 5.1's wording of run-time errors. gopher-lua raises "attempt to index
// a non-table object(nil) with key 'y'" where Lua 5.1 says "attempt to index
// local 'x' (a nil value)": Lua names the variable by decoding the failing
// instruction and finding which instruction last loaded the register
// (ldebug.c's getobjname and symbexec). gopher-lua compiles to Lua 5.1's
// instruction set, so the same decoding works on its code: an error
// handler, which runs before the stack unwinds, rewrites the message from
// the frame that raised it.
// ---------------------------------------------------------------------------

// gopher-lua's opcodes (opcode.go), which follow Lua 5.1's.
const (
	lopMove = iota
	lopMoveN
	lopLoadK
	lopLoadBool
	lopLoadNil
	lopGetUpval
	lopGetGlobal
	lopGetTable
	lopGetTableKS
	lopSetGlobal
	lopSetUpval
	lopSetTable
	lopSetTableKS
	lopNewTable
	lopSelf
	lopAdd
	lopSub
	lopMul
	lopDiv
	lopMod
	lopPow
	lopUnm
	lopNot
	lopLen
	lopConcat
	lopJmp
	lopEq
	lopLt
	lopLe
	lopTest
	lopTestSet
	lopCall
	lopTailCall
	lopReturn
	lopForLoop
	lopForPrep
	lopTForLoop
	lopSetList
	lopClose
	lopClosure
	lopVararg
	lopNop
)

// opSetsA marks the opcodes that write register A (Lua 5.1's testAMode).
var opSetsA = [...]bool{
	lopMove: true, lopMoveN: true, lopLoadK: true, lopLoadBool: true, lopLoadNil: true,
	lopGetUpval: true, lopGetGlobal: true, lopGetTable: true, lopGetTableKS: true,
	lopNewTable: true, lopSelf: true, lopAdd: true, lopSub: true, lopMul: true, lopDiv: true,
	lopMod: true, lopPow: true, lopUnm: true, lopNot: true, lopLen: true, lopConcat: true,
	lopTest: true, lopTestSet: true, lopCall: true, lopTailCall: true, lopForLoop: true,
	lopForPrep: true, lopClosure: true, lopVararg: true, lopNop: false,
}

func instOp(i uint32) int  { return int(i >> 26) }
func instA(i uint32) int   { return int(i>>18) & 0xff }
func instB(i uint32) int   { return int(i & 0x1ff) }
func instC(i uint32) int   { return int(i>>9) & 0x1ff }
func instBx(i uint32) int  { return int(i & 0x3ffff) }
func instSBx(i uint32) int { return instBx(i) - 0x3ffff>>1 }

const rkBit = 1 << 8

// luaFrame is a Lua function's activation seen from an error handler.
type luaFrame struct {
	L   *lua.LState
	dbg *lua.Debug
	fn  *lua.LFunction
	pc  int // the instruction being executed
}

// luaFrameAt returns the Lua function at stack level (nil for a Go
// function or when the frame's position cannot be read).
func luaFrameAt(L *lua.LState, level int) *luaFrame {
	dbg, ok := L.GetStack(level)
	if !ok {
		return nil
	}
	fv, err := L.GetInfo("f", dbg, lua.LNil)
	if err != nil {
		return nil
	}
	fn, ok := fv.(*lua.LFunction)
	if !ok || fn.IsG || fn.Proto == nil {
		return nil
	}
	// gopher-lua keeps the frame's program counter in an unexported
	// field of Debug; reflection reads it without touching anything.
	fr := reflect.ValueOf(dbg).Elem().FieldByName("frame")
	if !fr.IsValid() || fr.Kind() != reflect.Pointer || fr.IsNil() {
		return nil
	}
	pcv := fr.Elem().FieldByName("Pc")
	if !pcv.IsValid() || pcv.Kind() != reflect.Int {
		return nil
	}
	pc := int(pcv.Int()) - 1
	if pc < 0 || pc >= len(fn.Proto.Code) {
		return nil
	}
	return &luaFrame{L: L, dbg: dbg, fn: fn, pc: pc}
}

// reg returns register r's value; ok is false when it cannot be read.
func (f *luaFrame) reg(r int) (lua.LValue, bool) {
	name, v := f.L.GetLocal(f.dbg, r+1)
	return v, name != ""
}

// rk returns RK(x): a constant (not on the stack) or a register.
func (f *luaFrame) rk(x int) (v lua.LValue, reg int, ok bool) {
	if x&rkBit != 0 {
		k := x &^ rkBit
		if k < len(f.fn.Proto.Constants) {
			return f.fn.Proto.Constants[k], -1, true
		}
		return lua.LNil, -1, false
	}
	v, ok = f.reg(x)
	return v, x, ok
}

// symbexec finds the last instruction before lastpc that changed reg
// (ldebug.c's symbexec, reduced to its tracing part).
func luaSymbexec(p *lua.FunctionProto, lastpc, reg int) uint32 {
	last := len(p.Code) - 1
	for pc := 0; pc < lastpc && pc < len(p.Code); pc++ {
		i := p.Code[pc]
		op := instOp(i)
		a := instA(i)
		if op < len(opSetsA) && opSetsA[op] && a == reg {
			last = pc
		}
		switch op {
		case lopLoadNil:
			if a <= reg && reg <= instB(i) {
				last = pc
			}
		case lopSelf:
			if reg == a+1 {
				last = pc
			}
		case lopTForLoop:
			if reg >= a+2 {
				last = pc
			}
		case lopForLoop, lopForPrep, lopJmp:
			b := instSBx(i)
			if dest := pc + 1 + b; pc < dest && dest <= lastpc {
				pc += b
			}
		case lopCall, lopTailCall:
			if reg >= a {
				last = pc
			}
		case lopSetList:
			if instC(i) == 0 {
				pc++
			}
		case lopClosure:
			if bx := instBx(i); bx < len(p.FunctionPrototypes) {
				pc += int(p.FunctionPrototypes[bx].NumUpvalues)
			}
		}
	}
	if last < 0 {
		return 0
	}
	return p.Code[last]
}

// objName is getobjname: what register reg holds ("local", "global",
// "field", "upvalue", "method") and its name, or "" when unknown.
func (f *luaFrame) objName(reg int) (kind, name string) {
	return luaObjName(f.fn, f.pc, reg, 0)
}

func luaObjName(fn *lua.LFunction, pc, reg, depth int) (kind, name string) {
	p := fn.Proto
	if n, ok := luaLocalName(p, reg+1, pc); ok {
		return "local", n
	}
	i := luaSymbexec(p, pc, reg)
	kname := func(c int) string {
		if c&rkBit != 0 {
			if k := c &^ rkBit; k < len(p.Constants) {
				if s, ok := p.Constants[k].(lua.LString); ok {
					return string(s)
				}
			}
		}
		return "?"
	}
	switch instOp(i) {
	case lopGetGlobal:
		if k := instBx(i); k < len(p.Constants) {
			if s, ok := p.Constants[k].(lua.LString); ok {
				return "global", string(s)
			}
		}
	case lopMove, lopMoveN:
		if a, b := instA(i), instB(i); b < a && depth < 100 {
			return luaObjName(fn, pc, b, depth+1)
		}
	case lopGetTable, lopGetTableKS:
		return "field", kname(instC(i))
	case lopGetUpval:
		if b := instB(i); b < len(p.DbgUpvalues) {
			return "upvalue", p.DbgUpvalues[b]
		}
		return "upvalue", "?"
	case lopSelf:
		return "method", kname(instC(i))
	}
	return "", ""
}

// luaLocalName is luaF_getlocalname: the name of the n-th local active at
// pc. (gopher-lua's LocalName starts locals one instruction late.)
func luaLocalName(p *lua.FunctionProto, n, pc int) (string, bool) {
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		if pc < l.EndPc {
			n--
			if n == 0 {
				return l.Name, true
			}
		}
	}
	return "", false
}

// typeError is luaG_typeerror's message for the value in register reg
// (reg < 0: not on the stack, so not named).
func (f *luaFrame) typeError(op string, reg int, typ string) string {
	if reg >= 0 {
		if kind, name := f.objName(reg); kind != "" {
			return "attempt to " + op + " " + kind + " '" + name + "' (a " + typ + " value)"
		}
	}
	return "attempt to " + op + " a " + typ + " value"
}

// luaIsNumber is tonumber in lvm.c: numbers and numeric strings.
func luaIsNumber(v lua.LValue) bool {
	switch x := v.(type) {
	case lua.LNumber:
		return true
	case lua.LString:
		_, ok := luaStr2Number(string(x))
		return ok
	}
	return false
}

func luaIsStrNum(v lua.LValue) bool {
	t := v.Type()
	return t == lua.LTString || t == lua.LTNumber
}

// luaVMError rewrites msg, raised at stack level `level`, in Lua 5.1's
// words. Messages that did not come from the VM are returned as they are.
func luaVMError(L *lua.LState, level int, msg string) string {
	pos := 0
	if i := strings.Index(msg, ": "); i >= 0 && strings.IndexByte(msg[:i], ':') > 0 {
		pos = i + 2
	}
	prefix, body := msg[:pos], msg[pos:]
	if !luaVMErrorText(body) {
		return msg
	}
	if f := luaFrameAt(L, level); f != nil {
		if m := f.rewrite(body); m != "" {
			return prefix + m
		}
	}
	return luaRuntimeMessage(msg)
}

// luaVMErrorText reports whether body is one of the VM's messages.
func luaVMErrorText(body string) bool {
	return strings.HasPrefix(body, "attempt to ") || strings.HasPrefix(body, "cannot perform ") ||
		strings.HasPrefix(body, "for statement ") || body == "__unm undefined" || body == "__len undefined"
}

// rewrite gives Lua 5.1's message for the VM error body raised by the
// frame's current instruction, or "" if it cannot tell.
func (f *luaFrame) rewrite(body string) string {
	i := f.fn.Proto.Code[f.pc]
	op := instOp(i)
	switch {
	case strings.HasPrefix(body, "attempt to index a non-table object("):
		typ := body[len("attempt to index a non-table object("):]
		if j := strings.IndexByte(typ, ')'); j >= 0 {
			typ = typ[:j]
		}
		reg := -1
		switch op {
		case lopGetTable, lopGetTableKS, lopSelf:
			reg = instB(i)
		case lopSetTable, lopSetTableKS:
			reg = instA(i)
		}
		if reg >= 0 {
			// Through a chain of __index the failing object is not the
			// register's value: then it is not named.
			if v, ok := f.reg(reg); !ok || v.Type().String() != typ {
				reg = -1
			}
		}
		return f.typeError("index", reg, typ)
	case body == "attempt to call a non-function object":
		var reg int
		var v lua.LValue
		var ok bool
		switch op {
		case lopCall, lopTailCall:
			reg = instA(i)
			v, ok = f.reg(reg)
		case lopTForLoop:
			reg = instA(i) + 3
			v, ok = f.reg(instA(i))
		default:
			return ""
		}
		if !ok {
			return ""
		}
		return f.typeError("call", reg, v.Type().String())
	case strings.HasPrefix(body, "cannot perform concat operation"):
		if op != lopConcat {
			return ""
		}
		return f.concatError(instB(i), instC(i))
	case strings.HasPrefix(body, "cannot perform "):
		if op < lopAdd || op > lopPow {
			return ""
		}
		v1, r1, ok1 := f.rk(instB(i))
		v2, r2, ok2 := f.rk(instC(i))
		if !ok1 || !ok2 {
			return ""
		}
		// luaG_aritherror: the first operand unless it is a number.
		if !luaIsNumber(v1) {
			v2, r2 = v1, r1
		}
		return f.typeError("perform arithmetic on", r2, v2.Type().String())
	case body == "__unm undefined" || body == "__len undefined":
		if op != lopUnm && op != lopLen {
			return ""
		}
		v, ok := f.reg(instB(i))
		if !ok {
			return ""
		}
		what := "perform arithmetic on"
		if op == lopLen {
			what = "get length of"
		}
		return f.typeError(what, instB(i), v.Type().String())
	case strings.HasPrefix(body, "attempt to compare "):
		var t1, t2 string
		rest := body[len("attempt to compare "):]
		if j := strings.Index(rest, " with "); j >= 0 {
			t1, t2 = rest[:j], rest[j+len(" with "):]
		}
		if len(t1) > 2 && len(t2) > 2 && t1[2] == t2[2] {
			return "attempt to compare two " + t1 + " values"
		}
		return body
	case strings.HasPrefix(body, "for statement "):
		if op != lopForPrep && op != lopForLoop {
			return ""
		}
		a := instA(i)
		for k, what := range []string{"initial value", "limit", "step"} {
			if v, ok := f.reg(a + k); ok && !luaIsNumber(v) {
				return "'for' " + what + " must be a number"
			}
		}
		return ""
	}
	return ""
}

// concatError is luaG_concaterror for R(b).. ... ..R(c), replaying
// luaV_concat (right to left, as many strings at a time as it can) to find
// the pair that failed.
func (f *luaFrame) concatError(b, c int) string {
	n := c - b + 1
	vals := make([]lua.LValue, n)
	for k := range vals {
		v, ok := f.reg(b + k)
		if !ok {
			return ""
		}
		vals[k] = v
	}
	total, last := n, n-1
	for total > 1 {
		top2, top1 := vals[last-1], vals[last]
		if !luaIsStrNum(top2) || !luaIsStrNum(top1) {
			bad := last - 1
			if luaIsStrNum(top2) {
				bad = last
			}
			return f.typeError("concatenate", b+bad, vals[bad].Type().String())
		}
		k := 1
		for k < total && luaIsStrNum(vals[last-k]) {
			k++
		}
		vals[last-k+1] = lua.LString("")
		total -= k - 1
		last -= k - 1
	}
	return ""
}
