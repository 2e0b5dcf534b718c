package persistence

import (
	"errors"
	"reflect"
	"testing"
)

func TestManifestFormat(t *testing.T) {
	// Expected lines are what redis-server 7.0.15 writes for these names
	// (see TestRedisManifestNames for the live check).
	f := func(name string, seq int64, typ byte, want string) {
		t.Helper()
		got := string(appendInfo(nil, aofInfo{name: name, seq: seq, typ: typ}))
		if got != want {
			t.Errorf("unexpected line; got %q; want %q", got, want)
		}
	}
	f("appendonly.aof.1.base.aof", 1, 'b', "file appendonly.aof.1.base.aof seq 1 type b\n")
	f("appendonly.aof.12.incr.aof", 12, 'i', "file appendonly.aof.12.incr.aof seq 12 type i\n")
	f("my file.aof.1.base.aof", 1, 'b', "file \"my file.aof.1.base.aof\" seq 1 type b\n")
	f("x\x01\"y.1.base.aof", 1, 'b', "file \"x\\x01\\\"y.1.base.aof\" seq 1 type b\n")
	f("a\\b\tc\nd\re\af\bg", 3, 'h', "file \"a\\\\b\\tc\\nd\\re\\af\\bg\" seq 3 type h\n")
	f("caf\xc3\xa9", 2, 'i', "file \"caf\\xc3\\xa9\" seq 2 type i\n")
	f("v\x0bw", 2, 'i', "file \"v\\x0bw\" seq 2 type i\n")
	// Redis writes this one bare, which its own sdssplitargs cannot read.
	f("it's.aof", 1, 'b', "file \"it's.aof\" seq 1 type b\n")
}

func TestManifestRoundTrip(t *testing.T) {
	names := []string{
		"appendonly.aof", "my file.aof", "x\x01\"y", "quote'single", "tab\there",
		"nl\nname", "high\xff\x80", "#hash", "sp ", " lead",
	}
	for _, n := range names {
		m := &manifest{}
		m.newBase(n)
		m.newIncr(n)
		m.newIncr(n)
		m.historyRewritten()
		m.newBase(n)
		text := m.format()
		got, err := parseManifest(text, "m")
		if err != nil {
			t.Errorf("name %q: parse of %q: %v", n, text, err)
			continue
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("name %q: round trip of %q; got %+v; want %+v", n, text, got, m)
		}
	}
}

func TestManifestParse(t *testing.T) {
	m, err := parseManifest([]byte("# comment\n"+
		"FILE b.aof SEQ 4 TYPE b extra 1\n"+ // keys are case-insensitive, unknown pairs ignored
		"file h.aof seq 2 type h\n"+
		"  file \"i 1.aof\" seq 5 type incr \r\n"+ // trimmed; type is its first byte
		"file 'i2.aof' seq 7 type i\n"), "m")
	if err != nil {
		t.Fatal(err)
	}
	want := &manifest{
		base:    &aofInfo{"b.aof", 4, 'b'},
		history: []aofInfo{{"h.aof", 2, 'h'}},
		incrs:   []aofInfo{{"i 1.aof", 5, 'i'}, {"i2.aof", 7, 'i'}},
		baseSeq: 4, incrSeq: 7,
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v; want %+v", m, want)
	}
	// A manifest of comments only lists no file (Redis then starts afresh).
	if m, err := parseManifest([]byte("# nothing\n"), "m"); err != nil || !m.empty() {
		t.Fatalf("comments only: %+v, %v", m, err)
	}
}

func TestManifestErrors(t *testing.T) {
	// Messages and line numbers as redis-server 7.0.15 logs them.
	long := make([]byte, 1100)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		text string
		line int
		msg  string
	}{
		{"", 0, "Found an empty AOF manifest"},
		{"file a seq 1\n", 1, "Invalid AOF manifest file format"},
		{"file a seq 1 type b\nfile b seq 2 type b\n", 2, "Found duplicate base file information"},
		{"file a seq 2 type i\nfile b seq 1 type i\n", 2, "Found a non-monotonic sequence number"},
		{"file a seq 2 type i\nfile b seq 2 type i\n", 2, "Found a non-monotonic sequence number"},
		{"file a seq 1 type x\n", 1, "Unknown AOF file type"},
		{"file d/a seq 1 type b\n", 1, "File can't be a path, just a filename"},
		{"file d\\a seq 1 type b\n", 1, "File can't be a path, just a filename"},
		{"# c\n\nfile a seq 1 type b\n", 2, "Invalid AOF manifest file format"},
		{"file a seq 0 type b\n", 1, "Invalid AOF manifest file format"},
		{"file a seq x type b\n", 1, "Invalid AOF manifest file format"},
		{"file a seq 1 type b", 0, "The AOF manifest file contains too long line"},
		{"file " + string(long) + " seq 1 type b\n", 0, "The AOF manifest file contains too long line"},
		{"file \"a b seq 1 type b\n", 1, "Invalid AOF manifest file format"},
		{"file a seq 1 type b x\n", 1, "Invalid AOF manifest file format"},
		{"seq 1 type b name a\n", 1, "Invalid AOF manifest file format"},
	}
	for _, tt := range tests {
		_, err := parseManifest([]byte(tt.text), "dir/m.manifest")
		var me *ManifestError
		if !errors.As(err, &me) {
			t.Errorf("%q: got %v; want a ManifestError", tt.text, err)
			continue
		}
		if me.Msg != tt.msg || me.Line != tt.line || me.Path != "dir/m.manifest" {
			t.Errorf("%q: got line %d %q; want line %d %q", tt.text, me.Line, me.Msg, tt.line, tt.msg)
		}
	}
	// The error text names the file, the line and its content.
	_, err := parseManifest([]byte("file a seq 1 type b\nfile b seq 2 type b\n"), "d/x.manifest")
	want := `AOF manifest d/x.manifest, line 2 ("file b seq 2 type b"): Found duplicate base file information`
	if err == nil || err.Error() != want {
		t.Errorf("unexpected error; got %v; want %s", err, want)
	}
}

func TestAtoll(t *testing.T) {
	f := func(s string, want int64) {
		t.Helper()
		if got := atoll([]byte(s)); got != want {
			t.Errorf("atoll(%q); got %d; want %d", s, got, want)
		}
	}
	f("12", 12)
	f(" 7x", 7)
	f("-3", -3)
	f("+4", 4)
	f("x", 0)
	f("", 0)
	f("99999999999999999999", 1<<63-1)
}
