package commands

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"spinel/eventloop/resp"
)

// ---------------------------------------------------------------------------
// The Lua interpreter as Redis 7.0 sets it up (script_lua.c, eval.c,
// function_lua.c): Lua 5.1 (gopher-lua) with the base, table, string, math
// and coroutine libraries plus cjson, cmsgpack, bit and struct; no os, io,
// package, debug, print, dofile, loadfile, getfenv, setfenv or newproxy.
//
// Redis 7.0 makes the globals and every library table read-only and raises
// "Script attempted to access nonexistent global variable" on a missing
// global. gopher-lua has no read-only tables, so scripts see each protected
// table through an empty proxy whose metatable reads from the real table and
// refuses writes; rawset, rawget, next, pairs, getmetatable and setmetatable
// see through the proxies (or refuse) as Redis's read-only tables do.
// ---------------------------------------------------------------------------

const (
	evalChunkName     = "user_script"
	functionChunkName = "user_function"
	errReadonlyTable  = "Attempt to modify a readonly table"
	luaMaxCStack      = 8000 // LUAI_MAXCSTACK: the Lua stack slots converting a reply may use
	luaMaxCalls       = 5000 // nested Lua calls; Lua 5.1's LUAI_MAXCALLS is 20000: see NewState
)

// luaVM is one Lua interpreter: EVAL's, or the one FUNCTION libraries live
// in. It is used by one goroutine at a time: the script goroutine during a
// run, the executor between runs (compilation, FUNCTION LOAD).
type luaVM struct {
	L         *lua.LState
	eng       *scriptEngine
	functions bool // the functions VM

	globals   *lua.LTable // the real globals
	gproxy    *lua.LTable // _G as scripts see it
	gmeta     *lua.LTable // gproxy's metatable: __index is switched during FUNCTION LOAD
	libAPI    *lua.LTable // functions VM: the globals FUNCTION LOAD code sees
	proxies   map[*lua.LTable]*lua.LTable
	errh      *lua.LFunction // the script's error handler (Redis's __redis__err__handler)
	pcallh    *lua.LFunction // rewrites VM errors in Lua 5.1's words, for pcall
	cjsonNull *lua.LUserData

	// EVAL's KEYS and ARGV, refilled for each run.
	keys, argv   *lua.LTable
	nkeys, nargv int

	ctx    context.Context // cancelled by SCRIPT KILL / FUNCTION KILL
	cancel context.CancelFunc

	chunkSources map[string]string // loadstring chunks: message name -> source

	run     *scriptRun // the run in progress
	nCcalls int        // nested C calls (pcall, xpcall), as Lua 5.1's L->nCcalls
	loading *library   // FUNCTION LOAD in progress: register_function adds here
	memory  int64      // rough size of what the VM holds, for INFO
}

