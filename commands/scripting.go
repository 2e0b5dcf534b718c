package commands

import (
	"fmt"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"spinel/eventloop/resp"
)

// ---------------------------------------------------------------------------
// Scripting: EVAL/EVALSHA/SCRIPT (here) and FUNCTION/FCALL (function.go)
// share one engine. Scripts are atomic, as in Redis, but each runs its Lua
// VM on a goroutine of its own so that a script running too long does not
// freeze the event loop:
//
// 1) EVAL finds its script in the cache (by body, so EVAL does not hash it;
//    SCRIPT LOAD and a first EVAL compile and cache it by SHA1), checks the
//    script's flags as scriptPrepareForRun does, fills KEYS and ARGV and
//    hands the run to the script goroutine, which owns the Lua VMs while a
//    run is in progress. The executor goroutine waits.
// 2) Each redis.call is a request back to the waiting executor (a channel
//    handoff, no event-loop round trip): it checks the command as scriptCall
//    does, runs it through call() for the script client (statistics,
//    keyspace events, propagation of its effect) and hands the reply back.
//    Nothing else runs on the executor meanwhile, so the script is atomic.
// 3) When the script returns, its reply is written to the caller; EVAL
//    itself is never propagated, its writes are, as one unit (wrapped in
//    MULTI/EXEC when there are several).
// 4) If the script still runs after busy-reply-threshold ms, the executor
//    stops waiting and returns to the event loop: the caller is parked (its
//    further input is not read), the writes made so far are held back, and
//    scriptBusy() is true, so the gate answers other commands -BUSY except
//    those flagged allow-busy (SCRIPT KILL, FUNCTION KILL, FUNCTION STATS,
//    SHUTDOWN, MULTI, ...). The script's further requests reach the
//    executor through Hooks.Post; expiry inside them still uses the time
//    the script started.
// 5) SCRIPT KILL / FUNCTION KILL cancel the VM's context if the script has
//    not written yet (-UNKILLABLE otherwise); the script fails at its next
//    Lua instruction and its caller gets Redis's "Script killed" error.
// 6) When a busy script ends, its reply goes to the caller (markPending),
//    its writes are propagated as one unit, blocked clients its writes made
//    ready are served, and the caller's input is read again.
// 7) A script inside EXEC goes busy the same way: the rest of the
//    transaction waits in the engine (suspendExec) and runs when the script
//    ends, before anything else, its writes joining the same unit.
// 8) While a script is busy the cron leaves the dataset alone (no active
//    expiry, eviction or automatic AOF rewrite), as Redis's
//    whileBlockedCron; a shutdown cancels the script (stopScripts).
// A run that must end before the executor moves on (AOF loading, the
// server's own clients) never goes busy: the executor waits for it.
// ---------------------------------------------------------------------------

var scriptingCommands = []cmdDef{
	{"eval", cmdEval, FlagMayReplicate},
	{"eval_ro", cmdEvalRo, 0},
	{"evalsha", cmdEvalSha, FlagMayReplicate},
	{"evalsha_ro", cmdEvalShaRo, 0},
	{"script|load", cmdScriptLoad, 0},
	{"script|exists", cmdScriptExists, 0},
	{"script|flush", cmdScriptFlush, 0},
	{"script|kill", cmdScriptKill, 0},
	{"script|help", cmdScriptHelp, 0},
	{"script|debug", cmdScriptDebug, 0},
	{"fcall", cmdFcall, FlagMayReplicate},
	{"fcall_ro", cmdFcallRo, 0},
	{"function|load", cmdFunctionLoad, 0},
	{"function|delete", cmdFunctionDelete, 0},
	{"function|flush", cmdFunctionFlush, 0},
	{"function|list", cmdFunctionList, 0},
	{"function|dump", cmdFunctionDump, 0},
	{"function|restore", cmdFunctionRestore, 0},
	{"function|stats", cmdFunctionStats, 0},
	{"function|kill", cmdFunctionKill, 0},
	{"function|help", cmdFunctionHelp, 0},
}

// Script flags (scripts_flags_def), from a shebang or register_function.
const (
	scriptNoWrites = 1 << iota
	scriptAllowOOM
	scriptAllowStale
	scriptNoCluster
	scriptAllowCrossSlot
	scriptEvalCompat // EVAL script without a shebang: Redis 6 semantics
)

var scriptFlagNames = []struct {
	name string
	flag int
}{
	{"no-writes", scriptNoWrites},
	{"allow-oom", scriptAllowOOM},
	{"allow-stale", scriptAllowStale},
	{"no-cluster", scriptNoCluster},
	{"allow-cross-slot-keys", scriptAllowCrossSlot},
}

