package commands

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"spinel/commands/keyspace"
	"spinel/config"
	"spinel/persistence"
)

// Version is the Redis version Spinel reports and is compatible with.
const Version = "7.0.15"

// Server is the executor's state: the databases, the connected clients, the
// command table and the statistics. Every method runs on the executor
// goroutine.
type Server struct {
	cfg   *config.Config
	log   *slog.Logger
	dbs   []*database
	table *Table

	clients map[int64]*Client
	nextID  int64
	// pending holds clients that received output while another client's
	// command ran (pub/sub, unblocking); the event loop flushes them after
	// the batch with FlushPending.
	pending []*Client

	now      int64 // unix ms, refreshed before each command
	lruClock uint32
	started  time.Time
	runID    string

	stats stats

	// Hooks into the event loop, set by it before serving.
	Hooks Hooks

	dirty        int64 // changes since start, as Redis's server.dirty
	lastSave     int64 // unix seconds
	shutdownAsap bool
	loading      bool

	pubsub      pubsub
	scripts     *scriptEngine // Lua scripting and functions (scripting.go)
	acl         aclState
	notifyFlags int  // parsed notify-keyspace-events
	lfu         bool // the eviction policy is an LFU one
	execDepth   int  // > 0 while EXEC runs its queue
	scratchKey  []byte
	lastMono    int64 // monotonic ns at the end of the last command
	prop        propagation

	// Memory accounting and eviction (evict.go).
	baseMemory      int64
	clientsMemory   int64
	touched         []touchedObject
	evictionPool    [evictionPoolSize]poolEntry
	evictNextDB     int
	evictionRunning bool
	evictKeyBuf     []byte

	// Introspection (introspect.go).
	slowlog       []slowlogEntry
	slowlogNextID int64
	latency       map[string]*latencyEvent
	monitors      []*Client

	// AOF (aof.go).
	aof            *persistence.AOF
	aofAlways      bool
	syncedOffset   int64 // the AOF is durable up to here
	flushedOffset  int64 // handed to the writer up to here
	syncWait       []*Client
	rewrite        *rewriteJob
	aofRewriteBase int64
	loadingStart   time.Time
	loadingTotal   int64
	loadingDone    int64

	activeExpireOff bool    // DEBUG SET-ACTIVE-EXPIRE 0
	loadClient      *Client // replays the AOF while loading

	// CLIENT PAUSE state.
	pauseEnd      int64 // unix ms; 0: not paused
	pauseAll      bool
	pausedClients []*Client

	blockGen       uint64
	blockedClients int
	readyKeys      []readyKey
}

// Hooks are the services the event loop offers the executor.
type Hooks struct {
	// Shutdown stops the server after the current event.
	Shutdown func()
	// After runs fn on the executor after d (blocking timeouts).
	After func(d time.Duration, fn func())
	// Post runs fn on the executor soon, after pending events.
	Post func(fn func())
}

// stats are the counters INFO reports.
type stats struct {
	numCommands    int64
	numConnections int64
	rejectedConns  int64
	expiredKeys    int64
	evictedKeys    int64
	evictedClients int64
	keyspaceHits   int64
	keyspaceMisses int64
	netInput       int64
	netOutput      int64
	reads, writes  int64
	// outputLimitClosed counts clients closed by client-output-buffer-limit.
	outputLimitClosed int64
	totalErrors       int64
	panics            int64
	errorCodes        map[string]int64
	opsSamples        [16]int64 // ops/sec samples for instantaneous_ops_per_sec
	inSamples         [16]int64
	outSamples        [16]int64
	sampleIdx         int
	lastSampleTime    int64
	lastSampleOps     int64
	lastSampleIn      int64
	lastSampleOut     int64
	peakMemory        int64
	expireCycleTime   int64
}

// database is one numbered database with the executor's bookkeeping around
// the keyspace.
type database struct {
	id int
	kv *keyspace.DB
	// watched maps a key to the clients that WATCH it in this database.
	watched map[string][]*Client
	// blocking maps a key to the clients blocked on it, in FIFO order.
	blocking map[string][]*Client
}