// newLuaVM builds an interpreter with Redis's sandbox.
func newLuaVM(eng *scriptEngine, functions bool) *luaVM {
	L := lua.NewState(lua.Options{
		SkipOpenLibs: true,
		// Lua 5.1 allows 20000 nested calls (LUAI_MAXCALLS); Spinel allows
		// 5000. On overflow gopher-lua builds a traceback in time quadratic
		// in the depth (GetStack walks from the top for every level): at
		// 20000 that blocked the server for 2 s, at 5000 it is 0.1 s.
		// gopher-lua's growing call stack breaks when it overflows, so the
		// interpreter has a fixed one (400 KB); coroutines get growing ones
		// (see coroutineLib51).
		CallStackSize:   luaMaxCalls,
		RegistrySize:    1024,
		RegistryMaxSize: 1024 * 1024,
	})
	vm := &luaVM{L: L, eng: eng, functions: functions, proxies: make(map[*lua.LTable]*lua.LTable)}
	for _, open := range []lua.LGFunction{lua.OpenBase, lua.OpenTable, lua.OpenString, lua.OpenMath, lua.OpenCoroutine} {
		L.Push(L.NewFunction(open))
		L.Call(0, 0)
	}
	orig := L.G.Global
	g := L.NewTable()
	for _, name := range []string{"assert", "getmetatable", "ipairs", "loadstring", "rawequal",
		"select", "type", "unpack", "xpcall", "_VERSION"} {
		g.RawSetString(name, orig.RawGetString(name))
	}
	vm.setBaseFuncs(g)
	g.RawSetString("table", vm.tableLib(orig.RawGetString("table").(*lua.LTable)))
	g.RawSetString("string", vm.stringLib(orig.RawGetString("string").(*lua.LTable)))
	g.RawSetString("math", vm.mathLib(orig.RawGetString("math").(*lua.LTable)))
	g.RawSetString("coroutine", vm.coroutineLib51(orig.RawGetString("coroutine").(*lua.LTable)))
	g.RawSetString("cjson", vm.cjsonLib())
	g.RawSetString("cmsgpack", vm.cmsgpackLib())
	g.RawSetString("bit", vm.bitLib())
	g.RawSetString("struct", vm.structLib())
	g.RawSetString("redis", vm.redisLib(false))
	vm.errh = L.NewFunction(vm.errorHandler)
	vm.pcallh = L.NewFunction(luaPcallHandler)
	if !functions {
		// eval.c: the global error handler and the sort helper are visible
		// globals of the EVAL interpreter.
		g.RawSetString("__redis__err__handler", vm.errh)
		vm.keys, vm.argv = L.NewTable(), L.NewTable()
		g.RawSetString("KEYS", vm.keys)
		g.RawSetString("ARGV", vm.argv)
	}
	vm.globals = g
	L.SetMetatable(g, vm.errorMetatable())

	// Protect every table reachable from the globals, then _G itself.
	for _, name := range []string{"table", "string", "math", "coroutine", "cjson", "cmsgpack", "bit", "struct", "redis"} {
		g.RawSetString(name, vm.protect(g.RawGetString(name).(*lua.LTable)))
	}
	vm.gmeta = L.NewTable()
	vm.gmeta.RawSetString("__index", g)
	vm.gmeta.RawSetString("__newindex", L.NewFunction(luaReadonlyNewIndex))
	vm.gproxy = L.NewTable()
	vm.gproxy.Metatable = vm.gmeta
	vm.proxies[vm.gproxy] = g
	g.RawSetString("_G", vm.gproxy)
	L.G.Global = vm.gproxy
	L.Env = vm.gproxy

	// Strings index the protected string library.
	smt := L.NewTable()
	smt.RawSetString("__index", g.RawGetString("string"))
	L.SetMetatable(lua.LString(""), smt)
	vm.protectTable(smt)

	if functions {
		// function_lua.c: while FUNCTION LOAD runs the library code, the
		// globals are only a reduced redis table, which errors on any
		// other field.
		api := L.NewTable()
		api.RawSetString("redis", vm.protect(vm.redisLib(true)))
		L.SetMetatable(api, vm.errorMetatable())
		vm.libAPI = api
	}
	vm.ctx, vm.cancel = context.WithCancel(context.Background())
	L.SetContext(vm.ctx)
	vm.memory = 32 << 10
	return vm
}

// close releases the interpreter.
func (vm *luaVM) close() {
	vm.cancel()
	vm.L.Close()
}

// resetKill gives the VM a fresh context after a kill, so the next run is
// not born cancelled.
func (vm *luaVM) resetKill() {
	if vm.ctx.Err() == nil {
		return
	}
	vm.ctx, vm.cancel = context.WithCancel(context.Background())
	vm.L.SetContext(vm.ctx)
}

// errorMetatable raises Redis's error on a read of a missing field.
func (vm *luaVM) errorMetatable() *lua.LTable {
	mt := vm.L.NewTable()
	mt.RawSetString("__index", vm.L.NewFunction(func(L *lua.LState) int {
		k := L.Get(2)
		name := luaToString(k)
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", name)
		return 0
	}))
	return mt
}

// protect returns a read-only proxy of t.
func (vm *luaVM) protect(t *lua.LTable) *lua.LTable {
	mt := vm.L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", vm.L.NewFunction(luaReadonlyNewIndex))
	p := vm.L.NewTable()
	p.Metatable = mt
	vm.proxies[p] = t
	return p
}

