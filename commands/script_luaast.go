package commands

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// ---------------------------------------------------------------------------
// Compile-time adjustments of gopher-lua's output to Lua 5.1's behaviour:
//
//  1. Concatenation and '%'. gopher-lua turns numbers into strings with Go's
//     formatting (1e15 -> "1000000000000000", 0.1+0.2 -> "0.30000000000000004")
//     where Lua 5.1 uses "%.14g" ("1e+15", "0.3"), and a script's keys and
//     values are built with "..". Every concatenation a .. b .. c is compiled
//     as a call of luaConcat(a, b, c), which is luaV_concat; and a % b,
//     which gopher-lua computes with fmod, as a call of luaMod(a, b).
//  2. Debug information. gopher-lua records where each local variable's
//     scope ends in the wrong slot, so Lua's "local 'x'" in error messages
//     cannot be found from it. The chunk is compiled a second time with a
//     marker local at the start and end of every block; the markers' places
//     give each block's extent, and the first compilation's local variable
//     table is rewritten with Lua 5.1's ranges.
// ---------------------------------------------------------------------------

// luaConcatName is the global the concatenations call; the random part
// makes it a name no script can spell, even as a string constant.
var luaConcatName = func() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "\x00concat:" + hex.EncodeToString(b)
}()

const (
	luaBlockStart = "\x00block start"
	luaBlockEnd   = "\x00block end"
)

// luaModName is the global the '%' operations call (see luaConcatName).
var luaModName = "\x00mod:" + luaConcatName[len("\x00concat:"):]

// luaModFn is the function the '%' operations call.
var luaModFn = &lua.LFunction{IsG: true, GFunction: luaMod, Env: &lua.LTable{Metatable: lua.LNil}}

// luaConcatFn is the function the concatenations call; its constant
// replaces the global lookup, so it costs one LOADK.
var luaConcatFn = &lua.LFunction{IsG: true, GFunction: luaConcat, Env: &lua.LTable{Metatable: lua.LNil}}

// luaTransformConcat rewrites every concatenation in stmts as a call.
func luaTransformConcat(stmts []ast.Stmt) {
	w := luaASTWalker{concat: true}
	w.stmts(stmts)
}

// concatCall is the call that replaces the concatenation chain c.
func (w *luaASTWalker) concatCall(c *ast.StringConcatOpExpr) ast.Expr {
	// a .. b .. c is right-associative: one call for the chain, as Lua 5.1
	// emits one CONCAT for it.
	var args []ast.Expr
	for {
		args = append(args, c.Lhs)
		next, ok := c.Rhs.(*ast.StringConcatOpExpr)
		if !ok {
			args = append(args, c.Rhs)
			break
		}
		c = next
	}
	for i := range args {
		args[i] = w.e(args[i])
	}
	return luaHelperCall(luaConcatName, c, args)
}

// luaHelperCall is the call of helper name with args that replaces the
// operation e.
func luaHelperCall(name string, e ast.Expr, args []ast.Expr) ast.Expr {
	// Lua 5.1 gives an instruction the line of the last token read when
	// it is emitted: for an operator, the end of its right operand.
	line := luaLastLine(args[len(args)-1])
	if line == 0 {
		line = e.Line()
	}
	// An operand gives one value, as in parentheses.
	switch last := args[len(args)-1].(type) {
	case *ast.FuncCallExpr:
		last.AdjustRet = true
	case *ast.Comma3Expr:
		last.AdjustRet = true
	}
	fn := &ast.IdentExpr{Value: name}
	fn.SetLine(line)
	fn.SetLastLine(line)
	call := &ast.FuncCallExpr{Func: fn, Args: args}
	call.SetLine(line)
	call.SetLastLine(line)
	return call
}

// luaLastLine is the line of e's last token, as far as the AST tells.
func luaLastLine(e ast.Expr) int {
	switch ex := e.(type) {
	case *ast.AttrGetExpr:
		return luaLastLine(ex.Key)
	case *ast.FuncCallExpr, *ast.FunctionExpr, *ast.TableExpr:
		if l := e.LastLine(); l > 0 {
			return l
		}
	case *ast.LogicalOpExpr:
		return luaLastLine(ex.Rhs)
	case *ast.RelationalOpExpr:
		return luaLastLine(ex.Rhs)
	case *ast.StringConcatOpExpr:
		return luaLastLine(ex.Rhs)
	case *ast.ArithmeticOpExpr:
		return luaLastLine(ex.Rhs)
	case *ast.UnaryMinusOpExpr:
		return luaLastLine(ex.Expr)
	case *ast.UnaryNotOpExpr:
		return luaLastLine(ex.Expr)
	case *ast.UnaryLenOpExpr:
		return luaLastLine(ex.Expr)
	}
	return e.Line()
}

