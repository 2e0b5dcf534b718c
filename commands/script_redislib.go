package commands

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// The redis table scripts see (luaRegisterRedisAPI): redis.call and
// redis.pcall hand the command to the executor and wait for its reply.
// ---------------------------------------------------------------------------

// Redis log levels (LL_*), as redis.LOG_*.
const (
	luaLogDebug = iota
	luaLogVerbose
	luaLogNotice
	luaLogWarning
)

// Propagation targets for redis.set_repl (PROPAGATE_*).
const (
	replNone    = 0
	replAOF     = 1
	replReplica = 2
	replAll     = replAOF | replReplica
)

// redisVersionNum is REDIS_VERSION_NUM: 0x00MMmmpp.
func redisVersionNum() int {
	parts := strings.Split(Version, ".")
	n := 0
	for _, p := range parts {
		v, _ := strconv.Atoi(p)
		n = n<<8 | v
	}
	return n
}

// redisLib builds the redis table: the run-time API, or (load) the reduced
// one FUNCTION LOAD code sees.
func (vm *luaVM) redisLib(load bool) *lua.LTable {
	L := vm.L
	t := L.NewTable()
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("log", vm.luaLog)
	t.RawSetString("LOG_DEBUG", lua.LNumber(luaLogDebug))
	t.RawSetString("LOG_VERBOSE", lua.LNumber(luaLogVerbose))
	t.RawSetString("LOG_NOTICE", lua.LNumber(luaLogNotice))
	t.RawSetString("LOG_WARNING", lua.LNumber(luaLogWarning))
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(redisVersionNum()))
	t.RawSetString("REDIS_VERSION", lua.LString(Version))
	if load {
		set("register_function", vm.luaRegisterFunction)
		L.SetMetatable(t, vm.errorMetatable())
		return t
	}
	set("call", func(L *lua.LState) int { return vm.redisCall(L, true) })
	set("pcall", func(L *lua.LState) int { return vm.redisCall(L, false) })
	set("setresp", func(L *lua.LState) int {
		run := vm.requireRun(L, "redis.setresp")
		if L.GetTop() != 1 {
			luaRaiseRedisError(L, "redis.setresp() requires one argument.")
		}
		n, _ := luaToNumberValue(L.Get(1))
		v := int(n)
		if v != 2 && v != 3 {
			luaRaiseRedisError(L, "RESP version must be 2 or 3.")
		}
		run.resp = v
		return 0
	})
	set("sha1hex", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			luaRaiseRedisError(L, "wrong number of arguments")
		}
		s, _ := luaStringOf(L.Get(1))
		L.Push(lua.LString(sha1Hex([]byte(s))))
		return 1
	})
	set("error_reply", func(L *lua.LState) int {
		s, ok := L.Get(1).(lua.LString)
		if L.GetTop() != 1 || !ok {
			L.Push(luaErrorTable(L, "wrong number or type of arguments"))
			return 1
		}
		msg := string(s)
		if !strings.HasPrefix(msg, "-") {
			msg = "-" + msg
		}
		L.Push(luaErrorTable(L, msg))
		return 1
	})
	set("status_reply", func(L *lua.LState) int {
		s, ok := L.Get(1).(lua.LString)
		if L.GetTop() != 1 || !ok {
			L.Push(luaErrorTable(L, "wrong number or type of arguments"))
			return 1
		}
		r := L.CreateTable(0, 1)
		r.RawSetString("ok", s)
		L.Push(r)
		return 1
	})
	set("set_repl", func(L *lua.LState) int {
		run := vm.requireRun(L, "redis.set_repl")
		if L.GetTop() != 1 {
			luaRaiseRedisError(L, "redis.set_repl() requires two arguments.")
		}
		n, _ := luaToNumberValue(L.Get(1))
		flags := int(n)
		if flags&^replAll != 0 {
			luaRaiseRedisError(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
		}
		run.repl = flags
		return 0
	})
	t.RawSetString("REPL_NONE", lua.LNumber(replNone))
	t.RawSetString("REPL_AOF", lua.LNumber(replAOF))
	t.RawSetString("REPL_SLAVE", lua.LNumber(replReplica))
	t.RawSetString("REPL_REPLICA", lua.LNumber(replReplica))
	t.RawSetString("REPL_ALL", lua.LNumber(replAll))
	set("acl_check_cmd", vm.luaACLCheckCmd)
	if !vm.functions {
		// eval.c adds the debugger hooks (no-ops outside a debugging
		// session) and the deprecated replicate_commands.
		set("breakpoint", func(L *lua.LState) int {
			L.Push(lua.LFalse)
			return 1
		})
		set("debug", func(L *lua.LState) int { return 0 })
		set("replicate_commands", func(L *lua.LState) int {
			L.Push(lua.LTrue)
			return 1
		})
	}
	return t
}