// protectTable marks t itself read-only for rawset/setmetatable (it cannot
// stop plain assignment to existing fields; used for tables scripts reach
// only through getmetatable).
func (vm *luaVM) protectTable(t *lua.LTable) { vm.proxies[t] = t }

func luaReadonlyNewIndex(L *lua.LState) int {
	L.RaiseError(errReadonlyTable)
	return 0
}

// real returns the table a proxy stands for (t itself otherwise).
func (vm *luaVM) real(t *lua.LTable) *lua.LTable {
	if r, ok := vm.proxies[t]; ok {
		return r
	}
	return t
}

// compile parses src as a chunk named name, giving Lua 5.1's message
// ("user_script:1: unexpected symbol near '<eof>'") on a syntax error.
func compileLua(src, name string) (*lua.FunctionProto, string) {
	return compileLuaAt(src, name, 0)
}

// compileLuaAt is compileLua for a chunk compiled nCalls C calls deep
// (loadstring inside a script), which bounds its nesting.
func compileLuaAt(src, name string, nCalls int) (*lua.FunctionProto, string) {
	// Lua 5.1's own grammar first: its messages, and it refuses what
	// gopher-lua accepts beyond Lua 5.1.
	msg, src := luaCheckSyntax(src, name, nCalls)
	if msg != "" {
		return nil, msg
	}
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, luaSyntaxError(err, src, name)
	}
	luaTransformConcat(chunk)
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, name + ": " + err.Error()
	}
	luaFixLocals(chunk, name, proto)
	luaPatchConcat(proto)
	// A main chunk has no implicit 'arg' table in Lua 5.1 (Redis scripts
	// get "nonexistent global variable 'arg'"); gopher-lua would build one
	// on every call.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	return proto, ""
}

// luaSyntaxError rewrites gopher-lua's parse error in Lua 5.1's form.
func luaSyntaxError(err error, src, name string) string {
	pe, ok := err.(*parse.Error)
	if !ok {
		return err.Error()
	}
	msg := strings.TrimSpace(pe.Message)
	near := pe.Token
	line := pe.Pos.Line
	eof := line == parse.EOF
	switch msg {
	case "syntax error":
		msg = "unexpected symbol"
	case "unterminated string":
		msg = "unfinished string"
		if !eof {
			// Lua stops at the newline, on the string's line, and shows
			// the string read so far with its opening quote.
			line--
			near = stringOpening(src, line, near) + near
		}
	}
	if near == "" || eof {
		near = "<eof>"
	}
	if eof || line <= 0 {
		line = countLines(src)
	}
	return name + ":" + strconv.Itoa(line) + ": " + msg + " near '" + near + "'"
}

// stringOpening finds the quote that opened the unfinished string ending
// line with text.
func stringOpening(src string, line int, text string) string {
	lines := strings.Split(src, "\n")
	if line >= 1 && line <= len(lines) {
		l := lines[line-1]
		if strings.HasSuffix(strings.TrimRight(l, "\r"), "\""+text) {
			return "\""
		}
	}
	return "'"
}

func countLines(s string) int { return strings.Count(s, "\n") + 1 }

// ---------------------------------------------------------------------------
// The error handler (eval.c's __redis__err__handler): the error becomes a
// table {err=..., source=..., line=...} naming the Lua code that raised it
// (the caller when a library function raised it).
// ---------------------------------------------------------------------------

func (vm *luaVM) errorHandler(L *lua.LState) int {
	errv := L.Get(1)
	if vm.ctx.Err() != nil {
		// Killed: the error says so whatever the script was doing.
		errv = luaErrorTable(L, "Script killed by user with SCRIPT KILL...")
	}
	if msg, ok := errv.(lua.LString); ok {
		errv = lua.LString(luaVMError(L, 1, string(msg)))
	}
	tbl, ok := errv.(*lua.LTable)
	if !ok {
		tbl = L.NewTable()
		tbl.RawSetString("err", lua.LString("ERR "+luaToString(errv)))
	}
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.What == "G" {
			if d2, ok := L.GetStack(2); ok {
				dbg = d2
				_, _ = L.GetInfo("Sl", dbg, lua.LNil)
			}
		}
		if dbg.What != "G" && dbg.Source != "" {
			src := luaSourceName(dbg.Source)
			if raw, ok := vm.chunkSources[dbg.Source]; ok {
				src = raw
			}
			tbl.RawSetString("source", lua.LString(src))
			tbl.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		}
	}
	L.Push(tbl)
	return 1
}

