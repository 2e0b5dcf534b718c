package persistence

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// syncFile is fdatasync(2), as Redis's redis_fsync on Linux: it skips
// metadata that reading the data back does not need (mtime) and still
// flushes the file size.
func syncFile(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return f.Sync()
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &fs.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
