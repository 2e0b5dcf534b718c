package commands

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"testing"

	"spinel/eventloop/resp"
	"spinel/eventloop/servertest"
)

// newRenderClient returns a client that only collects replies: enough for
// the rendering functions, which write to c.out and, for errors, count them
// on the server.
func newRenderClient(protocol int) *Client {
	srv := &Server{}
	srv.stats.errorCodes = make(map[string]int64)
	return &Client{srv: srv, resp: protocol, authn: true}
}

func TestSpecsKnownFacts(t *testing.T) {
	set := loadSpecs()
	get := set.find("get")
	if get == nil {
		t.Fatal("no spec for get")
	}
	if get.Arity != 2 || get.Flags != FlagReadonly|FlagFast || get.FirstKey != 1 || get.LastKey != 1 || get.Step != 1 {
		t.Errorf("get: unexpected arity %d, flags %b, keys %d,%d,%d", get.Arity, get.Flags, get.FirstKey, get.LastKey, get.Step)
	}
	if !slices.Equal(get.ACLCategories, []string{"read", "string", "fast"}) {
		t.Errorf("get: unexpected ACL categories %q", get.ACLCategories)
	}
	if get.Doc.Group != "string" || get.Doc.Since != "1.0.0" || get.Doc.Summary != "Get the value of a key" {
		t.Errorf("get: unexpected doc %+v", get.Doc)
	}

	set0 := set.find("set")
	if set0.Arity != -3 || set0.Flags != FlagWrite|FlagDenyOOM || len(set0.KeySpecs) != 1 {
		t.Fatalf("set: unexpected arity %d, flags %b, %d key specs", set0.Arity, set0.Flags, len(set0.KeySpecs))
	}
	ks := set0.KeySpecs[0]
	if ks.Notes != "RW and ACCESS due to the optional `GET` argument" ||
		!slices.Equal(ks.Flags, []string{"RW", "access", "update", "variable_flags"}) ||
		ks.BeginSearch.Type != "index" || ks.BeginSearch.Index != 1 ||
		ks.FindKeys.Type != "range" || ks.FindKeys.LastKey != 0 || ks.FindKeys.KeyStep != 1 || ks.FindKeys.Limit != 0 {
		t.Errorf("set: unexpected key spec %+v", ks)
	}
	if len(set0.Doc.History) != 4 || set0.Doc.History[0] != [2]string{"2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."} {
		t.Errorf("set: unexpected history %q", set0.Doc.History)
	}
	args := set0.Doc.Arguments
	if len(args) != 5 || args[0].Name != "key" || args[0].KeySpecIndex != 0 || args[1].KeySpecIndex != -1 ||
		args[2].Type != "oneof" || len(args[2].Arguments) != 2 || args[2].Arguments[0].Token != "NX" {
		t.Errorf("set: unexpected arguments %+v", args)
	}

	xread := set.find("xread")
	if xread.Flags&FlagMovableKeys == 0 || xread.KeySpecs[0].BeginSearch.Keyword != "STREAMS" || xread.KeySpecs[0].FindKeys.Limit != 2 {
		t.Errorf("xread: unexpected flags %b, key specs %+v", xread.Flags, xread.KeySpecs)
	}

	client := set.find("client")
	if client.Handler != nil || client.Parent != nil || len(client.Subcommands) < 15 {
		t.Fatalf("client: not a container: %+v", client)
	}
	var names []string
	for _, sub := range client.Subcommands {
		names = append(names, sub.Name)
		if sub.Parent != client || sub.FullName != "client|"+sub.Name || set.find(sub.FullName) != sub || client.subByName[sub.Name] != sub {
			t.Errorf("client|%s: inconsistent: parent %p, full name %q", sub.Name, sub.Parent, sub.FullName)
		}
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("client subcommands not sorted: %q", names)
	}
	for _, name := range []string{"list", "setinfo", "no-touch", "id", "kill"} {
		if !slices.Contains(names, name) {
			t.Errorf("client has no subcommand %q (has %q)", name, names)
		}
	}
	setinfo := set.find("client|setinfo")
	if setinfo == nil || setinfo.Arity != 4 || setinfo.Flags != FlagNoScript|FlagLoading|FlagStale ||
		setinfo.Doc.Since != "7.2.0" || setinfo.Doc.Arguments[0].Arguments[0].Token != "lib-name" {
		t.Errorf("client|setinfo: unexpected %+v", setinfo)
	}
	if nt := set.find("client|no-touch"); nt == nil || nt.Arity != 3 {
		t.Errorf("client|no-touch: unexpected %+v", nt)
	}
	if set.find("nosuch") != nil || set.find("get|x") != nil || set.find("CLIENT") != nil {
		t.Error("find returns specs for names it should not know")
	}

	// Every call gives fresh specs that share nothing mutable.
	again := loadSpecs()
	if again.find("get") == get || again.find("client|list") == set.find("client|list") {
		t.Error("loadSpecs returned the same *Spec twice")
	}
	get.Flags |= FlagTxControl
	if again.find("get").Flags&FlagTxControl != 0 {
		t.Error("a flag set on one server's spec leaked into another's")
	}
}

