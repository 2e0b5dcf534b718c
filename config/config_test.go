package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// mustSet is Set for tests; protected options are allowed.
func mustSet(t *testing.T, c *Config, name, value string) {
	t.Helper()
	if err := c.SetFrom([][2]string{{name, value}}, true); err != nil {
		t.Fatalf("set %s %q: %v", name, value, err)
	}
}

// TestConfigSanity is Redis's "CONFIG sanity": GET every option, set it to
// the value just read, and expect GET to return the same. Immutable options
// go through the startup path, which is the only way to set them.
func TestConfigSanity(t *testing.T) {
	t.Chdir(t.TempDir())
	c := Default()
	c.EnableProtectedConfigs = "yes"
	for _, kv := range c.Get("*") {
		e, _ := lookup(kv[0])
		var err error
		if e.opt.flags&Immutable != 0 {
			if le := c.load(directive{name: kv[0], args: e.opt.args(kv[1])}, false); le != nil {
				err = le
			}
		} else {
			err = c.Set([][2]string{{kv[0], kv[1]}})
		}
		if err != nil {
			t.Errorf("set %s %q: %v", kv[0], kv[1], err)
			continue
		}
		if got := c.Get(kv[0]); len(got) != 1 || got[0][1] != kv[1] {
			t.Errorf("%s: got %v after setting %q", kv[0], got, kv[1])
		}
	}
}

// TestSetNormalises checks values Redis accepts in one spelling and shows
// in another (each checked with redis-server 7.0.15).
func TestSetNormalises(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"maxmemory", "1kb", "1024"},
		{"maxmemory", "1K", "1000"},
		{"maxmemory", "007", "7"},
		{"maxmemory", "", "0"},
		{"maxmemory", "18446744073709551616", "9223372036854775807"}, // Redis: 18446744073709551615
		{"maxmemory-clients", "5%", "5%"},
		{"maxmemory-clients", "0%", "0"},
		{"maxmemory-clients", "10kb", "10240"},
		{"hz", "0", "1"},
		{"hz", "600", "500"},
		{"appendonly", "YES", "yes"},
		{"maxmemory-policy", "ALLKEYS-LRU", "allkeys-lru"},
		{"save", "+1 02", "1 2"},
		{"save", "1 4294967297", "1 1"},
		{"save", "3600 1 300 100", "3600 1 300 100"},
		{"notify-keyspace-events", "KEA", "AKE"},
		{"bind", "", ""},
		{"bind", "127.0.0.1 -::1", "127.0.0.1 -::1"},
		{"client-output-buffer-limit", "replica 5 6 7", "normal 0 0 0 slave 5 6 7 pubsub 33554432 8388608 60"},
		{"client-output-buffer-limit", "PUBSUB 1mb 2k +3", "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2000 3"},
		{"client-output-buffer-limit", "pubsub 1 2 4294967297", "normal 0 0 0 slave 268435456 67108864 60 pubsub 1 2 1"},
		{"client-output-buffer-limit", "pubsub  2 ", "normal 0 0 0 slave 268435456 67108864 60 pubsub 0 2 0"},
		{"client-output-buffer-limit", "normal 1 2 3 normal 4 5 6", "normal 4 5 6 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
		{"client-output-buffer-limit", "", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
		{"lua-time-limit", "100", "100"},
	}
	for _, tc := range cases {
		c := Default()
		mustSet(t, c, tc.name, tc.value)
		if got := c.Get(tc.name)[0][1]; got != tc.want {
			t.Errorf("set %s %q: got %q; want %q", tc.name, tc.value, got, tc.want)
		}
	}
}

