package persistence

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Policy is the appendfsync setting.
type Policy int32

// The fsync policies, numbered as Redis's AOF_FSYNC_* constants.
const (
	// FsyncNo writes and leaves flushing to the operating system.
	FsyncNo Policy = iota
	// FsyncAlways fsyncs every batch before OnSynced reports it.
	FsyncAlways
	// FsyncEverysec fsyncs in the background about once a second.
	FsyncEverysec
)

// String returns the appendfsync value naming p.
func (p Policy) String() string {
	switch p {
	case FsyncNo:
		return "no"
	case FsyncAlways:
		return "always"
	case FsyncEverysec:
		return "everysec"
	}
	return fmt.Sprintf("Policy(%d)", int32(p))
}

// ParsePolicy parses an appendfsync value (case-insensitive).
func ParsePolicy(s string) (Policy, bool) {
	switch strings.ToLower(s) {
	case "no":
		return FsyncNo, true
	case "always":
		return FsyncAlways, true
	case "everysec":
		return FsyncEverysec, true
	}
	return 0, false
}

// Options configure an AOF. Empty Dir, DirName, FileName, FS and Log mean
// Redis's (or the process's) defaults.
type Options struct {
	// Dir is the working directory (dir), holding DirName and a legacy
	// single-file AOF. Default ".".
	Dir string
	// DirName is the AOF directory inside Dir (appenddirname). Default
	// "appendonlydir".
	DirName string
	// FileName is the base name of the AOF files (appendfilename), not a
	// path. Default "appendonly.aof".
	FileName string
	// Fsync is the initial appendfsync policy; see SetPolicy. Default FsyncNo
	// (the zero value): configuration should pass Redis's default,
	// FsyncEverysec, explicitly.
	Fsync Policy
	// LoadTruncated is aof-load-truncated: cut a truncated tail off the last
	// file instead of failing the load.
	LoadTruncated bool
	// FS is the file system; nil means the operating system's (OSFS).
	FS FS
	// Log receives the AOF's log lines; nil means slog.Default().
	Log *slog.Logger
	// OnSynced, if set, is called from the AOF's writer goroutine each time
	// the incr stream advances: with FsyncAlways, the first offset bytes of
	// the stream are fsynced; with the other policies they are written to
	// the operating system. Offsets compare with Append's results. It must
	// return quickly (post the offset to the event loop); it may call Stats
	// and WriteError, nothing else of the AOF.
	OnSynced func(offset int64)
}