const (
	errNoScript      = "NOSCRIPT No matching script. Please use EVAL."
	errNotBusy       = "NOTBUSY No scripts in execution right now."
	errUnkillable    = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errSlowEval      = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errSlowScript    = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	scriptWorkerIdle = 10 * time.Second
	killWait         = 100 * time.Millisecond
)

// Requests from the script goroutine to the executor.
const (
	opCall = iota // run run.argv for the script
	opACL         // redis.acl_check_cmd
	opDone        // the script returned; run.out holds the reply
)

// scriptEngine is the executor's scripting state: the script cache, the
// two interpreters, the function libraries and the run in progress.
type scriptEngine struct {
	srv *Server

	evalVM *luaVM // created on first use, dropped by SCRIPT FLUSH
	fnVM   *luaVM // created on first use, replaced by FUNCTION FLUSH

	scripts    map[string]*evalScript // by lower-case hex SHA1
	byBody     map[string]*evalScript // by body: EVAL finds its script without hashing
	scriptsMem int64

	fnLibs *libSet // the loaded function libraries

	client    *Client // the client redis.call runs commands as
	randState uint64  // math.random's state, shared by both VMs as Redis's static one

	run      *scriptRun // the run in progress, nil when idle
	runBuf   scriptRun  // reused by every run
	toExec   chan *scriptRun
	toScript chan struct{}
	jobs     chan *scriptRun
	busyQ    chan *scriptRun // busy: the request the forwarder passed on
	timer    *time.Timer
	timerAt  int64 // when timer fires (monotonic ns); 0: fired or never armed

	// Until a script goes busy the executor only waits for it, so the
	// script goroutine runs its redis.calls itself (direct) instead of
	// handing each one over and back: two goroutine switches less per
	// call. directMu makes going busy wait for a call in progress.
	directMu sync.Mutex
	direct   bool

	// A transaction whose script went busy: the commands queued after it,
	// run when the script ends (resumeExec).
	execSuspended bool
	execRest      []queuedCommand
}

// evalScript is a cached EVAL script.
type evalScript struct {
	body  string
	sha   string
	flags int
	fn    *lua.LFunction
}

// scriptRun is one execution of a script or function. Fields are owned by
// the executor except where noted; the channels order every access.
type scriptRun struct {
	eng      *scriptEngine
	vm       *luaVM
	fn       *lua.LFunction
	keysT    *lua.LTable // FCALL's keys and args tables
	argsT    *lua.LTable
	caller   *Client
	eval     bool   // EVAL (SCRIPT KILL) rather than FCALL (FUNCTION KILL)
	name     string // SHA1 or function name, for errors and FUNCTION STATS
	readOnly bool
	allowOOM bool
	oom      bool  // over maxmemory when the script started
	start    int64 // monotonic ns
	snapshot int64 // s.now when the script started: expiry inside uses it

	// Set on the script goroutine.
	callerResp    int
	resp          int // redis.setresp
	repl          int // redis.set_repl
	argv          [][]byte
	argBuf        []byte
	argEnds       []int
	out           []byte // the reply
	outErr        string // the reply is this error
	outErrNoStats bool

	// Request and answer.
	op      int
	callErr string // the command was refused: this error
	reply   []byte // the command's reply
	aclOK   bool

	writeDirty bool // a write command ran: SCRIPT KILL refuses
	killed     bool
	busy       bool
	cmdArgv    [][]byte   // busy: the caller's command, for FUNCTION STATS
	ops        []propOp   // busy: writes held back until the end
	ready      []readyKey // busy: keys that became ready meanwhile
}

// scripting returns the engine, creating it on first use.
func (s *Server) scripting() *scriptEngine {
	if s.scripts == nil {
		e := &scriptEngine{
			srv:       s,
			scripts:   make(map[string]*evalScript),
			byBody:    make(map[string]*evalScript),
			randState: lrand48Init,
			toExec:    make(chan *scriptRun),
			toScript:  make(chan struct{}),
			jobs:      make(chan *scriptRun),
			busyQ:     make(chan *scriptRun, 1),
		}
		e.client = &Client{srv: s, conn: scriptConn{}, db: s.dbs[0], resp: 2, authn: true,
			id: -2, denyBlocking: true}
		s.scripts = e
	}
	return s.scripts
}

// fromScript reports whether c is the client redis.call runs commands as.
func (c *Client) fromScript() bool {
	return c.srv.scripts != nil && c == c.srv.scripts.client
}

// scriptConn is the script client's connection: replies stay in its buffer.
type scriptConn struct{ loaderConn }

func (scriptConn) RemoteAddr() string { return "lua" }