// TestSetErrors compares with replies recorded from redis-server 7.0.15.
func TestSetErrors(t *testing.T) {
	const failed = "ERR CONFIG SET failed (possibly related to argument "
	cases := []struct {
		pairs []string
		want  string
	}{
		{[]string{"foo", "bar"}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[]string{"port", "abc", "foo", "bar"}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"},
		{[]string{"databases", "1", "foo", "1"}, failed + "'databases') - can't set immutable config"},
		{[]string{"DATABASES", "3"}, failed + "'DATABASES') - can't set immutable config"},
		{[]string{"enable-debug-command", "yes"}, failed + "'enable-debug-command') - can't set immutable config"},
		{[]string{"dir", "/"}, failed + "'dir') - can't set protected config"},
		{[]string{"dbfilename", "x.rdb"}, failed + "'dbfilename') - can't set protected config"},
		{[]string{"Port", "1", "PORT", "2"}, failed + "'PORT') - duplicate parameter"},
		{[]string{"maxmemory", "1mb", "port", "abc"}, failed + "'port') - argument couldn't be parsed into an integer"},
		{[]string{"port", "70000"}, failed + "'port') - argument must be between 0 and 65535 inclusive"},
		{[]string{"maxmemory", "1.5mb"}, failed + "'maxmemory') - argument must be a memory value"},
		{[]string{"maxmemory", " 1"}, failed + "'maxmemory') - argument must be a memory value"},
		{[]string{"HASH-max-ziplist-entries", "-1"}, failed + "'hash-max-ziplist-entries') - argument must be between 0 and 9223372036854775807 inclusive"},
		{[]string{"appendonly", "maybe"}, failed + "'appendonly') - argument must be 'yes' or 'no'"},
		{[]string{"maxmemory-policy", "foo"}, failed + "'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
		{[]string{"appendfsync", "foo"}, failed + "'appendfsync') - argument(s) must be one of the following: everysec, always, no"},
		{[]string{"loglevel", "nothing"}, failed + "'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"},
		{[]string{"maxmemory-clients", "abc"}, failed + "'maxmemory-clients') - argument must be a memory or percent value"},
		{[]string{"maxmemory-clients", "05%"}, failed + "'maxmemory-clients') - argument must be a memory or percent value"},
		{[]string{"maxmemory-clients", "101%"}, failed + "'maxmemory-clients') - percentage argument must be less or equal to 100"},
		{[]string{"save", "1 2 3"}, failed + "'save') - Invalid save parameters"},
		{[]string{"save", "0 1"}, failed + "'save') - Invalid save parameters"},
		{[]string{"save", "1  2"}, failed + "'save') - Invalid save parameters"},
		{[]string{"save", "1 0x2"}, failed + "'save') - Invalid save parameters"},
		{[]string{"notify-keyspace-events", "Kz!"}, failed + "'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{[]string{"client-output-buffer-limit", "normal 1 2"}, failed + "'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."},
		{[]string{"client-output-buffer-limit", " normal 7 8 9 "}, failed + "'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."},
		{[]string{"client-output-buffer-limit", "master 1 2 3"}, failed + "'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration."},
		{[]string{"client-output-buffer-limit", "pubsub -1 2 3"}, failed + "'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration."},
		{[]string{"client-output-buffer-limit", "pubsub 1 2 2147483648"}, failed + "'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration."},
		{[]string{"client-output-buffer-limit", "pubsub 1 2 -"}, failed + "'client-output-buffer-limit') - Error in hard, soft or soft_seconds setting in buffer limit configuration."},
		{[]string{"bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"}, failed + "'bind') - Too many bind addresses specified."},
		{[]string{"aof-use-rdb-preamble", "yes"}, failed + "'aof-use-rdb-preamble') - Spinel writes AOF base files in RESP form only"},
	}
	for _, tc := range cases {
		c := Default()
		var pairs [][2]string
		for i := 0; i < len(tc.pairs); i += 2 {
			pairs = append(pairs, [2]string{tc.pairs[i], tc.pairs[i+1]})
		}
		err := c.Set(pairs)
		if err == nil || err.Error() != tc.want {
			t.Errorf("set %q: got %v; want %s", tc.pairs, err, tc.want)
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("set %q: failed set changed the config", tc.pairs)
		}
	}
}

// TestBounds sets each bounded option just outside its range; the texts
// come from redis-server 7.0.15 (immutable ones from its startup errors).
func TestBounds(t *testing.T) {
	between := func(lo, hi string) string { return "argument must be between " + lo + " and " + hi + " inclusive" }
	const intMax, llMax = "2147483647", "9223372036854775807"
	cases := []struct{ name, value, want string }{
		{"port", "-1", between("0", "65535")},
		{"port", "65536", between("0", "65535")},
		{"tcp-backlog", "-1", between("0", intMax)},
		{"unixsocketperm", "1000", between("0", "777")},
		{"unixsocketperm", "8", "argument couldn't be parsed as an octal number"},
		{"timeout", "-1", between("0", intMax)},
		{"tcp-keepalive", "-1", between("0", intMax)},
		{"io-threads", "0", between("1", "128")},
		{"io-threads", "129", between("1", "128")},
		{"databases", "0", between("1", intMax)},
		{"hz", "-1", between("0", intMax)},
		{"maxclients", "0", between("1", "4294967295")},
		{"proto-max-bulk-len", "1000", between("1048576", llMax)},
		{"client-query-buffer-limit", "99999999999999999999", between("1048576", llMax)},
		{"maxmemory", "-1", "argument must be a memory value"},
		{"maxmemory-samples", "0", between("1", intMax)},
		{"maxmemory-eviction-tenacity", "101", between("0", "100")},
		{"maxmemory-clients", "200%", "percentage argument must be less or equal to 100"},
		{"lfu-log-factor", "-1", between("0", intMax)},
		{"lfu-decay-time", "-1", between("0", intMax)},
		{"active-expire-effort", "0", between("1", "10")},
		{"active-expire-effort", "11", between("1", "10")},
		{"auto-aof-rewrite-percentage", "-1", between("0", intMax)},
		{"auto-aof-rewrite-min-size", "99999999999999999999", between("0", llMax)},
		{"slowlog-log-slower-than", "-2", between("-1", llMax)},
		{"slowlog-max-len", "-1", between("0", llMax)},
		{"latency-monitor-threshold", "-1", between("0", llMax)},
		{"lua-time-limit", "-1", between("0", llMax)},
		{"busy-reply-threshold", "99999999999999999999", "argument couldn't be parsed into an integer"},
		{"hash-max-listpack-entries", "-1", between("0", llMax)},
		{"hash-max-listpack-value", "99999999999999999999", between("0", llMax)},
		{"list-max-ziplist-size", "2147483648", between("-2147483648", intMax)},
		{"list-compress-depth", "-1", between("0", intMax)},
		{"set-max-intset-entries", "-1", between("0", llMax)},
		{"zset-max-listpack-entries", "-1", between("0", llMax)},
		{"zset-max-listpack-value", "-1", "argument must be a memory value"},
		{"stream-node-max-bytes", "99999999999999999999", between("0", llMax)},
		{"stream-node-max-entries", "-1", between("0", llMax)},
		{"appendfilename", "", "appendfilename can't be empty"},
		{"appendfilename", "a/b", "appendfilename can't be a path, just a filename"},
		{"appenddirname", "a\\b", "appenddirname can't be a path, just a dirname"},
		{"dbfilename", "a/b", "dbfilename can't be a path, just a filename"},
	}
	for _, tc := range cases {
		_, err := Load([]string{"--" + tc.name, tc.value})
		var le *LoadError
		if !errors.As(err, &le) || le.Msg != tc.want || le.Option != tc.name {
			t.Errorf("--%s %q: got %v; want %q", tc.name, tc.value, err, tc.want)
		}
	}
}

func TestGet(t *testing.T) {
	c := Default()
	cases := []struct {
		patterns []string
		want     [][2]string
	}{
		{[]string{"PORT"}, [][2]string{{"PORT", "6379"}}},
		{[]string{"port", "PORT", "p?rt"}, [][2]string{{"port", "6379"}}},
		{[]string{"nonexistent"}, nil},
		{[]string{"*ziplist-value", "*listpack-value", "hash*value"}, [][2]string{
			{"hash-max-ziplist-value", "64"}, {"zset-max-ziplist-value", "64"},
			{"hash-max-listpack-value", "64"}, {"zset-max-listpack-value", "64"}}},
		{[]string{"BUSY-*", "lua*"}, [][2]string{{"busy-reply-threshold", "5000"}, {"lua-time-limit", "5000"}}},
		{[]string{"maxmemory-[cp]*"}, [][2]string{{"maxmemory-policy", "noeviction"}, {"maxmemory-clients", "0"}}},
	}
	for _, tc := range cases {
		if got := c.GetAll(tc.patterns...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("GetAll(%q) = %v; want %v", tc.patterns, got, tc.want)
		}
	}
	if n, want := len(c.Get("*")), len(byName); n != want {
		t.Errorf("Get(*) gave %d entries; want %d (names and aliases)", n, want)
	}
}

func TestProtected(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cases := []struct {
		mode  string
		local bool
		ok    bool
	}{
		{"no", true, false},
		{"local", false, false},
		{"local", true, true},
		{"yes", false, true},
	}
	for _, tc := range cases {
		c := Default()
		c.EnableProtectedConfigs = tc.mode
		err := c.SetFrom([][2]string{{"dbfilename", "x.rdb"}}, tc.local)
		if (err == nil) != tc.ok {
			t.Errorf("mode %s local %v: err %v", tc.mode, tc.local, err)
		}
	}
}

func TestSetDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c := Default()
	c.EnableProtectedConfigs = "yes"
	if err := c.Set([][2]string{{"dir", "/nonexistent-spinel"}}); err == nil ||
		err.Error() != "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory" {
		t.Fatalf("bad dir: %v", err)
	}
	// A failure later in the same call must take the process back.
	if err := c.Set([][2]string{{"dir", "/"}, {"port", "x"}}); err == nil {
		t.Fatal("want error")
	}
	if got := c.Get("dir")[0][1]; got != dir {
		t.Errorf("dir after rollback = %q; want %q", got, dir)
	}
	mustSet(t, c, "dir", "/")
	if wd, _ := os.Getwd(); wd != dir {
		t.Errorf("CONFIG SET dir changed the working directory to %q", wd)
	}
	if got := c.Get("dir")[0][1]; got != "/" {
		t.Errorf("dir = %q; want /", got)
	}
}

func TestOnApply(t *testing.T) {
	c := Default()
	var calls []string
	c.OnApply("maxmemory", func(c *Config) error {
		calls = append(calls, "maxmemory="+c.Get("maxmemory")[0][1])
		return nil
	})
	c.OnApply("lua-time-limit", func(c *Config) error { // alias registers on the option
		calls = append(calls, "busy")
		if c.BusyReplyThreshold == 13 {
			return errors.New("unlucky")
		}
		return nil
	})

	mustSet(t, c, "maxmemory", "0") // unchanged: no hook
	mustSet(t, c, "maxmemory", "1mb")
	err := c.Set([][2]string{{"maxmemory", "2mb"}, {"busy-reply-threshold", "13"}})
	want := "ERR CONFIG SET failed (possibly related to argument 'busy-reply-threshold') - unlucky"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v; want %s", err, want)
	}
	if c.Maxmemory != 1<<20 || c.BusyReplyThreshold != 5000 {
		t.Errorf("not rolled back: maxmemory %d busy %d", c.Maxmemory, c.BusyReplyThreshold)
	}
	wantCalls := []string{"maxmemory=1048576", "maxmemory=2097152", "busy", "maxmemory=1048576", "busy"}
	if !reflect.DeepEqual(calls, wantCalls) {
		t.Errorf("hook calls %q; want %q", calls, wantCalls)
	}
}

func TestOptionsListsDefaults(t *testing.T) {
	c := Default()
	mustSet(t, c, "maxmemory", "1gb")
	for _, o := range c.Options() {
		if o.Name == "maxmemory" && (o.Value != "1073741824" || o.Default != "0") {
			t.Errorf("maxmemory info %+v", o)
		}
		if o.Name == "requirepass" && o.Flags&Sensitive == 0 {
			t.Errorf("requirepass must be sensitive")
		}
		if strings.Contains(o.Name, "ziplist") {
			t.Errorf("alias %s listed as an option", o.Name)
		}
	}
}
