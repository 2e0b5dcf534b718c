package commands

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// commands.json is generated from real redis-server 7.0's COMMAND INFO and
// COMMAND DOCS by commands/internal/gencmd; do not edit it by hand.
// commands_extra.json is a hand-written overlay, in the same schema, for
// the Redis 7.2 commands newer clients send (CLIENT SETINFO, CLIENT
// NO-TOUCH); an entry there replaces or adds the command of the same name.
//
//go:embed commands.json commands_extra.json
var specFiles embed.FS

// specSet is the declarative data of every Redis command and subcommand,
// whether Spinel implements it or not. newTable binds handlers to the specs
// it implements.
type specSet struct {
	top    []*Spec          // top-level commands, sorted by name
	byName map[string]*Spec // by full name ("get", "client|setinfo")
}

// find returns the spec of a command or subcommand by its lower-case full
// name ("get", "client|setinfo"), or nil.
func (s specSet) find(fullName string) *Spec { return s.byName[fullName] }

// loadSpecs returns the command specs. Every call returns fresh *Spec values
// (handlers, flags and statistics are per server); the data they point to
// (key specs, docs, categories, tips) is shared and must be treated as
// read-only.
func loadSpecs() specSet {
	tmpl := specTemplate()
	set := specSet{
		top:    make([]*Spec, 0, len(tmpl.top)),
		byName: make(map[string]*Spec, len(tmpl.byName)),
	}
	for _, t := range tmpl.top {
		s := cloneSpec(t, nil)
		set.top = append(set.top, s)
		set.byName[s.FullName] = s
		for _, sub := range s.Subcommands {
			set.byName[sub.FullName] = sub
		}
	}
	return set
}

// cloneSpec copies the per-server part of t and shares its read-only data.
func cloneSpec(t, parent *Spec) *Spec {
	s := &Spec{
		Name:          t.Name,
		FullName:      t.FullName,
		Arity:         t.Arity,
		Flags:         t.Flags,
		FirstKey:      t.FirstKey,
		LastKey:       t.LastKey,
		Step:          t.Step,
		ACLCategories: t.ACLCategories,
		KeySpecs:      t.KeySpecs,
		Tips:          t.Tips,
		Doc:           t.Doc,
		Parent:        parent,
	}
	if t.Subcommands != nil {
		s.Subcommands = make([]*Spec, len(t.Subcommands))
		s.subByName = make(map[string]*Spec, len(t.Subcommands))
		for i, sub := range t.Subcommands {
			s.Subcommands[i] = cloneSpec(sub, s)
			s.subByName[sub.Name] = s.Subcommands[i]
		}
	}
	return s
}

var (
	specOnce sync.Once
	specTmpl specSet
)

// specTemplate parses the embedded JSON once per process; loadSpecs clones
// the result. A parse error is a build defect and panics.
func specTemplate() specSet {
	specOnce.Do(func() {
		set, err := parseSpecs()
		if err != nil {
			panic("commands: " + err.Error())
		}
		specTmpl = set
	})
	return specTmpl
}

func parseSpecs() (specSet, error) {
	base, err := readSpecFile("commands.json")
	if err != nil {
		return specSet{}, err
	}
	extra, err := readSpecFile("commands_extra.json")
	if err != nil {
		return specSet{}, err
	}
	set := specSet{byName: make(map[string]*Spec)}
	for _, j := range base {
		s, err := j.spec(nil)
		if err != nil {
			return specSet{}, err
		}
		set.top = append(set.top, s)
	}
	for _, j := range extra {
		if err := set.merge(j); err != nil {
			return specSet{}, err
		}
	}
	sortSpecs(set.top)
	for _, s := range set.top {
		set.byName[s.FullName] = s
		for _, sub := range s.Subcommands {
			set.byName[sub.FullName] = sub
		}
	}
	return set, nil
}

func readSpecFile(name string) ([]jsonCommand, error) {
	data, err := specFiles.ReadFile(name)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cmds []jsonCommand
	if err := dec.Decode(&cmds); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return cmds, nil
}