// scriptBusy reports whether a script has run longer than
// busy-reply-threshold: other clients then get -BUSY, except for the
// commands flagged allow-busy (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE).
func (s *Server) scriptBusy() bool {
	return s.scripts != nil && s.scripts.run != nil && s.scripts.run.busy
}

// busyError is the -BUSY reply while a script runs too long.
func (s *Server) busyError() string {
	if s.scripts != nil && s.scripts.run != nil && !s.scripts.run.eval {
		return errSlowScript
	}
	return errSlowEval
}

func (e *scriptEngine) evalVMGet() *luaVM {
	if e.evalVM == nil {
		e.evalVM = newLuaVM(e, false)
	}
	return e.evalVM
}

// ---------------------------------------------------------------------------
// Shebang and script cache.
// ---------------------------------------------------------------------------

// parseShebang reads an EVAL script's "#!lua flags=..." line, as
// evalExtractShebangFlags: the flags and the length of the line, or Redis's
// error.
func parseShebang(body string) (flags, n int, errMsg string) {
	if !strings.HasPrefix(body, "#!") {
		return scriptEvalCompat, 0, ""
	}
	nl := strings.IndexByte(body, '\n')
	if nl < 0 {
		return 0, 0, "Invalid script shebang"
	}
	parts, ok := resp.SplitArgs([]byte(body[:nl]), nil)
	if !ok || len(parts) == 0 {
		return 0, 0, "Invalid engine in script shebang"
	}
	if string(parts[0]) != "#!lua" {
		return 0, 0, "Unexpected engine in script shebang: " + string(parts[0])
	}
	for _, p := range parts[1:] {
		opt, ok := strings.CutPrefix(string(p), "flags=")
		if !ok {
			return 0, 0, "Unknown lua shebang option: " + string(p)
		}
		if opt == "" {
			continue
		}
		for _, f := range strings.Split(opt, ",") {
			bit := scriptFlagBit(f, false)
			if bit == 0 {
				return 0, 0, "Unexpected flag in script shebang: " + f
			}
			flags |= bit
		}
	}
	return flags, nl, ""
}

// scriptFlagBit maps a flag name to its bit (0: unknown).
func scriptFlagBit(name string, fold bool) int {
	for _, f := range scriptFlagNames {
		if f.name == name || (fold && strings.EqualFold(f.name, name)) {
			return f.flag
		}
	}
	return 0
}

// createScript compiles body and caches it (luaCreateFunction). On error
// it returns Redis's message.
func (e *scriptEngine) createScript(body []byte) (*evalScript, string) {
	if sc := e.byBody[string(body)]; sc != nil {
		return sc, ""
	}
	sha := sha1Hex(body)
	if sc := e.scripts[sha]; sc != nil {
		return sc, ""
	}
	flags, n, msg := parseShebang(string(body))
	if msg != "" {
		return nil, msg
	}
	vm := e.evalVMGet()
	// The shebang line is left out but its newline kept, so line numbers
	// count from the top of the script.
	proto, msg := compileLua(string(body[n:]), evalChunkName)
	if proto == nil {
		return nil, "Error compiling script (new function): " + msg
	}
	sc := &evalScript{body: string(body), sha: sha, flags: flags, fn: vm.L.NewFunctionFromProto(proto)}
	e.scripts[sha] = sc
	e.byBody[sc.body] = sc
	e.scriptsMem += int64(len(sc.body)+len(sha)) + 64
	vm.memory += int64(len(sc.body)) * 4
	return sc, ""
}

// flushScripts empties the cache and drops EVAL's interpreter, as
// scriptingReset.
func (e *scriptEngine) flushScripts() {
	e.scripts = make(map[string]*evalScript)
	e.byBody = make(map[string]*evalScript)
	e.scriptsMem = 0
	if e.evalVM != nil {
		e.evalVM.close()
		e.evalVM = nil
	}
}

// ---------------------------------------------------------------------------
// EVAL / EVALSHA
// ---------------------------------------------------------------------------

func cmdEval(c *Client, args [][]byte)      { c.srv.evalGeneric(c, args, false, false) }
func cmdEvalRo(c *Client, args [][]byte)    { c.srv.evalGeneric(c, args, false, true) }
func cmdEvalSha(c *Client, args [][]byte)   { c.srv.evalGeneric(c, args, true, false) }
func cmdEvalShaRo(c *Client, args [][]byte) { c.srv.evalGeneric(c, args, true, true) }