// luaPatchConcat makes the calls of luaConcatName load luaConcatFn as a
// constant instead of looking a global up.
func luaPatchConcat(p *lua.FunctionProto) {
	for k, c := range p.Constants {
		s, ok := c.(lua.LString)
		if !ok {
			continue
		}
		var fn *lua.LFunction
		switch string(s) {
		case luaConcatName:
			fn = luaConcatFn
		case luaModName:
			fn = luaModFn
		default:
			continue
		}
		for pc, i := range p.Code {
			if instOp(i) == lopGetGlobal && instBx(i) == k {
				p.Code[pc] = uint32(lopLoadK)<<26 | i&0x3ffffff
			}
		}
		p.Constants[k] = fn
	}
	for _, child := range p.FunctionPrototypes {
		luaPatchConcat(child)
	}
}

// luaConcat is luaV_concat over its arguments: right to left, as many
// strings and numbers at a time as possible, __concat for the others.
func luaConcat(L *lua.LState) int {
	n := L.GetTop()
	// The usual case: only strings and numbers, concatenated at once.
	size := 0
	plain := true
	for i := 1; i <= n && plain; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			size += len(v)
		case lua.LNumber:
			size += 8
		default:
			plain = false
		}
	}
	if plain {
		b := make([]byte, 0, size)
		for i := 1; i <= n; i++ {
			switch v := L.Get(i).(type) {
			case lua.LString:
				b = append(b, v...)
			case lua.LNumber:
				b = appendLuaNumber(b, float64(v))
			}
		}
		L.Push(lua.LString(b))
		return 1
	}
	vals := make([]lua.LValue, n)
	for i := range vals {
		vals[i] = L.Get(i + 1)
	}
	total, last := n, n-1
	for total > 1 {
		top2, top1 := vals[last-1], vals[last]
		k := 2
		switch {
		case !luaIsStrNum(top2) || !luaIsStrNum(top1):
			mm := L.GetMetaField(top2, "__concat")
			if mm == lua.LNil {
				mm = L.GetMetaField(top1, "__concat")
			}
			if mm == lua.LNil {
				bad := last - 1
				if luaIsStrNum(top2) {
					bad = last
				}
				luaConcatError(L, bad, vals[bad])
			}
			L.Push(mm)
			L.Push(top2)
			L.Push(top1)
			L.Call(2, 1)
			vals[last-1] = L.Get(-1)
			L.Pop(1)
		case luaConcatLen(top1) == 0:
			s, _ := luaStringOf(top2)
			vals[last-1] = lua.LString(s)
		default:
			k = 1
			for k < total && luaIsStrNum(vals[last-k]) {
				k++
			}
			var b strings.Builder
			for i := last - k + 1; i <= last; i++ {
				s, _ := luaStringOf(vals[i])
				b.WriteString(s)
			}
			vals[last-k+1] = lua.LString(b.String())
		}
		total -= k - 1
		last -= k - 1
	}
	L.Push(vals[0])
	return 1
}

// appendLuaNumber appends f as Lua's tostring ("%.14g"), integers below
// 1e14 (which "%.14g" prints in full) without float formatting.
func appendLuaNumber(b []byte, f float64) []byte {
	if f > -1e14 && f < 1e14 {
		if i := int64(f); float64(i) == f && (i != 0 || !math.Signbit(f)) {
			return strconv.AppendInt(b, i, 10)
		}
	}
	return appendCFloat(b, f, 14)
}