// merge adds an overlay entry, replacing a command or subcommand of the same
// name.
func (set *specSet) merge(j jsonCommand) error {
	parentName, _, isSub := strings.Cut(j.Name, "|")
	list := &set.top
	var parent *Spec
	if isSub {
		for _, s := range set.top {
			if s.FullName == parentName {
				parent = s
			}
		}
		if parent == nil {
			return fmt.Errorf("commands_extra.json: %s: no container %q", j.Name, parentName)
		}
		list = &parent.Subcommands
	}
	s, err := j.spec(parent)
	if err != nil {
		return err
	}
	for i, old := range *list {
		if old.FullName == s.FullName {
			(*list)[i] = s
			return nil
		}
	}
	*list = append(*list, s)
	return nil
}

func sortSpecs(specs []*Spec) {
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	for _, s := range specs {
		sortSpecs(s.Subcommands)
	}
}

// ---------------------------------------------------------------------------
// The JSON schema written by commands/internal/gencmd. Field names are the
// ones COMMAND INFO and COMMAND DOCS use; zero values are omitted.
// ---------------------------------------------------------------------------

type jsonCommand struct {
	Name          string        `json:"name"` // full name: "get", "client|list"
	Arity         int           `json:"arity"`
	Flags         []string      `json:"flags"`
	FirstKey      int           `json:"first_key"`
	LastKey       int           `json:"last_key"`
	Step          int           `json:"step"`
	ACLCategories []string      `json:"acl_categories"` // without '@'
	Tips          []string      `json:"tips"`
	KeySpecs      []jsonKeySpec `json:"key_specs"`
	Doc           jsonDoc       `json:"doc"`
	Subcommands   []jsonCommand `json:"subcommands"`
}

type jsonKeySpec struct {
	Notes       string   `json:"notes"`
	Flags       []string `json:"flags"`
	BeginSearch struct {
		Type      string `json:"type"`
		Index     int    `json:"index"`
		Keyword   string `json:"keyword"`
		StartFrom int    `json:"startfrom"`
	} `json:"begin_search"`
	FindKeys struct {
		Type      string `json:"type"`
		LastKey   int    `json:"lastkey"`
		KeyStep   int    `json:"keystep"`
		Limit     int    `json:"limit"`
		KeyNumIdx int    `json:"keynumidx"`
		FirstKey  int    `json:"firstkey"`
	} `json:"find_keys"`
}

type jsonDoc struct {
	Summary         string      `json:"summary"`
	Since           string      `json:"since"`
	Group           string      `json:"group"`
	Complexity      string      `json:"complexity"`
	DocFlags        []string    `json:"doc_flags"`
	DeprecatedSince string      `json:"deprecated_since"`
	ReplacedBy      string      `json:"replaced_by"`
	History         [][2]string `json:"history"`
	Arguments       []jsonArg   `json:"arguments"`
}

type jsonArg struct {
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	DisplayText     string    `json:"display_text"`
	KeySpecIndex    *int      `json:"key_spec_index"`
	Token           string    `json:"token"`
	Summary         string    `json:"summary"`
	Since           string    `json:"since"`
	Flags           []string  `json:"flags"`
	DeprecatedSince string    `json:"deprecated_since"`
	Value           string    `json:"value"`
	Arguments       []jsonArg `json:"arguments"`
}

// flagNames maps COMMAND INFO's flag names to Flag bits, in Flag order. It
// includes the flags COMMAND INFO hides (may_replicate, protected), so that
// data written by hand may set them.
var flagNames = [...]struct {
	name string
	flag Flag
}{
	{"write", FlagWrite},
	{"readonly", FlagReadonly},
	{"denyoom", FlagDenyOOM},
	{"module", FlagModule},
	{"admin", FlagAdmin},
	{"pubsub", FlagPubSub},
	{"noscript", FlagNoScript},
	{"blocking", FlagBlocking},
	{"loading", FlagLoading},
	{"stale", FlagStale},
	{"skip_monitor", FlagSkipMonitor},
	{"skip_slowlog", FlagSkipSlowlog},
	{"asking", FlagAsking},
	{"fast", FlagFast},
	{"no_auth", FlagNoAuth},
	{"may_replicate", FlagMayReplicate},
	{"no_mandatory_keys", FlagNoMandatoryKeys},
	{"protected", FlagProtected},
	{"no_async_loading", FlagNoAsyncLoading},
	{"no_multi", FlagNoMulti},
	{"movablekeys", FlagMovableKeys},
	{"allow_busy", FlagAllowBusy},
}

