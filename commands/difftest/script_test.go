// Package difftest holds the differential tests: the same commands go to real
// redis-server 7.0 and to Spinel, and the raw reply bytes must match.
package difftest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/resp"
	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// Scripts in testdata/*.script hold one command per line in redis-cli
// syntax. A line may start with modifiers that say how to compare what Redis
// leaves undefined:
//
//	~sort      sort the elements of the top-level array/set before comparing
//	~sortpairs sort the key/value pairs of a map or flat pair array
//	~sort2     sort the elements of the second element (SCAN-style replies)
//	~type      compare only the reply's type byte (values are random)
//	~len       compare type and element count only
//	~sleep N   (alone on a line) sleep N milliseconds on both sides
//	~recv      send nothing: read the next reply (a pushed message)
//	~noreply   send the command and read nothing (CLIENT REPLY OFF)
//	@name      (before the command) use the connection called name; each
//	           name gets its own pair of connections, "main" is the default
//
// Lines starting with '#' are comments. Each script runs on a fresh pair of
// connections after FLUSHALL.

func TestScripts(t *testing.T) {
	dir, _ := filepath.Abs("testdata")
	files, err := filepath.Glob(filepath.Join(dir, "*.script"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".script"), func(t *testing.T) {
			// A first line "#!args <server args>" gets a pair of servers of
			// its own started with those arguments.
			data, _ := os.ReadFile(f)
			if args, ok := strings.CutPrefix(strings.SplitN(string(data), "\n", 2)[0], "#!args "); ok {
				r := servertest.StartRedis(t, strings.Fields(args)...)
				s := spineltest.Start(t, strings.Fields(args)...)
				runScript(t, f, r.Addr, s.Addr)
				return
			}
			runScript(t, f, redis.Addr, spinel.Addr)
		})
	}
}

func runScript(t *testing.T, path, redisAddr, spinelAddr string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type pair struct{ r, s *servertest.RawConn }
	conns := map[string]*pair{}
	conn := func(name string) *pair {
		if p, ok := conns[name]; ok {
			return p
		}
		p := &pair{servertest.Dial(t, redisAddr), servertest.Dial(t, spinelAddr)}
		conns[name] = p
		return p
	}
	defer func() {
		for _, p := range conns {
			p.r.Close()
			p.s.Close()
		}
	}()
	main := conn("main")
	for _, c := range []*servertest.RawConn{main.r, main.s} {
		c.Do("FLUSHALL")
		c.Do("SELECT", "0")
		c.Do("CONFIG", "SET", "notify-keyspace-events", "")
	}
	failures := 0
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var mods []string
		name := "main"
		if strings.HasPrefix(line, "@") {
			sp := strings.IndexByte(line, ' ')
			name = line[1:sp]
			line = strings.TrimSpace(line[sp:])
		}
		for strings.HasPrefix(line, "~") {
			sp := strings.IndexByte(line, ' ')
			if sp < 0 {
				sp = len(line)
			}
			mods = append(mods, line[1:sp])
			line = strings.TrimSpace(line[sp:])
		}
		if len(mods) == 1 && mods[0] == "sleep" {
			ms, _ := strconv.Atoi(line)
			time.Sleep(time.Duration(ms) * time.Millisecond)
			continue
		}
		p := conn(name)
		var want, got []byte
		if len(mods) > 0 && mods[len(mods)-1] == "noreply" {
			args, _ := resp.SplitArgs([]byte(line), nil)
			strs := make([]string, len(args))
			for i, a := range args {
				strs[i] = string(a)
			}
			p.r.Send(servertest.AppendCommand(nil, strs...))
			p.s.Send(servertest.AppendCommand(nil, strs...))
			continue
		}
		if len(mods) > 0 && mods[len(mods)-1] == "recv" {
			want = normalize(p.r.ReadReply(), mods)
			got = normalize(p.s.ReadReply(), mods)
		} else {
			args, ok := resp.SplitArgs([]byte(line), nil)
			if !ok {
				t.Fatalf("%s:%d: bad line %q", path, i+1, line)
			}
			want = normalize(p.r.DoBytes(args...), mods)
			got = normalize(p.s.DoBytes(args...), mods)
		}
		if !bytes.Equal(want, got) {
			failures++
			t.Errorf("%s:%d: %s\n redis:  %q\n spinel: %q", filepath.Base(path), i+1, line, want, got)
			if failures > 20 {
				t.Fatal("too many failures")
			}
		}
	}
}

// value is a parsed reply, kept as raw bytes per node.
type value struct {
	head     []byte // the header line, with CRLF; for scalars the whole value
	children []*value
}

func (v *value) bytes() []byte {
	out := append([]byte(nil), v.head...)
	for _, c := range v.children {
		out = append(out, c.bytes()...)
	}
	return out
}

func parseValue(b []byte) (*value, []byte) {
	n, err := resp.ReplyLen(b)
	if err != nil || n == 0 {
		return &value{head: b}, nil
	}
	switch b[0] {
	case '*', '%', '~', '>', '|':
		end := bytes.Index(b, []byte("\r\n")) + 2
		count, _ := strconv.Atoi(string(b[1 : end-2]))
		if b[0] == '%' || b[0] == '|' {
			count *= 2
		}
		v := &value{head: b[:end]}
		rest := b[end:]
		for i := 0; i < count; i++ {
			var child *value
			child, rest = parseValue(rest)
			v.children = append(v.children, child)
		}
		return v, rest
	default:
		return &value{head: b[:n]}, b[n:]
	}
}

func sortChildren(v *value, pairs bool) {
	step := 1
	if pairs {
		step = 2
	}
	type group struct{ key, all []byte }
	var groups []group
	for i := 0; i+step <= len(v.children); i += step {
		var all []byte
		for j := 0; j < step; j++ {
			all = append(all, v.children[i+j].bytes()...)
		}
		groups = append(groups, group{v.children[i].bytes(), all})
	}
	sort.Slice(groups, func(i, j int) bool { return bytes.Compare(groups[i].all, groups[j].all) < 0 })
	v.children = nil
	for _, g := range groups {
		c, _ := parseValue(g.all)
		if step == 2 {
			k, rest := parseValue(g.all)
			val, _ := parseValue(rest)
			v.children = append(v.children, k, val)
			continue
		}
		v.children = append(v.children, c)
	}
}

func normalize(reply []byte, mods []string) []byte {
	if len(mods) == 0 {
		return reply
	}
	v, _ := parseValue(reply)
	for _, m := range mods {
		switch m {
		case "sort":
			sortChildren(v, false)
		case "sortpairs":
			sortChildren(v, true)
		case "sort2":
			if len(v.children) == 2 {
				sortChildren(v.children[1], false)
			}
		case "type":
			return []byte{reply[0]}
		case "len":
			return []byte(fmt.Sprintf("%c%d", reply[0], len(v.children)))
		}
	}
	return v.bytes()
}