// NewServer returns an executor configured by cfg.
func NewServer(cfg *config.Config, log *slog.Logger) *Server {
	s := &Server{
		cfg:     cfg,
		log:     log,
		table:   newTable(),
		clients: make(map[int64]*Client),
		started: time.Now(),
		runID:   newRunID(),
	}
	s.dbs = make([]*database, cfg.Databases)
	for i := range s.dbs {
		s.dbs[i] = &database{id: i, kv: keyspace.NewDB()}
	}
	s.stats.errorCodes = make(map[string]int64)
	s.initACL()
	s.prop.db = -1
	s.applyConfig()
	s.updateTime(time.Now())
	s.lastSave = s.now / 1000
	s.baseMemory = heapObjectBytes()
	_ = s.applyMemoryLimit(cfg)
	cfg.OnApply("maxmemory", s.applyMemoryLimit)
	return s
}

func newRunID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Config returns the server's configuration.
func (s *Server) Config() *config.Config { return s.cfg }

// BeginBatch refreshes the clock once for a batch of pipelined commands: the
// cached time Redis's commands use for expiry decisions, and the start of
// the first command's duration.
func (s *Server) BeginBatch() { s.updateTime(time.Now()) }

// processStart anchors monotonic().
var processStart = time.Now()

// monotonic returns nanoseconds on the monotonic clock.
func monotonic() int64 { return int64(time.Since(processStart)) }

// updateTime refreshes the cached clock used for expiry decisions and the
// LRU clock, as Redis's updateCachedTime.
func (s *Server) updateTime(t time.Time) {
	s.lastMono = int64(t.Sub(processStart))
	s.now = t.UnixMilli()
	s.lruClock = uint32(s.now/1000) & keyspace.LRUMask
}

// NewClient registers a new connection and returns its state.
func (s *Server) NewClient(conn Conn) *Client {
	s.nextID++
	c := &Client{
		srv:     s,
		conn:    conn,
		id:      s.nextID,
		db:      s.dbs[0],
		resp:    2,
		authn:   s.defaultAuthenticated(),
		user:    s.acl.defaultUser,
		created: s.now,
	}
	c.lastActivity = s.now
	s.clients[c.id] = c
	s.stats.numConnections++
	return c
}

// NumClients returns the number of connected clients.
func (s *Server) NumClients() int { return len(s.clients) }

// RejectClient counts a connection refused because of maxclients.
func (s *Server) RejectClient() { s.stats.rejectedConns++ }

// FreeClient forgets a closed connection and everything it held (watched
// keys, subscriptions, blocking state).
func (s *Server) FreeClient(c *Client) {
	if c.closed {
		return
	}
	s.freeBlocked(c)
	if c.monitor {
		s.removeMonitor(c)
	}
	s.discardTransaction(c)
	s.unsubscribeAll(c, false)
	c.closed = true
	delete(s.clients, c.id)
}

// FlushPending writes the output that commands queued for other clients.
func (s *Server) FlushPending() {
	for i, c := range s.pending {
		c.Flush()
		s.pending[i] = nil
	}
	s.pending = s.pending[:0]
}

// AddInputBytes counts bytes read from clients (INFO stats).
func (s *Server) AddInputBytes(n int) { s.stats.netInput += int64(n) }

// countError counts an error reply by its code (the first word), for INFO
// errorstats.
func (s *Server) countError(msg string) {
	s.stats.totalErrors++
	code := msg
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		code = msg[:i]
	}
	if len(code) > 128 {
		code = code[:128]
	}
	if _, ok := s.stats.errorCodes[code]; ok || len(s.stats.errorCodes) < 128 {
		s.stats.errorCodes[code]++
	}
}

// ---------------------------------------------------------------------------
// The gate: every command passes through Execute, which does what Redis's
// processCommand and call do, in the same order, so no handler repeats a
// check.
// ---------------------------------------------------------------------------

