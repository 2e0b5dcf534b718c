package difftest

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/resp"
	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// Redis describes the single commands of a user's rules ("-@all +@read +get
// +set") walking its command dictionary, whose order depends on a hash seed
// chosen at start-up. normACL sorts those tokens inside every rule string of
// a reply (each selector on its own), leaving the +@all/-@all base and the
// categories, whose order is deterministic, where they are.
func normACL(reply []byte) []byte {
	v, _ := parseValue(reply)
	normACLValue(v)
	return v.bytes()
}

func normACLValue(v *value) {
	for _, c := range v.children {
		normACLValue(c)
	}
	if len(v.head) == 0 || v.head[0] != '$' {
		return
	}
	i := bytes.Index(v.head, []byte("\r\n"))
	if i < 0 || len(v.head) < i+4 {
		return
	}
	body := string(v.head[i+2 : len(v.head)-2])
	v.head = append(append(append([]byte(nil), v.head[:i+2]...), sortRuleTokens(body)...), "\r\n"...)
}

// sortRuleTokens sorts the single-command tokens (+cmd, -cmd, +cmd|arg) of
// each parenthesised segment of a rule string in place, keeping the
// parentheses where they were.
func sortRuleTokens(s string) string {
	toks := strings.Split(s, " ")
	var seg []int
	flush := func() {
		var words []string
		for _, i := range seg {
			words = append(words, strings.TrimSuffix(strings.TrimPrefix(toks[i], "("), ")"))
		}
		sort.Strings(words)
		for j, i := range seg {
			open, closed := strings.HasPrefix(toks[i], "("), strings.HasSuffix(toks[i], ")")
			toks[i] = words[j]
			if open {
				toks[i] = "(" + toks[i]
			}
			if closed {
				toks[i] += ")"
			}
		}
		seg = seg[:0]
	}
	for i, t := range toks {
		if strings.HasPrefix(t, "(") {
			flush()
		}
		bare := strings.TrimSuffix(strings.TrimPrefix(t, "("), ")")
		if len(bare) > 1 && (bare[0] == '+' || bare[0] == '-') && bare[1] != '@' {
			seg = append(seg, i)
		}
		if strings.HasSuffix(t, ")") {
			flush()
		}
	}
	flush()
	return strings.Join(toks, " ")
}

// aclPair is a pair of connections, to Redis and to Spinel.
type aclPair struct{ r, s *servertest.RawConn }

func dialPair(t *testing.T, redisAddr, spinelAddr string) aclPair {
	return aclPair{servertest.Dial(t, redisAddr), servertest.Dial(t, spinelAddr)}
}

// diff sends args to both and reports a difference after norm.
func (p aclPair) diff(t *testing.T, norm func([]byte) []byte, args ...string) bool {
	t.Helper()
	want, got := norm(p.r.Do(args...)), norm(p.s.Do(args...))
	if !bytes.Equal(want, got) {
		t.Errorf("%q\n redis:  %q\n spinel: %q", args, want, got)
		return false
	}
	return true
}

func same(b []byte) []byte { return b }

