package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"spinel/config"
	"spinel/persistence"
)

// ---------------------------------------------------------------------------
// The executor's side of the AOF: the write stream goes to
// persistence.AOF; under appendfsync always, replies wait until the writes
// they follow are on disk (group commit: one fsync covers every write of a
// batch of events); a write error refuses writes with -MISCONF; BGREWRITEAOF
// serialises a point-in-time snapshot in slices on this goroutine while the
// persistence goroutine writes the new base file.
// ---------------------------------------------------------------------------

var aofCommands = []cmdDef{
	{"bgrewriteaof", cmdBgrewriteaof, 0},
}

// AttachAOF connects an opened AOF: propagation goes to it from now on.
func (s *Server) AttachAOF(a *persistence.AOF) {
	s.aof = a
	s.SetAOF(a)
	s.syncedOffset = 0
	s.flushedOffset = 0
}

// AOF returns the attached AOF, or nil.
func (s *Server) AOF() *persistence.AOF { return s.aof }

// SetLoading marks the dataset as loading: clients get -LOADING and nothing
// expires.
func (s *Server) SetLoading(on bool, totalBytes int64) {
	s.loading = on
	if on {
		s.loadingStart = time.Now()
		s.loadingTotal = totalBytes
		s.loadingDone = 0
	}
}

// LoadingProgress records how much of the AOF has been replayed.
func (s *Server) LoadingProgress(done, total int64) {
	s.loadingDone, s.loadingTotal = done, total
}

// AfterBatch runs after each batch of events: it hands the propagated
// writes to the AOF writer. Under appendfsync always the writer fsyncs them
// and calls back; replies produced meanwhile are held (see holdForSync).
func (s *Server) AfterBatch() {
	if s.aof == nil {
		return
	}
	s.flushPropagation()
	if s.prop.offset > s.flushedOffset {
		s.flushedOffset = s.prop.offset
		s.aof.Flush()
	}
}

// holdForSync reports whether c's output must wait for an fsync, and queues
// c to be flushed when it lands. Replies that follow writes may only leave
// once those writes are durable; so may any reply produced while such
// writes are pending, since it may show their effect. While the disk fails,
// only clients with writes of their own wait: the others are answered (new
// writes are refused with -MISCONF meanwhile), so reads stay available.
func (s *Server) holdForSync(c *Client) bool {
	if s.aof == nil || !s.aofAlways || s.prop.offset <= s.syncedOffset {
		return false
	}
	need := s.prop.offset
	if s.aof.WriteError() != nil {
		if c.lastWrite <= s.syncedOffset {
			return false
		}
		need = c.lastWrite
	}
	if c.syncOffset == 0 {
		s.syncWait = append(s.syncWait, c)
	}
	c.syncOffset = max(c.syncOffset, need)
	return true
}

// AOFSynced is called (on the executor) when the AOF is durable up to
// offset: held replies covered by it leave.
func (s *Server) AOFSynced(offset int64) {
	if offset <= s.syncedOffset {
		return
	}
	s.syncedOffset = offset
	waiting := s.syncWait
	s.syncWait = nil
	for _, c := range waiting {
		switch {
		case c.closed:
			c.syncOffset = 0
		case c.syncOffset <= offset:
			// Everything c holds was produced before this offset.
			c.syncOffset = 0
			c.writeOut()
		default:
			s.syncWait = append(s.syncWait, c)
		}
	}
}

// applyAppendfsync follows CONFIG SET appendfsync.
func (s *Server) applyAppendfsync(c *config.Config) error {
	p, _ := persistence.ParsePolicy(c.AppendFsync)
	s.aofAlways = p == persistence.FsyncAlways
	if s.aof != nil {
		s.aof.SetPolicy(p)
		if !s.aofAlways {
			s.AOFSynced(s.prop.offset) // nothing waits in the other modes
		}
	}
	return nil
}

// misconf returns Redis's -MISCONF error when the AOF cannot be written.
func (s *Server) misconf() string {
	if s.aof == nil {
		return ""
	}
	err := s.aof.WriteError()
	if err == nil {
		return ""
	}
	return "MISCONF Errors writing to the AOF file: " + strerror(err)
}

// strerror gives the C library's text of an I/O error, as Redis prints it.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return strings.ToUpper(msg[:1]) + msg[1:]
	}
	return err.Error()
}

// CloseAOF flushes, fsyncs and closes the AOF (SHUTDOWN, SIGTERM).
func (s *Server) CloseAOF() error {
	if s.aof == nil {
		return nil
	}
	s.flushPropagation()
	if s.rewrite != nil {
		s.rewrite.w.Abort()
		s.endSnapshot()
	}
	err := s.aof.Close()
	s.AOFSynced(s.prop.offset)
	return err
}