func (o Options) withDefaults() Options {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.DirName == "" {
		o.DirName = "appendonlydir"
	}
	if o.FileName == "" {
		o.FileName = "appendonly.aof"
	}
	if o.FS == nil {
		o.FS = OSFS{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Tunables; variables so tests can shorten the waits.
var (
	// maxBehind is how far (bytes appended but not written) the writer may
	// fall behind before Append blocks.
	maxBehind int64 = 64 << 20
	// retryInterval is how often the writer retries after a write or fsync
	// error.
	retryInterval = time.Second
	// everysecInterval is the period of FsyncEverysec's fsync.
	everysecInterval = time.Second
	// delayedWriteLimit is how long FsyncEverysec postpones a write while
	// a background fsync runs before it writes anyway (aof_delayed_fsync).
	delayedWriteLimit = 2 * time.Second
	// cronInterval is the writer's timer period (Redis's serverCron at hz 10).
	cronInterval = 100 * time.Millisecond
	// errLogInterval rate-limits repeated write error logs
	// (AOF_WRITE_LOG_ERROR_RATE).
	errLogInterval = 30 * time.Second
)

// ErrClosed is returned by operations on a closed AOF.
var ErrClosed = errors.New("AOF is closed")

// AOF is an open multi-part append-only file: a manifest, one base file and
// incr files in an AOF directory, as Redis 7.0 keeps them.
//
// Append, Flush, SetPolicy, StartRewrite and Close are called from one
// goroutine, the executor's; WriteError and Stats from any goroutine.
type AOF struct {
	opts   Options
	fs     FS
	dir    string // the AOF directory
	log    *slog.Logger
	policy atomic.Int32

	// The hand-off from the executor, guarded by mu.
	mu    sync.Mutex
	space sync.Cond // broadcast when the writer drained bytes or failed
	pend  []byte    // appended, not yet taken by the writer
	// switching counts rewrites whose move to a new incr file is pending:
	// while it is not zero the writer takes no new bytes (see StartRewrite).
	switching  int
	appended   int64 // stream offset after the last Append
	writtenPub int64 // the writer's written, published for Append
	failing    bool  // the writer is in an error state: Append never blocks
	closed     bool

	wake    chan struct{} // Flush: write what is queued (capacity 1)
	reqs    chan func()   // work run on the writer goroutine
	stopped chan struct{} // closed when the writer goroutine exits

	// Writer goroutine state: touched only by the writer goroutine (or
	// before it starts).
	file           File
	fileName       string // current incr file
	fileSize       int64  // bytes in the current incr file
	syncedFileSize int64  // of which fsynced
	wbuf           []byte // taken from pend; wbuf[:wdone] is already in the file
	wdone          int
	written        int64 // stream offset written to files
	synced         int64 // stream offset fsynced
	reportedOff    int64 // last offset given to OnSynced
	writeErr       error // the last write failed
	syncErr        error // the last fsync failed
	syncFailed     bool  // FsyncAlways: wbuf[:wdone] must be rewritten before trusting an fsync
	lastRetry      time.Time
	lastErrLog     time.Time
	postponed      time.Time // FsyncEverysec: a write waits for the background fsync since
	fsyncing       bool      // a background fsync runs
	fsyncCovered   int64     // stream offset covered by the last started fsync
	lastFsync      time.Time
	fsyncDone      chan fsyncResult
	quit           bool

	// Published for Stats and WriteError.
	lastErr         atomic.Pointer[errBox]
	syncedPub       atomic.Int64
	baseFileSize    atomic.Int64 // the base file
	otherIncrSize   atomic.Int64 // incr files before the current one
	curIncrSize     atomic.Int64 // the current incr file
	rewriteBaseSize atomic.Int64 // aof_base_size
	delayedFsync    atomic.Int64
	pendingFsync    atomic.Bool

	// The manifest, guarded by manMu (the writer switches incr files, the
	// rewrite goroutine installs bases).
	manMu sync.Mutex
	man   *manifest

	// Rewrite state, guarded by rwMu.
	rwMu           sync.Mutex
	rw             *RewriteWriter
	rwStarted      time.Time
	rewrites       int64
	rwFailures     int64
	lastRewriteDur time.Duration
	lastRewriteErr error
}

type errBox struct{ err error }

type fsyncResult struct {
	file   File
	target int64 // stream offset covered
	size   int64 // file size covered
	err    error
}

// Open opens the AOF in opts.Dir/opts.DirName, creating it if needed:
//
//  1. The manifest is read if the AOF directory has one; a malformed one is
//     a *ManifestError, with Redis's text.
//  2. A legacy single file opts.Dir/opts.FileName is upgraded as Redis 7
//     does (aofUpgradePrepare): the directory is created, a manifest naming
//     the file as the base is written, then the file is moved in.
//  3. Leftover temporary files of an interrupted rewrite are removed; every
//     file the manifest lists must exist.
//  4. An AOF with no file at all gets an empty base (the dataset is empty)
//     and one without incr file gets a new one; history files left by an
//     interrupted rewrite are dropped. The files are created and made
//     durable before the new manifest names them.
//  5. The last incr file is opened for appending and the writer goroutine
//     starts.
//
// Call Load next, then Append.
func Open(opts Options) (*AOF, error) {
	opts = opts.withDefaults()
	if opts.FileName == "." || opts.FileName == ".." || strings.ContainsAny(opts.FileName, "/\\") {
		return nil, fmt.Errorf("appendfilename %q: can't be a path, just a filename", opts.FileName)
	}
	if strings.ContainsAny(opts.DirName, "/\\") {
		return nil, fmt.Errorf("appenddirname %q: can't be a path, just a directory name", opts.DirName)
	}
	a := &AOF{
		opts:      opts,
		fs:        opts.FS,
		dir:       path.Join(opts.Dir, opts.DirName),
		log:       opts.Log,
		wake:      make(chan struct{}, 1),
		reqs:      make(chan func()),
		stopped:   make(chan struct{}),
		fsyncDone: make(chan fsyncResult, 1),
	}
	a.space.L = &a.mu
	a.policy.Store(int32(opts.Fsync))
	a.lastRewriteDur = -1
	if err := a.openFiles(); err != nil {
		return nil, err
	}
	go a.run()
	return a, nil
}

func (a *AOF) openFiles() error {
	fsys, name := a.fs, a.opts.FileName
	manPath := a.path(manifestName(name))
	dirExists := isDir(fsys, a.dir)

	// 1) The manifest.
	m := &manifest{}
	if dirExists {
		data, err := readFile(fsys, manPath)
		switch {
		case err == nil:
			if m, err = parseManifest(data, manPath); err != nil {
				return err
			}
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("reading the AOF manifest: %w", err)
		}
	}

	// 2) A legacy appendonly.aof in dir (loadAppendOnlyFiles' three cases).
	legacy := path.Join(a.opts.Dir, name)
	if exists(fsys, legacy) && (!dirExists || m.empty() ||
		(m.base != nil && len(m.incrs) == 0 && m.base.name == name && !exists(fsys, a.path(name)))) {
		if err := a.upgrade(m, legacy); err != nil {
			return err
		}
		dirExists = true
	}
	if !dirExists {
		if err := fsys.MkdirAll(a.dir, 0o755); err != nil {
			return fmt.Errorf("can't create the append-only dir %s: %w", a.dir, err)
		}
		if err := fsys.SyncDir(a.opts.Dir); err != nil {
			return fmt.Errorf("syncing %s: %w", a.opts.Dir, err)
		}
	}

	// 3) Temporary files, and the files the manifest lists.
	if names, err := fsys.ReadDir(a.dir); err == nil {
		for _, n := range names {
			if strings.HasPrefix(n, tempRewritePrefix) || n == tempManifestName(name) {
				a.log.Info("removing a leftover temporary AOF file", "file", n)
				_ = fsys.Remove(a.path(n))
			}
		}
	}
	for _, f := range m.files() {
		if !exists(fsys, a.path(f.name)) {
			return fmt.Errorf("AOF file %s listed in the manifest %s does not exist", f.name, manPath)
		}
	}

	// 4) Files to create, history to drop.
	dirty := false
	if m.empty() {
		// Like aofOpenIfNeededOnServerStart: an empty dataset gets an
		// (empty) base file.
		base := m.newBase(name)
		if err := createEmpty(fsys, a.path(base)); err != nil {
			return fmt.Errorf("creating the AOF base file %s: %w", base, err)
		}
		a.log.Info("Creating AOF base file on server start", "file", base)
		dirty = true
	}
	if len(m.incrs) == 0 {
		incr := m.newIncr(name)
		if err := createEmpty(fsys, a.path(incr)); err != nil {
			return fmt.Errorf("creating the AOF incr file %s: %w", incr, err)
		}
		a.log.Info("Creating AOF incr file on server start", "file", incr)
		dirty = true
	}
	history := m.history
	if len(history) > 0 {
		m.history = nil
		dirty = true
	}
	if dirty {
		if err := fsys.SyncDir(a.dir); err != nil {
			return fmt.Errorf("syncing %s: %w", a.dir, err)
		}
		if _, err := a.writeManifest(m); err != nil {
			return err
		}
	}
	for _, h := range history {
		a.log.Info("Removing the history file", "file", h.name)
		if err := fsys.Remove(a.path(h.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.log.Warn("can't remove an AOF history file", "file", h.name, "err", err)
		}
	}
	a.man = m

	// 5) The last incr file, for appending.
	last := m.incrs[len(m.incrs)-1].name
	f, err := fsys.OpenAppend(a.path(last))
	if err != nil {
		return fmt.Errorf("can't open the append-only file %s: %w", last, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", last, err)
	}
	a.file, a.fileName = f, last
	a.fileSize, a.syncedFileSize = fi.Size(), fi.Size()
	a.refreshSizes()
	a.rewriteBaseSize.Store(a.baseFileSize.Load())
	return nil
}

// upgrade moves a legacy single-file AOF into the AOF directory as its base
// (aofUpgradePrepare). The manifest is written first: a crash before the
// move leaves a manifest naming a base that is not in the directory yet,
// which the next Open recognises and finishes.
func (a *AOF) upgrade(m *manifest, legacy string) error {
	fsys, name := a.fs, a.opts.FileName
	if err := fsys.MkdirAll(a.dir, 0o755); err != nil {
		return fmt.Errorf("can't create the append-only dir %s: %w", a.dir, err)
	}
	if err := fsys.SyncDir(a.opts.Dir); err != nil {
		return fmt.Errorf("syncing %s: %w", a.opts.Dir, err)
	}
	m.base = &aofInfo{name: name, seq: 1, typ: typeBase}
	m.baseSeq = 1
	if _, err := a.writeManifest(m); err != nil {
		return err
	}
	if err := fsys.Rename(legacy, a.path(name)); err != nil {
		return fmt.Errorf("moving the old AOF file %s into %s: %w", legacy, a.dir, err)
	}
	if err := fsys.SyncDir(a.dir); err != nil {
		return fmt.Errorf("syncing %s: %w", a.dir, err)
	}
	if err := fsys.SyncDir(a.opts.Dir); err != nil {
		return fmt.Errorf("syncing %s: %w", a.opts.Dir, err)
	}
	a.log.Info("Successfully migrated an old-style AOF file into the AOF directory", "file", name, "dir", a.opts.DirName)
	return nil
}

// writeManifest persists m atomically (writeAofManifestFile): a temporary
// file, fsync, rename over the manifest, fsync of the directory. renamed
// reports whether the new manifest replaced the old one (then an error came
// from the directory fsync, and either version may survive a crash).
func (a *AOF) writeManifest(m *manifest) (renamed bool, err error) {
	fsys := a.fs
	tmp := a.path(tempManifestName(a.opts.FileName))
	dst := a.path(manifestName(a.opts.FileName))
	f, err := fsys.Create(tmp)
	if err != nil {
		return false, fmt.Errorf("can't open the AOF manifest file %s: %w", tmp, err)
	}
	_, err = f.Write(m.format())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, dst)
	}
	if err != nil {
		_ = fsys.Remove(tmp)
		return false, fmt.Errorf("writing the AOF manifest %s: %w", dst, err)
	}
	if err := fsys.SyncDir(a.dir); err != nil {
		return true, fmt.Errorf("syncing the AOF directory %s: %w", a.dir, err)
	}
	return true, nil
}

// refreshSizes stats the files of the manifest for Stats.
func (a *AOF) refreshSizes() {
	a.manMu.Lock()
	m := a.man.clone()
	a.manMu.Unlock()
	var base, other int64
	if m.base != nil {
		base = fileSize(a.fs, a.path(m.base.name))
	}
	for _, ai := range m.incrs[:len(m.incrs)-1] {
		other += fileSize(a.fs, a.path(ai.name))
	}
	a.baseFileSize.Store(base)
	a.otherIncrSize.Store(other)
	a.curIncrSize.Store(fileSize(a.fs, a.path(m.incrs[len(m.incrs)-1].name)))
}

func fileSize(fsys FS, name string) int64 {
	fi, err := fsys.Stat(name)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func isDir(fsys FS, name string) bool {
	fi, err := fsys.Stat(name)
	return err == nil && fi.IsDir()
}

func exists(fsys FS, name string) bool {
	_, err := fsys.Stat(name)
	return err == nil
}

func readFile(fsys FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// createEmpty creates an empty, synced file; its directory entry becomes
// durable with the next SyncDir.
func createEmpty(fsys FS, name string) error {
	f, err := fsys.Create(name)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ---------------------------------------------------------------------------
// The executor-facing API.
// ---------------------------------------------------------------------------

// Append queues b (whole RESP commands) for the current incr file and
// returns the stream offset after it: once OnSynced reports an offset >= it,
// b is durable (FsyncAlways) or written (other policies). b is copied.
//
// Append never waits for the disk, except when the writer is more than
// 64 MiB behind (a disk slower than the write load): then it blocks until
// the writer catches up. It does not block while the writer is failing
// (WriteError != nil): the executor refuses writes then, and the queue keeps
// what it already holds.
func (a *AOF) Append(b []byte) int64 {
	a.mu.Lock()
	if a.appended-a.writtenPub > maxBehind && !a.failing && !a.closed {
		a.kick()
		for a.appended-a.writtenPub > maxBehind && !a.failing && !a.closed {
			a.space.Wait()
		}
	}
	a.pend = append(a.pend, b...)
	a.appended += int64(len(b))
	off := a.appended
	a.mu.Unlock()
	return off
}

// Flush asks the writer to write what is queued now; call it once per
// event-loop batch, after the batch's Appends. It does not wait. With
// FsyncAlways the writer writes and fsyncs everything queued since its last
// fsync, then calls OnSynced (group commit: one fsync for all the clients of
// a batch, and for every batch queued while the previous fsync ran).
func (a *AOF) Flush() { a.kick() }

func (a *AOF) kick() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// SetPolicy changes the fsync policy (CONFIG SET appendfsync).
func (a *AOF) SetPolicy(p Policy) {
	a.policy.Store(int32(p))
	a.kick()
}

// Policy returns the current fsync policy.
func (a *AOF) Policy() Policy { return Policy(a.policy.Load()) }

// WriteError returns the last write or fsync error while it lasts, nil when
// the AOF is healthy. The executor must refuse write commands while it is not
// nil (-MISCONF, as Redis's writeCommandsDeniedByDiskError). The writer
// retries every second and clears it once a write and fsync succeed; no
// queued byte is lost or written twice meanwhile.
func (a *AOF) WriteError() error {
	if b := a.lastErr.Load(); b != nil {
		return b.err
	}
	return nil
}

// Stats is the AOF's part of INFO persistence.
type Stats struct {
	CurrentSize     int64 // aof_current_size: base plus incr files
	BaseSize        int64 // aof_base_size: the size at the last rewrite (or load)
	BufferLength    int64 // aof_buffer_length: appended, not yet written
	PendingBioFsync bool  // aof_pending_bio_fsync
	DelayedFsync    int64 // aof_delayed_fsync
	// LastWriteError is nil for aof_last_write_status:ok.
	LastWriteError error
	// Stream offsets: appended, written to the OS, fsynced.
	Appended, Written, Synced int64

	RewriteInProgress bool          // aof_rewrite_in_progress
	RewriteStarted    time.Time     // for aof_current_rewrite_time_sec
	LastRewrite       time.Duration // aof_last_rewrite_time_sec; -1: none yet
	// LastRewriteError is nil for aof_last_bgrewrite_status:ok.
	LastRewriteError           error
	Rewrites                   int64 // aof_rewrites
	RewriteConsecutiveFailures int64 // aof_rewrites_consecutive_failures
}

// Stats returns the AOF's statistics. It may be called from any goroutine.
func (a *AOF) Stats() Stats {
	a.mu.Lock()
	appended, written := a.appended, a.writtenPub
	a.mu.Unlock()
	st := Stats{
		CurrentSize:     a.baseFileSize.Load() + a.otherIncrSize.Load() + a.curIncrSize.Load(),
		BaseSize:        a.rewriteBaseSize.Load(),
		BufferLength:    appended - written,
		PendingBioFsync: a.pendingFsync.Load(),
		DelayedFsync:    a.delayedFsync.Load(),
		LastWriteError:  a.WriteError(),
		Appended:        appended,
		Written:         written,
		Synced:          a.syncedPub.Load(),
	}
	a.rwMu.Lock()
	st.RewriteInProgress = a.rw != nil
	if a.rw != nil {
		st.RewriteStarted = a.rwStarted
	}
	st.LastRewrite, st.LastRewriteError = a.lastRewriteDur, a.lastRewriteErr
	st.Rewrites, st.RewriteConsecutiveFailures = a.rewrites, a.rwFailures
	a.rwMu.Unlock()
	return st
}

// Close aborts a rewrite in progress, writes and fsyncs everything queued
// and closes the files (SHUTDOWN, SIGTERM). It returns an error if queued
// bytes could not be made durable. Nothing may be appended after Close.
func (a *AOF) Close() error {
	a.rwMu.Lock()
	rw := a.rw
	a.rwMu.Unlock()
	if rw != nil {
		rw.Abort()
		<-rw.exited
	}
	err := a.call(func() error {
		a.quit = true
		a.flush(true)
		a.waitFsync()
		var err error
		if n := len(a.wbuf) - a.wdone; n > 0 {
			err = fmt.Errorf("closing the AOF: %d queued bytes could not be written: %w", n, a.writeErr)
		}
		if serr := a.file.Sync(); serr != nil {
			if err == nil {
				err = fmt.Errorf("closing the AOF: fsync %s: %w", a.fileName, serr)
			}
		} else if a.syncedFileSize < a.fileSize || a.synced < a.written {
			a.syncedFileSize, a.synced = a.fileSize, a.written
			a.syncedPub.Store(a.synced)
			a.report(a.synced)
		}
		if cerr := a.file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing %s: %w", a.fileName, cerr)
		}
		return err
	})
	<-a.stopped
	a.mu.Lock()
	a.closed = true
	a.space.Broadcast()
	a.mu.Unlock()
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// call runs fn on the writer goroutine and returns its result.
func (a *AOF) call(fn func() error) error {
	done := make(chan error, 1)
	select {
	case a.reqs <- func() { done <- fn() }:
		return <-done
	case <-a.stopped:
		return ErrClosed
	}
}

// ---------------------------------------------------------------------------
// The writer goroutine (flushAppendOnlyFile and the bio fsync thread).
// ---------------------------------------------------------------------------

func (a *AOF) run() {
	defer close(a.stopped)
	t := time.NewTicker(cronInterval)
	defer t.Stop()
	for !a.quit {
		select {
		case <-a.wake:
			a.flush(false)
		case <-t.C:
			a.cron()
		case r := <-a.fsyncDone:
			a.fsyncFinished(r)
		case fn := <-a.reqs:
			fn()
		}
	}
}

// take moves the queued bytes to the writer's buffer.
func (a *AOF) take() {
	a.mu.Lock()
	if a.switching > 0 {
		// A rewrite is moving to a new incr file: newer bytes wait for it.
		a.mu.Unlock()
		return
	}
	if len(a.pend) > 0 {
		if len(a.wbuf) == 0 {
			a.wbuf, a.pend = a.pend, a.wbuf[:0]
		} else {
			a.wbuf = append(a.wbuf, a.pend...)
			a.pend = a.pend[:0]
		}
	}
	a.mu.Unlock()
}

// recycle empties the writer's buffer once its bytes need not be kept.
func (a *AOF) recycle() {
	if cap(a.wbuf) > 4<<20 {
		a.wbuf = nil // let a burst's buffer go
	} else {
		a.wbuf = a.wbuf[:0]
	}
	a.wdone = 0
}

func (a *AOF) failingNow() bool { return a.writeErr != nil || a.syncErr != nil }

// flush writes the queued bytes, and fsyncs them with FsyncAlways. force
// writes even while a background fsync runs or after an error (Redis's
// flushAppendOnlyFile(1)).
func (a *AOF) flush(force bool) {
	a.take()
	pol := a.Policy()
	if a.wdone == len(a.wbuf) {
		// Nothing new to write; an fsync may still be due.
		switch {
		case pol == FsyncAlways && a.synced < a.written && (force || !a.failingNow()):
			a.syncAlways()
		case pol == FsyncEverysec:
			a.maybeFsync()
		}
		return
	}
	if a.failingNow() && !force {
		return // the cron retries once a second
	}
	if pol == FsyncEverysec && !force && a.fsyncing {
		// As Redis: a write(2) would wait behind the fsync anyway, so wait
		// for it up to two seconds, then write regardless.
		now := time.Now()
		if a.postponed.IsZero() {
			a.postponed = now
			return
		}
		if now.Sub(a.postponed) < delayedWriteLimit {
			return
		}
		a.delayedFsync.Add(1)
		a.log.Info("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete")
	}
	a.postponed = time.Time{}
	if !a.writeOut() {
		return
	}
	if pol == FsyncAlways {
		a.syncAlways()
		return
	}
	a.recycle()
	a.report(a.written)
	if pol == FsyncEverysec {
		a.maybeFsync()
	}
}

// writeOut writes wbuf[wdone:] and reports whether all of it was written.
// A short write is undone with Truncate, as Redis does; if that fails too,
// the bytes written stay counted and only the rest is written later, so no
// byte is lost or written twice.
func (a *AOF) writeOut() bool {
	p := a.wbuf[a.wdone:]
	n, err := a.file.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil && n > 0 {
		if terr := a.file.Truncate(a.fileSize); terr == nil {
			n = 0
		} else {
			a.logErr("could not remove a short write from the AOF file", "file", a.fileName, "err", terr)
		}
	}
	a.advance(int64(n))
	if err != nil {
		a.setErr(&a.writeErr, fmt.Errorf("writing the AOF file %s: %w", a.fileName, err))
		return false
	}
	a.clearErr(&a.writeErr)
	return true
}

// advance accounts n more bytes written to the current file.
func (a *AOF) advance(n int64) {
	if n == 0 {
		return
	}
	a.wdone += int(n)
	a.fileSize += n
	a.written += n
	a.curIncrSize.Store(a.fileSize)
	a.mu.Lock()
	a.writtenPub = a.written
	a.space.Broadcast()
	a.mu.Unlock()
}

// syncAlways fsyncs what was written (FsyncAlways) and reports it.
//
// After a failed fsync, Linux may have dropped the dirty pages and marked
// them clean, so a later fsync can succeed without the bytes being on disk.
// The bytes written since the last good fsync are therefore kept (wbuf) and,
// before the next attempt, truncated away and written again.
func (a *AOF) syncAlways() {
	if a.syncFailed && a.wdone > 0 && a.fileSize-a.syncedFileSize == int64(a.wdone) {
		if err := a.file.Truncate(a.syncedFileSize); err != nil {
			a.setErr(&a.syncErr, fmt.Errorf("truncating %s after a failed fsync: %w", a.fileName, err))
			return
		}
		a.fileSize = a.syncedFileSize
		a.written -= int64(a.wdone)
		a.wdone = 0
		a.curIncrSize.Store(a.fileSize)
		a.mu.Lock()
		a.writtenPub = a.written
		a.mu.Unlock()
		if !a.writeOut() {
			return
		}
	}
	if err := a.file.Sync(); err != nil {
		a.syncFailed = true
		a.setErr(&a.syncErr, fmt.Errorf("can't persist the AOF: fsync %s: %w", a.fileName, err))
		return
	}
	a.syncFailed = false
	a.clearErr(&a.syncErr)
	a.syncedFileSize = a.fileSize
	a.synced = a.written
	a.fsyncCovered = a.written
	a.syncedPub.Store(a.synced)
	a.lastFsync = time.Now()
	a.recycle()
	a.report(a.synced)
}

// maybeFsync starts FsyncEverysec's background fsync when one is due.
func (a *AOF) maybeFsync() {
	if a.fsyncing || a.fsyncCovered >= a.written || time.Since(a.lastFsync) < everysecInterval {
		return
	}
	a.fsyncing = true
	a.pendingFsync.Store(true)
	a.lastFsync = time.Now()
	a.fsyncCovered = a.written
	f, target, size := a.file, a.written, a.fileSize
	go func() { a.fsyncDone <- fsyncResult{file: f, target: target, size: size, err: f.Sync()} }()
}

// fsyncFinished handles the end of a background fsync.
func (a *AOF) fsyncFinished(r fsyncResult) {
	a.fsyncing = false
	a.pendingFsync.Store(false)
	if r.file == a.file {
		if r.err != nil {
			a.fsyncCovered = a.synced
			a.setErr(&a.syncErr, fmt.Errorf("background AOF fsync of %s: %w", a.fileName, r.err))
		} else {
			a.clearErr(&a.syncErr)
			if r.target > a.synced {
				a.synced, a.syncedFileSize = r.target, r.size
				a.syncedPub.Store(a.synced)
			}
		}
	}
	if !a.postponed.IsZero() {
		a.flush(false)
	}
}

// waitFsync waits for a background fsync in flight.
func (a *AOF) waitFsync() {
	if a.fsyncing {
		a.fsyncFinished(<-a.fsyncDone)
	}
}

// cron runs every cronInterval: error retries, postponed writes, the
// FsyncEverysec fsync even when nothing new was written.
func (a *AOF) cron() {
	if a.failingNow() {
		if time.Since(a.lastRetry) >= retryInterval {
			a.lastRetry = time.Now()
			a.flush(true)
		}
		return
	}
	if !a.postponed.IsZero() {
		a.flush(false)
	}
	if a.Policy() == FsyncEverysec {
		a.maybeFsync()
	}
}

// report calls OnSynced with off if it moved.
func (a *AOF) report(off int64) {
	if off <= a.reportedOff {
		return
	}
	a.reportedOff = off
	if a.opts.OnSynced != nil {
		a.opts.OnSynced(off)
	}
}

func (a *AOF) setErr(slot *error, err error) {
	first := !a.failingNow()
	*slot = err
	a.lastErr.Store(&errBox{err})
	if first {
		a.lastRetry = time.Now()
		a.mu.Lock()
		a.failing = true
		a.space.Broadcast()
		a.mu.Unlock()
	}
	a.logErr("AOF write error", "err", err)
}

func (a *AOF) clearErr(slot *error) {
	if *slot == nil {
		return
	}
	*slot = nil
	if a.failingNow() {
		if a.writeErr != nil {
			a.lastErr.Store(&errBox{a.writeErr})
		} else {
			a.lastErr.Store(&errBox{a.syncErr})
		}
		return
	}
	a.lastErr.Store(nil)
	a.mu.Lock()
	a.failing = false
	a.mu.Unlock()
	a.lastErrLog = time.Time{}
	a.log.Warn("AOF write error looks solved, writes are accepted again")
}

// logErr logs at most once per errLogInterval.
func (a *AOF) logErr(msg string, args ...any) {
	if now := time.Now(); now.Sub(a.lastErrLog) >= errLogInterval {
		a.lastErrLog = now
		a.log.Warn(msg, args...)
	}
}
