package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// ErrVersion and ErrHelp are returned by Load for "--version"/"-v" and
// "--help"/"-h" as the first argument; main prints and exits.
var (
	ErrVersion = errors.New("config: version requested")
	ErrHelp    = errors.New("config: help requested")
)

// LoadError is a bad option in the config file or on the command line.
// Its text is the body of redis-server's fatal config error; the caller
// prints it under the "*** FATAL CONFIG FILE ERROR (...) ***" header line.
type LoadError struct {
	File   string // "" for the command line
	Line   int    // 1-based line in File; 0 when unknown or on the command line
	Text   string // the offending line or flag, as Redis prints after ">>>"
	Option string // option name as written, "" for a syntax error
	Msg    string // reason, e.g. "argument couldn't be parsed into an integer"
}

func (e *LoadError) Error() string {
	where := "Reading the command line"
	switch {
	case e.File != "" && e.Line > 0:
		where = "Reading the configuration file, at line " + strconv.Itoa(e.Line)
	case e.File != "":
		where = "Reading the configuration file"
	}
	return where + "\n>>> '" + e.Text + "'\n" + e.Msg
}

const (
	msgBadDirective = "Bad directive or wrong number of arguments"
	msgWrongArgs    = "wrong number of arguments"
)

// directive is one option occurrence from the file or the command line.
type directive struct {
	name string
	args []string
	line int    // file line, 0 on the command line
	text string // for LoadError.Text
}

// Load builds a Config the way redis-server does from its arguments
// (without argv[0]):
//
//	spinel [/path/to/redis.toml] [--config path] [--name value [value ...]] ...
//
// Defaults come first, then the file, then the flags, so flags win. The
// words after "--name" up to the next "--" word are its values; a "--name"
// with no value yet takes the next word even if it starts with "--", as in
// Redis, except "--save" which then means --save "". Options taking a list
// (bind, save, client-output-buffer-limit) split a single value on spaces.
// Repeated --save flags add up, like repeated save lines in redis.conf,
// and an empty one clears the list.
//
// As in Redis, setting dir changes the process's working directory.
func Load(args []string) (*Config, error) {
	if len(args) > 0 {
		switch args[0] {
		case "-v", "--version":
			return nil, ErrVersion
		case "-h", "--help":
			return nil, ErrHelp
		}
	}
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	flags, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	rest := flags[:0]
	for _, d := range flags {
		if strings.EqualFold(d.name, "config") {
			if len(d.args) != 1 {
				return nil, &LoadError{Text: d.text, Option: d.name, Msg: msgWrongArgs}
			}
			if file != "" {
				return nil, &LoadError{Text: d.text, Option: d.name, Msg: "config file given twice"}
			}
			file = d.args[0]
			continue
		}
		rest = append(rest, d)
	}

	c := Default()
	if file != "" {
		if c.File, err = filepath.Abs(file); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		ds, err := readFile(c.File)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if err := c.load(d, false); err != nil {
				err.File = c.File
				return nil, err
			}
		}
	}
	seenSave := false
	for _, d := range rest {
		accumulate := seenSave && strings.EqualFold(d.name, "save")
		seenSave = seenSave || strings.EqualFold(d.name, "save")
		if err := c.load(d, accumulate); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// load applies one directive at startup: immutable and protected options
// are allowed here.
func (c *Config) load(d directive, accumulate bool) *LoadError {
	fail := func(msg string) *LoadError {
		return &LoadError{Line: d.line, Text: d.text, Option: d.name, Msg: msg}
	}
	e, ok := lookup(d.name)
	if !ok {
		return fail(msgBadDirective)
	}
	args := d.args
	if e.opt.flags&MultiArg != 0 {
		var words []string
		for _, a := range args {
			words = append(words, strings.Fields(a)...)
		}
		if accumulate && len(words) > 0 { // an empty save still resets, as in Redis
			words = append(strings.Fields(e.opt.get(c)), words...)
		}
		args = words
	} else if len(args) != 1 {
		return fail(msgWrongArgs)
	}
	if err := e.opt.apply(c, args); err != nil {
		return fail(err.Error())
	}
	return nil
}

// parseFlags groups command-line words into directives, following
// redis-server's main().
func parseFlags(words []string) ([]directive, error) {
	var out []directive
	needValue := false // the last "--name" has no value yet
	for i, w := range words {
		if !needValue && strings.HasPrefix(w, "--") {
			f := strings.Fields(w[2:])
			if len(f) == 0 {
				return nil, &LoadError{Text: w, Msg: msgBadDirective}
			}
			out = append(out, directive{name: f[0], args: f[1:], text: strings.Join(f, " ")})
			needValue = len(f) == 1
			if needValue && strings.EqualFold(f[0], "save") && (i == len(words)-1 || strings.HasPrefix(words[i+1], "--")) {
				needValue = false // "--save" alone means --save ""
			}
			continue
		}
		if len(out) == 0 {
			return nil, &LoadError{Text: strconv.Quote(w), Msg: msgBadDirective}
		}
		d := &out[len(out)-1]
		d.args = append(d.args, w)
		d.text += " " + strconv.Quote(w)
		needValue = false
	}
	return out, nil
}

// readFile parses a TOML config file into directives in file order.
func readFile(path string) ([]directive, *LoadError) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{File: path, Text: path, Msg: "Fatal error, can't open config file '" + path + "': " + strerror(err)}
	}
	lines := strings.Split(string(data), "\n")
	lineText := func(n int) string {
		if n >= 1 && n <= len(lines) {
			return strings.TrimSpace(lines[n-1])
		}
		return ""
	}
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		le := &LoadError{File: path, Msg: err.Error()}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			le.Line, _ = de.Position()
			le.Text = lineText(le.Line)
		}
		return nil, le
	}
	lineOf := make(map[string]int)
	for _, e := range scanEntries(lines) {
		if _, dup := lineOf[e.key]; !dup {
			lineOf[e.key] = e.first + 1
		}
	}
	for i, l := range lines { // [table] headers, only to point errors at them
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "[") && !strings.HasPrefix(t, "[[") {
			if end := strings.IndexByte(t, ']'); end > 0 {
				lineOf[strings.Trim(strings.TrimSpace(t[1:end]), `"'`)] = i + 1
			}
		}
	}
	var out []directive
	for k, v := range m {
		d := directive{name: k, line: lineOf[k], text: lineText(lineOf[k])}
		args, ok := tomlArgs(v)
		if !ok {
			return nil, &LoadError{File: path, Line: d.line, Text: d.text, Option: k, Msg: msgBadDirective}
		}
		d.args = args
		out = append(out, d)
	}
	// Keys apply in file order, as redis.conf lines do (an alias written
	// after its option wins).
	sort.SliceStable(out, func(i, j int) bool { return out[i].line < out[j].line })
	return out, nil
}

// tomlArgs converts a TOML value into option words: scalars give one word,
// arrays one word per element. Tables and dates are not option values.
func tomlArgs(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case int64:
		return []string{strconv.FormatInt(v, 10)}, true
	case float64:
		return []string{strconv.FormatFloat(v, 'g', -1, 64)}, true // rejected by the option's parser
	case bool:
		if v {
			return []string{"yes"}, true
		}
		return []string{"no"}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if _, nested := e.([]any); nested {
				return nil, false
			}
			w, ok := tomlArgs(e)
			if !ok {
				return nil, false
			}
			out = append(out, w[0])
		}
		return out, true
	}
	return nil, false
}
