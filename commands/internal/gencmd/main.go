// Command gencmd writes commands/commands.json, Spinel's command table data,
// from a running real redis-server 7.0: it asks for COMMAND INFO and
// COMMAND DOCS of every command over RESP3 (so maps and sets keep their
// shape) and writes every field, for every command and subcommand, as a
// deterministic JSON array sorted by name.
//
//	go run ./commands/internal/gencmd -addr 127.0.0.1:6379 -out commands/commands.json
//
// Subcommands are sorted by name too: Redis lists them in the order of a
// hash table seeded at random on each start, so its own order is not stable.
//
// The generator is strict: a field it does not know makes it fail, so that a
// different Redis version cannot silently lose data. The JSON schema is the
// one commands/specs.go decodes (jsonCommand and friends there).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "address of a running redis-server 7.0")
	out := flag.String("out", "commands/commands.json", "output file")
	flag.Parse()
	if err := run(*addr, *out); err != nil {
		log.Fatalf("gencmd: %v", err)
	}
}

func run(addr, out string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	call := func(args ...string) (value, error) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(conn, b.String()); err != nil {
			return value{}, err
		}
		v, err := readValue(r)
		if err == nil && v.kind == '-' {
			err = fmt.Errorf("%s: %s", strings.Join(args, " "), v.str)
		}
		return v, err
	}
	if _, err := call("HELLO", "3"); err != nil {
		return err
	}
	infos, err := call("COMMAND", "INFO")
	if err != nil {
		return err
	}
	docs, err := call("COMMAND", "DOCS")
	if err != nil {
		return err
	}
	docByName := make(map[string]value)
	if err := collectDocs(docs, docByName); err != nil {
		return err
	}
	var cmds []*jsonCommand
	for _, info := range infos.elems {
		c, err := convertCommand(info, docByName)
		if err != nil {
			return err
		}
		cmds = append(cmds, c)
	}
	sortCommands(cmds)
	data, err := json.MarshalIndent(cmds, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gencmd: wrote %d commands to %s\n", len(cmds), out)
	return nil
}

// ---------------------------------------------------------------------------
// The JSON schema (decoded by commands/specs.go).
// ---------------------------------------------------------------------------

type jsonCommand struct {
	Name          string         `json:"name"` // full name: "get", "client|list"
	Arity         int            `json:"arity"`
	Flags         []string       `json:"flags,omitempty"`
	FirstKey      int            `json:"first_key"`
	LastKey       int            `json:"last_key"`
	Step          int            `json:"step"`
	ACLCategories []string       `json:"acl_categories,omitempty"` // without '@'
	Tips          []string       `json:"tips,omitempty"`
	KeySpecs      []jsonKeySpec  `json:"key_specs,omitempty"`
	Doc           jsonDoc        `json:"doc"`
	Subcommands   []*jsonCommand `json:"subcommands,omitempty"`
}

type jsonKeySpec struct {
	Notes       string          `json:"notes,omitempty"`
	Flags       []string        `json:"flags,omitempty"`
	BeginSearch jsonBeginSearch `json:"begin_search"`
	FindKeys    jsonFindKeys    `json:"find_keys"`
}

type jsonBeginSearch struct {
	Type      string `json:"type"` // index, keyword, unknown
	Index     int    `json:"index,omitempty"`
	Keyword   string `json:"keyword,omitempty"`
	StartFrom int    `json:"startfrom,omitempty"`
}

type jsonFindKeys struct {
	Type      string `json:"type"` // range, keynum, unknown
	LastKey   int    `json:"lastkey,omitempty"`
	KeyStep   int    `json:"keystep,omitempty"`
	Limit     int    `json:"limit,omitempty"`
	KeyNumIdx int    `json:"keynumidx,omitempty"`
	FirstKey  int    `json:"firstkey,omitempty"`
}

type jsonDoc struct {
	Summary         string      `json:"summary"`
	Since           string      `json:"since"`
	Group           string      `json:"group"`
	Complexity      string      `json:"complexity,omitempty"`
	DocFlags        []string    `json:"doc_flags,omitempty"`
	DeprecatedSince string      `json:"deprecated_since,omitempty"`
	ReplacedBy      string      `json:"replaced_by,omitempty"`
	History         [][2]string `json:"history,omitempty"`
	Arguments       []jsonArg   `json:"arguments,omitempty"`
}

