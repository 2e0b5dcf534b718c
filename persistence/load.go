package persistence

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"time"
)

// ---------------------------------------------------------------------------
// AOF loading (loadAppendOnlyFiles / loadSingleAppendOnlyFile).
//
// Every file of the manifest, base first, is read in large chunks into one
// buffer and parsed in place: the argv handed to apply aliases that buffer.
// A file is a sequence of RESP multibulk commands; lines starting with '#'
// are annotations (Redis's "#TS:" timestamps) and are skipped.
//
// A command cut short by the end of a file is a truncated tail. So is a
// MULTI whose EXEC never came: the commands of a transaction reach apply only
// once its EXEC has been read, so a partial transaction is never applied.
// Anything else that is not well-formed is corruption and fails the load.
// ---------------------------------------------------------------------------

const (
	// loadBufSize is the read size while loading; the buffer grows for a
	// command or transaction larger than this.
	loadBufSize = 1 << 20
)

// LoadStats describes a finished Load.
type LoadStats struct {
	Files    int   // files replayed, empty ones included
	Commands int64 // commands passed to apply (MULTI and EXEC included)
	Bytes    int64 // bytes of the files replayed
	// Truncated is set when a truncated tail was cut off (aof-load-truncated).
	Truncated       bool
	TruncatedFile   string
	TruncatedOffset int64 // the file's new size
	Duration        time.Duration
}

// LoadError is a failed load: a file that cannot be read, corruption at a
// byte offset, a truncated tail that may not be cut, or an apply error.
type LoadError struct {
	File   string // file name inside the AOF directory
	Offset int64  // byte offset of the command at fault; -1 if none
	Err    error
}

