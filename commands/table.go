package commands

import "sort"

// cmdDef binds a command's declarative data (loaded from commands.json, which
// is generated from real Redis's COMMAND INFO and COMMAND DOCS) to the
// handler that implements it. Spinel-only gate flags (FlagTxControl, ...) are
// added here; they never appear in COMMAND output.
type cmdDef struct {
	name    string // full lower-case name: "get", "config|get"
	handler Handler
	flags   Flag
}

// Spinel's own gate flags, above Redis's, never shown in COMMAND replies.
const (
	// FlagTxControl marks commands that run at once inside MULTI instead of
	// being queued (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET).
	FlagTxControl Flag = 1 << (iota + 40)
	// FlagPubSubContext marks commands allowed in RESP2 subscriber mode.
	FlagPubSubContext
)

// allCommands joins the per-file definition lists into the one table.
func allCommands() [][]cmdDef {
	return [][]cmdDef{
		connectionCommands,
		aclCommandDefs,
		stringCommands,
		keyCommands,
		serverCommands,
		introspectionCommands,
		transactionCommands,
		pubsubCommands,
		blockingCommands,
		hashCommands,
		setCommands,
		listCommands,
		zsetCommands,
		streamCommands,
		sortCommands,
		memoryCommands,
		observeCommands,
		clientControlCommands,
		debugCommands,
		aofCommands,
		scriptingCommands,
	}
}

// Table is the command table: every implemented command and subcommand with
// its Redis spec and handler. Commands Redis has but Spinel does not
// implement are absent, so they get Redis's "unknown command" error.
type Table struct {
	byName map[string]*Spec // top-level commands by lower-case name
	sorted []*Spec          // top-level commands, by name
}

// newTable builds the table from the spec data and the handler lists. A
// handler without a spec is a programming error and panics at start-up.
func newTable() *Table {
	specs := loadSpecs()
	t := &Table{byName: make(map[string]*Spec)}
	for _, defs := range allCommands() {
		for _, d := range defs {
			spec := specs.find(d.name)
			if spec == nil {
				panic("commands: no spec for " + d.name)
			}
			spec.Handler = d.handler
			spec.Flags |= d.flags
			top := spec
			if spec.Parent != nil {
				top = spec.Parent
			}
			t.byName[top.Name] = top
		}
	}
	// Keep only implemented subcommands in each container.
	for _, top := range t.byName {
		if top.Subcommands == nil {
			continue
		}
		var kept []*Spec
		top.subByName = make(map[string]*Spec)
		for _, sub := range top.Subcommands {
			if sub.Handler != nil {
				kept = append(kept, sub)
				top.subByName[sub.Name] = sub
			}
		}
		top.Subcommands = kept
	}
	for _, top := range t.byName {
		t.sorted = append(t.sorted, top)
	}
	sort.Slice(t.sorted, func(i, j int) bool { return t.sorted[i].Name < t.sorted[j].Name })
	return t
}

// lookup finds a top-level command by name, case-insensitively, without
// allocating.
func (t *Table) lookup(name []byte) *Spec {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	return t.byName[string(lowerInto(buf[:0], name))]
}

// subcommand finds a subcommand of a container command.
func (s *Spec) subcommand(name []byte) *Spec {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	return s.subByName[string(lowerInto(buf[:0], name))]
}

// Commands returns the top-level commands sorted by name.
func (t *Table) Commands() []*Spec { return t.sorted }

// lowerInto appends the ASCII lower-case form of b to dst.
func lowerInto(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