type jsonArg struct {
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	DisplayText     string    `json:"display_text,omitempty"`
	KeySpecIndex    *int      `json:"key_spec_index,omitempty"`
	Token           *string   `json:"token,omitempty"` // MIGRATE has an empty one
	Summary         string    `json:"summary,omitempty"`
	Since           string    `json:"since,omitempty"`
	Flags           []string  `json:"flags,omitempty"`
	DeprecatedSince string    `json:"deprecated_since,omitempty"`
	Value           string    `json:"value,omitempty"`
	Arguments       []jsonArg `json:"arguments,omitempty"`
}

func sortCommands(cmds []*jsonCommand) {
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	for _, c := range cmds {
		sortCommands(c.Subcommands)
	}
}

// ---------------------------------------------------------------------------
// Conversion from the RESP3 replies.
// ---------------------------------------------------------------------------

// collectDocs indexes COMMAND DOCS replies by full name, subcommands included.
func collectDocs(docs value, into map[string]value) error {
	if docs.kind != '%' {
		return fmt.Errorf("COMMAND DOCS: want a map, got %q", docs.kind)
	}
	for i := 0; i+1 < len(docs.elems); i += 2 {
		name, doc := docs.elems[i].str, docs.elems[i+1]
		into[name] = doc
		if sub, ok := doc.get("subcommands"); ok {
			if err := collectDocs(sub, into); err != nil {
				return err
			}
		}
	}
	return nil
}

func convertCommand(info value, docs map[string]value) (*jsonCommand, error) {
	if info.kind != '*' || len(info.elems) != 10 {
		return nil, fmt.Errorf("COMMAND INFO entry: want an array of 10, got %q of %d", info.kind, len(info.elems))
	}
	e := info.elems
	c := &jsonCommand{
		Name:     e[0].str,
		Arity:    int(e[1].num),
		Flags:    e[2].strings(),
		FirstKey: int(e[3].num),
		LastKey:  int(e[4].num),
		Step:     int(e[5].num),
		Tips:     e[7].strings(),
	}
	for _, cat := range e[6].strings() {
		c.ACLCategories = append(c.ACLCategories, strings.TrimPrefix(cat, "@"))
	}
	for _, ks := range e[8].elems {
		spec, err := convertKeySpec(ks)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		c.KeySpecs = append(c.KeySpecs, spec)
	}
	doc, ok := docs[c.Name]
	if !ok {
		return nil, fmt.Errorf("%s: no COMMAND DOCS entry", c.Name)
	}
	if err := convertDoc(doc, &c.Doc); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	for _, sub := range e[9].elems {
		s, err := convertCommand(sub, docs)
		if err != nil {
			return nil, err
		}
		c.Subcommands = append(c.Subcommands, s)
	}
	return c, nil
}

func convertKeySpec(v value) (jsonKeySpec, error) {
	var ks jsonKeySpec
	err := v.eachPair(func(k string, v value) error {
		switch k {
		case "notes":
			ks.Notes = v.str
		case "flags":
			ks.Flags = v.strings()
		case "begin_search":
			typ, spec, err := typedSpec(v)
			if err != nil {
				return err
			}
			ks.BeginSearch.Type = typ
			return spec.eachPair(func(k string, v value) error {
				switch k {
				case "index":
					ks.BeginSearch.Index = int(v.num)
				case "keyword":
					ks.BeginSearch.Keyword = v.str
				case "startfrom":
					ks.BeginSearch.StartFrom = int(v.num)
				default:
					return fmt.Errorf("unknown begin_search field %q", k)
				}
				return nil
			})
		case "find_keys":
			typ, spec, err := typedSpec(v)
			if err != nil {
				return err
			}
			ks.FindKeys.Type = typ
			return spec.eachPair(func(k string, v value) error {
				switch k {
				case "lastkey":
					ks.FindKeys.LastKey = int(v.num)
				case "keystep":
					ks.FindKeys.KeyStep = int(v.num)
				case "limit":
					ks.FindKeys.Limit = int(v.num)
				case "keynumidx":
					ks.FindKeys.KeyNumIdx = int(v.num)
				case "firstkey":
					ks.FindKeys.FirstKey = int(v.num)
				default:
					return fmt.Errorf("unknown find_keys field %q", k)
				}
				return nil
			})
		default:
			return fmt.Errorf("unknown key spec field %q", k)
		}
		return nil
	})
	return ks, err
}