func (e *LoadError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("AOF file %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("AOF file %s at offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// Errors a LoadError may wrap.
var (
	// ErrTruncated is an AOF whose last command was cut short, when it may
	// not be truncated (aof-load-truncated no, or not the last file).
	ErrTruncated = errors.New("unexpected end of file (truncated command or MULTI without EXEC); set aof-load-truncated yes to cut it off")
	// ErrRDBBase is a base file in RDB format (aof-use-rdb-preamble yes).
	ErrRDBBase = errors.New("RDB-format base files are not supported; rewrite it with aof-use-rdb-preamble no")
)

// FormatError is a malformed AOF command.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return "bad file format: " + e.Msg }

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

var (
	selectZero = [][]byte{[]byte("SELECT"), []byte("0")}
	multiName  = []byte("multi")
	execName   = []byte("exec")
)

// Load replays the AOF: the base file, then the incr files in manifest order.
// It must be called once, after Open and before the first Append.
//
// apply receives each command; argv and its elements alias Load's buffers
// and are valid only during the call. Each file is replayed as Redis does,
// by a fresh client in database 0: before the first command of every
// non-empty file, apply receives ["SELECT", "0"]. A transaction reaches apply
// (MULTI, its commands, EXEC) only once its EXEC was read. An apply error
// stops the load; it is returned in a *LoadError naming the file and offset.
//
// progress, if not nil, is called now and then with the bytes replayed so far
// and the total size of the files.
//
// A truncated tail (a command cut short by the end of the file, or a MULTI
// without EXEC) in the last file that holds data is, with
// Options.LoadTruncated, logged with file and offset, cut off the file, and
// the load goes on; otherwise, or in any other file, it is an error wrapping
// ErrTruncated. Any other malformed content is an error wrapping a
// *FormatError, with the file and offset.
func (a *AOF) Load(apply func(argv [][]byte) error, progress func(done, total int64)) (LoadStats, error) {
	start := time.Now()
	a.manMu.Lock()
	files := a.man.files()
	a.manMu.Unlock()

	var st LoadStats
	sizes := make([]int64, len(files))
	var total int64
	lastData := -1 // index of the last file holding data
	for i, f := range files {
		fi, err := a.fs.Stat(a.path(f.name))
		if err != nil {
			return st, &LoadError{File: f.name, Offset: -1, Err: err}
		}
		sizes[i] = fi.Size()
		total += sizes[i]
		if sizes[i] > 0 {
			lastData = i
		}
	}
	l := &loader{apply: apply, progress: progress, total: total, buf: make([]byte, loadBufSize)}
	for i, f := range files {
		st.Files++
		if sizes[i] == 0 {
			continue
		}
		res, err := l.loadFile(a.fs, a.path(f.name), f.name, sizes[i])
		if err != nil {
			return st, err
		}
		if res.truncated {
			if !a.opts.LoadTruncated || i != lastData {
				err := ErrTruncated
				if i != lastData {
					err = fmt.Errorf("%w (the truncated file is not the last file)", ErrTruncated)
				}
				return st, &LoadError{File: f.name, Offset: res.validUpTo, Err: err}
			}
			a.log.Warn("short read while loading the AOF file: truncating it",
				"file", f.name, "offset", res.validUpTo, "size", sizes[i], "reason", res.why)
			if err := a.truncateLoaded(f.name, res.validUpTo); err != nil {
				return st, &LoadError{File: f.name, Offset: res.validUpTo, Err: fmt.Errorf("truncating: %w", err)}
			}
			a.log.Warn("AOF loaded anyway because aof-load-truncated is enabled", "file", f.name)
			st.Truncated, st.TruncatedFile, st.TruncatedOffset = true, f.name, res.validUpTo
			total -= sizes[i] - res.validUpTo
			sizes[i] = res.validUpTo
		}
		st.Bytes += sizes[i]
		a.log.Info("DB loaded from AOF file", "file", f.name, "bytes", sizes[i])
	}
	st.Commands = l.commands
	st.Duration = time.Since(start)
	if progress != nil {
		progress(total, total)
	}
	return st, nil
}

// loader replays files with one reusable buffer.
type loader struct {
	apply    func(argv [][]byte) error
	progress func(done, total int64)
	total    int64
	done     int64 // bytes of the previous files
	commands int64
	buf      []byte
	argv     [][]byte
}

type fileResult struct {
	truncated bool
	validUpTo int64 // offset just after the last command applied
	why       string
}

// loadFile replays one file of size bytes.
func (l *loader) loadFile(fsys FS, fullPath, name string, size int64) (fileResult, error) {
	f, err := fsys.Open(fullPath)
	if err != nil {
		return fileResult{}, &LoadError{File: name, Offset: -1, Err: err}
	}
	defer f.Close()

	var (
		buf     = l.buf
		base    int64 // file offset of buf[0]
		pos     int   // next command in buf
		end     int   // end of the data in buf
		eof     bool
		txStart int64 = -1 // file offset of an open MULTI
		first         = true
	)
	fail := func(off int64, err error) (fileResult, error) {
		return fileResult{}, &LoadError{File: name, Offset: off, Err: err}
	}
	truncated := func(why string) (fileResult, error) {
		valid := base + int64(pos)
		if txStart >= 0 {
			valid = txStart
			why = "MULTI without EXEC"
		}
		return fileResult{truncated: true, validUpTo: valid, why: why}, nil
	}

	// Check for an RDB preamble, as loadSingleAppendOnlyFile does.
	for end < 5 && !eof {
		n, err := f.Read(buf[end:])
		end += n
		if err == io.EOF {
			eof = true
		} else if err != nil {
			return fail(-1, err)
		}
	}
	if end >= 5 && string(buf[:5]) == "REDIS" {
		return fail(0, ErrRDBBase)
	}

	for {
		argv, n, need, perr := parseCommand(buf[pos:end], l.argv[:0])
		l.argv = argv[:0]
		if perr != nil {
			return fail(base+int64(pos), perr)
		}
		if n == 0 {
			// Incomplete: the file ended, or more must be read. A length
			// the rest of the file cannot hold is a truncated tail too,
			// found without reading (and buffering) the rest.
			avail := size - (base + int64(pos))
			if pos == end && (eof || avail <= 0) {
				break
			}
			if eof || int64(need) > avail {
				return truncated("truncated command")
			}
			// Keep the open transaction (or the partial command) and
			// slide it to the front; grow the buffer if it is full.
			keep := pos
			if txStart >= 0 {
				keep = int(txStart - base)
			}
			want := end - keep + max(need-(end-pos), 1)
			if want < loadBufSize {
				want = loadBufSize
			}
			if want > len(buf) {
				nb := make([]byte, max(want, 2*len(buf)))
				copy(nb, buf[keep:end])
				buf = nb
				l.buf = buf
			} else {
				copy(buf, buf[keep:end])
			}
			base += int64(keep)
			pos -= keep
			end -= keep
			m, err := io.ReadAtLeast(f, buf[end:], 1)
			end += m
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
			} else if err != nil {
				return fail(base+int64(pos), err)
			}
			if l.progress != nil {
				l.progress(l.done+base+int64(end), l.total)
			}
			continue
		}
		cmdOff := base + int64(pos)
		pos += n
		if len(argv) == 0 {
			continue // annotation
		}
		if first {
			first = false
			if err := l.apply(selectZero); err != nil {
				return fail(cmdOff, fmt.Errorf("apply: %w", err))
			}
		}
		switch {
		case bytes.EqualFold(argv[0], multiName):
			if txStart >= 0 {
				return fail(cmdOff, formatErr("MULTI inside MULTI"))
			}
			txStart = cmdOff
		case bytes.EqualFold(argv[0], execName):
			if txStart < 0 {
				return fail(cmdOff, formatErr("EXEC without MULTI"))
			}
			// Replay the whole transaction, parsing it a second time:
			// it is complete and still in the buffer.
			for p := int(txStart - base); p < pos; {
				targv, tn, _, _ := parseCommand(buf[p:pos], l.argv[:0])
				l.argv = targv[:0]
				off := base + int64(p)
				p += tn
				if len(targv) == 0 {
					continue
				}
				if err := l.apply(targv); err != nil {
					return fail(off, fmt.Errorf("apply: %w", err))
				}
				l.commands++
			}
			txStart = -1
		default:
			if txStart >= 0 {
				continue // applied at EXEC
			}
			if err := l.apply(argv); err != nil {
				return fail(cmdOff, fmt.Errorf("apply: %w", err))
			}
			l.commands++
		}
	}
	if txStart >= 0 {
		return truncated("MULTI without EXEC")
	}
	l.done += size
	return fileResult{validUpTo: size}, nil
}

// parseCommand parses the AOF command at the start of b, zero-copy: the
// arguments are appended to argv and alias b.
//
//   - complete: n > 0 bytes consumed; argv is empty for an annotation line.
//   - incomplete: n == 0, err == nil, need is the number of bytes from the
//     start of b worth waiting for (exact once a bulk length is known).
//   - malformed: err is a *FormatError.
func parseCommand(b []byte, argv [][]byte) (args [][]byte, n, need int, err error) {
	if len(b) == 0 {
		return argv, 0, 1, nil
	}
	if b[0] == '#' {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return argv, 0, len(b) + 1, nil
		}
		return argv, i + 1, 0, nil
	}
	if b[0] != '*' {
		return argv, 0, 0, formatErr("expected '*', got %q", b[0])
	}
	argc, p, need, err := parseLenLine(b, 1, '*')
	if err != nil || need > 0 {
		return argv, 0, need, err
	}
	if argc < 1 {
		return argv, 0, 0, formatErr("invalid multibulk length %d", argc)
	}
	for j := int64(0); j < argc; j++ {
		if p >= len(b) {
			return argv, 0, p + 1, nil
		}
		if b[p] != '$' {
			return argv, 0, 0, formatErr("expected '$' for argument %d of %d, got %q", j+1, argc, b[p])
		}
		l, q, need, err := parseLenLine(b, p+1, '$')
		if err != nil || need > 0 {
			return argv, 0, need, err
		}
		if l > int64(len(b)-q-2) {
			need := int64(q) + l + 2
			if need > 1<<62 {
				return argv, 0, 0, formatErr("invalid bulk length %d", l)
			}
			return argv, 0, int(need), nil
		}
		e := q + int(l)
		if b[e] != '\r' || b[e+1] != '\n' {
			return argv, 0, 0, formatErr("argument %d of %d not terminated by CRLF", j+1, argc)
		}
		argv = append(argv, b[q:e:e])
		p = e + 2
	}
	return argv, p, 0, nil
}