// luaMod is Lua 5.1's a % b: a - floor(a/b)*b (luai_nummod), which is
// not fmod for fractions and large numbers; numeric strings convert, other
// values go to __mod.
func luaMod(L *lua.LState) int {
	a, b := L.Get(1), L.Get(2)
	x, okx := a.(lua.LNumber)
	y, oky := b.(lua.LNumber)
	if !okx || !oky {
		fx, ok1 := luaToNumberValue(a)
		fy, ok2 := luaToNumberValue(b)
		if !ok1 || !ok2 {
			mm := L.GetMetaField(a, "__mod")
			if mm == lua.LNil {
				mm = L.GetMetaField(b, "__mod")
			}
			if mm == lua.LNil {
				bad, v := 1, a
				if ok1 {
					bad, v = 2, b
				}
				luaArithError(L, bad, v)
			}
			L.Push(mm)
			L.Push(a)
			L.Push(b)
			L.Call(2, 1)
			return 1
		}
		x, y = lua.LNumber(fx), lua.LNumber(fy)
	}
	// The conversion keeps the compiler from fusing the multiply-add.
	q := float64(math.Floor(float64(x)/float64(y)) * float64(y))
	L.Push(lua.LNumber(float64(x) - q))
	return 1
}

// luaArithError raises luaG_aritherror for argument arg (1-based) of a
// helper call standing for an arithmetic operation.
func luaArithError(L *lua.LState, arg int, v lua.LValue) {
	msg := "attempt to perform arithmetic on a " + v.Type().String() + " value"
	if f := luaFrameAt(L, 1); f != nil {
		if i := f.fn.Proto.Code[f.pc]; instOp(i) == lopCall || instOp(i) == lopTailCall {
			msg = f.typeError("perform arithmetic on", instA(i)+arg, v.Type().String())
		}
	}
	luaRaise(L, msg)
}

func luaConcatLen(v lua.LValue) int {
	s, _ := luaStringOf(v)
	return len(s)
}

// luaConcatError raises luaG_concaterror for argument arg (0-based) of the
// concatenation, naming it as Lua names the CONCAT operand it stands for.
func luaConcatError(L *lua.LState, arg int, v lua.LValue) {
	msg := "attempt to concatenate a " + v.Type().String() + " value"
	if f := luaFrameAt(L, 1); f != nil {
		if i := f.fn.Proto.Code[f.pc]; instOp(i) == lopCall || instOp(i) == lopTailCall {
			msg = f.typeError("concatenate", instA(i)+1+arg, v.Type().String())
		}
	}
	luaRaise(L, msg)
}

// ----- local variable ranges -----

// luaFixLocals gives proto (compiled from stmts) Lua 5.1's local variable
// ranges, from a second compilation of stmts with block markers. stmts is
// changed. On any surprise the ranges are left as they are.
func luaFixLocals(stmts []ast.Stmt, name string, proto *lua.FunctionProto) {
	// Only error messages depend on this: a failure must not fail the
	// compilation.
	defer func() { _ = recover() }()
	w := luaASTWalker{block: func(b []ast.Stmt) []ast.Stmt {
		line := 0
		if len(b) > 0 {
			line = b[0].Line()
		}
		start := &ast.LocalAssignStmt{Names: []string{luaBlockStart}}
		start.SetLine(line)
		end := &ast.LocalAssignStmt{Names: []string{luaBlockEnd}}
		end.SetLine(line)
		out := make([]ast.Stmt, 0, len(b)+2)
		out = append(out, start)
		out = append(out, b...)
		return append(out, end)
	}}
	w.stmts(stmts)
	marked, err := lua.Compile(stmts, name)
	if err != nil {
		return
	}
	luaFixProtoLocals(proto, marked)
}

