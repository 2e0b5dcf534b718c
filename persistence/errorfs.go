package persistence

import (
	"io/fs"
	"sync"
)

// ErrorFS wraps an FS and fails operations on demand, as pebble's errorfs:
// writes after a byte budget (with a partial write at the limit, as a full
// disk gives), fsyncs, or any operation chosen by Inject. Heal makes it
// behave again, as a disk that got space back.
type ErrorFS struct {
	FS

	mu          sync.Mutex
	writeBudget int64 // bytes writable before writeErr; < 0: no limit
	writeErr    error
	syncErr     error
	truncErr    error

	// Inject, if set, is called before every operation; a non-nil result
	// fails the operation with that error and leaves the file untouched.
	// It may block, to hold an operation (a slow fsync) while a test acts.
	Inject func(op Op, name string) error
}

// NewErrorFS returns an ErrorFS over base that fails nothing yet.
func NewErrorFS(base FS) *ErrorFS { return &ErrorFS{FS: base, writeBudget: -1} }

// FailWritesAfter makes writes fail with err once n more bytes have been
// written; the write that crosses the limit writes its first bytes, then
// fails (a short write).
func (e *ErrorFS) FailWritesAfter(n int64, err error) {
	e.mu.Lock()
	e.writeBudget, e.writeErr = n, err
	e.mu.Unlock()
}

// FailSyncs makes every File.Sync and SyncDir fail with err (nil: stop).
func (e *ErrorFS) FailSyncs(err error) {
	e.mu.Lock()
	e.syncErr = err
	e.mu.Unlock()
}

// FailTruncates makes every File.Truncate fail with err (nil: stop).
func (e *ErrorFS) FailTruncates(err error) {
	e.mu.Lock()
	e.truncErr = err
	e.mu.Unlock()
}

// Heal stops every failure set by FailWritesAfter, FailSyncs and
// FailTruncates.
func (e *ErrorFS) Heal() {
	e.mu.Lock()
	e.writeBudget, e.writeErr, e.syncErr, e.truncErr = -1, nil, nil, nil
	e.mu.Unlock()
}

func (e *ErrorFS) inject(op Op, name string) error {
	if e.Inject != nil {
		return e.Inject(op, name)
	}
	return nil
}

func (e *ErrorFS) wrap(op Op, name string, open func(string) (File, error)) (File, error) {
	if err := e.inject(op, name); err != nil {
		return nil, &fs.PathError{Op: string(op), Path: name, Err: err}
	}
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, e: e, name: name}, nil
}

// Create implements FS.
func (e *ErrorFS) Create(name string) (File, error) { return e.wrap(OpCreate, name, e.FS.Create) }

// OpenAppend implements FS.
func (e *ErrorFS) OpenAppend(name string) (File, error) {
	return e.wrap(OpCreate, name, e.FS.OpenAppend)
}

// Open implements FS.
func (e *ErrorFS) Open(name string) (File, error) { return e.wrap(OpOpen, name, e.FS.Open) }

// Rename implements FS.
func (e *ErrorFS) Rename(oldname, newname string) error {
	if err := e.inject(OpRename, oldname); err != nil {
		return &fs.PathError{Op: "rename", Path: oldname, Err: err}
	}
	return e.FS.Rename(oldname, newname)
}

// Remove implements FS.
func (e *ErrorFS) Remove(name string) error {
	if err := e.inject(OpRemove, name); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	return e.FS.Remove(name)
}

// MkdirAll implements FS.
func (e *ErrorFS) MkdirAll(dir string, perm fs.FileMode) error {
	if err := e.inject(OpMkdir, dir); err != nil {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	return e.FS.MkdirAll(dir, perm)
}

// SyncDir implements FS.
func (e *ErrorFS) SyncDir(dir string) error {
	if err := e.inject(OpSyncDir, dir); err != nil {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: err}
	}
	e.mu.Lock()
	err := e.syncErr
	e.mu.Unlock()
	if err != nil {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: err}
	}
	return e.FS.SyncDir(dir)
}

type errorFile struct {
	File
	e    *ErrorFS
	name string
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.e.inject(OpWrite, f.name); err != nil {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	f.e.mu.Lock()
	budget, werr := f.e.writeBudget, f.e.writeErr
	if budget >= 0 && int64(len(p)) > budget {
		f.e.writeBudget = 0
	} else if budget >= 0 {
		f.e.writeBudget -= int64(len(p))
	}
	f.e.mu.Unlock()
	if budget >= 0 && int64(len(p)) > budget {
		n := 0
		if budget > 0 {
			var err error
			if n, err = f.File.Write(p[:budget]); err != nil {
				return n, err
			}
		}
		return n, &fs.PathError{Op: "write", Path: f.name, Err: werr}
	}
	return f.File.Write(p)
}

func (f *errorFile) Sync() error {
	if err := f.e.inject(OpSync, f.name); err != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: err}
	}
	f.e.mu.Lock()
	err := f.e.syncErr
	f.e.mu.Unlock()
	if err != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: err}
	}
	return f.File.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.e.inject(OpTruncate, f.name); err != nil {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	f.e.mu.Lock()
	err := f.e.truncErr
	f.e.mu.Unlock()
	if err != nil {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	return f.File.Truncate(size)
}