// luaRuntimeMessage rewrites gopher-lua's wording of common runtime errors
// in Lua 5.1's (without the variable names Lua adds when it knows them).
func luaRuntimeMessage(msg string) string {
	// The message follows the "chunk:line: " position, if any.
	pos := 0
	if i := strings.Index(msg, ": "); i >= 0 && strings.IndexByte(msg[:i], ':') > 0 {
		pos = i + 2
	}
	body := msg[pos:]
	var kind, a, b string
	if n, _ := fmt.Sscanf(body, "cannot perform %s operation between %s and %s", &kind, &a, &b); n == 3 {
		bad := a
		if kind == "concat" {
			if a == "string" || a == "number" {
				bad = b
			}
			return msg[:pos] + "attempt to concatenate a " + bad + " value"
		}
		if a == "number" || a == "string" {
			bad = b
		}
		return msg[:pos] + "attempt to perform arithmetic on a " + bad + " value"
	}
	if rest, ok := strings.CutPrefix(body, "attempt to index a non-table object("); ok {
		if i := strings.IndexByte(rest, ')'); i >= 0 {
			return msg[:pos] + "attempt to index a " + rest[:i] + " value"
		}
	}
	return msg
}

// luaSourceName gives a chunk's source as C Lua's debug info does: files
// (the scripts) with '@', strings as they are.
func luaSourceName(s string) string {
	if s == evalChunkName || s == functionChunkName {
		return "@" + s
	}
	return s
}

// luaErrorTable builds the {err=...} table redis.pcall returns and
// redis.call raises, from a message in either "-CODE msg" or "msg" form, as
// luaPushErrorBuff: a message without a code gets ERR.
func luaErrorTable(L *lua.LState, msg string) *lua.LTable {
	code := "ERR"
	if strings.HasPrefix(msg, "-") {
		if sp := strings.IndexByte(msg, ' '); sp < 0 {
			msg = msg[1:]
		} else {
			code, msg = msg[1:sp], msg[sp+1:]
		}
	}
	msg = strings.Trim(msg, "\r\n")
	t := L.CreateTable(0, 2)
	t.RawSetString("err", lua.LString(code+" "+msg))
	return t
}

// ---------------------------------------------------------------------------
// Running a compiled function.
// ---------------------------------------------------------------------------

// call runs fn for run (on the script goroutine) and leaves the reply, in
// the caller's protocol, in run.out.
func (vm *luaVM) call(run *scriptRun) {
	L := vm.L
	vm.run = run
	vm.nCcalls = 1 // Redis's lua_pcall of the script
	defer func() { vm.run = nil }()
	L.Push(run.fn)
	nargs := 0
	if !run.eval {
		L.Push(run.keysT)
		L.Push(run.argsT)
		nargs = 2
	}
	err := L.PCall(nargs, 1, vm.errh)
	run.out = run.out[:0]
	if err != nil {
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
			obj = ae.Object
		}
		vm.replyScriptError(run, obj)
		return
	}
	v := L.Get(-1)
	L.Pop(1)
	run.out = vm.appendReply(run.out, v, run, luaReplyStackBase)
}

