package commands

import (
	"context"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"spinel/commands/glob"
	"spinel/eventloop/resp"
)

// ---------------------------------------------------------------------------
// Redis 7 functions (functions.c, function_lua.c): libraries of Lua
// functions loaded with FUNCTION LOAD ("#!lua name=<lib>" then code that
// calls redis.register_function), called with FCALL/FCALL_RO, persisted
// through the AOF as FUNCTION LOAD/DELETE/FLUSH/RESTORE and, on rewrite, as
// one FUNCTION LOAD per library (rewriteFunctions).
// ---------------------------------------------------------------------------

// functionLoadTimeout bounds the library code FUNCTION LOAD runs.
const functionLoadTimeout = 500 * time.Millisecond

// library is one loaded library.
type library struct {
	name  string
	code  string // the whole payload, shebang included
	funcs []*luaFunction
}

// luaFunction is one registered function.
type luaFunction struct {
	name  string
	desc  *string
	flags int
	fn    *lua.LFunction
	lib   *library
}

// libSet is a set of libraries and the functions they register
// (functionsLibCtx): the current one, or one being built by FUNCTION
// RESTORE.
type libSet struct {
	libs  map[string]*library     // by name (case-sensitive)
	funcs map[string]*luaFunction // by lower-case name
}

func newLibSet() *libSet {
	return &libSet{libs: make(map[string]*library), funcs: make(map[string]*luaFunction)}
}

func (ls *libSet) link(lib *library) {
	for _, f := range lib.funcs {
		ls.funcs[strings.ToLower(f.name)] = f
	}
	ls.libs[lib.name] = lib
}

func (ls *libSet) unlink(lib *library) {
	for _, f := range lib.funcs {
		delete(ls.funcs, strings.ToLower(f.name))
	}
	delete(ls.libs, lib.name)
}

// sorted returns the libraries by name (Redis lists them in hash order).
func (ls *libSet) sorted() []*library {
	out := make([]*library, 0, len(ls.libs))
	for _, l := range ls.libs {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (e *scriptEngine) functions() *libSet {
	if e.fnLibs == nil {
		e.fnLibs = newLibSet()
	}
	return e.fnLibs
}

func (e *scriptEngine) fnVMGet() *luaVM {
	if e.fnVM == nil {
		e.fnVM = newLuaVM(e, true)
	}
	return e.fnVM
}

// validFunctionName is functionsVerifyName: [a-zA-Z0-9_]+.
func validFunctionName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

const errLibraryName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// createLibrary compiles code and links it into set, as
// functionsCreateWithLibraryCtx; it returns Redis's error text on failure,
// leaving set as it was.
func (e *scriptEngine) createLibrary(code string, replace bool, set *libSet, timeout bool) (*library, string) {
	if !strings.HasPrefix(code, "#!") {
		return nil, "Missing library metadata"
	}
	nl := strings.IndexByte(code, '\n')
	if nl < 0 {
		return nil, "Invalid library metadata"
	}
	parts, ok := resp.SplitArgs([]byte(code[:nl]), nil)
	if !ok || len(parts) == 0 {
		return nil, "Invalid library metadata"
	}
	engine := string(parts[0][2:])
	name, named := "", false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(string(p[:5]), "name=") {
			if named {
				return nil, "Invalid metadata value, name argument was given multiple times"
			}
			name, named = string(p[5:]), true
			continue
		}
		return nil, "Invalid metadata value given: " + string(cString(p, len(p)))
	}
	if !named {
		return nil, "Library name was not given"
	}
	if !validFunctionName(name) {
		return nil, errLibraryName
	}
	if !strings.EqualFold(engine, "lua") {
		return nil, "Engine '" + engine + "' not found"
	}
	old := set.libs[name]
	if old != nil && !replace {
		return nil, "Library '" + name + "' already exists"
	}
	if old != nil {
		set.unlink(old)
	}
	lib, msg := e.runLibrary(name, code, code[nl:], timeout)
	if msg == "" && len(lib.funcs) == 0 {
		msg = "No functions registered"
	}
	if msg == "" {
		for _, f := range lib.funcs {
			if set.funcs[strings.ToLower(f.name)] != nil {
				msg = "Function " + f.name + " already exists"
				break
			}
		}
	}
	if msg != "" {
		if old != nil {
			set.link(old)
		}
		return nil, msg
	}
	set.link(lib)
	e.fnVM.memory += int64(len(code)) * 4
	return lib, ""
}

// runLibrary compiles the library body and runs it with the load-time
// globals, collecting the functions it registers (luaEngineCreate).
func (e *scriptEngine) runLibrary(name, code, body string, timeout bool) (*library, string) {
	vm := e.fnVMGet()
	L := vm.L
	proto, msg := compileLua(body, functionChunkName)
	if proto == nil {
		return nil, "Error compiling function: " + msg
	}
	lib := &library{name: name, code: code}
	vm.loading = lib
	vm.gmeta.RawSetString("__index", vm.libAPI)
	if timeout {
		ctx, cancel := context.WithTimeout(vm.ctx, functionLoadTimeout)
		defer cancel()
		L.SetContext(ctx)
	}
	defer func() {
		vm.loading = nil
		vm.gmeta.RawSetString("__index", vm.globals)
		L.SetContext(vm.ctx)
	}()
	L.Push(L.NewFunctionFromProto(proto))
	if err := L.PCall(0, 0, vm.pcallh); err != nil {
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
			obj = ae.Object
		}
		var what string
		if L.Context().Err() != nil {
			what = "ERR FUNCTION LOAD timeout"
		} else if s, ok := luaStringOf(obj); ok {
			what = "ERR " + s
		} else if t, ok := obj.(*lua.LTable); ok {
			what, _ = luaStringOf(t.RawGetString("err"))
		}
		return nil, "Error registering functions: " + what
	}
	return lib, ""
}