// luaToNumberValue is lua_tonumber: numbers and numeric strings, else 0.
func luaToNumberValue(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		return luaStr2Number(string(x))
	}
	return 0, false
}

// luaRaiseRedisError raises an {err="ERR msg"} table, as luaPushError
// followed by luaError.
func luaRaiseRedisError(L *lua.LState, msg string) {
	L.Error(luaErrorTable(L, msg), 0)
}

// requireRun returns the run in progress, raising Redis's error outside one.
func (vm *luaVM) requireRun(L *lua.LState, what string) *scriptRun {
	if vm.run == nil {
		luaRaiseRedisError(L, what+" can only be called inside a script invocation")
	}
	return vm.run
}

// luaLog is redis.log(level, ...).
func (vm *luaVM) luaLog(L *lua.LState) int {
	argc := L.GetTop()
	if argc < 2 {
		luaRaiseRedisError(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := luaToNumberValue(L.Get(1))
	if !ok {
		luaRaiseRedisError(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < luaLogDebug || level > luaLogWarning {
		luaRaiseRedisError(L, "Invalid debug level.")
	}
	var parts []string
	for i := 2; i <= argc; i++ {
		if s, ok := luaStringOf(L.Get(i)); ok {
			parts = append(parts, s)
		}
	}
	msg := strings.Join(parts, " ")
	log := vm.eng.srv.log
	switch level {
	case luaLogDebug, luaLogVerbose:
		log.Debug(msg, "source", "lua")
	case luaLogNotice:
		log.Info(msg, "source", "lua")
	default:
		log.Warn(msg, "source", "lua")
	}
	return 0
}

// luaArgs converts redis.call's arguments into run.argv: strings as they
// are, numbers with "%.17g" (lua_tolstring would lose precision). It
// returns Redis's error text for anything else.
func (vm *luaVM) luaArgs(L *lua.LState, run *scriptRun) string {
	argc := L.GetTop()
	if argc == 0 {
		return "Please specify at least one argument for this redis lib call"
	}
	buf := run.argBuf[:0]
	ends := run.argEnds[:0]
	for i := 1; i <= argc; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			buf = append(buf, v...)
		case lua.LNumber:
			buf = appendCFloat(buf, float64(v), 17)
		default:
			run.argBuf, run.argEnds = buf, ends
			return "Lua redis lib command arguments must be strings or integers"
		}
		ends = append(ends, len(buf))
	}
	run.argBuf, run.argEnds = buf, ends
	argv := run.argv[:0]
	start := 0
	for _, end := range ends {
		argv = append(argv, buf[start:end:end])
		start = end
	}
	run.argv = argv
	L.SetTop(0)
	return ""
}

// redisCall is redis.call (raise) and redis.pcall.
func (vm *luaVM) redisCall(L *lua.LState, raise bool) int {
	run := vm.requireRun(L, "redis.call/pcall")
	if msg := vm.luaArgs(L, run); msg != "" {
		L.SetTop(0)
		t := luaErrorTable(L, msg)
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	vm.eng.request(run, opCall)
	if run.callErr != "" {
		t := luaErrorTable(L, run.callErr)
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	v, _, isErr := vm.parseReply(run.reply)
	if raise && isErr {
		L.Error(v, 0)
	}
	L.Push(v)
	return 1
}

// luaACLCheckCmd is redis.acl_check_cmd.
func (vm *luaVM) luaACLCheckCmd(L *lua.LState) int {
	run := vm.requireRun(L, "redis.acl_check_cmd")
	if msg := vm.luaArgs(L, run); msg != "" {
		luaRaiseRedisError(L, msg)
	}
	vm.eng.request(run, opACL)
	if run.callErr != "" {
		luaRaiseRedisError(L, run.callErr)
	}
	L.Push(lua.LBool(run.aclOK))
	return 1
}