// TestACLRulesDescribe compares how users are described (ACL GETUSER in
// RESP2 and RESP3, ACL LIST) for rule sets whose single commands Redis
// lists in hash order.
func TestACLRulesDescribe(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	p2 := dialPair(t, redis.Addr, spinel.Addr)
	p3 := dialPair(t, redis.Addr, spinel.Addr)
	p3.diff(t, func([]byte) []byte { return nil }, "HELLO", "3")
	cases := [][]string{
		{"-@all", "+@read", "+@hash"},
		{"-@all", "+@read", "+@write", "-@dangerous"},
		{"+@all", "-flushall", "-flushdb", "-keys", "-debug"},
		{"-@all", "+select|0", "+select|1", "+client|list", "+config|get", "+config|set"},
		{"-@all", "+get", "+set", "+del", "+mget", "+client", "-client|kill"},
		{"+@all", "-@admin", "+config|get", "+info", "-client|kill", "-acl"},
		{"-@all", "+@list", "+@string", "-lpush", "-rpush", "+hset", "+hget", "+sadd"},
		{"+@all", "-@write", "+set", "+del", "-get"},
		{"-@all", "+@fast", "-@write", "+incr"},
		{"+@all", "-@slow", "+keys", "+sort", "+config|get"},
		{"-@all", "+@keyspace", "+@pubsub", "-@dangerous", "+flushdb"},
		{"-@all", "+@all", "-@all", "+@connection", "-client"},
		{"-@all", "+debug|object", "+debug|sleep", "+get"},
		{"-@all", "+xgroup", "-xgroup|create", "+xinfo|stream"},
		{"on", "nopass", "~a*", "+get", "+set", "(~b* +del +unlink +@hash)", "(%R~c* +@read -get -mget +@geo)"},
		{"+@all", "-@scripting", "+eval", "+evalsha", "(+@scripting -eval ~s*)"},
		{"-@all", "+@stream", "-xadd", "-xdel", "+@sortedset", "-zadd", "+@blocking"},
		{"allcommands", "-@bitmap", "-@hyperloglog", "-geoadd", "-georadius"},
		{"nocommands", "+@transaction", "+@scripting", "+ping", "+echo", "+select|5"},
		{"-@all", "+command", "-command|docs", "+command|info"},
	}
	for i, rules := range cases {
		name := "u" + strconv.Itoa(i)
		args := append([]string{"ACL", "SETUSER", name}, rules...)
		p2.diff(t, same, args...)
		p2.diff(t, normACL, "ACL", "GETUSER", name)
		p3.diff(t, normACL, "ACL", "GETUSER", name)
	}
	p2.diff(t, normACL, "ACL", "LIST")
	p3.diff(t, normACL, "ACL", "LIST")
}

// aclRuleGen draws one random ACL rule.
func aclRuleGen(r *rand.Rand, depth int) string {
	cats := []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
		"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
		"blocking", "dangerous", "connection", "transaction", "scripting", "all", "nosuch"}
	cmds := []string{"get", "set", "del", "mget", "mset", "incr", "lpush", "lrange", "hset", "hget",
		"sadd", "smembers", "zadd", "zrange", "expire", "ttl", "publish", "subscribe", "psubscribe",
		"select", "ping", "echo", "config", "config|get", "config|set", "client", "client|id",
		"client|kill", "object|encoding", "keys", "scan", "flushdb", "copy", "rename", "sort",
		"exists", "dbsize", "multi", "exec", "acl|whoami", "geoadd", "pfadd", "bitcount", "xadd",
		"nosuch", "GET", "Config|Get"}
	switch n := r.IntN(20); {
	case n < 5:
		return []string{"+@", "-@"}[r.IntN(2)] + cats[r.IntN(len(cats))]
	case n < 10:
		return []string{"+", "-"}[r.IntN(2)] + cmds[r.IntN(len(cmds))]
	case n == 10:
		return []string{"+select|0", "+select|1", "+debug|object", "+get|k1", "+config|get|x"}[r.IntN(5)]
	case n < 14:
		return []string{"~k[0-3]", "~k1", "%R~k*", "%W~k[2-5]", "%RW~x*", "allkeys", "resetkeys", "~*", "%R~*", "%W~k6"}[r.IntN(10)]
	case n < 16:
		return []string{"&ch*", "&ch1", "allchannels", "resetchannels", "&*", "&news.[ab]"}[r.IntN(6)]
	case n == 16 && depth == 0:
		parts := []string{}
		for i := 1 + r.IntN(3); i > 0; i-- {
			parts = append(parts, aclRuleGen(r, 1))
		}
		return "(" + strings.Join(parts, " ") + ")"
	case n == 17 && depth == 0:
		return []string{"clearselectors", ">pw", "<pw", "nopass", "resetpass", "allcommands", "nocommands"}[r.IntN(7)]
	default:
		return []string{"+@all", "-@all", "allcommands", "nocommands"}[r.IntN(4)]
	}
}

