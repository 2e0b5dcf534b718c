package commands

import (
	"bytes"

	"spinel/commands/glob"
)

// introspectionCommands are COMMAND and its subcommands. They describe the
// commands in the table only: what Spinel does not implement is not listed.
var introspectionCommands = []cmdDef{
	{"command", cmdCommand, 0},
	{"command|count", cmdCommandCount, 0},
	{"command|docs", cmdCommandDocs, 0},
	{"command|getkeys", cmdCommandGetkeys, 0},
	{"command|getkeysandflags", cmdCommandGetkeysandflags, 0},
	{"command|help", cmdCommandHelp, 0},
	{"command|info", cmdCommandInfo, 0},
	{"command|list", cmdCommandList, 0},
}

// cmdCommand is COMMAND: the COMMAND INFO of every command. Redis lists them
// in its hash table's order; Spinel by name.
func cmdCommand(c *Client, args [][]byte) {
	cmds := c.srv.table.Commands()
	c.addArrayLen(len(cmds))
	for _, s := range cmds {
		c.addCommandInfo(s)
	}
}

// cmdCommandCount is COMMAND COUNT: the number of top-level commands.
func cmdCommandCount(c *Client, args [][]byte) {
	c.addInt(int64(len(c.srv.table.Commands())))
}

// cmdCommandInfo is COMMAND INFO [name ...]: one entry per name, null for an
// unknown name; every command without names.
func cmdCommandInfo(c *Client, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, args)
		return
	}
	c.addArrayLen(len(args) - 2)
	for _, name := range args[2:] {
		c.addCommandInfo(c.srv.table.lookupFullName(name))
	}
}

// cmdCommandDocs is COMMAND DOCS [name ...]: a map from full name to docs,
// skipping unknown names; every command without names.
func cmdCommandDocs(c *Client, args [][]byte) {
	if len(args) == 2 {
		cmds := c.srv.table.Commands()
		c.addMapLen(len(cmds))
		for _, s := range cmds {
			c.addBulkString(s.FullName)
			c.addCommandDocs(s)
		}
		return
	}
	pos := c.deferLen()
	n := 0
	for _, name := range args[2:] {
		s := c.srv.table.lookupFullName(name)
		if s == nil {
			continue
		}
		c.addBulkString(s.FullName)
		c.addCommandDocs(s)
		n++
	}
	c.setDeferredMapLen(pos, n)
}

// cmdCommandList is COMMAND LIST [FILTERBY MODULE name|ACLCAT cat|PATTERN
// pattern]: the full names of the commands and subcommands that pass the
// filter. FILTERBY must come last, with exactly its two arguments.
func cmdCommandList(c *Client, args [][]byte) {
	var filter func(s *Spec) bool
	for i := 2; i < len(args); i++ {
		if !strcaseEqual(args[i], "filterby") || len(args)-1-i != 2 {
			c.addError(ErrSyntax)
			return
		}
		arg := args[i+2]
		switch kind := args[i+1]; {
		case strcaseEqual(kind, "module"):
			// Spinel has no modules: no command belongs to one.
			filter = func(*Spec) bool { return false }
		case strcaseEqual(kind, "aclcat"):
			filter = func(s *Spec) bool {
				for _, cat := range s.ACLCategories {
					if strcaseEqual(arg, cat) {
						return true
					}
				}
				return false
			}
		case strcaseEqual(kind, "pattern"):
			pattern := string(arg)
			filter = func(s *Spec) bool { return glob.MatchString(pattern, s.FullName, true) }
		default:
			c.addError(ErrSyntax)
			return
		}
		i += 2
	}
	pos := c.deferLen()
	n := 0
	add := func(s *Spec) {
		if filter == nil || filter(s) {
			c.addBulkString(s.FullName)
			n++
		}
	}
	for _, s := range c.srv.table.Commands() {
		add(s)
		for _, sub := range s.Subcommands {
			add(sub)
		}
	}
	c.setDeferredArrayLen(pos, n)
}

