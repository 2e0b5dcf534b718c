package persistence

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"spinel/eventloop/resp"
)

// ---------------------------------------------------------------------------
// The manifest: which files make up the AOF, as Redis 7.0's aof.c keeps it.
//
// One line per file, "file <name> seq <n> type <b|h|i>\n": the base file
// first (at most one), then history files (old files a finished rewrite
// replaced, about to be deleted), then the incremental files in sequence
// order. Names needing it are quoted as sdscatrepr does; lines are split as
// sdssplitargs does. Loading replays the base, then every incr file.
// ---------------------------------------------------------------------------

// File types in the manifest.
const (
	typeBase    byte = 'b'
	typeHistory byte = 'h'
	typeIncr    byte = 'i'
)

// Naming rules (aof.c).
const (
	baseSuffix     = ".base"
	incrSuffix     = ".incr"
	aofSuffix      = ".aof"
	manifestSuffix = ".manifest"
	tempPrefix     = "temp-"
	// tempRewritePrefix starts the name of a base file being written.
	tempRewritePrefix = "temp-rewriteaof-bg-"
	// manifestMaxLine is Redis's MANIFEST_MAX_LINE.
	manifestMaxLine = 1024
)

// aofInfo is one manifest line.
type aofInfo struct {
	name string
	seq  int64
	typ  byte
}

// manifest lists the files of the AOF.
type manifest struct {
	base    *aofInfo
	history []aofInfo
	incrs   []aofInfo
	baseSeq int64 // sequence of the current base (0: none yet)
	incrSeq int64 // sequence of the last incr file (0: none yet)
}

func (m *manifest) clone() *manifest {
	c := &manifest{
		history: append([]aofInfo(nil), m.history...),
		incrs:   append([]aofInfo(nil), m.incrs...),
		baseSeq: m.baseSeq,
		incrSeq: m.incrSeq,
	}
	if m.base != nil {
		b := *m.base
		c.base = &b
	}
	return c
}

// empty reports whether the manifest names no base and no incr file.
func (m *manifest) empty() bool { return m.base == nil && len(m.incrs) == 0 }

// newBase makes a new base the current one, the previous base becoming
// history, and returns its name (getNewBaseFileNameAndMarkPreAsHistory).
func (m *manifest) newBase(fileName string) string {
	if m.base != nil {
		m.history = append([]aofInfo{{name: m.base.name, seq: m.base.seq, typ: typeHistory}}, m.history...)
	}
	m.baseSeq++
	m.base = &aofInfo{name: baseName(fileName, m.baseSeq), seq: m.baseSeq, typ: typeBase}
	return m.base.name
}

// newIncr appends a new incr file and returns its name (getNewIncrAofName).
func (m *manifest) newIncr(fileName string) string {
	m.incrSeq++
	ai := aofInfo{name: incrName(fileName, m.incrSeq), seq: m.incrSeq, typ: typeIncr}
	m.incrs = append(m.incrs, ai)
	return ai.name
}

// historyRewritten turns every incr file but the last (the one being
// written) into history (markRewrittenIncrAofAsHistory).
func (m *manifest) historyRewritten() {
	if len(m.incrs) <= 1 {
		return
	}
	old := m.incrs[:len(m.incrs)-1]
	for i := len(old) - 1; i >= 0; i-- {
		m.history = append([]aofInfo{{name: old[i].name, seq: old[i].seq, typ: typeHistory}}, m.history...)
	}
	m.incrs = append([]aofInfo(nil), m.incrs[len(m.incrs)-1])
}

// files returns the files to replay, base first.
func (m *manifest) files() []aofInfo {
	var fs []aofInfo
	if m.base != nil {
		fs = append(fs, *m.base)
	}
	return append(fs, m.incrs...)
}

func baseName(fileName string, seq int64) string {
	return fileName + "." + strconv.FormatInt(seq, 10) + baseSuffix + aofSuffix
}

func incrName(fileName string, seq int64) string {
	return fileName + "." + strconv.FormatInt(seq, 10) + incrSuffix + aofSuffix
}

func manifestName(fileName string) string     { return fileName + manifestSuffix }
func tempManifestName(fileName string) string { return tempPrefix + fileName + manifestSuffix }

// format returns the manifest text (getAofManifestAsString).
func (m *manifest) format() []byte {
	var b []byte
	if m.base != nil {
		b = appendInfo(b, *m.base)
	}
	for _, ai := range m.history {
		b = appendInfo(b, ai)
	}
	for _, ai := range m.incrs {
		b = appendInfo(b, ai)
	}
	return b
}

// appendInfo appends one manifest line (aofInfoFormat).
func appendInfo(b []byte, ai aofInfo) []byte {
	b = append(b, "file "...)
	if needsRepr(ai.name) {
		b = appendRepr(b, ai.name)
	} else {
		b = append(b, ai.name...)
	}
	b = append(b, " seq "...)
	b = strconv.AppendInt(b, ai.seq, 10)
	b = append(b, " type "...)
	return append(b, ai.typ, '\n')
}