// ---------------------------------------------------------------------------
// AOF rewrite on a point-in-time snapshot:
//
// 1) BGREWRITEAOF flushes the pending propagation, then persistence opens a
//    new incremental file that takes every later write; at that same instant
//    the keyspace marks flip, so every existing key is "not yet written".
// 2) The snapshot is serialised on the executor in slices of about a
//    millisecond between batches of client events: each slice walks the
//    databases with the dict's SCAN cursor (which visits every key present
//    throughout) and writes each key not yet written, as SET/RPUSH/HSET/...
//    plus PEXPIREAT, then marks it. Keys created later carry the new mark
//    and are skipped: they are in the new incremental file.
// 3) Before any key that is not yet written changes or goes (a write, an
//    expiry, an eviction, a FLUSHDB or SWAPDB), the keyspace calls back and
//    the key is written first, with its value from the snapshot's instant.
// 4) The bytes go to persistence, whose goroutine writes the temporary base;
//    when the walk is done, Finish fsyncs it and switches the manifest.
// No copy of the dataset is made and no slice runs long, so the executor
// never pauses for long and memory grows only by the write buffer.
// ---------------------------------------------------------------------------

type rewriteJob struct {
	w        *persistence.RewriteWriter
	db       int
	cursor   uint64
	selected int
	buf      []byte
	refs     []Ref
	keys     int64
	started  time.Time
	scanDone bool
}

// A rewrite slice runs about rewriteSlice, then the loop serves clients for
// at least rewritePause.
const (
	rewriteSlice = time.Millisecond
	rewritePause = 200 * time.Microsecond
)

var selectCmd = []byte("SELECT")

// StartRewrite begins BGREWRITEAOF; schedule the slices with Hooks.Post.
func (s *Server) StartRewrite() error {
	if s.aof == nil {
		return errors.New("ERR Background append only file rewriting is not possible: appendonly is off")
	}
	if s.rewrite != nil {
		return errors.New("ERR Background append only file rewriting already in progress")
	}
	s.flushPropagation()
	w, err := s.aof.StartRewrite()
	if err != nil {
		if strings.HasPrefix(err.Error(), "ERR") {
			return err
		}
		return fmt.Errorf("ERR Background append only file rewriting failed: %v", err)
	}
	s.prop.db = -1 // the new incremental file starts without a SELECT
	job := &rewriteJob{w: w, selected: -1, started: time.Now()}
	s.rewrite = job
	// Function libraries first, as Redis's rewrite writes them: they are
	// part of the point-in-time state and small.
	s.rewriteFunctions(func(argv [][]byte) { job.buf = appendCommand(job.buf, argv...) })
	for _, db := range s.dbs {
		d := db
		d.kv.StartSnapshot()
		d.kv.BeforeChange = func(r Ref) { s.snapshotKey(d, r) }
	}
	s.log.Info("Background append only file rewriting started")
	s.scheduleRewrite()
	return nil
}

// scheduleRewrite runs the next slice after a short pause. A task that
// re-posted itself at once would run again before the loop polls its
// sockets (gnet drains its task queue in one go), starving the clients.
func (s *Server) scheduleRewrite() {
	if s.Hooks.After != nil {
		s.Hooks.After(rewritePause, s.rewriteStep)
	}
}

// rewriteStep serialises about a millisecond of the snapshot, then lets the
// loop serve clients before the next slice.
func (s *Server) rewriteStep() {
	job := s.rewrite
	if job == nil || job.scanDone {
		return
	}
	deadline := time.Now().Add(rewriteSlice)
	for steps := 0; job.db < len(s.dbs); steps++ {
		db := s.dbs[job.db]
		job.refs = job.refs[:0]
		job.cursor = db.kv.Scan(job.cursor, func(r Ref) { job.refs = append(job.refs, r) })
		for _, r := range job.refs {
			if !db.kv.Snapshotted(r) {
				s.snapshotKey(db, r)
			}
		}
		if job.cursor == 0 {
			job.db++
		}
		if steps%8 == 7 && time.Now().After(deadline) {
			s.flushRewriteBuf()
			s.scheduleRewrite()
			return
		}
	}
	s.finishRewrite()
}

// snapshotKey writes r as it is now and marks it done.
func (s *Server) snapshotKey(db *database, r Ref) {
	job := s.rewrite
	db.kv.MarkSnapshotted(r)
	if at, ok := db.kv.ExpireAt(r); ok && at <= s.now {
		return // expired keys are not written, as Redis's rewrite skips them
	}
	if job.selected != db.id {
		var num [20]byte
		job.buf = appendCommand(job.buf, selectCmd, formatInt(num[:], int64(db.id)))
		job.selected = db.id
	}
	s.emitKey(db, r, func(argv [][]byte) { job.buf = appendCommand(job.buf, argv...) })
	job.keys++
	if len(job.buf) >= 256<<10 {
		s.flushRewriteBuf()
	}
}