// cmdCommandGetkeys is COMMAND GETKEYS command [arg ...].
func cmdCommandGetkeys(c *Client, args [][]byte) { c.addCommandKeys(args[2:], false) }

// cmdCommandGetkeysandflags is COMMAND GETKEYSANDFLAGS command [arg ...].
func cmdCommandGetkeysandflags(c *Client, args [][]byte) { c.addCommandKeys(args[2:], true) }

func (c *Client) addCommandKeys(argv [][]byte, withFlags bool) {
	s := c.srv.table.lookupArgv(argv)
	if s == nil {
		c.addError(errGetKeysInvalidCommand.Error())
		return
	}
	c.addSpecKeys(s, argv, withFlags)
}

// addSpecKeys replies with the keys of argv, a whole command line of s, as
// COMMAND GETKEYS (or GETKEYSANDFLAGS) does.
func (c *Client) addSpecKeys(s *Spec, argv [][]byte, withFlags bool) {
	var posBuf [16]int
	r := keyResult{pos: posBuf[:0], withFlags: withFlags}
	if err := s.getKeys(argv, &r); err != nil {
		c.addError(err.Error())
		return
	}
	c.addArrayLen(len(r.pos))
	for i, p := range r.pos {
		if withFlags {
			c.addArrayLen(2)
			c.addBulk(argv[p])
			c.addKeyFlags(r.flags[i])
		} else {
			c.addBulk(argv[p])
		}
	}
}

var commandHelp = []string{
	"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
	"HELP",
	"    Prints this help.",
}

// cmdCommandHelp is COMMAND HELP.
func cmdCommandHelp(c *Client, args [][]byte) {
	c.addArrayLen(len(commandHelp))
	for _, line := range commandHelp {
		c.addSimple(line)
	}
}

// ---------------------------------------------------------------------------
// Command lookup by the names COMMAND takes.
// ---------------------------------------------------------------------------

// lookupFullName finds a command by full name, "get" or "client|list", as
// Redis's lookupCommandBySds: case-insensitive, one level of subcommands, and
// "container|sub" only for a container.
func (t *Table) lookupFullName(name []byte) *Spec {
	parent, sub, isSub := bytes.Cut(name, []byte("|"))
	if !isSub {
		return t.lookup(name)
	}
	if bytes.IndexByte(sub, '|') >= 0 {
		return nil
	}
	s := t.lookup(parent)
	if s == nil || s.Subcommands == nil {
		return nil
	}
	return s.subcommand(sub)
}

// lookupArgv finds the command a whole command line runs, as Redis's
// lookupCommand: the subcommand named by argv[1] for a container given one.
func (t *Table) lookupArgv(argv [][]byte) *Spec {
	if len(argv) == 0 {
		return nil
	}
	s := t.lookup(argv[0])
	if s == nil || len(argv) == 1 || s.Subcommands == nil {
		return s
	}
	return s.subcommand(argv[1])
}

// ---------------------------------------------------------------------------
// Rendering, as Redis's addReplyCommandInfo and addReplyCommandDocs. These
// take a *Spec so that tests can render every spec, implemented or not.
// ---------------------------------------------------------------------------

// commandFlagNames are the names COMMAND INFO prints, indexed by Flag bit.
// may_replicate and protected are hidden, as in Redis; Spinel-only flags
// (1<<40 and up) have no name and are never printed.
var commandFlagNames = [...]string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
	"blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
	"fast", "no_auth", "", "no_mandatory_keys", "", "no_async_loading",
	"no_multi", "movablekeys", "allow_busy",
}