func (s *Server) evalGeneric(c *Client, args [][]byte, evalsha, ro bool) {
	e := s.scripting()
	// EVAL is skip_monitor: it is shown before the commands it runs.
	if len(s.monitors) > 0 {
		s.feedMonitors(c, c.cmd, args)
	}
	if evalsha && len(args[1]) != 40 {
		c.addError(errNoScript)
		return
	}
	var sc *evalScript
	if evalsha {
		sc = e.scripts[strings.ToLower(string(args[1]))]
	} else {
		sc = e.byBody[string(args[1])]
	}
	// The gate's flags come from the script's shebang (evalGetCommandFlags):
	// a script that may write and is not allow-oom is deny-oom.
	flags := scriptEvalCompat
	if sc != nil {
		flags = sc.flags
	} else if !evalsha {
		if f, _, msg := parseShebang(string(args[1])); msg == "" {
			flags = f
		}
	}
	if s.scriptDenyOOM(flags) {
		s.reject(c, c.cmd, oomError)
		return
	}
	numkeys, ok := scriptNumKeys(c, args, false)
	if !ok {
		return
	}
	if sc == nil {
		if evalsha {
			c.addError(errNoScript)
			return
		}
		var msg string
		if sc, msg = e.createScript(args[1]); sc == nil {
			c.addError("ERR " + msg)
			return
		}
	}
	run := e.prepare(c, sc.flags, ro)
	if run == nil {
		return
	}
	run.vm = e.evalVM
	run.fn = sc.fn
	run.eval = true
	run.name = sc.sha
	run.vm.setArgs(args[3:3+numkeys], args[3+numkeys:])
	e.execute(run)
	// EVAL itself is not propagated: the commands it ran were.
	c.propagateAs()
}

// scriptDenyOOM reports whether a script with these flags is refused as
// deny-oom over maxmemory (scriptFlagsToCmdFlags + the gate's check).
func (s *Server) scriptDenyOOM(flags int) bool {
	if flags&scriptEvalCompat != 0 || flags&(scriptAllowOOM|scriptNoWrites) != 0 || s.cfg.Maxmemory == 0 {
		return false
	}
	return s.performEvictions() == evictFail
}

// scriptNumKeys parses and checks EVAL/FCALL's numkeys.
func scriptNumKeys(c *Client, args [][]byte, fcall bool) (int, bool) {
	n, ok := parseInt(args[2])
	if !ok {
		if fcall {
			c.addError("ERR Bad number of keys provided")
		} else {
			c.addError(ErrNotInteger)
		}
		return 0, false
	}
	if n > int64(len(args)-3) {
		c.addError("ERR Number of keys can't be greater than number of args")
		return 0, false
	}
	if n < 0 {
		c.addError("ERR Number of keys can't be negative")
		return 0, false
	}
	return int(n), true
}

// setArgs fills EVAL's KEYS and ARGV globals, reusing the tables.
func (vm *luaVM) setArgs(keys, argv [][]byte) {
	vm.keys = vm.refill(vm.keys, &vm.nkeys, keys, "KEYS")
	vm.argv = vm.refill(vm.argv, &vm.nargv, argv, "ARGV")
}

func (vm *luaVM) refill(t *lua.LTable, prev *int, vals [][]byte, name string) *lua.LTable {
	// A script may have stored more in the table than we put there; then
	// it is replaced rather than cleaned.
	if k, _ := t.Next(lua.LNumber(*prev)); *prev > 0 && k != lua.LNil || *prev == 0 && t.Len() > 0 {
		t = vm.L.CreateTable(len(vals), 0)
		vm.globals.RawSetString(name, t)
		*prev = 0
	} else if *prev == 0 {
		if k, _ := t.Next(lua.LNil); k != lua.LNil {
			t = vm.L.CreateTable(len(vals), 0)
			vm.globals.RawSetString(name, t)
		}
	}
	for i, v := range vals {
		t.RawSetInt(i+1, lua.LString(v))
	}
	for i := len(vals) + 1; i <= *prev; i++ {
		t.RawSetInt(i, lua.LNil)
	}
	*prev = len(vals)
	return t
}

// prepare checks that a script with these flags may run now and sets up
// the run, as scriptPrepareForRun; nil after replying with the error.
func (e *scriptEngine) prepare(c *Client, flags int, ro bool) *scriptRun {
	s := e.srv
	if flags&scriptEvalCompat == 0 && flags&scriptNoWrites == 0 {
		if msg := s.misconf(); msg != "" && !s.loading {
			c.addError("MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. " +
				"Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: " +
				strings.TrimPrefix(msg, "MISCONF Errors writing to the AOF file: "))
			return nil
		}
		if ro {
			c.addError("ERR Can not execute a script with write flag using *_ro command.")
			return nil
		}
	}
	run := &e.runBuf
	argv, argBuf, argEnds, out := run.argv, run.argBuf, run.argEnds, run.out
	ops, ready := run.ops[:0], run.ready[:0]
	*run = scriptRun{eng: e, caller: c, argv: argv[:0], argBuf: argBuf[:0], argEnds: argEnds[:0],
		out: out[:0], ops: ops, ready: ready}
	e.client.db = c.db
	run.callerResp = c.resp
	run.resp = 2
	run.repl = replAll
	run.readOnly = ro || (flags&scriptEvalCompat == 0 && flags&scriptNoWrites != 0)
	run.allowOOM = flags&scriptEvalCompat == 0 && flags&scriptAllowOOM != 0
	run.oom = s.cfg.Maxmemory > 0 && s.performEvictions() == evictFail
	run.snapshot = s.now
	run.start = monotonic()
	return run
}

