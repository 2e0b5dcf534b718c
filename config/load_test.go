package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spinel.toml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRedisTOML checks that the shipped redis.toml documents exactly the
// defaults and names every option.
func TestRedisTOML(t *testing.T) {
	c, err := Load([]string{"../redis.toml"})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs("../redis.toml"); c.File != want {
		t.Errorf("File = %q; want %q", c.File, want)
	}
	c.File = ""
	if def := Default(); !reflect.DeepEqual(c, def) {
		for _, o := range c.Options() {
			if o.Value != o.Default {
				t.Errorf("redis.toml: %s = %q; default is %q", o.Name, o.Value, o.Default)
			}
		}
		t.Errorf("Load(redis.toml) differs from Default()")
	}
	data, err := os.ReadFile("../redis.toml")
	if err != nil {
		t.Fatal(err)
	}
	present := make(map[string]bool)
	for _, e := range scanEntries(splitLines(string(data))) {
		present[e.key] = true
	}
	for _, o := range options {
		if !present[o.name] {
			t.Errorf("redis.toml does not list %s", o.name)
		}
	}
}

func TestLoad(t *testing.T) {
	file := writeFile(t, `
port = 7000
maxmemory = "100mb"
bind = ["1.2.3.4"]
save = "3600 1"
appendonly = true
hash-max-listpack-entries = 10
hash-max-ziplist-entries = 20 # the alias comes later, so it wins
client-output-buffer-limit = ["pubsub 1mb 1mb 0"]
`)
	cases := []struct {
		args []string
		want map[string]string
	}{
		{[]string{file}, map[string]string{
			"port": "7000", "maxmemory": "104857600", "bind": "1.2.3.4", "save": "3600 1",
			"appendonly": "yes", "hash-max-listpack-entries": "20",
			"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 1048576 0",
		}},
		{[]string{file, "--port", "7001", "--save", "60", "1", "--save", "10 5", "--bind", "127.0.0.1", "::1"},
			map[string]string{"port": "7001", "save": "60 1 10 5", "bind": "127.0.0.1 ::1", "maxmemory": "104857600"}},
		{[]string{"--config", file, "--appendonly", "no"}, map[string]string{"port": "7000", "appendonly": "no"}},
		{[]string{"--save", "--port", "1"}, map[string]string{"save": "", "port": "1"}},
		{[]string{"--save", "60 1", "--save"}, map[string]string{"save": ""}}, // a bare --save is save "", which resets
		{[]string{"--save"}, map[string]string{"save": ""}},
		{[]string{"--requirepass", "--foo"}, map[string]string{"requirepass": "--foo"}},
		{[]string{"--port 6380", "--maxmemory-policy", "ALLKEYS-LRU"}, map[string]string{"port": "6380", "maxmemory-policy": "allkeys-lru"}},
		{[]string{"--list-max-listpack-size", "-3"}, map[string]string{"list-max-listpack-size": "-3"}},
		{[]string{"--client-output-buffer-limit", "pubsub 1 2 3", "--bind", ""},
			map[string]string{"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 1 2 3", "bind": ""}},
		{[]string{"--databases", "4", "--unixsocketperm", "700"}, map[string]string{"databases": "4", "unixsocketperm": "700"}},
	}
	for _, tc := range cases {
		c, err := Load(tc.args)
		if err != nil {
			t.Errorf("Load(%q): %v", tc.args, err)
			continue
		}
		for name, want := range tc.want {
			if got := c.Get(name)[0][1]; got != want {
				t.Errorf("Load(%q): %s = %q; want %q", tc.args, name, got, want)
			}
		}
	}
	if c, _ := Load([]string{"--unixsocketperm", "700"}); c.UnixSocketPerm != 0o700 {
		t.Errorf("unixsocketperm 700 = %o; want octal 700", c.UnixSocketPerm)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		args []string
		file string // content; the path is prepended to args
		want LoadError
	}{
		{args: []string{"--foo", "bar"}, want: LoadError{Text: `foo "bar"`, Option: "foo", Msg: msgBadDirective}},
		{args: []string{"--port"}, want: LoadError{Text: "port", Option: "port", Msg: msgWrongArgs}},
		{args: []string{"--port", "1", "2"}, want: LoadError{Text: `port "1" "2"`, Option: "port", Msg: msgWrongArgs}},
		{args: []string{"--port", "abc"}, want: LoadError{Text: `port "abc"`, Option: "port", Msg: "argument couldn't be parsed into an integer"}},
		{args: []string{"--save", "1"}, want: LoadError{Text: `save "1"`, Option: "save", Msg: "Invalid save parameters"}},
		{args: []string{"--appendonly", "maybe"}, want: LoadError{Text: `appendonly "maybe"`, Option: "appendonly", Msg: "argument must be 'yes' or 'no'"}},
		{args: []string{"--dir", "/nonexistent-spinel"}, want: LoadError{Text: `dir "/nonexistent-spinel"`, Option: "dir", Msg: "No such file or directory"}},
		{file: "port = 1\n\n# comment\nmaxmemory = \"lots\"\n",
			want: LoadError{Line: 4, Text: `maxmemory = "lots"`, Option: "maxmemory", Msg: "argument must be a memory value"}},
		{file: "# x\nfoo = 1\n", want: LoadError{Line: 2, Text: "foo = 1", Option: "foo", Msg: msgBadDirective}},
		{file: "bind = [\n  \"a\",\n  1.5,\n]\nport = 1.5\n",
			want: LoadError{Line: 5, Text: "port = 1.5", Option: "port", Msg: "argument couldn't be parsed into an integer"}},
		{file: "[network]\nport = 1\n", want: LoadError{Line: 1, Text: "[network]", Option: "network", Msg: msgBadDirective}},
		{file: "save = [[\"1\"]]\n", want: LoadError{Line: 1, Text: `save = [["1"]]`, Option: "save", Msg: msgBadDirective}},
	}
	for _, tc := range cases {
		args := tc.args
		if tc.file != "" {
			path := writeFile(t, tc.file)
			args = append([]string{path}, args...)
			tc.want.File = path
		}
		_, err := Load(args)
		var le *LoadError
		if !errors.As(err, &le) || *le != tc.want {
			t.Errorf("Load(%q, %q): got %#v; want %#v", tc.args, tc.file, err, tc.want)
		}
	}

	// A TOML syntax error points at its line.
	_, err := Load([]string{writeFile(t, "port = 1\nbind = [\n")})
	var le *LoadError
	if !errors.As(err, &le) || le.Line == 0 || le.Msg == "" {
		t.Errorf("syntax error: %#v", err)
	}

	for _, tc := range []struct {
		arg  string
		want error
	}{{"-v", ErrVersion}, {"--version", ErrVersion}, {"-h", ErrHelp}, {"--help", ErrHelp}} {
		if _, err := Load([]string{tc.arg}); err != tc.want {
			t.Errorf("Load(%s) = %v; want %v", tc.arg, err, tc.want)
		}
	}
}

func TestLoadErrorText(t *testing.T) {
	_, err := Load([]string{"--port", "abc"})
	want := "Reading the command line\n>>> 'port \"abc\"'\nargument couldn't be parsed into an integer"
	if err == nil || err.Error() != want {
		t.Errorf("got %q; want %q", err, want)
	}
	_, err = Load([]string{writeFile(t, "\nport = \"abc\"\n")})
	want = "Reading the configuration file, at line 2\n>>> 'port = \"abc\"'\nargument couldn't be parsed into an integer"
	if err == nil || err.Error() != want {
		t.Errorf("got %q; want %q", err, want)
	}
}