// typedSpec splits {type: T, spec: {...}}.
func typedSpec(v value) (string, value, error) {
	typ, ok1 := v.get("type")
	spec, ok2 := v.get("spec")
	if !ok1 || !ok2 || len(v.elems) != 4 {
		return "", value{}, errors.New("key spec part is not {type, spec}")
	}
	return typ.str, spec, nil
}

func convertDoc(v value, d *jsonDoc) error {
	return v.eachPair(func(k string, v value) error {
		switch k {
		case "summary":
			d.Summary = v.str
		case "since":
			d.Since = v.str
		case "group":
			d.Group = v.str
		case "complexity":
			d.Complexity = v.str
		case "doc_flags":
			d.DocFlags = v.strings()
		case "deprecated_since":
			d.DeprecatedSince = v.str
		case "replaced_by":
			d.ReplacedBy = v.str
		case "history":
			for _, h := range v.elems {
				if len(h.elems) != 2 {
					return errors.New("history entry is not [version, description]")
				}
				d.History = append(d.History, [2]string{h.elems[0].str, h.elems[1].str})
			}
		case "arguments":
			args, err := convertArgs(v)
			if err != nil {
				return err
			}
			d.Arguments = args
		case "subcommands":
			// Attached to each subcommand through collectDocs.
		default:
			return fmt.Errorf("unknown doc field %q", k)
		}
		return nil
	})
}

func convertArgs(v value) ([]jsonArg, error) {
	args := make([]jsonArg, 0, len(v.elems))
	for _, av := range v.elems {
		var a jsonArg
		err := av.eachPair(func(k string, v value) error {
			switch k {
			case "name":
				a.Name = v.str
			case "type":
				a.Type = v.str
			case "display_text":
				a.DisplayText = v.str
			case "key_spec_index":
				i := int(v.num)
				a.KeySpecIndex = &i
			case "token":
				tok := v.str
				a.Token = &tok
			case "summary":
				a.Summary = v.str
			case "since":
				a.Since = v.str
			case "flags":
				a.Flags = v.strings()
			case "deprecated_since":
				a.DeprecatedSince = v.str
			case "value":
				a.Value = v.str
			case "arguments":
				sub, err := convertArgs(v)
				if err != nil {
					return err
				}
				a.Arguments = sub
			default:
				return fmt.Errorf("unknown argument field %q", k)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	return args, nil
}

// ---------------------------------------------------------------------------
// A minimal RESP3 reader.
// ---------------------------------------------------------------------------

// value is one RESP3 value: kind is its type byte; str holds strings,
// num integers; elems holds aggregate elements (maps as key, value, ...).
type value struct {
	kind  byte
	str   string
	num   int64
	elems []value
}

func (v value) strings() []string {
	var s []string
	for _, e := range v.elems {
		s = append(s, e.str)
	}
	return s
}

func (v value) get(key string) (value, bool) {
	for i := 0; i+1 < len(v.elems); i += 2 {
		if v.elems[i].str == key {
			return v.elems[i+1], true
		}
	}
	return value{}, false
}

func (v value) eachPair(fn func(k string, v value) error) error {
	if v.kind != '%' {
		return fmt.Errorf("want a map, got %q", v.kind)
	}
	for i := 0; i+1 < len(v.elems); i += 2 {
		if err := fn(v.elems[i].str, v.elems[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func readValue(r *bufio.Reader) (value, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return value{}, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return value{}, fmt.Errorf("bad line %q", line)
	}
	v := value{kind: line[0]}
	body := line[1 : len(line)-2]
	switch v.kind {
	case '+', '-', ',', '(', '#':
		v.str = body
	case '_':
	case ':':
		v.num, err = strconv.ParseInt(body, 10, 64)
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return v, fmt.Errorf("bad bulk length %q", body)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return v, err
		}
		v.str = string(buf[:n])
	case '*', '~', '%', '>':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return v, fmt.Errorf("bad aggregate length %q", body)
		}
		if v.kind == '%' {
			n *= 2
		}
		v.elems = make([]value, n)
		for i := range v.elems {
			if v.elems[i], err = readValue(r); err != nil {
				return v, err
			}
		}
	default:
		return v, fmt.Errorf("unsupported type %q", v.kind)
	}
	return v, err
}
