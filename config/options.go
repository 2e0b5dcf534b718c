package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Flag describes how an option may be changed and shown.
type Flag uint8

const (
	// Immutable options are read at startup only; CONFIG SET refuses them.
	Immutable Flag = 1 << iota
	// Protected options can be set only as enable-protected-configs allows.
	Protected
	// Sensitive values are secrets: callers must redact them from logs,
	// SLOWLOG and MONITOR. CONFIG GET still shows them, as Redis does.
	Sensitive
	// MultiArg options take a list of words (bind, save, ...).
	MultiArg
	// alwaysRewrite options are written by CONFIG REWRITE even when they
	// look like the default (dir: the default "./" depends on the cwd).
	alwaysRewrite
)

// option is one row of the table. set receives exactly one word unless the
// option is MultiArg; get formats as CONFIG GET; toml formats as a TOML
// value for CONFIG REWRITE.
type option struct {
	name, alias string
	flags       Flag
	def         string // default, in CONFIG SET syntax
	set         func(c *Config, args []string) error
	get         func(c *Config) string
	toml        func(c *Config) string
	// effect, when set, applies the value outside the Config (dir: chdir).
	// Load and Set run it after set; Default does not.
	effect func(c *Config) error
}

// Bounds used by several rows or named in Redis (in comments).
const (
	intMax       = math.MaxInt32
	bindAddrMax  = 16 // CONFIG_BINDADDR_MAX
	minHz, maxHz = 1, 500
	ioThreadsMax = 128
	unixPermMax  = 0o777
)

