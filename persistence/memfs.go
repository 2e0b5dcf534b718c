package persistence

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Op names an FS operation, for MemFS.AfterOp and ErrorFS.Inject.
type Op string

// The operations an FS performs.
const (
	OpCreate   Op = "create"
	OpOpen     Op = "open"
	OpWrite    Op = "write"
	OpSync     Op = "sync"
	OpTruncate Op = "truncate"
	OpClose    Op = "close"
	OpRename   Op = "rename"
	OpRemove   Op = "remove"
	OpMkdir    Op = "mkdir"
	OpSyncDir  Op = "syncdir"
)

// ErrCrashed is returned by a MemFS file handle opened before a Crash.
var ErrCrashed = errors.New("memfs: file handle from before a crash")

// MemFS is an in-memory FS that is strict about durability, in the manner of
// pebble's strict MemFS: file bytes not covered by a File.Sync, and directory
// entries (creations, renames, removals) not covered by a SyncDir of their
// directory, are lost by Crash and missing from CrashClone.
//
// Paths are slash-separated; relative paths are taken from the root. The
// root directory itself is always durable.
type MemFS struct {
	mu   sync.Mutex
	root *memNode
	gen  int // bumped by Crash: older handles fail with ErrCrashed

	// AfterOp, if set, is called after every operation that changes the
	// file system (create, write, sync, truncate, rename, remove, mkdir,
	// syncdir), whether it succeeded or not, without the MemFS lock held:
	// crash tests take a CrashClone there.
	AfterOp func(op Op, name string)
}

type memNode struct {
	dir bool
	// Directories: the live entries, and the entries as of the last SyncDir.
	children, synced map[string]*memNode
	// Files: the live bytes, and the bytes as of the last Sync.
	data, syncedData []byte
	// shrunk records a Truncate below the synced length since the last Sync,
	// so the next Sync must copy everything instead of the appended tail.
	shrunk  bool
	modTime time.Time
}

func newDirNode() *memNode {
	return &memNode{dir: true, children: map[string]*memNode{}, synced: map[string]*memNode{}, modTime: time.Now()}
}

// NewMemFS returns an empty MemFS.
func NewMemFS() *MemFS { return &MemFS{root: newDirNode()} }

var _ FS = (*MemFS)(nil)

func (m *MemFS) after(op Op, name string) {
	if m.AfterOp != nil {
		m.AfterOp(op, name)
	}
}

func splitPath(name string) []string {
	name = path.Clean("/" + name)
	if name == "/" {
		return nil
	}
	return strings.Split(name[1:], "/")
}

// walk returns the node at parts, or nil.
func (m *MemFS) walk(parts []string) *memNode {
	n := m.root
	for _, p := range parts {
		if !n.dir {
			return nil
		}
		n = n.children[p]
		if n == nil {
			return nil
		}
	}
	return n
}

// parent returns the directory holding name and the base name.
func (m *MemFS) parent(op, name string) (*memNode, string, error) {
	parts := splitPath(name)
	if len(parts) == 0 {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	d := m.walk(parts[:len(parts)-1])
	if d == nil || !d.dir {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return d, parts[len(parts)-1], nil
}

func (m *MemFS) openFile(op Op, name string, create, trunc, write bool) (File, error) {
	m.mu.Lock()
	d, base, err := m.parent(string(op), name)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	n := d.children[base]
	switch {
	case n != nil && n.dir:
		err = &fs.PathError{Op: string(op), Path: name, Err: errors.New("is a directory")}
	case n == nil && !create:
		err = &fs.PathError{Op: string(op), Path: name, Err: fs.ErrNotExist}
	case n == nil:
		n = &memNode{modTime: time.Now()}
		d.children[base] = n
	case trunc:
		n.data = n.data[:0]
		n.shrunk = true
	}
	var f File
	if err == nil {
		f = &memFile{fs: m, node: n, name: name, gen: m.gen, write: write}
	}
	m.mu.Unlock()
	if create {
		m.after(op, name)
	}
	return f, err
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
	return m.openFile(OpCreate, name, true, true, true)
}

// OpenAppend implements FS.
func (m *MemFS) OpenAppend(name string) (File, error) {
	return m.openFile(OpCreate, name, true, false, true)
}

// Open implements FS.
func (m *MemFS) Open(name string) (File, error) {
	return m.openFile(OpOpen, name, false, false, false)
}

// Rename implements FS.
func (m *MemFS) Rename(oldname, newname string) error {
	err := m.rename(oldname, newname)
	m.after(OpRename, oldname)
	return err
}

func (m *MemFS) rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	od, ob, err := m.parent("rename", oldname)
	if err != nil {
		return err
	}
	n := od.children[ob]
	if n == nil {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	nd, nb, err := m.parent("rename", newname)
	if err != nil {
		return err
	}
	if t := nd.children[nb]; t != nil && t.dir != n.dir {
		return &fs.PathError{Op: "rename", Path: newname, Err: fs.ErrExist}
	}
	delete(od.children, ob)
	nd.children[nb] = n
	return nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	err := m.remove(name)
	m.after(OpRemove, name)
	return err
}

func (m *MemFS) remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.parent("remove", name)
	if err != nil {
		return err
	}
	n := d.children[base]
	if n == nil {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if n.dir && len(n.children) > 0 {
		return &fs.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
	}
	delete(d.children, base)
	return nil
}

// Stat implements FS.
func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.walk(splitPath(name))
	if n == nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return n.info(path.Base(name)), nil
}

// MkdirAll implements FS. New directories are entries of their parents and,
// like files, durable only once the parent is synced.
func (m *MemFS) MkdirAll(dir string, perm fs.FileMode) error {
	err := m.mkdirAll(dir)
	m.after(OpMkdir, dir)
	return err
}

func (m *MemFS) mkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, p := range splitPath(dir) {
		c := n.children[p]
		if c == nil {
			c = newDirNode()
			n.children[p] = c
		} else if !c.dir {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: fs.ErrExist}
		}
		n = c
	}
	return nil
}

// ReadDir implements FS.
func (m *MemFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.walk(splitPath(dir))
	if n == nil || !n.dir {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// SyncDir implements FS.
func (m *MemFS) SyncDir(dir string) error {
	err := m.syncDir(dir)
	m.after(OpSyncDir, dir)
	return err
}

func (m *MemFS) syncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.walk(splitPath(dir))
	if n == nil || !n.dir {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: fs.ErrNotExist}
	}
	n.synced = make(map[string]*memNode, len(n.children))
	for k, v := range n.children {
		n.synced[k] = v
	}
	return nil
}

// CrashClone returns a new MemFS holding only what is durable in m now: what
// a machine would find after losing power at this instant. m is unchanged.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &MemFS{root: cloneDurable(m.root, false, map[*memNode]*memNode{})}
}

// CrashCloneOrdered is CrashClone for a file system that journals directory
// operations in order as they happen (creations, renames and removals are
// all kept, synced or not) while file bytes still need an fsync. Crash tests
// use both: this one catches directory operations done in the wrong order,
// which CrashClone cannot see when one SyncDir makes them durable together.
func (m *MemFS) CrashCloneOrdered() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &MemFS{root: cloneDurable(m.root, true, map[*memNode]*memNode{})}
}

// Crash drops everything that is not durable, in place (pebble's
// ResetToSynced). File handles opened before fail with ErrCrashed.
func (m *MemFS) Crash() {
	c := m.CrashClone()
	m.mu.Lock()
	m.root = c.root
	m.gen++
	m.mu.Unlock()
}

// cloneDurable copies the durable state under n (with liveDirs, every live
// directory entry counts as durable); seen keeps a file reachable through two
// durable entries (a rename not yet synced on one side) one node.
func cloneDurable(n *memNode, liveDirs bool, seen map[*memNode]*memNode) *memNode {
	if c := seen[n]; c != nil {
		return c
	}
	if !n.dir {
		c := &memNode{data: slices.Clone(n.syncedData), syncedData: slices.Clone(n.syncedData), modTime: n.modTime}
		seen[n] = c
		return c
	}
	c := newDirNode()
	seen[n] = c
	entries := n.synced
	if liveDirs {
		entries = n.children
	}
	for k, v := range entries {
		cv := cloneDurable(v, liveDirs, seen)
		c.children[k] = cv
		c.synced[k] = cv
	}
	return c
}

func (n *memNode) info(name string) fs.FileInfo {
	return memInfo{name: name, size: int64(len(n.data)), dir: n.dir, mod: n.modTime}
}

type memInfo struct {
	name string
	size int64
	dir  bool
	mod  time.Time
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time { return i.mod }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }

// memFile is a handle on a MemFS file. Like a POSIX descriptor it keeps
// working on the file after the name is removed or replaced.
type memFile struct {
	fs     *MemFS
	node   *memNode
	name   string
	gen    int
	write  bool
	off    int // read offset
	closed bool
}

func (f *memFile) check(op string) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if f.gen != f.fs.gen {
		return &fs.PathError{Op: op, Path: f.name, Err: ErrCrashed}
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if f.off >= len(f.node.data) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[f.off:])
	f.off += n
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	n, err := f.doWrite(p)
	f.fs.after(OpWrite, f.name)
	return n, err
}

func (f *memFile) doWrite(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if !f.write {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	f.node.data = append(f.node.data, p...)
	f.node.modTime = time.Now()
	return len(p), nil
}

func (f *memFile) Sync() error {
	err := f.doSync()
	f.fs.after(OpSync, f.name)
	return err
}

func (f *memFile) doSync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync"); err != nil {
		return err
	}
	n := f.node
	if n.shrunk || len(n.syncedData) > len(n.data) {
		n.syncedData = slices.Clone(n.data)
		n.shrunk = false
	} else {
		// Appends only since the last sync: copy the tail.
		n.syncedData = append(n.syncedData, n.data[len(n.syncedData):]...)
	}
	return nil
}

func (f *memFile) Truncate(size int64) error {
	err := f.doTruncate(size)
	f.fs.after(OpTruncate, f.name)
	return err
}

func (f *memFile) doTruncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate"); err != nil {
		return err
	}
	if !f.write || size < 0 {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	n := f.node
	if size < int64(len(n.data)) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	}
	if size < int64(len(n.syncedData)) {
		n.shrunk = true
	}
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat"); err != nil {
		return nil, err
	}
	return f.node.info(path.Base(f.name)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

// ReadFile returns the live contents of the named file (a test helper).
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.walk(splitPath(name))
	if n == nil || n.dir {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(n.data), nil
}

// WriteFile creates the named file with data, synced, with its directory
// entry durable (a test helper for setting up a directory).
func (m *MemFS) WriteFile(name string, data []byte) error {
	f, err := m.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return m.SyncDir(path.Dir(path.Clean("/" + name)))
}
