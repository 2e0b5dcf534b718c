//go:build !linux

package persistence

import "os"

// syncFile is fsync(2) where fdatasync is not available.
func syncFile(f *os.File) error { return f.Sync() }
