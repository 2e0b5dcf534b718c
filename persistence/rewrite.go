package persistence

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

// ---------------------------------------------------------------------------
// AOF background rewrite
//
// This is how rewriting the append only file works (Redis 7.0's
// rewriteAppendOnlyFileBackground and backgroundRewriteDoneHandler, with the
// fork replaced by a snapshot the executor serialises):
//
// 1) The executor calls StartRewrite at the point in its command stream
//    where it takes the snapshot. On the writer goroutine:
//    1a) everything appended so far is written to the current incr file and
//        fsynced, so no byte of the new incr file can become durable before
//        an older byte of the old one;
//    1b) a new incr file is created, fsynced, and its directory entry synced;
//    1c) the manifest (old base + old incrs + new incr) is persisted: a
//        temporary manifest is written and fsynced, renamed over the old
//        one, and the directory fsynced.
//    From here every Append goes to the new incr file.
// 2) The executor serialises the snapshot through RewriteWriter.Write, in
//    slices; the rewrite goroutine appends them to a temporary base file
//    (temp-rewriteaof-bg-<pid>.aof in the AOF directory).
// 3) Finish: the rewrite goroutine fsyncs and closes the temporary file.
// 4) It then installs it, under the manifest lock:
//    4a) gets a new base name and marks the previous base as history;
//    4b) renames the temporary file to the new base name and syncs the
//        directory;
//    4c) marks the incr files before the one opened in 1b as history;
//    4d) persists the manifest (new base, history, the incr of 1b) as in 1c;
//    4e) deletes the history files and persists the manifest without them.
// Abort (or an error) removes the temporary file; the manifest of 1c stays,
// with several incr files, as after a failed rewrite in Redis.
//
// A crash at any moment leaves a directory that loads to the right data:
// before 1c completes the old manifest lists only durable files (the new incr
// is still empty); between 1c and 4d the old base and all incr files replay
// the whole stream, and a temporary base is removed by the next Open; after
// 4d the new base (durable since 3 and 4b) plus the incr of 1b replay it, and
// history files left by a crash before 4e are deleted by the next Open.
// ---------------------------------------------------------------------------

// rewriteQueueLimit bounds the snapshot bytes queued for the rewrite
// goroutine; RewriteWriter.Write blocks beyond it.
var rewriteQueueLimit = 16 << 20

// Errors of the rewrite.
var (
	// ErrRewriteInProgress is Redis's reply text for a second BGREWRITEAOF.
	//lint:ignore ST1005 the text is Redis's reply, byte for byte
	ErrRewriteInProgress = errors.New("Background append only file rewriting already in progress")
	// ErrRewriteAborted is returned by a RewriteWriter after Abort or Close.
	ErrRewriteAborted = errors.New("AOF rewrite aborted")
	// ErrRewriteFinished is returned by Write after Finish.
	ErrRewriteFinished = errors.New("AOF rewrite already finished")
)

type rwState int

const (
	rwWriting rwState = iota
	rwFinishing
	rwAborting
	rwInstalling
)

// RewriteWriter receives the snapshot of a rewrite (step 2) and completes it
// (Finish) or abandons it (Abort). Its methods are called from one goroutine
// at a time.
type RewriteWriter struct {
	a       *AOF
	f       File
	tmpName string
	started time.Time
	exited  chan struct{} // closed when the rewrite goroutine is done
	// switched is closed once steps 1a-1c are done (or failed, setting err).
	switched chan struct{}

	mu    sync.Mutex
	cond  sync.Cond // Write waits for room, the goroutine for bytes
	buf   []byte    // queued by Write
	spare []byte
	size  int64 // bytes accepted by Write
	err   error // sticky write error
	state rwState
	done  func(error)
}