// aclDataCommand draws a command for the restricted user's connection, over
// a small key space, among the commands Spinel implements.
func aclDataCommand(r *rand.Rand) ([]string, []string) {
	k := func() string { return []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "x1"}[r.IntN(8)] }
	switch r.IntN(24) {
	case 0:
		return []string{"GET", k()}, nil
	case 1:
		return []string{"SET", k(), "v"}, nil
	case 2:
		return []string{"MGET", k(), k(), k()}, nil
	case 3:
		return []string{"MSET", k(), "a", k(), "b"}, nil
	case 4:
		return []string{"DEL", k(), k()}, nil
	case 5:
		return []string{"INCR", k()}, nil
	case 6:
		return []string{"LPUSH", k(), "a"}, nil
	case 7:
		return []string{"LRANGE", k(), "0", "-1"}, nil
	case 8:
		return []string{"HSET", k(), "f", "v"}, nil
	case 9:
		return []string{"SADD", k(), "m"}, nil
	case 10:
		return []string{"EXPIRE", k(), "1000"}, nil
	case 11:
		return []string{"COPY", k(), k(), "REPLACE"}, nil
	case 12:
		return []string{"RENAME", k(), k()}, nil
	case 13:
		return []string{"PUBLISH", []string{"ch1", "ch2", "news.a", "other"}[r.IntN(4)], "m"}, nil
	case 14:
		return []string{"SELECT", []string{"0", "1"}[r.IntN(2)]}, nil
	case 15:
		return []string{"PING"}, nil
	case 16:
		return []string{"CONFIG", "GET", "maxmemory"}, nil
	case 17:
		return []string{"OBJECT", "ENCODING", k()}, nil
	case 18:
		return []string{"SORT", k(), "STORE", k()}, nil
	case 19:
		return []string{"EXISTS", k(), k()}, nil
	case 20:
		// One match at most: inside MULTI the reply is not sorted.
		return []string{"KEYS", k()}, nil
	case 21:
		return []string{"MULTI"}, nil
	case 22:
		return []string{"EXEC"}, nil
	default:
		return []string{"ACL", "WHOAMI"}, nil
	}
}

// normLog keeps what an ACL LOG reply says that both servers must agree on:
// age-seconds and client-info are replaced by their types.
var logVolatile = regexp.MustCompile(`(\$11\r\nage-seconds\r\n)(\$[0-9]+\r\n[^\r]*\r\n|,[^\r]*\r\n)(\$11\r\nclient-info\r\n)\$[0-9]+\r\n[^\r]*\r\n`)

func normLog(b []byte) []byte {
	return logVolatile.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := logVolatile.FindSubmatch(m)
		return append(append(append(append([]byte(nil), sub[1]...), sub[2][0]), sub[3]...), "?"...)
	})
}

// TestRandomACL changes a user's rules at random between commands its own
// connection runs, and compares every reply: the rules' descriptions, ACL
// DRYRUN, the commands' results or refusals (EXEC re-checks queued commands
// after the rules changed) and the ACL log.
func TestRandomACL(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	admin := dialPair(t, redis.Addr, spinel.Addr)
	admin3 := dialPair(t, redis.Addr, spinel.Addr)
	admin3.diff(t, func([]byte) []byte { return nil }, "HELLO", "3")
	admin.diff(t, same, "ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*", "&*")
	user := dialPair(t, redis.Addr, spinel.Addr)
	user.diff(t, same, "AUTH", "u", "x")
	r := rand.New(rand.NewPCG(*seed, 7))
	n := *randomN / 2
	failures := 0
	for i := 0; i < n && failures < 10; i++ {
		var ok bool
		var args []string
		switch pick := r.IntN(20); {
		case pick < 4:
			args = []string{"ACL", "SETUSER", "u"}
			for j := 1 + r.IntN(4); j > 0; j-- {
				args = append(args, aclRuleGen(r, 0))
			}
			ok = admin.diff(t, same, args...)
		case pick < 6:
			args = []string{"ACL", "GETUSER", "u"}
			ok = admin.diff(t, normACL, args...) && admin3.diff(t, normACL, args...)
		case pick == 6:
			args = []string{"ACL", "LIST"}
			ok = admin.diff(t, normACL, args...)
		case pick < 10:
			cmd, _ := aclDataCommand(r)
			args = append([]string{"ACL", "DRYRUN", "u"}, cmd...)
			ok = admin.diff(t, same, args...)
		case pick == 10:
			args = []string{"ACL", "LOG", strconv.Itoa(r.IntN(6))}
			ok = admin.diff(t, normLog, args...) && admin3.diff(t, normLog, args...)
		default:
			var mods []string
			args, mods = aclDataCommand(r)
			ok = user.diff(t, func(b []byte) []byte { return normalize(b, mods) }, args...)
		}
		if !ok {
			failures++
			t.Logf("seed=%d step %d", *seed, i)
		}
	}
}