// luaRegisterFunction is redis.register_function, available only while
// FUNCTION LOAD runs the library code.
func (vm *luaVM) luaRegisterFunction(L *lua.LState) int {
	lib := vm.loading
	if lib == nil {
		luaRaiseRedisError(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	var (
		name  string
		named bool
		desc  *string
		fn    *lua.LFunction
		flags int
	)
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			luaRaiseRedisError(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
			key, ok := luaStringOf(k)
			if !ok {
				luaRaiseRedisError(L, "named argument key given to redis.register_function is not a string")
			}
			switch strings.ToLower(key) {
			case "function_name":
				s, ok := luaStringOf(v)
				if !ok {
					luaRaiseRedisError(L, "function_name argument given to redis.register_function must be a string")
				}
				name, named = s, true
			case "description":
				s, ok := luaStringOf(v)
				if !ok {
					luaRaiseRedisError(L, "description argument given to redis.register_function must be a string")
				}
				desc = &s
			case "callback":
				f, ok := v.(*lua.LFunction)
				if !ok {
					luaRaiseRedisError(L, "callback argument given to redis.register_function must be a function")
				}
				fn = f
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					luaRaiseRedisError(L, "flags argument to redis.register_function must be a table representing function flags")
				}
				for i := 1; ; i++ {
					fv := ft.RawGetInt(i)
					if fv == lua.LNil {
						break
					}
					s, ok := luaStringOf(fv)
					bit := 0
					if ok {
						bit = scriptFlagBit(s, true)
					}
					if bit == 0 {
						luaRaiseRedisError(L, "unknown flag given")
					}
					flags |= bit
				}
			default:
				luaRaiseRedisError(L, "unknown argument given to redis.register_function")
			}
		}
		if !named {
			luaRaiseRedisError(L, "redis.register_function must get a function name argument")
		}
		if fn == nil {
			luaRaiseRedisError(L, "redis.register_function must get a callback argument")
		}
	case 2:
		s, ok := luaStringOf(L.Get(1))
		if !ok {
			luaRaiseRedisError(L, "first argument to redis.register_function must be a string")
		}
		f, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			luaRaiseRedisError(L, "second argument to redis.register_function must be a function")
		}
		name, fn = s, f
	default:
		luaRaiseRedisError(L, "wrong number of arguments to redis.register_function")
	}
	if !validFunctionName(name) {
		luaRaiseRedisError(L, errLibraryName)
	}
	for _, f := range lib.funcs {
		if f.name == name {
			luaRaiseRedisError(L, "Function already exists in the library")
		}
	}
	lib.funcs = append(lib.funcs, &luaFunction{name: name, desc: desc, flags: flags, fn: fn, lib: lib})
	return 0
}

// ---------------------------------------------------------------------------
// FCALL / FCALL_RO
// ---------------------------------------------------------------------------

func cmdFcall(c *Client, args [][]byte)   { c.srv.fcallGeneric(c, args, false) }
func cmdFcallRo(c *Client, args [][]byte) { c.srv.fcallGeneric(c, args, true) }