// Execute runs one command for c. argv aliases the input buffer and is valid
// only during the call. It reports false when the command was not consumed:
// the client is held (CLIENT PAUSE) and must send it again once released,
// so the event loop leaves it in the buffer.
func (s *Server) Execute(c *Client, argv [][]byte) bool {
	if len(argv) == 0 {
		return true
	}
	c.lastActivity = s.now
	c.argv = argv
	c.replyErr = false

	cmd := s.table.lookup(argv[0])
	if cmd != nil && cmd.Subcommands != nil && len(argv) >= 2 {
		sub := cmd.subcommand(argv[1])
		if sub == nil {
			c.cmd = nil
			s.reject(c, nil, fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.",
				cString(argv[1], 128), strings.ToUpper(string(argv[0]))))
			return true
		}
		cmd = sub
	}
	if cmd == nil {
		c.cmd = nil
		s.reject(c, nil, unknownCommandError(argv))
		return true
	}
	c.cmd = cmd
	if (cmd.Arity > 0 && cmd.Arity != len(argv)) || len(argv) < -cmd.Arity {
		s.reject(c, cmd, "ERR wrong number of arguments for '"+cmd.FullName+"' command")
		return true
	}
	if !c.authn && s.authRequired() && cmd.Flags&FlagNoAuth == 0 {
		s.reject(c, cmd, ErrNoAuth)
		return true
	}
	if c.multi && cmd.Flags&FlagNoMulti != 0 {
		s.reject(c, cmd, "ERR Command not allowed inside a transaction")
		return true
	}
	if msg := s.aclCheck(c, cmd, argv); msg != "" {
		s.reject(c, cmd, msg)
		return true
	}
	if c.resp == 2 && cmd.Flags&FlagPubSubContext == 0 && c.inPubSubMode() {
		s.reject(c, cmd, "ERR Can't execute '"+cmd.FullName+
			"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
		return true
	}
	if s.cfg.Maxmemory > 0 && s.performEvictions() == evictFail {
		// Over the limit with nothing left to evict: refuse what may grow
		// memory; inside MULTI refuse queuing anything but the commands
		// that end the transaction, as Redis does.
		denyOOM := cmd.Flags&FlagDenyOOM != 0 || (cmd.Name == "exec" && c.multiDenyOOM)
		if c.multi && cmd.Flags&FlagTxControl == 0 {
			denyOOM = true
		}
		if denyOOM {
			s.reject(c, cmd, oomError)
			return true
		}
	}
	if s.aof != nil && (cmd.Flags&FlagWrite != 0 || cmd.Name == "ping" || (cmd.Name == "exec" && c.multiWrites())) {
		if msg := s.misconf(); msg != "" {
			s.reject(c, cmd, msg)
			return true
		}
	}
	if s.scriptBusy() && cmd.Flags&FlagAllowBusy == 0 {
		s.reject(c, cmd, s.busyError())
		return true
	}
	if s.loading && cmd.Flags&FlagLoading == 0 {
		s.reject(c, cmd, "LOADING Redis is loading the dataset in memory")
		return true
	}
	if c.multi && cmd.Flags&FlagTxControl == 0 {
		c.queueMulti(cmd, argv)
		c.addRawString("+QUEUED\r\n")
		return true
	}
	if s.shutdownAsap {
		return true
	}
	if s.pausedFor(c, cmd) {
		s.holdClient(c)
		return false
	}
	mark := len(c.out)
	written := s.prop.offset
	s.call(c, cmd, argv)
	if c.replyOff || c.replySkip {
		// CLIENT REPLY OFF/SKIP: the command ran, its reply is dropped.
		c.out = c.out[:mark]
		c.replySkip = false
	}
	if c.replySkipNext {
		c.replySkipNext, c.replySkip = false, true
	}
	if s.execDepth == 0 {
		s.afterCommand()
	}
	if s.prop.offset > written {
		c.lastWrite = s.prop.offset
	}
	return true
}