// isPrint and isSpace are C's isprint and isspace in the "C" locale, where
// bytes >= 0x80 are neither.
func isPrint(c byte) bool { return c >= 0x20 && c <= 0x7e }
func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// needsRepr is sdsneedsrepr: whether the name must be quoted so that
// sdssplitargs reads it back as one argument. Unlike Redis it also quotes a
// single quote, which sdssplitargs would take as the start of a quoted
// token: Redis writes such a name bare and then cannot read its manifest.
func needsRepr(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' || c == '"' || c == '\'' || !isPrint(c) || isSpace(c) {
			return true
		}
	}
	return false
}

// appendRepr is sdscatrepr: s in double quotes, with \\ \" \n \r \t \a \b
// escapes and \xHH for other unprintable bytes.
func appendRepr(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if isPrint(c) {
				b = append(b, c)
			} else {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			}
		}
	}
	return append(b, '"')
}

// ManifestError is a manifest Redis would refuse to start with. Msg is
// Redis's text for the problem.
type ManifestError struct {
	Path string // the manifest file
	Line int    // 1-based line number; 0 when the problem is not one line
	Text string // the offending line, trimmed
	Msg  string
}

func (e *ManifestError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("AOF manifest %s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("AOF manifest %s, line %d (%q): %s", e.Path, e.Line, e.Text, e.Msg)
}

// parseManifest reads a manifest with the rules and error texts of Redis's
// aofLoadManifestFromFile: lines are read as fgets does with a 1025-byte
// buffer, "#" lines are comments, each line is trimmed and split as by
// sdssplitargs into "key value" pairs (at least three, unknown keys ignored
// for forward compatibility), "seq" is read as atoll and "type" is the first
// byte of its value.
func parseManifest(data []byte, path string) (*manifest, error) {
	m := &manifest{}
	var maxSeq int64
	lineNum := 0
	var argv [][]byte
	for len(data) > 0 {
		// fgets: up to manifestMaxLine bytes, through the first '\n'.
		n := manifestMaxLine
		if n > len(data) {
			n = len(data)
		}
		if i := bytes.IndexByte(data[:n], '\n'); i >= 0 {
			n = i + 1
		}
		chunk := data[:n]
		data = data[n:]
		lineNum++
		if chunk[0] == '#' {
			continue
		}
		if chunk[len(chunk)-1] != '\n' {
			return nil, &ManifestError{Path: path, Msg: "The AOF manifest file contains too long line"}
		}
		line := strings.Trim(string(chunk), " \t\r\n")
		bad := func(msg string) error {
			return &ManifestError{Path: path, Line: lineNum, Text: line, Msg: msg}
		}
		if line == "" {
			return nil, bad("Invalid AOF manifest file format")
		}
		var ok bool
		argv, ok = resp.SplitArgs([]byte(line), argv[:0])
		// 'argc < 6' is for forward compatibility, as in Redis.
		if !ok || len(argv) < 6 || len(argv)%2 != 0 {
			return nil, bad("Invalid AOF manifest file format")
		}
		var ai aofInfo
		hasName := false
		for i := 0; i < len(argv); i += 2 {
			key, val := string(argv[i]), argv[i+1]
			switch {
			case strings.EqualFold(key, "file"):
				ai.name, hasName = string(val), true
				if strings.ContainsAny(ai.name, "/\\") {
					return nil, bad("File can't be a path, just a filename")
				}
			case strings.EqualFold(key, "seq"):
				ai.seq = atoll(val)
			case strings.EqualFold(key, "type"):
				if len(val) > 0 {
					ai.typ = val[0]
				}
			}
		}
		if !hasName || ai.seq == 0 || ai.typ == 0 {
			return nil, bad("Invalid AOF manifest file format")
		}
		switch ai.typ {
		case typeBase:
			if m.base != nil {
				return nil, bad("Found duplicate base file information")
			}
			b := ai
			m.base = &b
			m.baseSeq = ai.seq
		case typeHistory:
			m.history = append(m.history, ai)
		case typeIncr:
			if ai.seq <= maxSeq {
				return nil, bad("Found a non-monotonic sequence number")
			}
			m.incrs = append(m.incrs, ai)
			m.incrSeq = ai.seq
			maxSeq = ai.seq
		default:
			return nil, bad("Unknown AOF file type")
		}
	}
	if lineNum == 0 {
		return nil, &ManifestError{Path: path, Msg: "Found an empty AOF manifest"}
	}
	return m, nil
}

// atoll is C's atoll: optional blanks, an optional sign, then digits up to
// the first other byte; 0 when there are none. Overflow saturates.
func atoll(b []byte) int64 {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := int64(b[i] - '0')
		if v > (1<<63-1-d)/10 {
			if neg {
				return -1 << 63
			}
			return 1<<63 - 1
		}
		v = v*10 + d
	}
	if neg {
		return -v
	}
	return v
}