// options is the table. Order is the order of CONFIG GET output, INFO and
// appended CONFIG REWRITE lines.
var options = []option{
	// Network
	multiOpt("bind", 0, "127.0.0.1 -::1", setBind, func(c *Config) []string { return c.Bind }),
	numOpt("port", "", 0, integer, 0, 65535, "6379", func(c *Config) *int { return &c.Port }),
	boolOpt("protected-mode", 0, "yes", func(c *Config) *bool { return &c.ProtectedMode }),
	numOpt("tcp-backlog", "", Immutable, integer, 0, intMax, "511", func(c *Config) *int { return &c.TCPBacklog }),
	strOpt("unixsocket", Immutable, "", nil, func(c *Config) *string { return &c.UnixSocket }),
	numOpt("unixsocketperm", "", Immutable, octal, 0, unixPermMax, "0", func(c *Config) *int { return &c.UnixSocketPerm }),
	numOpt("timeout", "", 0, integer, 0, intMax, "0", func(c *Config) *int { return &c.Timeout }),
	numOpt("tcp-keepalive", "", 0, integer, 0, intMax, "300", func(c *Config) *int { return &c.TCPKeepalive }),
	numOpt("io-threads", "", Immutable, integer, 1, ioThreadsMax, "1", func(c *Config) *int { return &c.IOThreads }),

	// General
	numOpt("databases", "", Immutable, integer, 1, intMax, "16", func(c *Config) *int { return &c.Databases }),
	numOpt("hz", "", 0, integer, 0, intMax, "10", func(c *Config) *int { return &c.Hz }).
		then(func(c *Config) error { c.Hz = min(max(c.Hz, minHz), maxHz); return nil }), // Redis clamps, never rejects
	enumOpt("loglevel", 0, "notice", []string{"debug", "verbose", "notice", "warning"}, func(c *Config) *string { return &c.Loglevel }),
	strOpt("logfile", Immutable, "", nil, func(c *Config) *string { return &c.Logfile }),
	strOpt("pidfile", Immutable, "", nil, func(c *Config) *string { return &c.Pidfile }),
	enumOpt("enable-debug-command", Immutable, "no", []string{"no", "yes", "local"}, func(c *Config) *string { return &c.EnableDebugCommand }),
	enumOpt("enable-protected-configs", Immutable, "no", []string{"no", "yes", "local"}, func(c *Config) *string { return &c.EnableProtectedConfigs }),
	{
		name: "dir", flags: Protected | alwaysRewrite, def: "./",
		set: func(c *Config, a []string) error { c.Dir = a[0]; return nil },
		// Redis chdir()s into dir; Spinel keeps the process's working
		// directory (several servers may share a test process) and
		// resolves every data path against the absolute dir instead.
		effect: func(c *Config) error {
			abs, err := filepath.Abs(c.Dir)
			if err != nil {
				return errors.New(strerror(err))
			}
			st, err := os.Stat(abs)
			if err != nil {
				return errors.New(strerror(err))
			}
			if !st.IsDir() {
				//lint:ignore ST1005 strerror(ENOTDIR), as Redis prints it
				return errors.New("Not a directory")
			}
			c.Dir = abs
			return nil
		},
		get:  func(c *Config) string { return c.Dir },
		toml: func(c *Config) string { return tomlString(c.Dir) },
	},

	// Security
	strOpt("requirepass", Sensitive, "", nil, func(c *Config) *string { return &c.RequirePass }),
	strOpt("aclfile", Immutable, "", nil, func(c *Config) *string { return &c.ACLFile }),

	// Clients and limits
	numOpt("maxclients", "", 0, integer, 1, math.MaxUint32, "10000", func(c *Config) *int { return &c.MaxClients }),
	numOpt("proto-max-bulk-len", "", 0, memory, 1<<20, math.MaxInt64, "512mb", func(c *Config) *int64 { return &c.ProtoMaxBulkLen }),
	numOpt("client-query-buffer-limit", "", 0, memory, 1<<20, math.MaxInt64, "1gb", func(c *Config) *int64 { return &c.ClientQueryBufferLimit }),
	{
		name: "client-output-buffer-limit", flags: MultiArg,
		def: "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60",
		set: func(c *Config, a []string) error {
			l, err := parseOutputBufferLimits(c.ClientOutputBufferLimit, a)
			c.ClientOutputBufferLimit = l
			return err
		},
		get: func(c *Config) string {
			return strings.Join(formatOutputBufferLimits(c.ClientOutputBufferLimit, outputBufferClasses, itoa64), " ")
		},
		toml: func(c *Config) string {
			names := [3]string{"normal", "replica", "pubsub"}
			return tomlArray(formatOutputBufferLimits(c.ClientOutputBufferLimit, names, formatMemory))
		},
	},

	// Memory management
	numOpt("maxmemory", "", 0, memoryU64, 0, math.MaxInt64, "0", func(c *Config) *int64 { return &c.Maxmemory }),
	enumOpt("maxmemory-policy", 0, "noeviction", []string{"volatile-lru", "volatile-lfu", "volatile-random",
		"volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"},
		func(c *Config) *string { return &c.MaxmemoryPolicy }),
	numOpt("maxmemory-samples", "", 0, integer, 1, intMax, "5", func(c *Config) *int { return &c.MaxmemorySamples }),
	numOpt("maxmemory-eviction-tenacity", "", 0, integer, 0, 100, "10", func(c *Config) *int { return &c.MaxmemoryEvictionTenacity }),
	numOpt("maxmemory-clients", "", 0, memoryOrPercent, -100, math.MaxInt64, "0", func(c *Config) *int64 { return &c.MaxmemoryClients }),
	numOpt("lfu-log-factor", "", 0, integer, 0, intMax, "10", func(c *Config) *int { return &c.LFULogFactor }),
	numOpt("lfu-decay-time", "", 0, integer, 0, intMax, "1", func(c *Config) *int { return &c.LFUDecayTime }),
	numOpt("active-expire-effort", "", 0, integer, 1, 10, "1", func(c *Config) *int { return &c.ActiveExpireEffort }),
	boolOpt("lazyfree-lazy-eviction", 0, "no", func(c *Config) *bool { return &c.LazyfreeLazyEviction }),
	boolOpt("lazyfree-lazy-expire", 0, "no", func(c *Config) *bool { return &c.LazyfreeLazyExpire }),
	boolOpt("lazyfree-lazy-server-del", 0, "no", func(c *Config) *bool { return &c.LazyfreeLazyServerDel }),
	boolOpt("lazyfree-lazy-user-del", 0, "no", func(c *Config) *bool { return &c.LazyfreeLazyUserDel }),
	boolOpt("lazyfree-lazy-user-flush", 0, "no", func(c *Config) *bool { return &c.LazyfreeLazyUserFlush }),

	// Persistence
	boolOpt("appendonly", 0, "no", func(c *Config) *bool { return &c.AppendOnly }),
	strOpt("appendfilename", Immutable, "appendonly.aof", baseName("appendfilename", "filename"),
		func(c *Config) *string { return &c.AppendFilename }),
	strOpt("appenddirname", Immutable, "appendonlydir", baseName("appenddirname", "dirname"),
		func(c *Config) *string { return &c.AppendDirname }),
	enumOpt("appendfsync", 0, "everysec", []string{"everysec", "always", "no"}, func(c *Config) *string { return &c.AppendFsync }),
	boolOpt("no-appendfsync-on-rewrite", 0, "no", func(c *Config) *bool { return &c.NoAppendfsyncOnRewrite }),
	numOpt("auto-aof-rewrite-percentage", "", 0, integer, 0, intMax, "100", func(c *Config) *int { return &c.AutoAOFRewritePercentage }),
	numOpt("auto-aof-rewrite-min-size", "", 0, memory, 0, math.MaxInt64, "64mb", func(c *Config) *int64 { return &c.AutoAOFRewriteMinSize }),
	boolOpt("aof-load-truncated", 0, "yes", func(c *Config) *bool { return &c.AOFLoadTruncated }),
	boolOpt("aof-use-rdb-preamble", 0, "no", func(c *Config) *bool { return &c.AOFUseRDBPreamble }).
		check(func(a []string) error {
			if strings.EqualFold(a[0], "yes") {
				return errRDBPreamble
			}
			return nil
		}),
	boolOpt("aof-timestamp-enabled", 0, "no", func(c *Config) *bool { return &c.AOFTimestampEnabled }),
	boolOpt("aof-rewrite-incremental-fsync", 0, "yes", func(c *Config) *bool { return &c.AOFRewriteIncrementalFsync }),
	{
		name: "save", flags: MultiArg, def: "",
		set: func(c *Config, a []string) error {
			s, err := parseSave(a)
			if err == nil {
				c.Save = s
			}
			return err
		},
		get:  func(c *Config) string { return c.Save },
		toml: func(c *Config) string { return tomlString(c.Save) },
	},
	strOpt("dbfilename", Protected, "dump.rdb", baseName("dbfilename", "filename"), func(c *Config) *string { return &c.Dbfilename }),

	// Event notification
	{
		name: "notify-keyspace-events", def: "",
		set: func(c *Config, a []string) error {
			flags, ok := ParseKeyspaceEvents(a[0])
			if !ok {
				return errEventClass
			}
			c.NotifyKeyspaceEvents = FormatKeyspaceEvents(flags)
			c.NotifyKeyspaceFlags = flags
			return nil
		},
		get:  func(c *Config) string { return c.NotifyKeyspaceEvents },
		toml: func(c *Config) string { return tomlString(c.NotifyKeyspaceEvents) },
	},

	// Slow log, latency monitor and busy scripts
	numOpt("slowlog-log-slower-than", "", 0, integer, -1, math.MaxInt64, "10000", func(c *Config) *int64 { return &c.SlowlogLogSlowerThan }),
	numOpt("slowlog-max-len", "", 0, integer, 0, math.MaxInt64, "128", func(c *Config) *int { return &c.SlowlogMaxLen }),
	numOpt("latency-monitor-threshold", "", 0, integer, 0, math.MaxInt64, "0", func(c *Config) *int64 { return &c.LatencyMonitorThreshold }),
	numOpt("busy-reply-threshold", "lua-time-limit", 0, integer, 0, math.MaxInt64, "5000", func(c *Config) *int64 { return &c.BusyReplyThreshold }),

	// Data type encodings
	numOpt("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, integer, 0, math.MaxInt64, "128", func(c *Config) *int { return &c.HashMaxListpackEntries }),
	numOpt("hash-max-listpack-value", "hash-max-ziplist-value", 0, memory, 0, math.MaxInt64, "64", func(c *Config) *int { return &c.HashMaxListpackValue }),
	numOpt("list-max-listpack-size", "list-max-ziplist-size", 0, integer, math.MinInt32, intMax, "-2", func(c *Config) *int { return &c.ListMaxListpackSize }),
	numOpt("list-compress-depth", "", 0, integer, 0, intMax, "0", func(c *Config) *int { return &c.ListCompressDepth }),
	numOpt("set-max-intset-entries", "", 0, integer, 0, math.MaxInt64, "512", func(c *Config) *int { return &c.SetMaxIntsetEntries }),
	numOpt("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, integer, 0, math.MaxInt64, "128", func(c *Config) *int { return &c.ZsetMaxListpackEntries }),
	numOpt("zset-max-listpack-value", "zset-max-ziplist-value", 0, memory, 0, math.MaxInt64, "64", func(c *Config) *int { return &c.ZsetMaxListpackValue }),
	numOpt("stream-node-max-bytes", "", 0, memory, 0, math.MaxInt64, "4096", func(c *Config) *int64 { return &c.StreamNodeMaxBytes }),
	numOpt("stream-node-max-entries", "", 0, integer, 0, math.MaxInt64, "100", func(c *Config) *int { return &c.StreamNodeMaxEntries }),
}

// ---------------------------------------------------------------------------
// Option kinds: each constructor gives the set/get/toml trio for one type,
// like Redis's per-type {set,get,rewrite} interface.

func boolOpt(name string, flags Flag, def string, field func(*Config) *bool) option {
	return option{
		name: name, flags: flags, def: def,
		set: func(c *Config, a []string) error {
			switch strings.ToLower(a[0]) {
			case "yes":
				*field(c) = true
			case "no":
				*field(c) = false
			default:
				return errors.New("argument must be 'yes' or 'no'")
			}
			return nil
		},
		get: func(c *Config) string {
			if *field(c) {
				return "yes"
			}
			return "no"
		},
		toml: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

func enumOpt(name string, flags Flag, def string, values []string, field func(*Config) *string) option {
	return option{
		name: name, flags: flags, def: def,
		set: func(c *Config, a []string) error {
			for _, v := range values {
				if strings.EqualFold(a[0], v) {
					*field(c) = v
					return nil
				}
			}
			return errors.New("argument(s) must be one of the following: " + strings.Join(values, ", "))
		},
		get:  func(c *Config) string { return *field(c) },
		toml: func(c *Config) string { return tomlString(*field(c)) },
	}
}

func strOpt(name string, flags Flag, def string, valid func(string) error, field func(*Config) *string) option {
	return option{
		name: name, flags: flags, def: def,
		set: func(c *Config, a []string) error {
			if valid != nil {
				if err := valid(a[0]); err != nil {
					return err
				}
			}
			*field(c) = a[0]
			return nil
		},
		get:  func(c *Config) string { return *field(c) },
		toml: func(c *Config) string { return tomlString(*field(c)) },
	}
}

func multiOpt(name string, flags Flag, def string, set func(c *Config, a []string) error, field func(*Config) []string) option {
	return option{
		name: name, flags: flags | MultiArg, def: def, set: set,
		get:  func(c *Config) string { return strings.Join(field(c), " ") },
		toml: func(c *Config) string { return tomlArray(field(c)) },
	}
}

// numKind selects how a numeric option's text is parsed and printed.
type numKind uint8

const (
	integer         numKind = iota // strict integer (string2ll)
	memory                         // memory value with units
	memoryOrPercent                // memory value, or N% stored as -N
	memoryU64                      // memory value that Redis keeps unsigned: saturates instead of failing
	octal                          // octal digits, as unixsocketperm
)

func numOpt[T int | int64](name, alias string, flags Flag, kind numKind, lo, hi int64, def string, field func(*Config) *T) option {
	return option{
		name: name, alias: alias, flags: flags, def: def,
		set: func(c *Config, a []string) error {
			v, err := parseNumber(kind, lo, hi, a[0])
			if err == nil {
				*field(c) = T(v)
			}
			return err
		},
		get: func(c *Config) string {
			v := int64(*field(c))
			switch {
			case kind == octal:
				return strconv.FormatInt(v, 8)
			case kind == memoryOrPercent && v < 0:
				return strconv.FormatInt(-v, 10) + "%"
			}
			return strconv.FormatInt(v, 10)
		},
		toml: func(c *Config) string {
			v := int64(*field(c))
			switch {
			case kind == octal:
				return strconv.FormatInt(v, 8) // TOML integer holding octal digits, as redis.conf
			case kind == memoryOrPercent && v < 0:
				return tomlString(strconv.FormatInt(-v, 10) + "%")
			case kind != integer && formatMemory(v) != strconv.FormatInt(v, 10):
				return tomlString(formatMemory(v))
			}
			return strconv.FormatInt(v, 10)
		},
	}
}

// parseNumber is Redis's numericParseString followed by
// numericBoundaryCheck.
func parseNumber(kind numKind, lo, hi int64, s string) (int64, error) {
	var v int64
	switch kind {
	case octal:
		n, ok := strtoll(s, 8)
		if !ok || n == math.MinInt64 || n == math.MaxInt64 {
			return 0, errors.New("argument couldn't be parsed as an octal number")
		}
		v = n
	case memory, memoryU64, memoryOrPercent:
		u, ok := memtoull(s)
		switch {
		case ok && kind == memoryU64:
			return satInt64(u), nil
		case ok:
			v = int64(u) // wraps as Redis's cast does; the bounds check catches it
		case kind == memoryOrPercent && len(s) > 1 && s[len(s)-1] == '%':
			p, ok := string2ll(s[:len(s)-1])
			if !ok || p < 0 {
				return 0, errors.New("argument must be a memory or percent value")
			}
			v = -p
		case kind == memoryOrPercent:
			return 0, errors.New("argument must be a memory or percent value")
		default:
			return 0, errors.New("argument must be a memory value")
		}
	default:
		n, ok := string2ll(s)
		if !ok {
			return 0, errors.New("argument couldn't be parsed into an integer")
		}
		v = n
	}
	switch {
	case kind == memoryOrPercent && v < 0:
		if v < lo {
			return 0, fmt.Errorf("percentage argument must be less or equal to %d", -lo)
		}
	case v < lo || v > hi:
		if kind == octal {
			return 0, fmt.Errorf("argument must be between %o and %o inclusive", lo, hi)
		}
		return 0, fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
	}
	return v, nil
}

// check adds validation that runs before the option's own parser.
func (o option) check(valid func(args []string) error) option {
	set := o.set
	o.set = func(c *Config, a []string) error {
		if err := valid(a); err != nil {
			return err
		}
		return set(c, a)
	}
	return o
}

// then adds a step that runs after a successful set, for options whose
// stored value is derived from the given one.
func (o option) then(after func(c *Config) error) option {
	set := o.set
	o.set = func(c *Config, a []string) error {
		if err := set(c, a); err != nil {
			return err
		}
		return after(c)
	}
	return o
}

func setBind(c *Config, a []string) error {
	if len(a) > bindAddrMax {
		return errTooManyBind
	}
	if len(a) == 1 && a[0] == "" {
		a = nil
	}
	c.Bind = append([]string{}, a...) // never alias the caller's slice
	return nil
}

// baseName is Redis's pathIsBaseName check for file and directory names
// that live inside dir.
func baseName(option, what string) func(string) error {
	return func(v string) error {
		if v == "" && option != "dbfilename" {
			return fmt.Errorf("%s can't be empty", option)
		}
		if strings.ContainsAny(v, "/\\") {
			return fmt.Errorf("%s can't be a path, just a %s", option, what)
		}
		return nil
	}
}

// strerror turns a Go system error into C's strerror text, which Redis
// puts in its replies ("No such file or directory").
func strerror(err error) string {
	var errno syscall.Errno
	msg := err.Error()
	if errors.As(err, &errno) {
		msg = errno.Error()
	}
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }
