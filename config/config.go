package config

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"spinel/commands/glob"
)

// Config holds the current value of every option, typed, for the server
// to read directly. The executor goroutine owns it; CONFIG SET goes through
// Set so that validation, rollback and apply hooks stay in one place.
// The option name each field comes from is in the table (options.go).
type Config struct {
	// Network
	Bind           []string // "-" prefix: optional address, skipped if unavailable
	Port           int
	ProtectedMode  bool
	TCPBacklog     int
	UnixSocket     string
	UnixSocketPerm int // permission bits; written in octal in files and replies
	Timeout        int // seconds of client idleness before closing; 0 = never
	TCPKeepalive   int // seconds
	IOThreads      int // accepted for compatibility; Spinel is single-threaded

	// General
	Databases              int
	Hz                     int // clamped to 1..500 as Redis does
	Loglevel               string
	Logfile                string // "" = stderr
	Pidfile                string
	EnableDebugCommand     string // no | yes | local
	EnableProtectedConfigs string // no | yes | local
	// Dir is the working directory as given; Load and Set chdir into it,
	// so paths such as AppendDirname are relative to the process's cwd.
	Dir string

	// Security
	RequirePass string
	ACLFile     string

	// Clients and limits
	MaxClients              int
	ProtoMaxBulkLen         int64
	ClientQueryBufferLimit  int64
	ClientOutputBufferLimit [3]OutputBufferLimit // indexed by ClientNormal, ClientReplica, ClientPubSub

	// Memory management
	Maxmemory                 int64
	MaxmemoryPolicy           string
	MaxmemorySamples          int
	MaxmemoryEvictionTenacity int
	MaxmemoryClients          int64 // bytes; a negative value -N means N% of maxmemory
	LFULogFactor              int
	LFUDecayTime              int
	ActiveExpireEffort        int
	LazyfreeLazyEviction      bool
	LazyfreeLazyExpire        bool
	LazyfreeLazyServerDel     bool
	LazyfreeLazyUserDel       bool
	LazyfreeLazyUserFlush     bool

	// Persistence
	AppendOnly                 bool
	AppendFilename             string
	AppendDirname              string
	AppendFsync                string // everysec | always | no
	NoAppendfsyncOnRewrite     bool
	AutoAOFRewritePercentage   int
	AutoAOFRewriteMinSize      int64
	AOFLoadTruncated           bool
	AOFUseRDBPreamble          bool // always false: Spinel writes RESP base files only
	AOFTimestampEnabled        bool
	AOFRewriteIncrementalFsync bool
	Save                       string // canonical "<seconds> <changes> ..." or ""; Spinel has no RDB
	Dbfilename                 string

	// NotifyKeyspaceEvents is in canonical form (see FormatKeyspaceEvents).
	// That form drops "n" next to "A", as Redis's does, so the flags that
	// are in force are kept apart in NotifyKeyspaceFlags.
	NotifyKeyspaceEvents string
	NotifyKeyspaceFlags  int

	// Slow log, latency monitor, busy scripts
	SlowlogLogSlowerThan    int64 // microseconds; -1 disables, 0 logs everything
	SlowlogMaxLen           int
	LatencyMonitorThreshold int64 // milliseconds
	BusyReplyThreshold      int64 // milliseconds

	// Data type encodings
	HashMaxListpackEntries int
	HashMaxListpackValue   int
	ListMaxListpackSize    int
	ListCompressDepth      int
	SetMaxIntsetEntries    int
	ZsetMaxListpackEntries int
	ZsetMaxListpackValue   int
	StreamNodeMaxBytes     int64
	StreamNodeMaxEntries   int

	// File is the absolute path of the loaded config file, "" when none.
	// CONFIG REWRITE writes there.
	File string

	hooks map[string][]func(*Config) error
}

// entry is a name CONFIG GET/SET know: an option's name or its alias.
// Redis 7.0 treats the two as separate entries (both listed by CONFIG GET *,
// no "duplicate parameter" when both are set), and so do we.
type entry struct {
	name string
	opt  *option
}

var byName = func() map[string]entry {
	m := make(map[string]entry, 2*len(options))
	for i := range options {
		o := &options[i]
		m[o.name] = entry{o.name, o}
		if o.alias != "" {
			m[o.alias] = entry{o.alias, o}
		}
	}
	return m
}()

func lookup(name string) (entry, bool) {
	e, ok := byName[strings.ToLower(name)]
	return e, ok
}

// args turns a CONFIG SET value into the words the option's set takes.
func (o *option) args(value string) []string {
	if o.flags&MultiArg != 0 {
		return splitSpaces(value)
	}
	return []string{value}
}

// Default returns a Config with every option at its default.
func Default() *Config {
	c := &Config{}
	for i := range options {
		o := &options[i]
		if err := o.set(c, o.args(o.def)); err != nil {
			panic(fmt.Sprintf("config: bad default for %s: %v", o.name, err))
		}
	}
	// dir is kept absolute (see its option): resolve the default "./".
	if abs, err := filepath.Abs(c.Dir); err == nil {
		c.Dir = abs
	}
	return c
}

// Get returns the name/value pairs CONFIG GET pattern replies with. A
// pattern without glob characters is looked up directly and echoed back as
// given, as Redis does; otherwise it is matched case-insensitively against
// every name and alias. Pairs come in table order.
func (c *Config) Get(pattern string) [][2]string {
	return c.GetAll(pattern)
}