// TestSpecsJSONStrict decodes the embedded files rejecting unknown fields,
// so a field gencmd writes but specs.go ignores cannot go unnoticed.
func TestSpecsJSONStrict(t *testing.T) {
	for _, name := range []string{"commands.json", "commands_extra.json"} {
		if _, err := readSpecFile(name); err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkParseSpecs(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseSpecs(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadSpecs(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		loadSpecs()
	}
}

// overlayNames are the commands commands_extra.json adds: Redis 7.0 does not
// know them, so they are left out of comparisons with it.
func overlayNames(t *testing.T) map[string]bool {
	data, err := specFiles.ReadFile("commands_extra.json")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []struct{ Name string }
	if err := json.Unmarshal(data, &cmds); err != nil {
		t.Fatal(err)
	}
	names := make(map[string]bool)
	for _, c := range cmds {
		names[c.Name] = true
	}
	return names
}

// TestCommandInfoDocsMatchRedis renders COMMAND INFO and COMMAND DOCS for
// every command and subcommand in commands.json and compares them with real
// Redis's replies byte for byte, in RESP2 and RESP3. Subcommands are compared
// as a set: Redis lists them in the order of a hash table seeded at random.
func TestCommandInfoDocsMatchRedis(t *testing.T) {
	redis := servertest.StartRedis(t)
	extra := overlayNames(t)
	set := loadSpecs()
	var all []*Spec
	for _, s := range set.top {
		if extra[s.FullName] {
			continue
		}
		// Render containers with Redis 7.0's subcommands only.
		cp := *s
		cp.Subcommands = slices.DeleteFunc(slices.Clone(s.Subcommands), func(sub *Spec) bool { return extra[sub.FullName] })
		if s.Subcommands == nil {
			cp.Subcommands = nil
		}
		all = append(all, &cp)
		all = append(all, cp.Subcommands...)
	}
	if len(all) < 350 {
		t.Fatalf("only %d specs loaded", len(all))
	}
	for _, protocol := range []int{2, 3} {
		conn := servertest.Dial(t, redis.Addr)
		if protocol == 3 {
			conn.Do("HELLO", "3")
		}
		c := newRenderClient(protocol)
		bad := 0
		for _, s := range all {
			c.out = c.out[:0]
			c.addArrayLen(1)
			c.addCommandInfo(s)
			gotInfo := normalizeSubcommands(t, bytes.Clone(c.out), false)
			wantInfo := normalizeSubcommands(t, conn.Do("COMMAND", "INFO", s.FullName), false)

			c.out = c.out[:0]
			c.addMapLen(1)
			c.addBulkString(s.FullName)
			c.addCommandDocs(s)
			gotDocs := normalizeSubcommands(t, bytes.Clone(c.out), true)
			wantDocs := normalizeSubcommands(t, conn.Do("COMMAND", "DOCS", s.FullName), true)

			if !bytes.Equal(gotInfo, wantInfo) {
				t.Errorf("RESP%d COMMAND INFO %s:\n got: %q\nwant: %q", protocol, s.FullName, gotInfo, wantInfo)
				bad++
			}
			if !bytes.Equal(gotDocs, wantDocs) {
				t.Errorf("RESP%d COMMAND DOCS %s:\n got: %q\nwant: %q", protocol, s.FullName, gotDocs, wantDocs)
				bad++
			}
			if bad >= 10 {
				t.Fatal("too many mismatches")
			}
		}
	}
}

// splitAggregate splits an aggregate reply into its header line and its
// elements' raw bytes.
func splitAggregate(t *testing.T, b []byte) (hdr []byte, elems [][]byte) {
	t.Helper()
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 || !bytes.ContainsRune([]byte("*%~"), rune(b[0])) {
		t.Fatalf("not an aggregate: %q", b)
	}
	hdr, rest := b[:i+2], b[i+2:]
	n, err := strconv.Atoi(string(b[1:i]))
	if err != nil {
		t.Fatalf("bad aggregate header %q", hdr)
	}
	if b[0] == '%' {
		n *= 2
	}
	for range n {
		m, err := resp.ReplyLen(rest)
		if err != nil || m == 0 {
			t.Fatalf("bad element in %q: %d, %v", b, m, err)
		}
		elems = append(elems, rest[:m])
		rest = rest[m:]
	}
	if len(rest) != 0 {
		t.Fatalf("trailing bytes after aggregate %q", rest)
	}
	return hdr, elems
}

func join(hdr []byte, elems [][]byte) []byte {
	return append(bytes.Clone(hdr), bytes.Join(elems, nil)...)
}

// normalizeSubcommands sorts the subcommands inside a one-command COMMAND
// INFO reply (*1, then a 10-element entry whose last element lists them) or
// COMMAND DOCS reply (a one-pair map whose doc map may end with
// "subcommands" and a map of name/doc pairs).
func normalizeSubcommands(t *testing.T, b []byte, docs bool) []byte {
	t.Helper()
	hdr, outer := splitAggregate(t, b)
	if !docs {
		if len(outer) != 1 || outer[0][0] != '*' {
			return b // null: unknown command
		}
		ehdr, entry := splitAggregate(t, outer[0])
		shdr, subs := splitAggregate(t, entry[9])
		slices.SortFunc(subs, bytes.Compare)
		entry[9] = join(shdr, subs)
		return join(hdr, [][]byte{join(ehdr, entry)})
	}
	if len(outer) != 2 {
		return b
	}
	dhdr, fields := splitAggregate(t, outer[1])
	if n := len(fields); n >= 2 && bytes.Equal(fields[n-2], []byte("$11\r\nsubcommands\r\n")) {
		shdr, subs := splitAggregate(t, fields[n-1])
		var pairs [][]byte
		for i := 0; i+1 < len(subs); i += 2 {
			pairs = append(pairs, append(bytes.Clone(subs[i]), subs[i+1]...))
		}
		slices.SortFunc(pairs, bytes.Compare)
		fields[n-1] = join(shdr, pairs)
	}
	return join(hdr, [][]byte{outer[0], join(dhdr, fields)})
}