func parseFlag(name string) (Flag, bool) {
	for _, f := range flagNames {
		if f.name == name {
			return f.flag, true
		}
	}
	return 0, false
}

// spec converts a JSON entry (and its subcommands) to a Spec.
func (j *jsonCommand) spec(parent *Spec) (*Spec, error) {
	s := &Spec{
		FullName:      j.Name,
		Name:          j.Name,
		Arity:         j.Arity,
		FirstKey:      j.FirstKey,
		LastKey:       j.LastKey,
		Step:          j.Step,
		ACLCategories: j.ACLCategories,
		Tips:          j.Tips,
		Parent:        parent,
	}
	if parent != nil {
		prefix := parent.FullName + "|"
		if !strings.HasPrefix(j.Name, prefix) {
			return nil, fmt.Errorf("subcommand %q of %q", j.Name, parent.FullName)
		}
		s.Name = j.Name[len(prefix):]
	}
	for _, name := range j.Flags {
		f, ok := parseFlag(name)
		if !ok {
			return nil, fmt.Errorf("%s: unknown flag %q", j.Name, name)
		}
		s.Flags |= f
	}
	if len(j.KeySpecs) > 0 {
		s.KeySpecs = make([]KeySpec, len(j.KeySpecs))
		for i := range j.KeySpecs {
			jk, k := &j.KeySpecs[i], &s.KeySpecs[i]
			k.Notes, k.Flags = jk.Notes, jk.Flags
			k.BeginSearch.Type = jk.BeginSearch.Type
			k.BeginSearch.Index = jk.BeginSearch.Index
			k.BeginSearch.Keyword = jk.BeginSearch.Keyword
			k.BeginSearch.StartFrom = jk.BeginSearch.StartFrom
			k.FindKeys.Type = jk.FindKeys.Type
			k.FindKeys.LastKey = jk.FindKeys.LastKey
			k.FindKeys.KeyStep = jk.FindKeys.KeyStep
			k.FindKeys.Limit = jk.FindKeys.Limit
			k.FindKeys.KeyNumIdx = jk.FindKeys.KeyNumIdx
			k.FindKeys.FirstKey = jk.FindKeys.FirstKey
		}
	}
	d := &j.Doc
	s.Doc = Doc{
		Summary:         d.Summary,
		Since:           d.Since,
		Group:           d.Group,
		Complexity:      d.Complexity,
		DocFlags:        d.DocFlags,
		DeprecatedSince: d.DeprecatedSince,
		ReplacedBy:      d.ReplacedBy,
		History:         d.History,
		Arguments:       convertArgs(d.Arguments),
	}
	if j.Subcommands != nil {
		s.Subcommands = make([]*Spec, 0, len(j.Subcommands))
		for i := range j.Subcommands {
			sub, err := j.Subcommands[i].spec(s)
			if err != nil {
				return nil, err
			}
			s.Subcommands = append(s.Subcommands, sub)
		}
	}
	return s, nil
}

func convertArgs(in []jsonArg) []Arg {
	if in == nil {
		return nil
	}
	out := make([]Arg, len(in))
	for i := range in {
		a := &in[i]
		out[i] = Arg{
			Name:         a.Name,
			Type:         a.Type,
			DisplayText:  a.DisplayText,
			KeySpecIndex: -1,
			Token:        a.Token,
			Summary:      a.Summary,
			Since:        a.Since,
			Flags:        a.Flags,
			Deprecated:   a.DeprecatedSince,
			Value:        a.Value,
			Arguments:    convertArgs(a.Arguments),
		}
		if a.KeySpecIndex != nil {
			out[i].KeySpecIndex = *a.KeySpecIndex
		}
	}
	return out
}