// TestACLLog compares the ACL log: entries for refused commands, keys,
// channels and authentications, their grouping and contexts, in both
// protocols (ages and client descriptions are compared by type only).
func TestACLLog(t *testing.T) {
	redis := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	admin := dialPair(t, redis.Addr, spinel.Addr)
	admin3 := dialPair(t, redis.Addr, spinel.Addr)
	admin3.diff(t, func([]byte) []byte { return nil }, "HELLO", "3")
	u := dialPair(t, redis.Addr, spinel.Addr)
	steps := []struct {
		p    aclPair
		args []string
	}{
		{admin, []string{"ACL", "SETUSER", "lu", "on", ">pw", "~k*", "&ch", "+get", "+publish", "+multi", "+exec", "+auth"}},
		{u, []string{"AUTH", "lu", "bad"}},
		{u, []string{"AUTH", "lu", "bad"}},
		{u, []string{"auth", "lu", "bad"}},
		{u, []string{"AUTH", "nosuch", "bad"}},
		{u, []string{"HELLO", "2", "AUTH", "lu", "bad"}},
		{u, []string{"AUTH", "lu", "pw"}},
		{u, []string{"SET", "k1", "v"}},
		{u, []string{"SET", "k1", "v"}},
		{u, []string{"GET", "other"}},
		{u, []string{"GET", "k1"}},
		{u, []string{"PUBLISH", "nope", "m"}},
		{u, []string{"MULTI"}},
		{u, []string{"GET", "other"}},
		{u, []string{"SET", "k1", "v"}},
		{u, []string{"AUTH", "lu", "wrong"}},
		{u, []string{"EXEC"}},
		{u, []string{"MULTI"}},
		{u, []string{"GET", "k2"}},
		{u, []string{"PUBLISH", "ch", "m"}},
		{admin, []string{"ACL", "SETUSER", "lu", "resetkeys", "resetchannels"}},
		{u, []string{"EXEC"}},
	}
	for _, st := range steps {
		st.p.diff(t, same, st.args...)
	}
	for _, args := range [][]string{
		{"ACL", "LOG"}, {"ACL", "LOG", "3"}, {"ACL", "LOG", "0"}, {"ACL", "LOG", "-1"},
		{"ACL", "LOG", "100"},
	} {
		admin.diff(t, normLog, args...)
		admin3.diff(t, normLog, args...)
	}
	admin.diff(t, same, "ACL", "LOG", "RESET")
	admin.diff(t, same, "ACL", "LOG")
	// The log keeps the newest 128 entries.
	for i := 0; i < 140; i++ {
		u.diff(t, same, "GET", "other"+strconv.Itoa(i))
	}
	admin.diff(t, func(b []byte) []byte { v, _ := parseValue(b); return []byte(strconv.Itoa(len(v.children))) }, "ACL", "LOG", "1000")
	admin.diff(t, normLog, "ACL", "LOG", "2")
}

// rawClient is a connection whose closing by the server can be observed.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	buf  []byte
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawClient{t: t, conn: c}
}

func (c *rawClient) send(args ...string) {
	c.t.Helper()
	if _, err := c.conn.Write(servertest.AppendCommand(nil, args...)); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next reply, or "" when the connection was closed.
func (c *rawClient) read() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	tmp := make([]byte, 4096)
	for {
		if n, err := resp.ReplyLen(c.buf); err == nil && n > 0 {
			r := string(c.buf[:n])
			c.buf = c.buf[n:]
			return r
		}
		n, err := c.conn.Read(tmp)
		c.buf = append(c.buf, tmp[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatal("no reply and no close")
			}
			if len(c.buf) == 0 {
				return ""
			}
		}
	}
}

func (c *rawClient) do(want string, args ...string) {
	c.t.Helper()
	c.send(args...)
	if got := c.read(); got != want {
		c.t.Fatalf("%q = %q; want %q", args, got, want)
	}
}

// closed reports whether the server closed the connection, after whatever
// replies it still had to read.
func (c *rawClient) closed() bool {
	for {
		if c.read() == "" {
			return true
		}
	}
}

// TestACLDisconnects checks, on Redis and Spinel alike, that deleting a user
// disconnects its clients (the caller after its reply), that revoking a
// subscribed channel disconnects the subscriber, and that turning a user off
// does not.
func TestACLDisconnects(t *testing.T) {
	for _, target := range []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"redis", func(t *testing.T) string { return servertest.StartRedis(t).Addr }},
		{"spinel", func(t *testing.T) string { return spineltest.Start(t).Addr }},
	} {
		t.Run(target.name, func(t *testing.T) {
			addr := target.addr(t)
			admin := dialRaw(t, addr)
			admin.do("+OK\r\n", "ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*", "&*")

			// ACL DELUSER closes the user's other clients.
			victim := dialRaw(t, addr)
			victim.do("+OK\r\n", "AUTH", "gone", "x")
			other := dialRaw(t, addr) // a default-user client stays
			admin.do(":1\r\n", "ACL", "DELUSER", "gone")
			if !victim.closed() {
				t.Fatal("the deleted user's client is still connected")
			}
			other.do("+PONG\r\n", "PING")

			// A client deleting its own user gets the reply, then is closed.
			admin.do("+OK\r\n", "ACL", "SETUSER", "gone", "on", "nopass", "+@all", "~*", "&*")
			self := dialRaw(t, addr)
			self.send("AUTH", "gone", "x")
			self.send("ACL", "DELUSER", "gone")
			self.send("PING")
			if a, b := self.read(), self.read(); a != "+OK\r\n" || b != ":1\r\n" || !self.closed() {
				t.Fatalf("self-delete: %q %q, then not closed", a, b)
			}

			// Turning a user off keeps its connections; CLIENT KILL USER
			// closes them.
			admin.do("+OK\r\n", "ACL", "SETUSER", "sleepy", "on", "nopass", "+@all", "~*", "&*")
			sleepy := dialRaw(t, addr)
			sleepy.do("+OK\r\n", "AUTH", "sleepy", "x")
			admin.do("+OK\r\n", "ACL", "SETUSER", "sleepy", "off", ">newpass")
			sleepy.do("+PONG\r\n", "PING")
			sleepy.send("CLIENT", "INFO")
			if info := sleepy.read(); !strings.Contains(info, " user=sleepy ") {
				t.Fatalf("CLIENT INFO: %q", info)
			}
			admin.do(":1\r\n", "CLIENT", "KILL", "USER", "sleepy")
			if !sleepy.closed() {
				t.Fatal("CLIENT KILL USER left the client open")
			}

			// Revoking a channel a client is subscribed to closes it;
			// keeping its channels does not.
			admin.do("+OK\r\n", "ACL", "SETUSER", "sub", "on", "nopass", "+@all", "~*", "resetchannels", "&news", "&sport")
			subA, subB := dialRaw(t, addr), dialRaw(t, addr)
			subA.do("+OK\r\n", "AUTH", "sub", "x")
			subA.do("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n", "SUBSCRIBE", "news")
			subB.do("+OK\r\n", "AUTH", "sub", "x")
			subB.do("*3\r\n$10\r\npsubscribe\r\n$5\r\nsport\r\n:1\r\n", "PSUBSCRIBE", "sport")
			admin.do("+OK\r\n", "ACL", "SETUSER", "sub", "&more")
			admin.do(":1\r\n", "PUBLISH", "news", "m")
			admin.do("+OK\r\n", "ACL", "SETUSER", "sub", "resetchannels", "&sport")
			if !subA.closed() {
				t.Fatal("the subscriber of a revoked channel is still connected")
			}
			admin.do(":1\r\n", "PUBLISH", "sport", "m")

			// So does going from allchannels to a list without the channel.
			admin.do("+OK\r\n", "ACL", "SETUSER", "all", "on", "nopass", "+@all", "~*", "allchannels")
			subC := dialRaw(t, addr)
			subC.do("+OK\r\n", "AUTH", "all", "x")
			subC.do("*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n", "SUBSCRIBE", "x")
			admin.do("+OK\r\n", "ACL", "SETUSER", "all", "resetchannels", "&y")
			if !subC.closed() {
				t.Fatal("the allchannels subscriber is still connected")
			}
		})
	}
}