// reject refuses a command before it runs, as Redis's rejectCommand: the
// error is sent and a transaction being queued is doomed.
func (s *Server) reject(c *Client, cmd *Spec, msg string) {
	c.flagTransaction()
	if cmd != nil {
		cmd.RejectedCalls++
	}
	if cmd != nil && cmd.Name == "exec" {
		// A refused EXEC aborts the transaction (execCommandAbort).
		s.discardTransaction(c)
		c.addError("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
		return
	}
	c.addError(msg)
}

// unknownCommandError formats Redis's reply for an unknown command: the name
// and up to 128 bytes of quoted arguments.
func unknownCommandError(argv [][]byte) string {
	var b strings.Builder
	for _, a := range argv[1:] {
		if b.Len() >= 128 {
			break
		}
		room := 128 - b.Len()
		b.WriteByte('\'')
		b.Write(cString(a, room))
		b.WriteString("' ")
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", cString(argv[0], 128), b.String())
}

// cString is a as C's "%.*s" prints it: cut at the first NUL and at max bytes.
func cString(a []byte, max int) []byte {
	for i, ch := range a {
		if ch == 0 {
			a = a[:i]
			break
		}
	}
	if len(a) > max {
		a = a[:max]
	}
	return a
}

// call runs the handler, recovering a panic so that one client never takes
// the server down, and keeps the per-command statistics.
func (s *Server) call(c *Client, cmd *Spec, argv [][]byte) {
	dirty := s.dirty
	s.beginPropagation()
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.stats.panics++
				s.log.Error("panic in command", "cmd", cmd.FullName, "args", len(argv),
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				c.addError("ERR internal error while executing '" + cmd.FullName + "'; see the server log")
			}
		}()
		cmd.Handler(c, argv)
	}()
	s.endPropagation(c, cmd, argv, s.dirty != dirty)
	if len(s.touched) > 0 {
		s.measureTouched()
	}
	cmd.Calls++
	// One clock read per command: its duration runs from the end of the
	// previous command (or the start of the batch).
	end := monotonic()
	ns := end - s.lastMono
	cmd.Usec += ns / 1000
	s.lastMono = end
	s.observeCommand(c, cmd, argv, ns)
	if c.replyErr {
		cmd.FailedCalls++
	}
	s.stats.numCommands++
	c.lastCmd = cmd
}

// Cron is the periodic housekeeping, run on the executor hz times a second:
// active expiry, idle client timeouts, incremental rehashing and the
// statistics samples.
func (s *Server) Cron() {
	s.updateTime(time.Now())
	if s.scriptBusy() {
		// As Redis's whileBlockedCron: while a script runs past
		// busy-reply-threshold nothing may change the dataset under it
		// (active expiry, eviction, client eviction) or snapshot it half
		// done (an automatic AOF rewrite would hold the script's first
		// writes and get them again when it ends).
		s.sampleStats()
		return
	}
	s.activeExpireCycle()
	s.clientsCron()
	s.clientsMemory = 0
	for _, c := range s.clients {
		s.clientsMemory += c.memory()
	}
	s.evictClients()
	if s.cfg.Maxmemory > 0 {
		s.performEvictions()
	}
	s.rewriteCron()
	for _, db := range s.dbs {
		db.kv.Cron(100)
	}
	s.sampleStats()
}

// clientsCron closes clients idle longer than the timeout option.
func (s *Server) clientsCron() {
	if s.cfg.Timeout <= 0 {
		return
	}
	limit := int64(s.cfg.Timeout) * 1000
	for _, c := range s.clients {
		if c.noTimeout() {
			continue
		}
		if s.now-c.lastActivity > limit {
			s.log.Debug("closing idle client", "id", c.id)
			c.conn.Close()
		}
	}
}

func (s *Server) sampleStats() {
	const sampleEvery = 100 // ms, as Redis's run_with_period(100)
	if s.now-s.stats.lastSampleTime < sampleEvery {
		return
	}
	st := &s.stats
	dt := s.now - st.lastSampleTime
	if st.lastSampleTime != 0 {
		i := st.sampleIdx % len(st.opsSamples)
		st.opsSamples[i] = (st.numCommands - st.lastSampleOps) * 1000 / dt
		st.inSamples[i] = (st.netInput - st.lastSampleIn) * 1000 / dt
		st.outSamples[i] = (st.netOutput - st.lastSampleOut) * 1000 / dt
		st.sampleIdx++
	}
	st.lastSampleTime = s.now
	st.lastSampleOps, st.lastSampleIn, st.lastSampleOut = st.numCommands, st.netInput, st.netOutput
}

func average(v []int64) int64 {
	var sum int64
	for _, x := range v {
		sum += x
	}
	return sum / int64(len(v))
}

// Pid is the process id, reported by INFO.
var pid = os.Getpid()

// ShutdownRequested reports whether SHUTDOWN ran.
func (s *Server) ShutdownRequested() bool { return s.shutdownAsap }

// PrepareShutdown does what must happen before the process exits, on the
// executor: persistence is flushed and synced.
func (s *Server) PrepareShutdown() {
	s.shutdownAsap = true
	s.stopScripts()
	if err := s.CloseAOF(); err != nil {
		s.log.Error("Error closing the AOF on shutdown", "err", err)
	}
}
