// Package eventloop is Spinel's network side: a gnet/v2 reactor with one
// event loop whose goroutine is the command executor, as Redis's main
// thread. It accepts connections, parses every complete RESP frame of each
// read, runs the commands in order and writes the replies of the batch with
// one Write. The cron runs on the same goroutine.
//
// Ownership: the args handed to the executor alias gnet's inbound buffer and
// are valid until Discard, which happens after the whole batch ran; the
// executor copies what it keeps.
package eventloop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"spinel/commands"
	"spinel/config"
	"spinel/eventloop/resp"
	"spinel/persistence"
)

// Server runs the reactor around one executor.
type Server struct {
	gnet.BuiltinEventEngine

	exec *commands.Server
	cfg  *config.Config
	log  *slog.Logger

	addrs []string // gnet listener addresses
	eng   gnet.Engine
	loopV atomic.Value // gnet.EventLoop, set once the internal connection is enrolled
	ready chan struct{}
	hz    atomic.Int64 // cron frequency, read by the ticker goroutine
	// enrolled is touched only by the ticker goroutine.
	enrolled bool
	// aofToLoad is loaded by a goroutine once the loop runs.
	aofToLoad *persistence.AOF
	loadErr   atomic.Value // error: set when loading failed, Serve reports it

	stopOnce sync.Once
	stopped  chan struct{}
	// wakePeer is our end of the internal connection that lets other
	// goroutines run work on the loop.
	wakePeer net.Conn
}

// conn is the executor's view of one gnet connection.
type conn struct {
	gc       gnet.Conn
	client   *commands.Client
	remote   string
	local    string
	internal bool
	closing  bool
}

// internalMarker tags the internal connection in its gnet context.
type internalMarker struct{}

// New builds a server for cfg. The executor is created here too.
func New(cfg *config.Config, log *slog.Logger) (*Server, error) {
	s := &Server{
		cfg:     cfg,
		log:     log,
		ready:   make(chan struct{}),
		stopped: make(chan struct{}),
	}
	s.exec = commands.NewServer(cfg, log)
	s.exec.Hooks.Shutdown = s.shutdownFromLoop
	s.exec.Hooks.After = s.after
	s.exec.Hooks.Post = s.post
	// Users come before data, as in Redis.
	if err := s.exec.LoadACLFile(); err != nil {
		return nil, err
	}
	s.hz.Store(int64(cfg.Hz))
	cfg.OnApply("hz", func(c *config.Config) error {
		s.hz.Store(int64(c.Hz))
		return nil
	})
	addrs, err := listenAddrs(cfg)
	if err != nil {
		return nil, err
	}
	s.addrs = addrs
	if cfg.AppendOnly {
		// Open now so that a bad directory stops start-up; load once the
		// loop runs, answering -LOADING meanwhile.
		a, err := s.exec.OpenAOF()
		if err != nil {
			return nil, fmt.Errorf("open AOF: %w", err)
		}
		s.exec.AttachAOF(a)
		s.exec.SetLoading(true, 0)
		s.aofToLoad = a
	}
	return s, nil
}

// Executor returns the command executor. Touch it only from the loop.
func (s *Server) Executor() *commands.Server { return s.exec }

// listenAddrs turns bind and port into gnet addresses. An address written
// with a leading '-' is optional, as in Redis: skipped when it cannot be
// bound (e.g. "-::1" on a host without IPv6).
func listenAddrs(cfg *config.Config) ([]string, error) {
	var out []string
	if cfg.Port != 0 {
		for _, b := range cfg.Bind {
			optional := strings.HasPrefix(b, "-")
			host := strings.TrimPrefix(b, "-")
			hp := net.JoinHostPort(host, strconv.Itoa(cfg.Port))
			if optional {
				ln, err := net.Listen("tcp", hp)
				if err != nil {
					continue
				}
				_ = ln.Close()
			}
			out = append(out, "tcp://"+hp)
		}
	}
	if cfg.UnixSocket != "" {
		out = append(out, "unix://"+cfg.UnixSocket)
	}
	if len(out) == 0 {
		return nil, errors.New("no listening address: set port or unixsocket")
	}
	return out, nil
}

// Serve runs the server until it is shut down. It returns once every
// connection is closed and the loop has stopped.
func (s *Server) Serve() error {
	opts := []gnet.Option{
		gnet.WithMulticore(false),
		gnet.WithNumEventLoop(1),
		gnet.WithReuseAddr(true),
		gnet.WithTicker(true),
		// Least-connections only reads the loop list, so registering the
		// internal connection from the ticker does not race with accepts.
		gnet.WithLoadBalancing(gnet.LeastConnections),
		gnet.WithReadBufferCap(64 << 10),
		gnet.WithLogger(gnetLogger{s.log}),
	}
	err := gnet.Rotate(s, s.addrs, opts...)
	if le, ok := s.loadErr.Load().(error); ok && err == nil {
		err = le
	}
	s.stopOnce.Do(func() { close(s.stopped) })
	if s.wakePeer != nil {
		_ = s.wakePeer.Close()
	}
	if err != nil {
		return fmt.Errorf("serve %v: %w", s.addrs, err)
	}
	return nil
}

// Ready is closed once the server accepts connections and its loop runs.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Done is closed when Serve has returned.
func (s *Server) Done() <-chan struct{} { return s.stopped }

// OnBoot keeps the engine handle. The loops do not exist yet: the internal
// connection is enrolled on the first tick, which gnet fires once they run.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	if s.cfg.UnixSocket != "" && s.cfg.UnixSocketPerm != 0 {
		if err := os.Chmod(s.cfg.UnixSocket, os.FileMode(s.cfg.UnixSocketPerm)); err != nil {
			s.log.Warn("unixsocketperm", "path", s.cfg.UnixSocket, "err", err)
		}
	}
	return gnet.None
}

// enrollInternal creates a loopback TCP pair and registers one end with the
// engine. gnet's Conn.EventLoop then lets us Execute on the loop. It runs on
// the ticker goroutine.
func (s *Server) enrollInternal() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.log.Error("internal listener", "err", err)
		return
	}
	defer func() { _ = ln.Close() }()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		s.log.Error("internal dial", "err", err)
		return
	}
	peer := <-accepted
	if peer == nil {
		_ = c.Close()
		return
	}
	s.wakePeer = peer
	ctx := gnet.NewContext(gnet.NewNetConnContext(context.Background(), c), internalMarker{})
	ch, err := s.eng.Register(ctx)
	if err != nil {
		s.log.Error("internal register", "err", err)
		return
	}
	res := <-ch
	if res.Err != nil {
		s.log.Error("internal register", "err", res.Err)
		return
	}
	s.loopV.Store(res.Conn.EventLoop())
	close(s.ready)
	if s.aofToLoad != nil {
		go s.loadAOF()
	}
}

// loop returns the event loop, or nil before it is known.
func (s *Server) loop() gnet.EventLoop {
	l, _ := s.loopV.Load().(gnet.EventLoop)
	return l
}

// Run executes fn on the loop and waits for it; for use from other
// goroutines (tests, signal handlers). It reports false if the loop is gone.
func (s *Server) Run(fn func()) bool {
	select {
	case <-s.ready:
	case <-s.stopped:
		return false
	}
	done := make(chan struct{})
	err := s.loop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		fn()
		s.exec.AfterBatch()
		s.exec.FlushPending()
		close(done)
		return nil
	}))
	if err != nil {
		return false
	}
	select {
	case <-done:
		return true
	case <-s.stopped:
		return false
	}
}

// Shutdown stops the server as SIGTERM does: from any goroutine.
func (s *Server) Shutdown() {
	if !s.Run(s.shutdownFromLoop) {
		s.stopEngine()
	}
}

// shutdownFromLoop runs on the loop: it lets the executor finish (flush
// persistence) and stops the engine.
func (s *Server) shutdownFromLoop() {
	s.exec.PrepareShutdown()
	s.stopEngine()
}

func (s *Server) stopEngine() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.eng.Stop(ctx); err != nil {
			s.log.Warn("engine stop", "err", err)
		}
	}()
}

// post runs fn on the loop soon (from any goroutine).
func (s *Server) post(fn func()) {
	loop := s.loop()
	if loop == nil {
		return
	}
	_ = loop.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		fn()
		s.exec.AfterBatch()
		s.exec.FlushPending()
		return nil
	}))
}

// after runs fn on the loop once d has passed.
func (s *Server) after(d time.Duration, fn func()) {
	time.AfterFunc(d, func() {
		loop := s.loop()
		if loop == nil {
			return
		}
		_ = loop.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			fn()
			s.exec.AfterBatch()
			s.exec.FlushPending()
			return nil
		}))
	})
}

// OnTick hands the cron to the loop, hz times a second.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	hz := s.hz.Load()
	if hz <= 0 {
		hz = 10
	}
	if loop := s.loop(); loop == nil {
		if !s.enrolled {
			s.enrolled = true
			s.enrollInternal()
		}
	} else {
		_ = loop.Execute(context.Background(), gnet.RunnableFunc(s.cron))
	}
	return time.Second / time.Duration(hz), gnet.None
}

func (s *Server) cron(context.Context) error {
	s.exec.Cron()
	s.exec.AfterBatch()
	s.exec.FlushPending()
	return nil
}

// OnOpen registers a client, or refuses it over maxclients.
func (s *Server) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	if _, ok := gc.Context().(internalMarker); ok {
		gc.SetContext(&conn{gc: gc, internal: true})
		return nil, gnet.None
	}
	if s.exec.NumClients() >= s.cfg.MaxClients {
		s.exec.RejectClient()
		return []byte("-ERR max number of clients reached\r\n"), gnet.Close
	}
	if msg := s.exec.ProtectedModeDenied(gc.RemoteAddr()); msg != "" {
		s.exec.RejectClient()
		return []byte(msg), gnet.Close
	}
	c := &conn{gc: gc}
	if a := gc.RemoteAddr(); a != nil {
		c.remote = addrString(a)
		if _, tcp := a.(*net.TCPAddr); tcp && s.cfg.TCPKeepalive > 0 {
			// Per connection, as gnet's listener option would also be
			// applied to a unix socket, which refuses it.
			_ = gc.SetKeepAlivePeriod(time.Duration(s.cfg.TCPKeepalive) * time.Second)
		}
	}
	if a := gc.LocalAddr(); a != nil {
		c.local = addrString(a)
	}
	if _, unix := gc.RemoteAddr().(*net.UnixAddr); unix {
		// A unix-socket peer has no name: Redis shows the socket path.
		c.remote = s.cfg.UnixSocket + ":0"
		c.local = c.remote
	}
	c.client = s.exec.NewClient(c)
	gc.SetContext(c)
	return nil, gnet.None
}