// replyScriptError writes the reply to a script that raised an error, as
// luaCallFunction: "-<err> script: <name>, on <source>:<line>."
func (vm *luaVM) replyScriptError(run *scriptRun, obj lua.LValue) {
	var msg string
	noStats := false
	if s, ok := obj.(lua.LString); ok && strings.HasSuffix(string(s), ": stack overflow") {
		// The error handler could not run on a full stack; Lua 5.1 has
		// room for it. Build what it would have returned.
		obj = luaOverflowTable(vm.L, string(s))
	}
	tbl, ok := obj.(*lua.LTable)
	if !ok {
		msg = "ERR Error running script " + run.name + ", " + truncateRunes(luaToString(obj), 100)
	} else {
		if s, ok := tbl.RawGetString("err").(lua.LString); ok {
			msg = string(s)
		} else if n, ok := tbl.RawGetString("err").(lua.LNumber); ok {
			msg = luaNumberString(float64(n))
		} else {
			msg = "ERR unknown error"
		}
		src, srcOK := luaStringOf(tbl.RawGetString("source"))
		line, lineOK := luaStringOf(tbl.RawGetString("line"))
		if srcOK && lineOK {
			msg += " script: " + run.name + ", on " + src + ":" + line + "."
		}
		noStats = lua.LVAsBool(tbl.RawGetString("ignore_error_stats_update"))
	}
	run.out = appendScriptError(run.out, msg)
	run.outErr, run.outErrNoStats = sanitizeError(msg), noStats
}

// luaOverflowTable is the error handler's table for "chunk:line: stack
// overflow": the error names the position the message gives.
func luaOverflowTable(L *lua.LState, msg string) *lua.LTable {
	t := L.CreateTable(0, 3)
	t.RawSetString("err", lua.LString("ERR "+msg))
	rest := strings.TrimSuffix(msg, ": stack overflow")
	if i := strings.LastIndexByte(rest, ':'); i > 0 {
		if line, err := strconv.Atoi(rest[i+1:]); err == nil {
			t.RawSetString("source", lua.LString(luaSourceName(rest[:i])))
			t.RawSetString("line", lua.LNumber(line))
		}
	}
	return t
}

// appendScriptError writes msg as an error reply, as addReplyErrorFormat
// with "-%s": newlines become spaces.
func appendScriptError(b []byte, msg string) []byte {
	b = append(b, '-')
	b = append(b, sanitizeError(msg)...)
	return append(b, '\r', '\n')
}

func sanitizeError(msg string) string {
	if strings.ContainsAny(msg, "\r\n") {
		msg = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, msg)
	}
	return msg
}

func truncateRunes(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// luaStringOf converts strings and numbers as lua_tostring does.
func luaStringOf(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return luaNumberString(float64(x)), true
	}
	return "", false
}

// ---------------------------------------------------------------------------
// Lua value -> reply (luaReplyToRedisReply).
// ---------------------------------------------------------------------------

// luaReplyStackBase is the Lua stack in use when the conversion of a
// script's result starts.
const luaReplyStackBase = 2