// ---------------------------------------------------------------------------
// Running: the executor side of the handoff.
// ---------------------------------------------------------------------------

// execute hands run to the script goroutine and serves its requests until
// it returns, or until it has run longer than busy-reply-threshold (then
// the rest happens through Hooks.Post, see step 4 above).
func (e *scriptEngine) execute(run *scriptRun) {
	s := e.srv
	e.run = run
	e.direct = true // the worker has not got run yet: no lock needed
	select {
	case e.jobs <- run:
	default:
		go e.worker(run)
	}
	var timeout <-chan time.Time
	threshold := s.cfg.BusyReplyThreshold
	// A script may go busy at the top level or inside a client's EXEC (the
	// rest of the transaction then waits for it, see runExecQueue); never
	// while loading or for the server's own clients.
	topLevel := s.execDepth == 0 || (s.execDepth == 1 && run.caller.inExec)
	deadline := run.start + threshold*int64(time.Millisecond)
	if threshold > 0 && topLevel && !s.loading && s.Hooks.Post != nil && !run.caller.isInternal() {
		// The timer is re-armed only when it would fire too late for this
		// run: scripts in a row share it, and an early fire re-arms it for
		// the rest: no timer Reset and Stop for every script.
		if e.timer == nil || e.timerAt == 0 || e.timerAt > deadline {
			e.armBusyTimer(deadline)
		}
		timeout = e.timer.C
	}
	for {
		select {
		case r := <-e.toExec:
			if r.op == opDone {
				e.finish(r)
				return
			}
			e.serve(r)
			e.toScript <- struct{}{}
		case <-timeout:
			e.timerAt = 0
			if monotonic() < deadline {
				e.armBusyTimer(deadline) // armed for an earlier script
				continue
			}
			e.directMu.Lock()
			e.direct = false
			e.directMu.Unlock()
			e.goBusy(run)
			return
		}
	}
}

// armBusyTimer makes the busy timer fire at deadline (monotonic ns).
func (e *scriptEngine) armBusyTimer(deadline int64) {
	d := time.Duration(max(deadline-monotonic(), 0))
	if e.timer == nil {
		e.timer = time.NewTimer(d)
	} else {
		e.timer.Reset(d)
	}
	e.timerAt = deadline
}

// isInternal reports whether c is one of the server's own clients (AOF
// loader, script client): they never wait for a busy script.
func (c *Client) isInternal() bool { return c.id < 0 }

// request sends the script's request to the executor and waits for the
// answer (script goroutine).
func (e *scriptEngine) request(run *scriptRun, op int) {
	run.op = op
	e.directMu.Lock()
	if e.direct {
		e.serve(run)
		e.directMu.Unlock()
		return
	}
	e.directMu.Unlock()
	e.toExec <- run
	<-e.toScript
}

// worker is the script goroutine: it runs scripts handed to it and exits
// after a while without work.
func (e *scriptEngine) worker(run *scriptRun) {
	idle := time.NewTimer(scriptWorkerIdle)
	defer idle.Stop()
	for {
		e.runScript(run)
		run.op = opDone
		e.toExec <- run
		idle.Reset(scriptWorkerIdle)
		select {
		case run = <-e.jobs:
		case <-idle.C:
			return
		}
	}
}

// runScript runs one script on the script goroutine; a Go panic (a bug)
// becomes an error reply instead of taking the server down.
func (e *scriptEngine) runScript(run *scriptRun) {
	defer func() {
		if r := recover(); r != nil {
			e.srv.log.Error("panic in script", "script", run.name, "panic", fmt.Sprint(r))
			run.out = appendScriptError(run.out[:0], "ERR internal error while running the script; see the server log")
			run.outErr = "ERR internal error"
		}
		run.vm.resetKill()
	}()
	run.vm.call(run)
}

// serve answers one request of the script (executor).
func (e *scriptEngine) serve(run *scriptRun) {
	switch run.op {
	case opCall:
		e.serveCall(run)
	case opACL:
		e.serveACL(run)
	}
}

