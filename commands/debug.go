package commands

import (
	"fmt"

	"time"

	"spinel/commands/keyspace"
)

var debugCommands = []cmdDef{
	{"debug", cmdDebug, FlagProtected},
}

// debugAllowed applies enable-debug-command as Redis 7 does: "no" refuses,
// "local" admits loopback and unix-socket clients only.
func (c *Client) debugAllowed() bool {
	switch c.srv.cfg.EnableDebugCommand {
	case "yes":
		return true
	case "local":
		if c.isLocal() {
			return true
		}
	}
	c.addError("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
	return false
}

// cmdDebug implements the DEBUG subcommands tools use: SLEEP, OBJECT,
// SET-ACTIVE-EXPIRE, RELOAD, HELP.
func cmdDebug(c *Client, args [][]byte) {
	s := c.srv
	if !c.debugAllowed() {
		return
	}
	sub := args[1]
	switch {
	case equalFold(sub, "help"):
		c.addHelp("DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"OBJECT <key>",
			"    Show low level info about the `key` and associated value.",
			"RELOAD",
			"    Rebuild the dataset from a snapshot of itself, as a restart would.",
			"SET-ACTIVE-EXPIRE <0|1>",
			"    Setting it to 0 disables expiring keys in background when they are not",
			"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
			"    default.",
			"SLEEP <seconds>",
			"    Stop the server for <seconds>. Decimals allowed.",
		)
	case equalFold(sub, "sleep") && len(args) == 3:
		// Redis reads the seconds with strtod and no check: junk is 0.
		secs := atof(args[2])
		time.Sleep(time.Duration(secs * float64(time.Second)))
		c.addOK()
	case equalFold(sub, "set-active-expire") && len(args) == 3:
		v, ok := c.getInt(args[2])
		if !ok {
			return
		}
		s.activeExpireOff = v == 0
		c.addOK()
	case equalFold(sub, "object") && len(args) == 3:
		r := s.objectLookup(c, args[2])
		if r == 0 {
			c.addError(ErrNoSuchKey)
			return
		}
		kv := c.db.kv
		size := kv.KeyMemory(r)
		if kv.Type(r) == keyspace.TypeString {
			size = int64(len(kv.Str(r)))
		}
		c.addSimple(fmt.Sprintf("Value at:0x%x refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d",
			uint64(c.db.id)<<32|uint64(r), s.encodingOf(c.db, r), size, kv.LRU(r), s.idleTime(c.db, r)/1000))
	case equalFold(sub, "reload"):
		s.debugReload()
		c.addOK()
	default:
		c.addError(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP.", cString(sub, 128)))
	}
}

// debugReload rebuilds every database from a snapshot of its own commands,
// which proves the snapshot (the AOF rewrite's) is complete.
func (s *Server) debugReload() {
	type op struct {
		db   int
		argv [][]byte
	}
	var ops []op
	for _, db := range s.dbs {
		db.kv.Each(func(r Ref) bool {
			s.emitKey(db, r, func(argv [][]byte) { ops = append(ops, op{db.id, copyArgv(argv)}) })
			return true
		})
	}
	for _, db := range s.dbs {
		s.signalFlushedDB(db)
		db.kv.Flush()
	}
	loader := s.newLoaderClient()
	for _, o := range ops {
		loader.db = s.dbs[o.db]
		s.replay(loader, o.argv)
	}
}

// atof parses the longest numeric prefix of b, 0 when there is none, as C's
// atof.
func atof(b []byte) float64 {
	for n := len(b); n > 0; n-- {
		if f, ok := parseFloat(b[:n]); ok {
			return f
		}
	}
	return 0
}