func (s *Server) flushRewriteBuf() {
	job := s.rewrite
	if len(job.buf) == 0 {
		return
	}
	if _, err := job.w.Write(job.buf); err != nil {
		s.log.Warn("AOF rewrite write failed", "err", err)
	}
	job.buf = job.buf[:0]
}

// snapshotAll writes every key not yet written, at once: FLUSHDB and SWAPDB
// change whole databases.
func (s *Server) snapshotAll(db *database) {
	if s.rewrite == nil {
		return
	}
	db.kv.Each(func(r Ref) bool {
		if !db.kv.Snapshotted(r) {
			s.snapshotKey(db, r)
		}
		return true
	})
}

func (s *Server) endSnapshot() {
	for _, db := range s.dbs {
		db.kv.BeforeChange = nil
	}
	s.rewrite = nil
}

// finishRewrite completes the walk; persistence fsyncs and switches files
// and reports back on the loop.
func (s *Server) finishRewrite() {
	job := s.rewrite
	job.scanDone = true
	s.flushRewriteBuf()
	s.endSnapshot()
	keys, started := job.keys, job.started
	job.w.Finish(func(err error) {
		if s.Hooks.Post == nil {
			return
		}
		s.Hooks.Post(func() {
			if err != nil {
				s.log.Warn("Background AOF rewrite failed", "err", err)
				return
			}
			s.aofRewriteBase = s.aof.Stats().CurrentSize
			s.log.Info("Background AOF rewrite finished successfully", "keys", keys,
				"seconds", time.Since(started).Seconds())
		})
	})
}

// rewriteCron starts an automatic rewrite when the AOF has grown by
// auto-aof-rewrite-percentage since the last one and is over the minimum.
func (s *Server) rewriteCron() {
	if s.aof == nil || s.rewrite != nil || s.loading || s.cfg.AutoAOFRewritePercentage <= 0 {
		return
	}
	st := s.aof.Stats()
	if st.RewriteInProgress || st.CurrentSize < s.cfg.AutoAOFRewriteMinSize {
		return
	}
	base := max(st.BaseSize, 1)
	growth := (st.CurrentSize*100)/base - 100
	if growth >= int64(s.cfg.AutoAOFRewritePercentage) {
		s.log.Info("Starting automatic rewriting of AOF", "growth_percent", growth)
		if err := s.StartRewrite(); err != nil {
			s.log.Warn("automatic AOF rewrite", "err", err)
		}
	}
}

func cmdBgrewriteaof(c *Client, args [][]byte) {
	if err := c.srv.StartRewrite(); err != nil {
		c.addError(err.Error())
		return
	}
	c.addSimple("Background append only file rewriting started")
}

// appendCommand encodes argv as a RESP multibulk.
func appendCommand(b []byte, argv ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(argv)), 10)
	b = append(b, '\r', '\n')
	for _, a := range argv {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// OpenAOF opens the AOF directory configured by dir/appenddirname/
// appendfilename and attaches it. Call Hooks.Post must be set first: the
// writer reports syncs through it. The caller then loads the AOF.
func (s *Server) OpenAOF() (*persistence.AOF, error) {
	p, ok := persistence.ParsePolicy(s.cfg.AppendFsync)
	if !ok {
		p = persistence.FsyncEverysec
	}
	a, err := persistence.Open(persistence.Options{
		Dir:           s.cfg.Dir,
		DirName:       s.cfg.AppendDirname,
		FileName:      s.cfg.AppendFilename,
		Fsync:         p,
		LoadTruncated: s.cfg.AOFLoadTruncated,
		Log:           s.log,
		OnSynced: func(offset int64) {
			if post := s.Hooks.Post; post != nil {
				post(func() { s.AOFSynced(offset) })
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// applyAppendonly follows CONFIG SET appendonly: turning it on opens the
// AOF and rewrites the current dataset into it, as Redis's startAppendOnly;
// turning it off flushes and closes it.
func (s *Server) applyAppendonly(c *config.Config) error {
	switch {
	case c.AppendOnly && s.aof == nil:
		a, err := s.OpenAOF()
		if err != nil {
			return err
		}
		s.AttachAOF(a)
		if err := s.StartRewrite(); err != nil {
			s.log.Warn("AOF enabled but the initial rewrite failed", "err", err)
		}
	case !c.AppendOnly && s.aof != nil:
		err := s.CloseAOF()
		s.aof = nil
		s.SetAOF(nil)
		return err
	}
	return nil
}