func luaFixProtoLocals(p, m *lua.FunctionProto) {
	if len(p.FunctionPrototypes) != len(m.FunctionPrototypes) {
		return
	}
	for i := range p.FunctionPrototypes {
		luaFixProtoLocals(p.FunctionPrototypes[i], m.FunctionPrototypes[i])
	}
	// Marker positions (their LOADNILs) in m, and m's pcs in p.
	isMarker := func(l *lua.DbgLocalInfo) bool { return l.Name == luaBlockStart || l.Name == luaBlockEnd }
	var markerPCs []int
	for _, l := range m.DbgLocals {
		if isMarker(l) {
			markerPCs = append(markerPCs, l.StartPc-1)
		}
	}
	if len(m.Code)-len(markerPCs) != len(p.Code) {
		return
	}
	toP := func(mpc int) int {
		n := 0
		for _, x := range markerPCs {
			if x < mpc {
				n++
			}
		}
		return mpc - n
	}
	// The two codes must be the same but for the markers.
	mi := 0
	for pc := 0; pc < len(p.Code); pc++ {
		for mi < len(m.Code) && containsInt(markerPCs, mi) {
			mi++
		}
		// gopher-lua's peephole pass turns MOVEs into MOVEN and a jump to
		// the next instruction into NOP: the markers change where.
		a, b := instOp(p.Code[pc]), instOp(m.Code[mi])
		if a != b && !(a <= lopMoveN && b <= lopMoveN) && !((a == lopJmp || a == lopNop) && (b == lopJmp || b == lopNop)) {
			return
		}
		mi++
	}
	// Walk m's locals with a stack of open blocks: a local ends with the
	// block it was declared in (the function's, at the end of the code).
	locals := make([]*lua.DbgLocalInfo, 0, len(p.DbgLocals))
	stack := [][]int{nil}
	var hidden []int   // a for loop's "(for ...)" locals, waiting for its variables
	var loopVars []int // its variables, waiting for the body's block
	for _, l := range m.DbgLocals {
		top := len(stack) - 1
		switch l.Name {
		case luaBlockStart:
			stack = append(stack, loopVars)
			loopVars = nil
			continue
		case luaBlockEnd:
			if top < 1 {
				return
			}
			end := toP(l.StartPc - 1)
			for _, i := range stack[top] {
				locals[i].EndPc = end
			}
			stack = stack[:top]
			continue
		}
		idx := len(locals)
		locals = append(locals, &lua.DbgLocalInfo{Name: l.Name, StartPc: toP(l.StartPc), EndPc: len(p.Code)})
		switch l.Name {
		case "(for generator)", "(for index)":
			hidden = []int{idx}
			continue
		case "(for state)", "(for control)", "(for limit)", "(for step)":
			hidden = append(hidden, idx)
			continue
		}
		if len(hidden) == 3 {
			// The loop's first variable. Lua's hidden locals start at the
			// instruction before it (FORPREP, or the JMP to TFORLOOP) and
			// end after the loop's last instruction; the variables belong
			// to the body's block.
			prep := locals[idx].StartPc - 1
			if prep < 0 || prep >= len(p.Code) {
				return
			}
			i := p.Code[prep]
			target := prep + 1 + instSBx(i)
			if instOp(i) == lopNop {
				// An empty body: the jump to TFORLOOP became a NOP.
				target = prep + 1
			}
			end := target + 1
			if locals[hidden[0]].Name == "(for generator)" {
				end = target + 2
			}
			if instOp(i) != lopForPrep && instOp(i) != lopJmp && instOp(i) != lopNop || end > len(p.Code) {
				return
			}
			for _, h := range hidden {
				locals[h].StartPc = prep
				locals[h].EndPc = end
			}
			hidden = nil
			loopVars = []int{idx}
			continue
		}
		if loopVars != nil {
			loopVars = append(loopVars, idx)
			continue
		}
		stack[top] = append(stack[top], idx)
	}
	if len(locals) != len(p.DbgLocals) || len(stack) != 1 {
		return
	}
	for i, l := range p.DbgLocals {
		if l.Name != locals[i].Name {
			return
		}
	}
	p.DbgLocals = locals
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// luaASTWalker visits every statement list (block) and rewrites every
// expression of a chunk, depth first.
type luaASTWalker struct {
	concat bool                        // rewrite concatenations and '%' as calls, set Lua 5.1's lines
	block  func([]ast.Stmt) []ast.Stmt // rewrites a nested block's statements
}

func (w *luaASTWalker) stmts(list []ast.Stmt) {
	for _, s := range list {
		w.stmt(s)
	}
}

func (w *luaASTWalker) body(list []ast.Stmt) []ast.Stmt {
	w.stmts(list)
	if w.block != nil {
		return w.block(list)
	}
	return list
}

func (w *luaASTWalker) exprs(list []ast.Expr) {
	for i := range list {
		list[i] = w.e(list[i])
	}
}

func (w *luaASTWalker) stmt(s ast.Stmt) {
	switch st := s.(type) {
	case *ast.AssignStmt:
		w.exprs(st.Lhs)
		w.exprs(st.Rhs)
		if w.concat && len(st.Rhs) > 0 {
			// The stores come after the values are read.
			line := luaLastLine(st.Rhs[len(st.Rhs)-1])
			for _, l := range st.Lhs {
				if a, ok := l.(*ast.AttrGetExpr); ok {
					a.SetLine(line)
				}
			}
		}
	case *ast.LocalAssignStmt:
		w.exprs(st.Exprs)
	case *ast.FuncCallStmt:
		st.Expr = w.e(st.Expr)
	case *ast.DoBlockStmt:
		st.Stmts = w.body(st.Stmts)
	case *ast.WhileStmt:
		st.Condition = w.e(st.Condition)
		st.Stmts = w.body(st.Stmts)
	case *ast.RepeatStmt:
		st.Stmts = w.body(st.Stmts)
		st.Condition = w.e(st.Condition)
	case *ast.IfStmt:
		st.Condition = w.e(st.Condition)
		if len(st.Then) > 0 {
			st.Then = w.body(st.Then)
		}
		if len(st.Else) > 0 {
			st.Else = w.body(st.Else)
		}
	case *ast.NumberForStmt:
		st.Init = w.e(st.Init)
		st.Limit = w.e(st.Limit)
		if st.Step != nil {
			st.Step = w.e(st.Step)
		}
		st.Stmts = w.body(st.Stmts)
	case *ast.GenericForStmt:
		w.exprs(st.Exprs)
		st.Stmts = w.body(st.Stmts)
	case *ast.FuncDefStmt:
		if st.Name.Func != nil {
			st.Name.Func = w.e(st.Name.Func)
		}
		if st.Name.Receiver != nil {
			st.Name.Receiver = w.e(st.Name.Receiver)
		}
		w.function(st.Func)
	case *ast.ReturnStmt:
		w.exprs(st.Exprs)
	}
}

func (w *luaASTWalker) function(f *ast.FunctionExpr) {
	w.stmts(f.Stmts)
}

func (w *luaASTWalker) e(e ast.Expr) ast.Expr {
	switch ex := e.(type) {
	case *ast.AttrGetExpr:
		ex.Object = w.e(ex.Object)
		ex.Key = w.e(ex.Key)
		if w.concat {
			// Lua 5.1 emits the lookup once its key is read.
			ex.SetLine(luaLastLine(ex.Key))
		}
	case *ast.TableExpr:
		for _, f := range ex.Fields {
			if f.Key != nil {
				f.Key = w.e(f.Key)
			}
			f.Value = w.e(f.Value)
		}
	case *ast.FuncCallExpr:
		if ex.Func != nil {
			ex.Func = w.e(ex.Func)
		}
		if ex.Receiver != nil {
			ex.Receiver = w.e(ex.Receiver)
		}
		w.exprs(ex.Args)
	case *ast.LogicalOpExpr:
		ex.Lhs = w.e(ex.Lhs)
		ex.Rhs = w.e(ex.Rhs)
	case *ast.RelationalOpExpr:
		ex.Lhs = w.e(ex.Lhs)
		ex.Rhs = w.e(ex.Rhs)
		if w.concat {
			ex.SetLine(luaLastLine(ex.Rhs))
		}
	case *ast.StringConcatOpExpr:
		if w.concat {
			return w.concatCall(ex)
		}
		ex.Lhs = w.e(ex.Lhs)
		ex.Rhs = w.e(ex.Rhs)
	case *ast.ArithmeticOpExpr:
		ex.Lhs = w.e(ex.Lhs)
		ex.Rhs = w.e(ex.Rhs)
		if w.concat && ex.Operator == "%" {
			return luaHelperCall(luaModName, ex, []ast.Expr{ex.Lhs, ex.Rhs})
		}
		if w.concat {
			// Lua 5.1 emits an operation once its right operand is read:
			// a run-time error has that line.
			ex.SetLine(luaLastLine(ex.Rhs))
		}
	case *ast.UnaryMinusOpExpr:
		ex.Expr = w.e(ex.Expr)
		if w.concat {
			ex.SetLine(luaLastLine(ex.Expr))
		}
	case *ast.UnaryNotOpExpr:
		ex.Expr = w.e(ex.Expr)
	case *ast.UnaryLenOpExpr:
		ex.Expr = w.e(ex.Expr)
		if w.concat {
			ex.SetLine(luaLastLine(ex.Expr))
		}
	case *ast.FunctionExpr:
		w.function(ex)
	}
	return e
}