// lookupScriptCommand finds argv's command as the gate does, or returns
// scriptCall's error.
func (s *Server) lookupScriptCommand(argv [][]byte) (*Spec, string) {
	cmd := s.table.lookup(argv[0])
	if cmd != nil && cmd.Subcommands != nil {
		if len(argv) < 2 {
			return cmd, ""
		}
		sub := cmd.subcommand(argv[1])
		if sub == nil {
			return nil, "Unknown Redis command called from script"
		}
		cmd = sub
	}
	if cmd == nil {
		return nil, "Unknown Redis command called from script"
	}
	if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		return nil, "Wrong number of args calling Redis command from script"
	}
	return cmd, ""
}

// serveCall runs one redis.call for the script, as scriptCall: the checks
// in Redis's order, then call().
func (e *scriptEngine) serveCall(run *scriptRun) {
	s := e.srv
	c := e.client
	run.callErr = ""
	c.out = c.out[:0]
	argv := run.argv
	cmd, msg := s.lookupScriptCommand(argv)
	if msg == "" && cmd.Handler == nil {
		// A container without its subcommand.
		msg = "Wrong number of args calling Redis command from script"
	}
	if msg == "" && cmd.Flags&FlagNoScript != 0 {
		msg = "This Redis command is not allowed from script"
	}
	if msg == "" {
		if acl := s.aclCheckScript(run.caller, cmd, argv); acl != "" {
			msg = "-" + acl
		}
	}
	if msg == "" && run.readOnly && cmd.Flags&(FlagWrite|FlagMayReplicate) != 0 {
		// May-replicate commands count as writes here, so read-only
		// scripts may run during CLIENT PAUSE WRITE.
		msg = "Write commands are not allowed from read-only scripts."
	}
	if msg == "" && cmd.Flags&FlagWrite != 0 {
		if !run.writeDirty && !s.loading {
			if m := s.misconf(); m != "" {
				msg = "-" + m
			}
		}
	}
	if msg == "" && !run.allowOOM && s.cfg.Maxmemory > 0 && !s.loading && !run.writeDirty &&
		run.oom && cmd.Flags&FlagDenyOOM != 0 {
		msg = "-" + oomError
	}
	if msg != "" {
		run.callErr = msg
		if cmd != nil {
			cmd.RejectedCalls++
		}
		s.countError(luaErrorTableMsg(msg))
		return
	}
	if cmd.Flags&FlagWrite != 0 {
		run.writeDirty = true
	}
	c.resp = run.resp
	c.argv, c.cmd = argv, cmd
	c.replyErr = false
	savedNow := s.now
	if run.busy {
		// Time stands still for the script (scriptTimeSnapshot).
		s.now = run.snapshot
	}
	mark := len(s.prop.ops)
	savedMono := s.lastMono
	s.lastMono = monotonic()
	s.call(c, cmd, argv)
	s.lastMono = savedMono
	if run.repl&replAOF == 0 {
		clear(s.prop.ops[mark:])
		s.prop.ops = s.prop.ops[:mark]
	}
	if run.busy {
		s.now = savedNow
		run.ops = append(run.ops, s.prop.ops[mark:]...)
		clear(s.prop.ops[mark:])
		s.prop.ops = s.prop.ops[:mark]
		run.ready = append(run.ready, s.readyKeys...)
		s.readyKeys = s.readyKeys[:0]
	}
	c.argv = nil
	run.reply = c.out
}

// luaErrorTableMsg is the error text luaErrorTable makes of msg (for the
// error statistics).
func luaErrorTableMsg(msg string) string {
	if strings.HasPrefix(msg, "-") {
		if sp := strings.IndexByte(msg, ' '); sp >= 0 {
			return msg[1:]
		}
		return "ERR " + msg[1:]
	}
	return "ERR " + msg
}

// serveACL answers redis.acl_check_cmd.
func (e *scriptEngine) serveACL(run *scriptRun) {
	s := e.srv
	run.callErr = ""
	cmd := s.table.lookup(run.argv[0])
	if cmd != nil && cmd.Subcommands != nil && len(run.argv) >= 2 {
		cmd = cmd.subcommand(run.argv[1])
	}
	if cmd == nil {
		run.callErr = "Invalid command passed to redis.acl_check_cmd()"
		return
	}
	run.aclOK = s.aclAllows(run.caller, cmd, run.argv)
}

// goBusy is step 4: the script outlived busy-reply-threshold.
func (e *scriptEngine) goBusy(run *scriptRun) {
	s := e.srv
	run.busy = true
	run.cmdArgv = copyArgv(run.caller.argv)
	// Hold back what the script propagated so far: it leaves as one unit
	// when the script ends.
	run.ops = append(run.ops, s.prop.ops...)
	clear(s.prop.ops)
	s.prop.ops = s.prop.ops[:0]
	run.ready = append(run.ready, s.readyKeys...)
	s.readyKeys = s.readyKeys[:0]
	run.caller.paused = true
	what := "SCRIPT KILL"
	if !run.eval {
		what = "FUNCTION KILL"
	}
	s.log.Warn(fmt.Sprintf("Slow script detected: still in execution after %d milliseconds. You can try killing the script using the %s command.",
		(monotonic()-run.start)/1e6, what))
	post := s.Hooks.Post
	go func() {
		for {
			r := <-e.toExec
			op := r.op
			e.busyQ <- r
			post(e.drainBusy)
			if op == opDone {
				return
			}
		}
	}()
}

// drainBusy handles the busy script's pending request, if SCRIPT KILL has
// not already done so (executor).
func (e *scriptEngine) drainBusy() {
	select {
	case r := <-e.busyQ:
		e.handleBusy(r)
	default:
	}
}

func (e *scriptEngine) handleBusy(r *scriptRun) {
	if r.op == opDone {
		e.finish(r)
		return
	}
	e.serve(r)
	e.toScript <- struct{}{}
}

// finish delivers the script's reply (steps 3 and 6).
func (e *scriptEngine) finish(run *scriptRun) {
	s := e.srv
	c := run.caller
	e.run = nil
	if !run.busy {
		c.out = append(c.out, run.out...)
		if run.outErr != "" {
			c.replyErr = true
			if !run.outErrNoStats {
				s.countError(run.outErr)
			}
		}
		return
	}
	if s.shutdownAsap {
		// Stopped by shutdown (stopScripts): as in Redis, the caller gets
		// no reply and the script's writes die with the server (the AOF
		// is closed already).
		clear(run.ops)
		run.ops = run.ops[:0]
		run.ready = run.ready[:0]
		e.execSuspended, e.execRest = false, nil
		return
	}
	if !c.replyOff {
		c.out = append(c.out, run.out...)
	}
	if run.outErr != "" && !run.outErrNoStats {
		s.countError(run.outErr)
	}
	s.prop.ops = append(s.prop.ops, run.ops...)
	clear(run.ops)
	run.ops = run.ops[:0]
	s.readyKeys = append(s.readyKeys, run.ready...)
	run.ready = run.ready[:0]
	if e.execSuspended {
		// The script was part of c's transaction: the rest of it runs now,
		// and its writes join the same unit. It may go busy again.
		if e.resumeExec(c); s.scriptBusy() {
			return
		}
	}
	written := s.prop.offset
	s.afterCommand()
	if s.prop.offset > written {
		c.lastWrite = s.prop.offset
	}
	c.paused = false
	if !c.closed {
		c.markPending()
		c.conn.Wake()
	}
	s.log.Warn("Slow script finished", "script", run.name, "ms", (monotonic()-run.start)/1e6)
}

// scriptKill is SCRIPT KILL (eval) and FUNCTION KILL.
func (s *Server) scriptKill(c *Client, eval bool) {
	var run *scriptRun
	if s.scripts != nil {
		run = s.scripts.run
	}
	if run == nil || !run.busy {
		c.addError(errNotBusy)
		return
	}
	if run.writeDirty {
		c.addError(errUnkillable)
		return
	}
	if eval && !run.eval {
		c.addError(errSlowScript)
		return
	}
	if !eval && run.eval {
		c.addError(errSlowEval)
		return
	}
	run.killed = true
	run.vm.cancel()
	s.log.Warn("Lua script killed by user with SCRIPT KILL.")
	// The script fails at its next instruction: wait for it a little, so
	// that, as in Redis, it is over when SCRIPT KILL answers.
	deadline := time.NewTimer(killWait)
	defer deadline.Stop()
	for s.scripts.run == run {
		select {
		case r := <-s.scripts.busyQ:
			if r.op == opDone && s.scripts.execSuspended {
				// The rest of the caller's transaction must not run inside
				// this command: the drainBusy the forwarder posted ends it.
				s.scripts.busyQ <- r
				c.addOK()
				return
			}
			s.scripts.handleBusy(r)
		case <-deadline.C:
			c.addOK()
			return
		}
	}
	c.addOK()
}

// suspendExec keeps the rest of c's transaction while the script it ran
// is busy (runExecQueue). The client stays in its EXEC (inExec,
// denyBlocking) but leaves MULTI state, so that freeing it meanwhile
// discards nothing the resumption needs.
func (s *Server) suspendExec(c *Client, rest []queuedCommand) {
	e := s.scripts
	e.execSuspended = true
	e.execRest = append(e.execRest[:0], rest...)
	s.discardTransaction(c)
}