func (s *Server) fcallGeneric(c *Client, args [][]byte, ro bool) {
	e := s.scripting()
	if len(s.monitors) > 0 {
		s.feedMonitors(c, c.cmd, args)
	}
	f := e.functions().funcs[strings.ToLower(string(args[1]))]
	if f != nil && s.scriptDenyOOM(f.flags) {
		s.reject(c, c.cmd, oomError)
		return
	}
	if f == nil {
		c.addError("ERR Function not found")
		return
	}
	numkeys, ok := scriptNumKeys(c, args, true)
	if !ok {
		return
	}
	run := e.prepare(c, f.flags, ro)
	if run == nil {
		return
	}
	vm := e.fnVM
	run.vm = vm
	run.fn = f.fn
	run.name = f.name
	run.keysT = luaStringArray(vm.L, args[3:3+numkeys])
	run.argsT = luaStringArray(vm.L, args[3+numkeys:])
	e.execute(run)
	c.propagateAs()
}

func luaStringArray(L *lua.LState, vals [][]byte) *lua.LTable {
	t := L.CreateTable(len(vals), 0)
	for i, v := range vals {
		t.RawSetInt(i+1, lua.LString(v))
	}
	return t
}

// ---------------------------------------------------------------------------
// FUNCTION subcommands
// ---------------------------------------------------------------------------

func cmdFunctionLoad(c *Client, args [][]byte) {
	s := c.srv
	replace := false
	pos := 2
	for pos < len(args)-1 {
		a := args[pos]
		pos++
		if equalFold(a, "replace") {
			replace = true
			continue
		}
		c.addError("ERR Unknown option given: " + string(cString(a, len(a))))
		return
	}
	e := s.scripting()
	lib, msg := e.createLibrary(string(args[pos]), replace, e.functions(), !s.loading)
	if lib == nil {
		c.addError("ERR " + msg)
		return
	}
	s.dirty++
	c.addBulkString(lib.name)
}

func cmdFunctionDelete(c *Client, args [][]byte) {
	s := c.srv
	set := s.scripting().functions()
	lib := set.libs[string(args[2])]
	if lib == nil {
		c.addError("ERR Library not found")
		return
	}
	set.unlink(lib)
	s.dirty++
	c.addOK()
}

