package commands

import (
	"bytes"
	"slices"
	"sort"
	"strconv"
	"testing"

	"spinel/eventloop/servertest"
)

// newTableClient returns a client of a server that has the command table and
// nothing else: enough for COMMAND's handlers.
func newTableClient(protocol int) *Client {
	c := newRenderClient(protocol)
	c.srv.table = newTable()
	return c
}

// runCommand runs a COMMAND subcommand's handler directly, without the
// executor's gate, and returns its reply.
func runCommand(t *testing.T, c *Client, args ...string) []byte {
	t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	s := c.srv.table.lookupArgv(argv)
	if s == nil || s.Handler == nil {
		t.Fatalf("%q: no handler", args)
	}
	c.out = c.out[:0]
	s.Handler(c, argv)
	return bytes.Clone(c.out)
}

// TestCommandRepliesMatchRedis compares COMMAND replies that do not depend
// on which commands Spinel implements with real Redis's, byte for byte.
func TestCommandRepliesMatchRedis(t *testing.T) {
	redis := servertest.StartRedis(t)
	cases := [][]string{
		{"COMMAND", "HELP"},
		{"COMMAND", "INFO", "get"},
		{"COMMAND", "INFO", "GET", "nosuch", "", "get|x", "|", "command|info|x", "Command|Count", "command|"},
		{"COMMAND", "DOCS", "get"},
		{"COMMAND", "DOCS", "nosuch", "get|x", "COMMAND|count", "GET"},
		{"COMMAND", "DOCS", "nosuch"},
		{"COMMAND", "GETKEYS", "get", "k"},
		{"COMMAND", "GETKEYS", "GET", "k"},
		{"COMMAND", "GETKEYS", "nosuch", "k"},
		{"COMMAND", "GETKEYS", "command", "nosuch"},
		{"COMMAND", "GETKEYS", "command", "info", "x"},
		{"COMMAND", "GETKEYS", "get", "k", "x"},
		{"COMMAND", "GETKEYSANDFLAGS", "get", "k"},
		{"COMMAND", "GETKEYSANDFLAGS", "nosuch", "k"},
		{"COMMAND", "LIST", "x"},
		{"COMMAND", "LIST", "FILTERBY"},
		{"COMMAND", "LIST", "FILTERBY", "foo", "x"},
		{"COMMAND", "LIST", "FILTERBY", "pattern", "x", "y"},
		{"COMMAND", "LIST", "FILTERBY", "pattern", "x", "FILTERBY", "pattern", "y"},
		{"COMMAND", "LIST", "FILTERBY", "module", "x"},
		{"COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch"},
		{"COMMAND", "LIST", "FILTERBY", "pattern", "nosuch*"},
	}
	for _, protocol := range []int{2, 3} {
		conn := servertest.Dial(t, redis.Addr)
		if protocol == 3 {
			conn.Do("HELLO", "3")
		}
		c := newTableClient(protocol)
		for _, args := range cases {
			got, want := runCommand(t, c, args...), conn.Do(args...)
			if !bytes.Equal(got, want) {
				t.Errorf("RESP%d %q:\n got: %q\nwant: %q", protocol, args, got, want)
			}
		}
		// COMMAND lists all its subcommands: Spinel implements them all.
		for _, args := range [][]string{{"COMMAND", "INFO", "command"}, {"COMMAND", "DOCS", "command"}} {
			docs := args[1] == "DOCS"
			got := normalizeSubcommands(t, runCommand(t, c, args...), docs)
			want := normalizeSubcommands(t, conn.Do(args...), docs)
			if !bytes.Equal(got, want) {
				t.Errorf("RESP%d %q:\n got: %q\nwant: %q", protocol, args, got, want)
			}
		}
	}
}

// TestCommandListsTable checks the replies that list the table: they hold
// exactly the implemented commands, in name order, each entry as Redis
// renders it.
func TestCommandListsTable(t *testing.T) {
	redis := servertest.StartRedis(t)
	conn := servertest.Dial(t, redis.Addr)
	c := newTableClient(2)
	cmds := c.srv.table.Commands()

	var names []string // every implemented full name
	for _, s := range cmds {
		names = append(names, s.FullName)
		for _, sub := range s.Subcommands {
			names = append(names, sub.FullName)
		}
	}
	if got, want := runCommand(t, c, "COMMAND", "COUNT"), []byte(":"+strconv.Itoa(len(cmds))+"\r\n"); !bytes.Equal(got, want) {
		t.Errorf("COMMAND COUNT: got %q; want %q", got, want)
	}
	if got := parseBulkArray(t, runCommand(t, c, "COMMAND", "LIST")); !slices.Equal(got, names) {
		t.Errorf("COMMAND LIST:\n got: %q\nwant: %q", got, names)
	}

	// Filters select what Redis selects, among implemented commands.
	implemented := make(map[string]bool)
	for _, n := range names {
		implemented[n] = true
	}
	for _, filter := range [][]string{
		{"FILTERBY", "pattern", "*get*"},
		{"FILTERBY", "PATTERN", "CONFIG|*"},
		{"filterby", "aclcat", "String"},
		{"FILTERBY", "ACLCAT", "fast"},
		{"FILTERBY", "aclcat", "dangerous"},
	} {
		args := append([]string{"COMMAND", "LIST"}, filter...)
		var want []string
		for _, n := range parseBulkArray(t, conn.Do(args...)) {
			if implemented[n] {
				want = append(want, n)
			}
		}
		sort.Strings(want)
		got := parseBulkArray(t, runCommand(t, c, args...))
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n got: %q\nwant: %q", args, got, want)
		}
	}

	// COMMAND, COMMAND INFO and COMMAND DOCS without names list the table.
	for _, args := range [][]string{{"COMMAND"}, {"COMMAND", "INFO"}} {
		hdr, elems := splitAggregate(t, runCommand(t, c, args...))
		if string(hdr) != "*"+strconv.Itoa(len(cmds))+"\r\n" {
			t.Errorf("%q: header %q for %d commands", args, hdr, len(cmds))
		}
		for i, e := range elems {
			if !bytes.HasPrefix(e, []byte("*10\r\n$"+strconv.Itoa(len(cmds[i].FullName))+"\r\n"+cmds[i].FullName+"\r\n")) {
				t.Errorf("%q: entry %d is not %s: %.60q", args, i, cmds[i].FullName, e)
			}
		}
	}
	hdr, elems := splitAggregate(t, runCommand(t, c, "COMMAND", "DOCS"))
	if string(hdr) != "*"+strconv.Itoa(2*len(cmds))+"\r\n" || len(elems) != 2*len(cmds) {
		t.Fatalf("COMMAND DOCS: header %q for %d commands", hdr, len(cmds))
	}
	for i, s := range cmds {
		if string(elems[2*i]) != "$"+strconv.Itoa(len(s.FullName))+"\r\n"+s.FullName+"\r\n" {
			t.Errorf("COMMAND DOCS: entry %d is %q, not %s", i, elems[2*i], s.FullName)
		}
	}

	// Containers list only their implemented subcommands.
	for _, s := range cmds {
		if s.Subcommands == nil {
			continue
		}
		info := runCommand(t, c, "COMMAND", "INFO", s.FullName)
		_, outer := splitAggregate(t, info)
		_, entry := splitAggregate(t, outer[0])
		_, subs := splitAggregate(t, entry[9])
		if len(subs) != len(s.Subcommands) {
			t.Errorf("COMMAND INFO %s: %d subcommands; want %d", s.FullName, len(subs), len(s.Subcommands))
		}
	}
}

// parseBulkArray returns the strings of an array of bulk strings.
func parseBulkArray(t *testing.T, b []byte) []string {
	t.Helper()
	_, elems := splitAggregate(t, b)
	var out []string
	for _, e := range elems {
		i := bytes.Index(e, []byte("\r\n"))
		out = append(out, string(e[i+2:len(e)-2]))
	}
	return out
}
