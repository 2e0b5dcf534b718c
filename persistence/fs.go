package persistence

import (
	"io"
	"io/fs"
	"os"
)

// FS is the small file system surface the AOF layer uses. Everything the
// package does to the disk goes through it, so tests can swap in MemFS
// (strict about what an fsync makes durable) or ErrorFS (failing writes and
// fsyncs on demand).
//
// Durability contract, as POSIX gives it and MemFS enforces it: file bytes
// survive a crash once File.Sync returned; a created, renamed or removed
// directory entry survives once SyncDir of its directory returned.
type FS interface {
	// Create creates the named file, or truncates it, for writing. Writes
	// always append at the end of the file (O_APPEND), also after Truncate.
	Create(name string) (File, error)
	// OpenAppend opens the named file for appending, creating it if missing.
	OpenAppend(name string) (File, error)
	// Open opens the named file for reading.
	Open(name string) (File, error)
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// Remove removes the named file.
	Remove(name string) error
	// Stat describes the named file or directory.
	Stat(name string) (fs.FileInfo, error)
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string, perm fs.FileMode) error
	// ReadDir returns the names in dir, sorted.
	ReadDir(dir string) ([]string, error)
	// SyncDir makes the entries of dir durable (fsync of the directory).
	SyncDir(dir string) error
}

// File is an open file of an FS.
type File interface {
	io.Reader
	io.Writer
	io.Closer
	// Sync makes the bytes written so far durable.
	Sync() error
	// Truncate changes the size of the file; later writes still append.
	Truncate(size int64) error
	// Stat describes the file.
	Stat() (fs.FileInfo, error)
}

// OSFS is the FS of the operating system.
type OSFS struct{}

var _ FS = OSFS{}

// Create implements FS.
func (OSFS) Create(name string) (File, error) {
	return openOS(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND)
}

// OpenAppend implements FS.
func (OSFS) OpenAppend(name string) (File, error) {
	return openOS(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND)
}

// Open implements FS.
func (OSFS) Open(name string) (File, error) { return openOS(name, os.O_RDONLY) }

func openOS(name string, flag int) (File, error) {
	f, err := os.OpenFile(name, flag, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// Rename implements FS.
func (OSFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

// Remove implements FS.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// Stat implements FS.
func (OSFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// MkdirAll implements FS.
func (OSFS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }

// ReadDir implements FS.
func (OSFS) ReadDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, err
}

// SyncDir implements FS.
func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// osFile makes Sync an fdatasync where the platform has one (syncFile).
type osFile struct{ *os.File }

func (f osFile) Sync() error { return syncFile(f.File) }