// appendReply appends v as a reply; depth counts the Lua stack slots the
// conversion would hold at this point in Redis.
func (vm *luaVM) appendReply(b []byte, v lua.LValue, run *scriptRun, depth int) []byte {
	callerResp := run.callerResp
	// luaReplyToRedisReply recurses on the Lua stack: each array level
	// holds one slot, a map's key four and its value three, a set's
	// element three; it gives up where lua_checkstack(4) fails.
	if depth+4 > luaMaxCStack {
		return appendScriptError(b, "ERR reached lua stack limit")
	}
	switch x := v.(type) {
	case lua.LString:
		return resp.AppendBulkString(b, string(x))
	case lua.LBool:
		if run.resp == 2 {
			if x {
				return append(b, ":1\r\n"...)
			}
			return appendNullFor(b, callerResp)
		}
		if callerResp == 2 {
			if x {
				return append(b, ":1\r\n"...)
			}
			return append(b, ":0\r\n"...)
		}
		return resp.AppendBool(b, bool(x))
	case lua.LNumber:
		return resp.AppendInt(b, luaToInt64(float64(x)))
	case *lua.LTable:
		t := vm.real(x)
		if s, ok := t.RawGetString("err").(lua.LString); ok {
			if depth == luaReplyStackBase {
				run.outErr = sanitizeError(string(s))
				run.outErrNoStats = lua.LVAsBool(t.RawGetString("ignore_error_stats_update"))
			}
			return appendScriptError(b, string(s))
		}
		if s, ok := t.RawGetString("ok").(lua.LString); ok {
			b = append(b, '+')
			b = append(b, sanitizeError(string(s))...)
			return append(b, '\r', '\n')
		}
		if n, ok := t.RawGetString("double").(lua.LNumber); ok {
			return appendDoubleFor(b, callerResp, float64(n))
		}
		if s, ok := t.RawGetString("big_number").(lua.LString); ok {
			num := sanitizeError(string(s))
			if callerResp == 2 {
				return resp.AppendBulkString(b, num)
			}
			b = append(b, '(')
			b = append(b, num...)
			return append(b, '\r', '\n')
		}
		if vt, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
			f, fok := vt.RawGetString("format").(lua.LString)
			s, sok := vt.RawGetString("string").(lua.LString)
			if fok && sok {
				if callerResp == 2 {
					return resp.AppendBulkString(b, string(s))
				}
				// addReplyVerbatim copies three bytes of the format,
				// padding a shorter one (up to a NUL) with spaces.
				format := []byte("   ")
				for i := 0; i < 3 && i < len(f) && f[i] != 0; i++ {
					format[i] = f[i]
				}
				return resp.AppendVerbatim(b, string(format), []byte(s))
			}
		}
		if mt, ok := t.RawGetString("map").(*lua.LTable); ok {
			mt = vm.real(mt)
			pos := len(b)
			n := 0
			var body []byte
			for k, val := mt.Next(lua.LNil); k != lua.LNil; k, val = mt.Next(k) {
				body = vm.appendReply(body, k, run, depth+4)
				body = vm.appendReply(body, val, run, depth+3)
				n++
			}
			if callerResp == 2 {
				b = resp.AppendArrayLen(b, 2*n)
			} else {
				b = resp.AppendMapLen(b, n)
			}
			_ = pos
			return append(b, body...)
		}
		if st, ok := t.RawGetString("set").(*lua.LTable); ok {
			st = vm.real(st)
			n := 0
			var body []byte
			for k, _ := st.Next(lua.LNil); k != lua.LNil; k, _ = st.Next(k) {
				body = vm.appendReply(body, k, run, depth+3)
				n++
			}
			if callerResp == 2 {
				b = resp.AppendArrayLen(b, n)
			} else {
				b = resp.AppendSetLen(b, n)
			}
			return append(b, body...)
		}
		n := 0
		for {
			if t.RawGetInt(n+1) == lua.LNil {
				break
			}
			n++
		}
		b = resp.AppendArrayLen(b, n)
		for i := 1; i <= n; i++ {
			b = vm.appendReply(b, t.RawGetInt(i), run, depth+1)
		}
		return b
	default:
		return appendNullFor(b, callerResp)
	}
}

func appendNullFor(b []byte, respVer int) []byte {
	if respVer == 2 {
		return resp.AppendNullBulk(b)
	}
	return resp.AppendNull(b)
}

// appendDoubleFor writes a double as addReplyDouble: a RESP3 double, or a
// bulk string ("%.17g") in RESP2.
func appendDoubleFor(b []byte, respVer int, f float64) []byte {
	if respVer == 2 {
		var tmp [32]byte
		return resp.AppendBulk(b, resp.AppendFloat(tmp[:0], f))
	}
	return resp.AppendDouble(b, f)
}

// luaToInt64 converts a Lua number to an integer reply as C's (long long)
// cast does on x86: truncation, and the minimum for NaN or out of range.
func luaToInt64(f float64) int64 {
	if f != f || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(f)
}

// ---------------------------------------------------------------------------
// Reply -> Lua value (redisProtocolToLuaType).
// ---------------------------------------------------------------------------