// addrString formats an address as Redis does: ip:port, or path:0 for unix
// sockets.
func addrString(a net.Addr) string {
	if ua, ok := a.(*net.UnixAddr); ok {
		return ua.Name + ":0"
	}
	return a.String()
}

// OnClose forgets the client.
func (s *Server) OnClose(gc gnet.Conn, _ error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok || c.internal {
		return gnet.None
	}
	c.closing = true
	s.exec.FreeClient(c.client)
	s.exec.FlushPending()
	return gnet.None
}

// OnTraffic runs every complete command in the inbound buffer and writes the
// replies of the batch at once.
func (s *Server) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	if c.internal {
		_, _ = gc.Discard(-1)
		return gnet.None
	}
	action := s.process(c)
	s.exec.AfterBatch()
	s.exec.FlushPending()
	return action
}

func (s *Server) process(c *conn) gnet.Action {
	gc, cl := c.gc, c.client
	buffered := gc.InboundBuffered()
	cl.QueryBufLen = buffered
	if buffered == 0 || cl.Blocked() {
		return gnet.None
	}
	if buffered < cl.NeedLen {
		return s.checkQueryLimit(c, buffered)
	}
	buf, err := gc.Peek(-1)
	if err != nil {
		return gnet.Close
	}
	s.exec.AddInputBytes(len(buf))
	s.exec.BeginBatch()
	lim := resp.Limits{MaxBulkLen: s.cfg.ProtoMaxBulkLen, MaxInline: resp.DefaultLimits.MaxInline}
	pos := 0
	cl.NeedLen = 0
	action := gnet.None
	for pos < len(buf) {
		argv, n, need, perr := resp.ParseCommand(buf[pos:], cl.ArgsBuf, lim)
		if perr != nil {
			s.protocolError(c, perr, buf[pos:])
			action = gnet.Close
			break
		}
		if n == 0 {
			cl.NeedLen = need
			break
		}
		cl.ArgsBuf = argv[:0]
		pos += n
		if len(argv) == 0 {
			continue
		}
		if !s.exec.Execute(cl, argv) {
			pos -= n // held by CLIENT PAUSE: read it again later
			break
		}
		if cl.CloseAfterReply() {
			action = gnet.Close
			break
		}
		if cl.OutputOverLimit() {
			action = gnet.Close
			break
		}
		if cl.Blocked() {
			break
		}
	}
	clear(cl.ArgsBuf[:cap(cl.ArgsBuf)])
	if pos > 0 {
		// Never Discard(0): gnet reads n <= 0 as "everything".
		_, _ = gc.Discard(pos)
	}
	cl.QueryBufLen = buffered - pos
	cl.Flush()
	if action == gnet.None {
		action = s.checkQueryLimit(c, buffered-pos)
	}
	if s.exec.ShutdownRequested() {
		return gnet.None
	}
	return action
}

// checkQueryLimit closes a client whose unparsed input outgrew
// client-query-buffer-limit, as Redis does (without a reply).
func (s *Server) checkQueryLimit(c *conn, pending int) gnet.Action {
	if int64(pending) > s.cfg.ClientQueryBufferLimit {
		s.log.Warn("closing client that reached max query buffer length",
			"addr", c.remote, "qbuf", pending)
		return gnet.Close
	}
	return gnet.None
}

// protocolError replies with Redis's protocol error and closes the client.
func (s *Server) protocolError(c *conn, err error, rest []byte) {
	var pe *resp.ProtocolError
	msg := "ERR Protocol error"
	if errors.As(err, &pe) {
		msg = "ERR " + pe.Error()
	}
	s.log.Debug("protocol error", "addr", c.remote, "err", err, "qbuf", len(rest))
	c.client.ReplyError(msg)
	c.client.SetCloseAfterReply()
}

// ---- commands.Conn ----

func (c *conn) Write(b []byte) error {
	if c.closing {
		return nil
	}
	_, err := c.gc.Write(b)
	return err
}

func (c *conn) Close() {
	if c.closing {
		return
	}
	c.closing = true
	_ = c.gc.CloseWithCallback(nil)
}

func (c *conn) Wake()                 { _ = c.gc.Wake(nil) }
func (c *conn) OutboundBuffered() int { return c.gc.OutboundBuffered() }
func (c *conn) RemoteAddr() string    { return c.remote }
func (c *conn) LocalAddr() string     { return c.local }
func (c *conn) Fd() int               { return c.gc.Fd() }

// gnetLogger routes gnet's logs to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...)) }