// StartRewrite begins a rewrite (steps 1a-1c above) and returns the writer
// for the snapshot. The executor must call it at the very point of its
// command stream where the snapshot is taken: the snapshot must contain the
// effect of every byte appended before the call and of none after.
//
// It waits for the current incr file to be written and fsynced and for a new
// one to be created and listed in the manifest (a few milliseconds, as in
// Redis, where BGREWRITEAOF does this before forking). After it returns the
// executor must emit SELECT before its next command, as Redis resets
// aof_selected_db: the new incr file is replayed by a fresh client in db 0.
func (a *AOF) StartRewrite() (*RewriteWriter, error) {
	// The lock is not held across the writer call: OnSynced, which the
	// writer may call meanwhile, is allowed to call Stats. StartRewrite and
	// Close are only called from the executor, so nothing races the check.
	a.rwMu.Lock()
	busy := a.rw != nil
	a.rwMu.Unlock()
	if busy {
		return nil, ErrRewriteInProgress
	}
	fail := func(err error) (*RewriteWriter, error) {
		a.rwMu.Lock()
		a.lastRewriteErr = err // aof_last_bgrewrite_status:err, as in Redis
		a.rwMu.Unlock()
		return nil, err
	}
	if err := a.WriteError(); err != nil {
		// The old incr file could not be completed: nothing to start on.
		return fail(fmt.Errorf("can't write the AOF before the rewrite: %w", err))
	}
	tmp := tempRewritePrefix + strconv.Itoa(os.Getpid()) + aofSuffix
	f, err := a.fs.Create(a.path(tmp))
	if err != nil {
		return fail(fmt.Errorf("opening the temp file for AOF rewrite: %w", err))
	}
	rw := &RewriteWriter{a: a, f: f, tmpName: tmp, started: time.Now(), exited: make(chan struct{}),
		switched: make(chan struct{})}
	rw.cond.L = &rw.mu
	// Steps 1a-1c run on the writer goroutine without the caller waiting
	// for their fsyncs: what was appended until now is set apart for the
	// old incr file, and the writer takes nothing newer until the new incr
	// file is in place, so the order of the stream is kept.
	a.mu.Lock()
	tail := a.pend
	a.pend = nil
	a.switching++
	a.mu.Unlock()
	go func() {
		ran := false
		err := a.call(func() error {
			ran = true
			a.wbuf = append(a.wbuf, tail...)
			err := a.switchIncr()
			a.mu.Lock()
			a.switching--
			a.mu.Unlock()
			a.kick()
			return err
		})
		if !ran {
			a.mu.Lock()
			a.switching--
			a.pend = append(tail, a.pend...)
			a.mu.Unlock()
		}
		if err != nil {
			rw.mu.Lock()
			if rw.err == nil {
				rw.err = err
			}
			rw.cond.Broadcast()
			rw.mu.Unlock()
			a.rwMu.Lock()
			a.lastRewriteErr = err
			a.rwMu.Unlock()
		}
		close(rw.switched)
	}()
	a.rwMu.Lock()
	a.rw = rw
	a.rwStarted = rw.started
	a.rewrites++
	a.rwMu.Unlock()
	a.log.Info("Background append only file rewriting started", "incr", a.currentIncr())
	go rw.run()
	return rw, nil
}

func (a *AOF) currentIncr() string {
	a.manMu.Lock()
	defer a.manMu.Unlock()
	return a.man.incrs[len(a.man.incrs)-1].name
}

// switchIncr is steps 1a-1c, on the writer goroutine.
func (a *AOF) switchIncr() error {
	// 1a) Everything appended so far into the current file, durably.
	a.flush(true)
	if a.wdone < len(a.wbuf) {
		return fmt.Errorf("can't write the AOF before the rewrite: %w", a.WriteError())
	}
	a.waitFsync()
	if err := a.file.Sync(); err != nil {
		a.syncFailed = a.Policy() == FsyncAlways
		a.setErr(&a.syncErr, fmt.Errorf("fsync %s: %w", a.fileName, err))
		return fmt.Errorf("can't fsync the AOF before the rewrite: %w", err)
	}
	a.syncFailed = false
	a.clearErr(&a.syncErr)
	a.syncedFileSize, a.synced, a.fsyncCovered = a.fileSize, a.written, a.written
	a.syncedPub.Store(a.synced)
	a.recycle()
	a.report(a.synced)

	// 1b) A new incr file.
	a.manMu.Lock()
	defer a.manMu.Unlock()
	m := a.man.clone()
	name := m.newIncr(a.opts.FileName)
	f, err := a.fs.Create(a.path(name))
	if err == nil {
		err = f.Sync()
		if err == nil {
			err = a.fs.SyncDir(a.dir)
		}
		if err != nil {
			f.Close()
			_ = a.fs.Remove(a.path(name))
		}
	}
	if err != nil {
		return fmt.Errorf("can't create the AOF incr file %s: %w", name, err)
	}

	// 1c) The manifest listing it.
	renamed, err := a.writeManifest(m)
	if err != nil {
		f.Close()
		if !renamed {
			_ = a.fs.Remove(a.path(name))
			return err
		}
		// The new manifest is in place but maybe not durable: both
		// versions load correctly as long as appends stay in the old
		// file, so keep writing there and fail the rewrite.
		a.man = m
		return err
	}
	if err := a.file.Close(); err != nil {
		a.log.Warn("closing the previous AOF incr file", "file", a.fileName, "err", err)
	}
	a.otherIncrSize.Add(a.fileSize)
	a.file, a.fileName = f, name
	a.fileSize, a.syncedFileSize = 0, 0
	a.curIncrSize.Store(0)
	a.man = m
	a.log.Info("Creating AOF incr file on background rewrite", "file", name)
	return nil
}