// parseReply converts one RESP reply to a Lua value; isErr reports an error
// reply (converted to an {err=...} table).
func (vm *luaVM) parseReply(b []byte) (v lua.LValue, rest []byte, isErr bool) {
	L := vm.L
	if len(b) < 3 {
		return lua.LNil, nil, false
	}
	end := indexCRLF(b)
	if end < 0 {
		return lua.LNil, nil, false
	}
	line := b[1:end]
	rest = b[end+2:]
	switch b[0] {
	case '+':
		t := L.CreateTable(0, 1)
		t.RawSetString("ok", lua.LString(line))
		return t, rest, false
	case '-':
		t := luaErrorTable(L, "-"+string(line))
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		return t, rest, true
	case ':':
		n, _ := strconv.ParseInt(string(line), 10, 64)
		return lua.LNumber(n), rest, false
	case '$', '=':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return lua.LFalse, rest, false
		}
		s := rest[:n]
		rest = rest[n+2:]
		if b[0] == '=' {
			t := L.CreateTable(0, 1)
			vt := L.CreateTable(0, 2)
			if len(s) >= 4 {
				vt.RawSetString("string", lua.LString(s[4:]))
				vt.RawSetString("format", lua.LString(s[:3]))
			}
			t.RawSetString("verbatim_string", vt)
			return t, rest, false
		}
		return lua.LString(s), rest, false
	case '*', '~', '%', '>':
		n, _ := strconv.Atoi(string(line))
		if n < 0 {
			return lua.LFalse, rest, false
		}
		switch b[0] {
		case '%':
			t := L.CreateTable(0, 1)
			m := L.CreateTable(0, n)
			for i := 0; i < n; i++ {
				var k, val lua.LValue
				k, rest, _ = vm.parseReply(rest)
				val, rest, _ = vm.parseReply(rest)
				if k != lua.LNil {
					m.RawSet(k, val)
				}
			}
			t.RawSetString("map", m)
			return t, rest, false
		case '~':
			t := L.CreateTable(0, 1)
			m := L.CreateTable(0, n)
			for i := 0; i < n; i++ {
				var k lua.LValue
				k, rest, _ = vm.parseReply(rest)
				if k != lua.LNil {
					m.RawSet(k, lua.LTrue)
				}
			}
			t.RawSetString("set", m)
			return t, rest, false
		}
		t := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			var e lua.LValue
			e, rest, _ = vm.parseReply(rest)
			t.RawSetInt(i, e)
		}
		return t, rest, false
	case '_':
		return lua.LNil, rest, false
	case '#':
		return lua.LBool(len(line) > 0 && line[0] == 't'), rest, false
	case ',':
		t := L.CreateTable(0, 1)
		t.RawSetString("double", lua.LNumber(parseRESPDouble(line)))
		return t, rest, false
	case '(':
		t := L.CreateTable(0, 1)
		t.RawSetString("big_number", lua.LString(line))
		return t, rest, false
	case '|':
		// Attributes are skipped; the reply follows them.
		n, _ := strconv.Atoi(string(line))
		for i := 0; i < 2*n; i++ {
			_, rest, _ = vm.parseReply(rest)
		}
		return vm.parseReply(rest)
	}
	return lua.LNil, rest, false
}

func indexCRLF(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return i
		}
	}
	return -1
}

func parseRESPDouble(b []byte) float64 {
	switch string(b) {
	case "inf":
		return math.Inf(1)
	case "-inf":
		return math.Inf(-1)
	case "nan", "-nan":
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(string(b), 64)
	return f
}

// ---------------------------------------------------------------------------
// Numbers and strings as C Lua prints them.
// ---------------------------------------------------------------------------

// luaNumberString formats n as Lua 5.1's tostring: "%.14g".
func luaNumberString(f float64) string {
	return string(appendLuaNumber(nil, f))
}

// appendCFloat appends f as C's printf("%.<prec>g") does on glibc.
func appendCFloat(b []byte, f float64, prec int) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case f != f:
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', prec, 64)
}

// luaToString converts v as Lua's tostring, without metamethods.
func luaToString(v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return luaNumberString(float64(x))
	case lua.LBool:
		if x {
			return "true"
		}
		return "false"
	case *lua.LNilType:
		return "nil"
	case *lua.LUserData:
		if _, ok := x.Value.(nullPointer); ok {
			return "userdata: (nil)"
		}
	}
	if v == lua.LNil {
		return "nil"
	}
	return v.String()
}

// sha1Hex is Redis's sha1hex: the lower-case hex SHA1 of s.
func sha1Hex(s []byte) string {
	sum := sha1.Sum(s)
	return hex.EncodeToString(sum[:])
}