// addCommandInfo appends the COMMAND INFO entry of s, or a null for nil.
func (c *Client) addCommandInfo(s *Spec) {
	if s == nil {
		c.addNull()
		return
	}
	c.addArrayLen(10)
	c.addBulkString(s.FullName)
	c.addInt(int64(s.Arity))
	c.addCommandFlags(s.Flags)
	c.addInt(int64(s.FirstKey))
	c.addInt(int64(s.LastKey))
	c.addInt(int64(s.Step))
	c.addSetLen(len(s.ACLCategories))
	for _, cat := range s.ACLCategories {
		c.out = append(c.out, "+@"...)
		c.out = append(c.out, cat...)
		c.out = append(c.out, '\r', '\n')
	}
	c.addSetLen(len(s.Tips))
	for _, tip := range s.Tips {
		c.addBulkString(tip)
	}
	c.addSetLen(len(s.KeySpecs))
	for i := range s.KeySpecs {
		c.addKeySpec(&s.KeySpecs[i])
	}
	if s.Subcommands == nil {
		c.addSetLen(0)
		return
	}
	c.addArrayLen(len(s.Subcommands))
	for _, sub := range s.Subcommands {
		c.addCommandInfo(sub)
	}
}

func (c *Client) addCommandFlags(f Flag) {
	n := 0
	for i, name := range commandFlagNames {
		if name != "" && f&(1<<i) != 0 {
			n++
		}
	}
	c.addSetLen(n)
	for i, name := range commandFlagNames {
		if name != "" && f&(1<<i) != 0 {
			c.addSimple(name)
		}
	}
}

func (c *Client) addKeyFlags(f keyFlags) {
	n := 0
	for i := range keyFlagNames {
		if f&(1<<i) != 0 {
			n++
		}
	}
	c.addSetLen(n)
	for i, name := range keyFlagNames {
		if f&(1<<i) != 0 {
			c.addSimple(name)
		}
	}
}

func (c *Client) addKeySpec(ks *KeySpec) {
	n := 3
	if ks.Notes != "" {
		n++
	}
	c.addMapLen(n)
	if ks.Notes != "" {
		c.addBulkString("notes")
		c.addBulkString(ks.Notes)
	}
	c.addBulkString("flags")
	c.addSetLen(len(ks.Flags))
	for _, f := range ks.Flags {
		c.addSimple(f)
	}

	c.addBulkString("begin_search")
	c.addMapLen(2)
	c.addBulkString("type")
	bs := &ks.BeginSearch
	switch bs.Type {
	case "index":
		c.addBulkString("index")
		c.addBulkString("spec")
		c.addMapLen(1)
		c.addBulkString("index")
		c.addInt(int64(bs.Index))
	case "keyword":
		c.addBulkString("keyword")
		c.addBulkString("spec")
		c.addMapLen(2)
		c.addBulkString("keyword")
		c.addBulkString(bs.Keyword)
		c.addBulkString("startfrom")
		c.addInt(int64(bs.StartFrom))
	default:
		c.addBulkString("unknown")
		c.addBulkString("spec")
		c.addMapLen(0)
	}

	c.addBulkString("find_keys")
	c.addMapLen(2)
	c.addBulkString("type")
	fk := &ks.FindKeys
	switch fk.Type {
	case "range":
		c.addBulkString("range")
		c.addBulkString("spec")
		c.addMapLen(3)
		c.addBulkString("lastkey")
		c.addInt(int64(fk.LastKey))
		c.addBulkString("keystep")
		c.addInt(int64(fk.KeyStep))
		c.addBulkString("limit")
		c.addInt(int64(fk.Limit))
	case "keynum":
		c.addBulkString("keynum")
		c.addBulkString("spec")
		c.addMapLen(3)
		c.addBulkString("keynumidx")
		c.addInt(int64(fk.KeyNumIdx))
		c.addBulkString("firstkey")
		c.addInt(int64(fk.FirstKey))
		c.addBulkString("keystep")
		c.addInt(int64(fk.KeyStep))
	default:
		c.addBulkString("unknown")
		c.addBulkString("spec")
		c.addMapLen(0)
	}
}