// resumeExec runs the rest of a transaction whose script went busy, once
// the script has ended.
func (e *scriptEngine) resumeExec(c *Client) {
	s := e.srv
	rest := e.execRest
	e.execSuspended = false
	e.execRest = nil
	s.lastMono = monotonic()
	s.runExecQueue(c, rest)
}

// stopScripts ends a script still running when the server shuts down
// (SHUTDOWN NOSAVE during an unkillable script, SIGTERM): its VM is
// cancelled so that its goroutine stops instead of spinning on in a process
// that embeds the server. The writes it held back are dropped, as Redis
// exits without propagating them.
func (s *Server) stopScripts() {
	if s.scripts == nil || s.scripts.run == nil {
		return
	}
	run := s.scripts.run
	run.killed = true
	run.vm.cancel()
	s.log.Warn("Stopping the running script on shutdown", "script", run.name)
}

// ---------------------------------------------------------------------------
// SCRIPT
// ---------------------------------------------------------------------------

func cmdScriptLoad(c *Client, args [][]byte) {
	e := c.srv.scripting()
	sc, msg := e.createScript(args[2])
	if sc == nil {
		c.addError("ERR " + msg)
		return
	}
	c.addBulkString(sc.sha)
}

func cmdScriptExists(c *Client, args [][]byte) {
	e := c.srv.scripting()
	c.addArrayLen(len(args) - 2)
	for _, a := range args[2:] {
		if e.scripts[strings.ToLower(string(a))] != nil {
			c.addInt(1)
		} else {
			c.addInt(0)
		}
	}
}

func cmdScriptFlush(c *Client, args [][]byte) {
	switch {
	case len(args) == 2:
	case len(args) == 3 && (equalFold(args[2], "sync") || equalFold(args[2], "async")):
	default:
		c.addError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	c.srv.scripting().flushScripts()
	c.addOK()
}

func cmdScriptKill(c *Client, args [][]byte) { c.srv.scriptKill(c, true) }

// cmdScriptDebug: Spinel has no Lua debugger. NO (debugging off) is what
// every client already has; YES and SYNC are refused.
func cmdScriptDebug(c *Client, args [][]byte) {
	switch {
	case equalFold(args[2], "no"):
		c.addOK()
	case equalFold(args[2], "yes"), equalFold(args[2], "sync"):
		c.addError("ERR the Lua debugger is not supported")
	default:
		c.addError("ERR Use SCRIPT DEBUG YES/SYNC/NO")
	}
}

func cmdScriptHelp(c *Client, args [][]byte) {
	c.addHelp("SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	)
}

// ---------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------

// scriptStats is what INFO memory (and MEMORY STATS) report of scripting.
type scriptStats struct {
	vmEval, vmFunctions int64 // the two Lua VMs' sizes
	scriptsEval         int64 // the EVAL script cache (used_memory_scripts_eval)
	functions           int64 // the function libraries' overhead (used_memory_functions)
	cached              int64 // cached EVAL scripts
	nfunctions, nlibs   int64
}

// Estimates of what Redis reports (functions.c): the function libraries'
// bookkeeping with none loaded, and per library and function on top of
// their code and names.
const (
	functionsBaseMem = 200
	libraryMem       = 120
	functionMem      = 100
	idleVMMem        = 32 << 10 // an idle interpreter, as Redis's is about
)

// scriptingStats reports the scripting engine's memory and counts. The VM
// sizes are estimates: gopher-lua does not count its memory; an interpreter
// not created yet is reported at its idle size, as Redis creates both at
// start-up.
func (s *Server) scriptingStats() scriptStats {
	st := scriptStats{vmEval: idleVMMem, vmFunctions: idleVMMem, functions: functionsBaseMem}
	e := s.scripts
	if e == nil {
		return st
	}
	if e.evalVM != nil {
		st.vmEval = e.evalVM.memory
	}
	if e.fnVM != nil {
		st.vmFunctions = e.fnVM.memory
	}
	st.scriptsEval = e.scriptsMem
	st.cached = int64(len(e.scripts))
	fs := e.functions()
	st.nfunctions, st.nlibs = int64(len(fs.funcs)), int64(len(fs.libs))
	for _, lib := range fs.libs {
		st.functions += libraryMem + int64(len(lib.name)+len(lib.code))
		for _, f := range lib.funcs {
			st.functions += functionMem + int64(len(f.name))
			if f.desc != nil {
				st.functions += int64(len(*f.desc))
			}
		}
	}
	return st
}