// Write queues p (RESP commands of the snapshot) for the temporary base file;
// p is copied. It blocks only while 16 MiB are already queued (the disk is
// slower than the serialisation). It returns the first write error of the
// rewrite, or ErrRewriteAborted / ErrRewriteFinished.
func (rw *RewriteWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	for len(rw.buf) >= rewriteQueueLimit && rw.err == nil && rw.state == rwWriting {
		rw.cond.Wait()
	}
	switch {
	case rw.err != nil:
		return 0, rw.err
	case rw.state == rwAborting:
		return 0, ErrRewriteAborted
	case rw.state != rwWriting:
		return 0, ErrRewriteFinished
	}
	rw.buf = append(rw.buf, p...)
	rw.size += int64(len(p))
	rw.cond.Broadcast()
	return len(p), nil
}

// Finish completes the rewrite in the background (steps 3-4) and calls done,
// if not nil, from the rewrite goroutine with the result: nil once the new
// base is installed. Finish does not wait; Write may not be called after it.
func (rw *RewriteWriter) Finish(done func(error)) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.state != rwWriting {
		err := ErrRewriteFinished
		if rw.state == rwAborting {
			err = ErrRewriteAborted
		}
		if done != nil {
			go done(err)
		}
		return
	}
	rw.state = rwFinishing
	rw.done = done
	rw.cond.Broadcast()
}

// Abort abandons the rewrite: the temporary file is removed in the
// background. It has no effect once Finish has begun installing the base.
// A done callback given to Finish receives ErrRewriteAborted.
func (rw *RewriteWriter) Abort() {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.state == rwWriting || rw.state == rwFinishing {
		rw.state = rwAborting
		rw.cond.Broadcast()
	}
}

// WaitSwitched blocks until steps 1a-1c are done (the new incr file takes
// the writes) and returns their error.
func (rw *RewriteWriter) WaitSwitched() error {
	<-rw.switched
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.err
}

// Wait blocks until the rewrite goroutine is done (installed, failed or
// aborted).
func (rw *RewriteWriter) Wait() { <-rw.exited }

// run is the rewrite goroutine.
func (rw *RewriteWriter) run() {
	for {
		rw.mu.Lock()
		for len(rw.buf) == 0 && rw.state == rwWriting {
			rw.cond.Wait()
		}
		state, failed := rw.state, rw.err != nil
		chunk := rw.buf
		rw.buf, rw.spare = rw.spare[:0], nil
		if state == rwFinishing && len(chunk) == 0 {
			if failed {
				state = rwAborting
			} else {
				rw.state = rwInstalling
			}
		}
		rw.mu.Unlock()

		if state == rwAborting {
			rw.complete(rw.cleanup(ErrRewriteAborted))
			return
		}
		if len(chunk) > 0 {
			if !failed {
				if _, err := rw.f.Write(chunk); err != nil {
					rw.mu.Lock()
					rw.err = fmt.Errorf("writing the temp AOF base file %s: %w", rw.tmpName, err)
					rw.mu.Unlock()
				}
			}
			rw.mu.Lock()
			if cap(chunk) <= 4<<20 {
				rw.spare = chunk[:0]
			}
			rw.cond.Broadcast()
			rw.mu.Unlock()
			continue
		}
		// Finishing and drained: step 3, then 4 once the new incr file is
		// in place.
		<-rw.switched
		rw.mu.Lock()
		serr := rw.err
		rw.mu.Unlock()
		if serr != nil {
			rw.complete(rw.cleanup(serr))
			return
		}
		err := rw.f.Sync()
		if cerr := rw.f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("fsync of the temp AOF base file %s: %w", rw.tmpName, err)
			_ = rw.a.fs.Remove(rw.a.path(rw.tmpName))
		} else {
			err = rw.a.installBase(rw.tmpName)
		}
		rw.complete(err)
		return
	}
}

// cleanup closes and removes the temporary file; it returns err, or the
// sticky write error that made the rewrite fail.
func (rw *RewriteWriter) cleanup(err error) error {
	rw.mu.Lock()
	if rw.err != nil && rw.state != rwAborting {
		err = rw.err
	}
	if rw.state == rwAborting {
		err = ErrRewriteAborted
	}
	rw.mu.Unlock()
	_ = rw.f.Close()
	if rerr := rw.a.fs.Remove(rw.a.path(rw.tmpName)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		rw.a.log.Warn("can't remove the temp AOF base file", "file", rw.tmpName, "err", rerr)
	}
	return err
}

// complete records the outcome and calls done.
func (rw *RewriteWriter) complete(err error) {
	a := rw.a
	a.rwMu.Lock()
	a.rw = nil
	a.lastRewriteDur = time.Since(rw.started)
	switch {
	case err == nil:
		a.lastRewriteErr, a.rwFailures = nil, 0
	case !errors.Is(err, ErrRewriteAborted):
		// An abort (Redis's SIGUSR1 to the child) is not a failure.
		a.lastRewriteErr = err
		a.rwFailures++
	}
	a.rwMu.Unlock()
	if err != nil {
		a.log.Warn("Background AOF rewrite terminated with error", "err", err)
	} else {
		a.log.Info("Background AOF rewrite finished successfully", "bytes", rw.size)
	}
	rw.mu.Lock()
	done := rw.done
	rw.mu.Unlock()
	close(rw.exited)
	if done != nil {
		done(err)
	}
}

// installBase is step 4: it makes the fsynced temporary file the base.
func (a *AOF) installBase(tmp string) error {
	a.manMu.Lock()
	defer a.manMu.Unlock()
	m := a.man.clone()
	// 4a) A new base name; the old base becomes history.
	name := m.newBase(a.opts.FileName)
	// 4b) The file under that name, durably.
	if err := a.fs.Rename(a.path(tmp), a.path(name)); err != nil {
		_ = a.fs.Remove(a.path(tmp))
		return fmt.Errorf("renaming the temp AOF base file %s into %s: %w", tmp, name, err)
	}
	if err := a.fs.SyncDir(a.dir); err != nil {
		_ = a.fs.Remove(a.path(name))
		return fmt.Errorf("syncing the AOF directory: %w", err)
	}
	// 4c) The rewritten incr files become history.
	m.historyRewritten()
	// 4d) The manifest.
	renamed, err := a.writeManifest(m)
	if err != nil && !renamed {
		_ = a.fs.Remove(a.path(name))
		return err
	}
	a.man = m
	a.baseFileSize.Store(fileSize(a.fs, a.path(name)))
	a.otherIncrSize.Store(0)
	a.rewriteBaseSize.Store(a.baseFileSize.Load() + a.curIncrSize.Load())
	a.log.Info("Successfully renamed the temporary AOF base file", "from", tmp, "to", name)
	if err != nil {
		// In place but maybe not durable: either manifest loads right, and
		// the history files must stay until a later manifest is durable.
		a.log.Warn("AOF manifest written, directory fsync failed; history files kept", "err", err)
		return nil
	}
	// 4e) History files go.
	for _, h := range m.history {
		a.log.Info("Removing the history file", "file", h.name)
		if err := a.fs.Remove(a.path(h.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.log.Warn("can't remove an AOF history file", "file", h.name, "err", err)
		}
	}
	m2 := m.clone()
	m2.history = nil
	if renamed, err := a.writeManifest(m2); renamed {
		a.man = m2
	} else if err != nil {
		a.log.Warn("can't persist the AOF manifest after removing history files", "err", err)
	}
	return nil
}