// addCommandDocs appends the COMMAND DOCS map of s (without its name).
func (c *Client) addCommandDocs(s *Spec) {
	d := &s.Doc
	n := 3
	for _, present := range [...]bool{
		d.Complexity != "", d.DocFlags != nil, d.DeprecatedSince != "",
		d.ReplacedBy != "", d.History != nil, d.Arguments != nil, s.Subcommands != nil,
	} {
		if present {
			n++
		}
	}
	c.addMapLen(n)
	c.addBulkString("summary")
	c.addBulkString(d.Summary)
	c.addBulkString("since")
	c.addBulkString(d.Since)
	c.addBulkString("group")
	c.addBulkString(d.Group)
	if d.Complexity != "" {
		c.addBulkString("complexity")
		c.addBulkString(d.Complexity)
	}
	if d.DocFlags != nil {
		c.addBulkString("doc_flags")
		c.addSimpleSet(d.DocFlags)
	}
	if d.DeprecatedSince != "" {
		c.addBulkString("deprecated_since")
		c.addBulkString(d.DeprecatedSince)
	}
	if d.ReplacedBy != "" {
		c.addBulkString("replaced_by")
		c.addBulkString(d.ReplacedBy)
	}
	if d.History != nil {
		c.addBulkString("history")
		c.addSetLen(len(d.History))
		for _, h := range d.History {
			c.addArrayLen(2)
			c.addBulkString(h[0])
			c.addBulkString(h[1])
		}
	}
	if d.Arguments != nil {
		c.addBulkString("arguments")
		c.addCommandArgs(d.Arguments)
	}
	if s.Subcommands != nil {
		c.addBulkString("subcommands")
		c.addMapLen(len(s.Subcommands))
		for _, sub := range s.Subcommands {
			c.addBulkString(sub.FullName)
			c.addCommandDocs(sub)
		}
	}
}

func (c *Client) addCommandArgs(args []Arg) {
	c.addArrayLen(len(args))
	for i := range args {
		a := &args[i]
		nested := a.Type == "oneof" || a.Type == "block"
		// A pure token always has a token, even an empty one (MIGRATE's
		// empty_string): Arg cannot tell an empty token from none.
		hasToken := a.Token != "" || a.Type == "pure-token"
		n := 2
		for _, present := range [...]bool{
			a.DisplayText != "", a.KeySpecIndex >= 0, hasToken, a.Summary != "",
			a.Since != "", a.Deprecated != "", a.Flags != nil, nested,
		} {
			if present {
				n++
			}
		}
		c.addMapLen(n)
		c.addBulkString("name")
		c.addBulkString(a.Name)
		c.addBulkString("type")
		c.addBulkString(a.Type)
		if a.DisplayText != "" {
			c.addBulkString("display_text")
			c.addBulkString(a.DisplayText)
		}
		if a.KeySpecIndex >= 0 {
			c.addBulkString("key_spec_index")
			c.addInt(int64(a.KeySpecIndex))
		}
		if hasToken {
			c.addBulkString("token")
			c.addBulkString(a.Token)
		}
		if a.Summary != "" {
			c.addBulkString("summary")
			c.addBulkString(a.Summary)
		}
		if a.Since != "" {
			c.addBulkString("since")
			c.addBulkString(a.Since)
		}
		if a.Deprecated != "" {
			c.addBulkString("deprecated_since")
			c.addBulkString(a.Deprecated)
		}
		if a.Flags != nil {
			c.addBulkString("flags")
			c.addSimpleSet(a.Flags)
		}
		if nested {
			c.addBulkString("arguments")
			c.addCommandArgs(a.Arguments)
		}
	}
}

// addSimpleSet appends a set of simple strings.
func (c *Client) addSimpleSet(items []string) {
	c.addSetLen(len(items))
	for _, s := range items {
		c.addSimple(s)
	}
}