// parseLenLine parses the decimal after the type byte at b[i-1], up to
// "\r\n" (a bare "\n" is accepted, as Redis's fgets-based reader does). It
// returns the value and the offset after the line, or need > 0 if the line
// is not complete yet.
func parseLenLine(b []byte, i int, kind byte) (v int64, next, need int, err error) {
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		v = v*10 + int64(b[j]-'0')
		j++
		if j-i > 18 {
			return 0, 0, 0, formatErr("invalid %c length line", kind)
		}
	}
	if j == len(b) || (b[j] == '\r' && j+1 == len(b)) {
		return 0, 0, j + 2, nil
	}
	if j == i {
		return 0, 0, 0, formatErr("invalid %c length line", kind)
	}
	switch {
	case b[j] == '\n':
		return v, j + 1, 0, nil
	case b[j] == '\r' && b[j+1] == '\n':
		return v, j + 2, 0, nil
	}
	return 0, 0, 0, formatErr("invalid %c length line", kind)
}

// truncateLoaded cuts the named file at size after a truncated tail, on the
// writer's handle when it is the open incr file, and syncs it.
func (a *AOF) truncateLoaded(name string, size int64) error {
	return a.call(func() error {
		if name == a.fileName && a.file != nil {
			if err := a.file.Truncate(size); err != nil {
				return err
			}
			if err := a.file.Sync(); err != nil {
				return err
			}
			a.fileSize, a.syncedFileSize = size, size
			a.curIncrSize.Store(size)
			return nil
		}
		f, err := a.fs.OpenAppend(a.path(name))
		if err != nil {
			return err
		}
		err = f.Truncate(size)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			a.refreshSizes()
		}
		return err
	})
}

// path returns the path of a file of the AOF directory.
func (a *AOF) path(name string) string { return path.Join(a.dir, name) }