// GetAll is Get for several patterns (CONFIG GET p1 p2 ...), without
// repeating an option matched by more than one pattern.
func (c *Config) GetAll(patterns ...string) [][2]string {
	var out [][2]string
	seen := make(map[string]bool)
	for _, p := range patterns {
		if !strings.ContainsAny(p, "[*?") {
			if e, ok := lookup(p); ok && !seen[e.name] {
				seen[e.name] = true
				out = append(out, [2]string{p, e.opt.get(c)})
			}
			continue
		}
		for i := range options {
			o := &options[i]
			for _, n := range []string{o.name, o.alias} {
				if n != "" && !seen[n] && glob.MatchString(p, n, true) {
					seen[n] = true
					out = append(out, [2]string{n, o.get(c)})
				}
			}
		}
	}
	return out
}

// Set applies CONFIG SET name value [name value ...] from a client that is
// not local: protected options are refused unless enable-protected-configs
// is "yes". See SetFrom.
func (c *Config) Set(pairs [][2]string) error {
	return c.SetFrom(pairs, false)
}

// SetFrom applies CONFIG SET atomically, as Redis's configSetCommand:
//  1. look every name up and refuse unknown, immutable, protected (unless
//     enable-protected-configs allows it for this client; local means the
//     client came over loopback or a unix socket) and repeated options;
//  2. remember the old values, then set each new value in order; if one
//     fails, restore the ones already set;
//  3. run the OnApply hooks of every option whose value changed; if one
//     fails, restore all old values and run the hooks again.
//
// The error's text is Redis's reply without the leading "-".
func (c *Config) SetFrom(pairs [][2]string, local bool) error {
	sel := make([]entry, len(pairs))
	for i, p := range pairs {
		e, ok := lookup(p[0])
		if !ok {
			return fmt.Errorf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", p[0])
		}
		switch {
		case e.opt.flags&Immutable != 0:
			return setError(p[0], "can't set immutable config")
		case e.opt.flags&Protected != 0 && !c.protectedAllowed(local):
			return setError(p[0], "can't set protected config")
		}
		for _, prev := range sel[:i] {
			if prev.name == e.name {
				return setError(p[0], "duplicate parameter")
			}
		}
		sel[i] = e
	}

	backup := *c
	old := make([]string, len(sel))
	for i, e := range sel {
		old[i] = e.opt.get(c)
	}
	restore := func(n int) {
		for j, e := range sel[:n] {
			if err := e.opt.apply(c, e.opt.args(old[j])); err != nil {
				slog.Warn("config: failed restoring value after failed CONFIG SET", "option", e.name, "value", old[j], "err", err)
			}
		}
		*c = backup // exact typed values, including ones the text form normalises
	}
	for i, e := range sel {
		if err := e.opt.apply(c, e.opt.args(pairs[i][1])); err != nil {
			restore(i + 1)
			return setError(e.name, err.Error())
		}
	}

	// Hooks run once per changed option, in the order first named.
	var changed []entry
	for i, e := range sel {
		if e.opt.get(c) == old[i] || containsOpt(changed, e.opt) {
			continue
		}
		changed = append(changed, e)
	}
	for _, e := range changed {
		if err := c.runHooks(e.opt); err != nil {
			slog.Warn("config: failed applying new configuration, restoring previous settings", "option", e.name, "err", err)
			restore(len(sel))
			for _, r := range changed {
				if err := c.runHooks(r.opt); err != nil {
					slog.Warn("config: failed applying restored configuration", "option", r.name, "err", err)
				}
			}
			return setError(e.name, err.Error())
		}
	}
	return nil
}

// OnApply registers fn to run after option name (or its alias) changes
// through Set; hooks of one option run in registration order. An error from
// fn fails the CONFIG SET, which is then rolled back. It panics on an
// unknown name, a programming error.
func (c *Config) OnApply(name string, fn func(c *Config) error) {
	e, ok := lookup(name)
	if !ok {
		panic("config: OnApply for unknown option " + name)
	}
	if c.hooks == nil {
		c.hooks = make(map[string][]func(*Config) error)
	}
	c.hooks[e.opt.name] = append(c.hooks[e.opt.name], fn)
}

// OptionInfo describes one option for INFO, CONFIG listings and tests.
type OptionInfo struct {
	Name    string
	Alias   string // "" when none
	Value   string // as CONFIG GET prints it
	Default string // as CONFIG GET prints the default
	Flags   Flag
}

// Options lists every option in table order with its current and default
// values.
func (c *Config) Options() []OptionInfo {
	def := Default()
	out := make([]OptionInfo, len(options))
	for i := range options {
		o := &options[i]
		out[i] = OptionInfo{Name: o.name, Alias: o.alias, Value: o.get(c), Default: o.get(def), Flags: o.flags}
	}
	return out
}

// apply sets the value and applies its effect, as Load and Set do.
func (o *option) apply(c *Config, args []string) error {
	if err := o.set(c, args); err != nil {
		return err
	}
	if o.effect != nil {
		return o.effect(c)
	}
	return nil
}

func (c *Config) runHooks(o *option) error {
	for _, fn := range c.hooks[o.name] {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) protectedAllowed(local bool) bool {
	return c.EnableProtectedConfigs == "yes" || (c.EnableProtectedConfigs == "local" && local)
}

func containsOpt(es []entry, o *option) bool {
	for _, e := range es {
		if e.opt == o {
			return true
		}
	}
	return false
}

func setError(name, msg string) error {
	return errors.New("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + msg)
}