func cmdFunctionFlush(c *Client, args [][]byte) {
	s := c.srv
	if len(args) > 3 {
		c.addError("ERR unknown subcommand or wrong number of arguments for '" + string(cString(args[1], 128)) + "'. Try FUNCTION HELP.")
		return
	}
	if len(args) == 3 && !equalFold(args[2], "sync") && !equalFold(args[2], "async") {
		c.addError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	s.scripting().flushFunctions()
	s.dirty++
	c.addOK()
}

// flushFunctions drops every library and the interpreter they live in.
func (e *scriptEngine) flushFunctions() {
	e.fnLibs = newLibSet()
	if e.fnVM != nil {
		e.fnVM.close()
		e.fnVM = nil
	}
}

func cmdFunctionList(c *Client, args [][]byte) {
	withCode := false
	var pattern []byte
	havePattern := false
	for i := 2; i < len(args); i++ {
		a := args[i]
		if !withCode && equalFold(a, "withcode") {
			withCode = true
			continue
		}
		if !havePattern && equalFold(a, "libraryname") {
			if i >= len(args)-1 {
				c.addError("ERR library name argument was not given")
				return
			}
			i++
			pattern, havePattern = args[i], true
			continue
		}
		c.addError("ERR Unknown argument " + string(cString(a, len(a))))
		return
	}
	var libs []*library
	for _, lib := range c.srv.scripting().functions().sorted() {
		if havePattern && !glob.Match(pattern, []byte(lib.name), false) {
			continue
		}
		libs = append(libs, lib)
	}
	c.addArrayLen(len(libs))
	for _, lib := range libs {
		if withCode {
			c.addMapLen(4)
		} else {
			c.addMapLen(3)
		}
		c.addBulkString("library_name")
		c.addBulkString(lib.name)
		c.addBulkString("engine")
		c.addBulkString("LUA")
		c.addBulkString("functions")
		fns := append([]*luaFunction(nil), lib.funcs...)
		sort.Slice(fns, func(i, j int) bool { return fns[i].name < fns[j].name })
		c.addArrayLen(len(fns))
		for _, f := range fns {
			c.addMapLen(3)
			c.addBulkString("name")
			c.addBulkString(f.name)
			c.addBulkString("description")
			if f.desc != nil {
				c.addBulkString(*f.desc)
			} else {
				c.addNull()
			}
			c.addBulkString("flags")
			n := 0
			for _, fl := range scriptFlagNames {
				if f.flags&fl.flag != 0 {
					n++
				}
			}
			c.addSetLen(n)
			for _, fl := range scriptFlagNames {
				if f.flags&fl.flag != 0 {
					c.addSimple(fl.name)
				}
			}
		}
		if withCode {
			c.addBulkString("library_code")
			c.addBulkString(lib.code)
		}
	}
}

func cmdFunctionDump(c *Client, args [][]byte) {
	var codes []string
	for _, lib := range c.srv.scripting().functions().sorted() {
		codes = append(codes, lib.code)
	}
	c.addBulk(functionDumpPayload(codes))
}

func cmdFunctionRestore(c *Client, args [][]byte) {
	s := c.srv
	if len(args) > 4 {
		c.addError("ERR unknown subcommand or wrong number of arguments for '" + string(cString(args[1], 128)) + "'. Try FUNCTION HELP.")
		return
	}
	policy := "append"
	if len(args) == 4 {
		switch {
		case equalFold(args[3], "append"):
		case equalFold(args[3], "replace"):
			policy = "replace"
		case equalFold(args[3], "flush"):
			policy = "flush"
		default:
			c.addError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	codes, msg := parseFunctionPayload(args[2])
	if msg == "" && codes == nil {
		// A payload without libraries is valid.
		codes = []string{}
	}
	if msg != "" {
		c.addError("ERR " + msg)
		return
	}
	e := s.scripting()
	tmp := newLibSet()
	for _, code := range codes {
		if lib, m := e.createLibrary(code, false, tmp, false); lib == nil {
			c.addError("ERR " + m)
			return
		}
	}
	cur := e.functions()
	switch policy {
	case "flush":
		e.fnLibs = tmp
	default:
		if m := joinLibraries(cur, tmp, policy == "replace"); m != "" {
			c.addError("ERR " + m)
			return
		}
	}
	s.dirty++
	c.addOK()
}

// joinLibraries moves src's libraries into dst (libraryJoin): on a name
// clash it fails unless replace; a function name clash always fails. On
// failure dst is unchanged.
func joinLibraries(dst, src *libSet, replace bool) string {
	var replaced []*library
	undo := func() {
		for _, old := range replaced {
			dst.link(old)
		}
	}
	for _, lib := range sortedLibs(src) {
		if old := dst.libs[lib.name]; old != nil {
			if !replace {
				undo()
				return "Library " + lib.name + " already exists"
			}
			dst.unlink(old)
			replaced = append(replaced, old)
		}
	}
	for _, lib := range sortedLibs(src) {
		for _, f := range lib.funcs {
			if dst.funcs[strings.ToLower(f.name)] != nil {
				undo()
				return "Function " + f.name + " already exists"
			}
		}
	}
	for _, lib := range sortedLibs(src) {
		dst.link(lib)
	}
	return ""
}

func sortedLibs(ls *libSet) []*library { return ls.sorted() }

func cmdFunctionStats(c *Client, args [][]byte) {
	s := c.srv
	e := s.scripting()
	run := e.run
	if run != nil && run.eval {
		c.addError(errSlowEval)
		return
	}
	c.addMapLen(2)
	c.addBulkString("running_script")
	if run == nil {
		c.addNull()
	} else {
		c.addMapLen(3)
		c.addBulkString("name")
		c.addBulkString(run.name)
		c.addBulkString("command")
		argv := run.cmdArgv
		c.addArrayLen(len(argv))
		for _, a := range argv {
			c.addBulk(a)
		}
		c.addBulkString("duration_ms")
		c.addInt((monotonic() - run.start) / 1e6)
	}
	set := e.functions()
	c.addBulkString("engines")
	c.addMapLen(1)
	c.addBulkString("LUA")
	c.addMapLen(2)
	c.addBulkString("libraries_count")
	c.addInt(int64(len(set.libs)))
	c.addBulkString("functions_count")
	c.addInt(int64(len(set.funcs)))
}

func cmdFunctionKill(c *Client, args [][]byte) { c.srv.scriptKill(c, false) }

func cmdFunctionHelp(c *Client, args [][]byte) {
	c.addHelp("FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
	)
}

// rewriteFunctions emits the libraries as an AOF rewrite writes them: one
// FUNCTION LOAD per library, before the keys. Call it on the executor when
// the rewrite's snapshot is taken.
func (s *Server) rewriteFunctions(emit func(argv [][]byte)) {
	if s.scripts == nil || s.scripts.fnLibs == nil {
		return
	}
	for _, lib := range s.scripts.fnLibs.sorted() {
		emit([][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte(lib.code)})
	}
}
