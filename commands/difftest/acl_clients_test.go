package difftest

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// TestACLGoRedis connects go-redis v9 with a user name and password (it
// opens with HELLO 3 AUTH user pass, then CLIENT SETINFO, whose refusal it
// ignores) as a user that may only read keys matching cache:*.
func TestACLGoRedis(t *testing.T) {
	srv := spineltest.Start(t)
	ctx := context.Background()
	admin := newGoRedis(t, srv.Addr, 3)
	if err := admin.Do(ctx, "ACL", "SETUSER", "cache-reader", "on", ">s3cret", "%R~cache:*", "+@read", "-@dangerous").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Set(ctx, "cache:1", "hit", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Set(ctx, "secret", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			c := redis.NewClient(&redis.Options{Addr: srv.Addr, Protocol: proto, Username: "cache-reader",
				Password: "s3cret", DialTimeout: 5 * time.Second})
			t.Cleanup(func() { _ = c.Close() })
			if got, err := c.Get(ctx, "cache:1").Result(); err != nil || got != "hit" {
				t.Fatalf("GET cache:1 = %q, %v", got, err)
			}
			if _, err := c.Get(ctx, "cache:missing").Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET cache:missing: %v", err)
			}
			if got := c.MGet(ctx, "cache:1", "cache:2").Val(); len(got) != 2 || got[0] != "hit" || got[1] != nil {
				t.Fatalf("MGET = %v", got)
			}
			wantKey := "NOPERM this user has no permissions to access one of the keys used as arguments"
			if err := c.Get(ctx, "secret").Err(); err == nil || err.Error() != wantKey {
				t.Fatalf("GET secret: %v", err)
			}
			if err := c.Set(ctx, "cache:1", "overwritten", 0).Err(); err == nil ||
				err.Error() != "NOPERM this user has no permissions to run the 'set' command" {
				t.Fatalf("SET: %v", err)
			}
			if err := c.FlushAll(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
				t.Fatalf("FLUSHALL: %v", err)
			}
			if who := c.Do(ctx, "ACL", "WHOAMI").Err(); who == nil {
				t.Fatal("ACL WHOAMI must be refused")
			}
			if got := admin.Get(ctx, "cache:1").Val(); got != "hit" {
				t.Fatalf("the value changed: %q", got)
			}
			if n := admin.Do(ctx, "ACL", "LOG").Val().([]any); len(n) == 0 {
				t.Fatal("no ACL LOG entries")
			}
			bad := redis.NewClient(&redis.Options{Addr: srv.Addr, Protocol: proto, Username: "cache-reader",
				Password: "wrong", DialTimeout: 5 * time.Second, MaxRetries: -1})
			t.Cleanup(func() { _ = bad.Close() })
			if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
				t.Fatalf("wrong password: %v", err)
			}
		})
	}
}

// nonLoopbackIPv4 returns an IPv4 address of this machine that is not a
// loopback one.
func nonLoopbackIPv4(t *testing.T) string {
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
				return ipn.IP.String()
			}
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address to connect from")
	return ""
}

// TestProtectedMode binds Redis and Spinel to every interface without a
// password and connects from a non-loopback address: both refuse with the
// same -DENIED text and close; with a password (or protected-mode off) they
// serve the client.
func TestProtectedMode(t *testing.T) {
	ip := nonLoopbackIPv4(t)
	redisSrv := servertest.StartRedis(t, "--bind", "0.0.0.0")
	spinelSrv := spineltest.Start(t, "--bind", "0.0.0.0")
	greet := func(port int, cmd ...string) string {
		t.Helper()
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(port)), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write(servertest.AppendCommand(nil, cmd...))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if cmd[0] == "PING" && len(cmd) == 1 {
			// Read until the server closes: the refusal must end the
			// connection.
			b, _ := io.ReadAll(c)
			return string(b)
		}
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		return string(buf[:n])
	}
	want := greet(redisSrv.Port, "PING")
	if !strings.HasPrefix(want, "-DENIED Redis is running in protected mode") {
		t.Fatalf("redis replied %q", want)
	}
	if got := greet(spinelSrv.Port, "PING"); got != want {
		t.Fatalf("spinel: %q\nwant:   %q", got, want)
	}
	// Loopback clients are served.
	local := servertest.Dial(t, spinelSrv.Addr)
	if got := string(local.Do("PING")); got != "+PONG\r\n" {
		t.Fatalf("loopback PING = %q", got)
	}
	if got := string(local.Do("INFO", "stats")); !strings.Contains(got, "rejected_connections:1\r\n") {
		t.Fatalf("the refusal is not counted: %q", got)
	}
	// With a password for the default user, remote clients get normal
	// service (and must authenticate).
	for _, port := range []int{redisSrv.Port, spinelSrv.Port} {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		c := servertest.Dial(t, addr)
		c.Do("CONFIG", "SET", "requirepass", "pw")
		if got := greet(port, "PING", "x"); got != "-NOAUTH Authentication required.\r\n" {
			t.Fatalf("port %d with requirepass: %q", port, got)
		}
		if got := greet(port, "HELLO", "2", "AUTH", "default", "pw"); !strings.HasPrefix(got, "*14\r\n") {
			t.Fatalf("port %d HELLO AUTH: %q", port, got)
		}
		c.Do("AUTH", "pw")
		c.Do("CONFIG", "SET", "requirepass", "")
		c.Do("CONFIG", "SET", "protected-mode", "no")
		if got := greet(port, "PING", "x"); got != "$1\r\nx\r\n" {
			t.Fatalf("port %d with protected-mode no: %q", port, got)
		}
	}
}

// aclFilePair starts Redis and Spinel, each in a directory of its own
// holding users.acl with the given content, configured with --aclfile
// users.acl (the relative name appears in their error messages).
func aclFilePair(t *testing.T, content string) (redisDir, spinelDir string, p aclPair, addrs [2]string) {
	redisDir, spinelDir = t.TempDir(), t.TempDir()
	for _, d := range []string{redisDir, spinelDir} {
		if err := os.WriteFile(filepath.Join(d, "users.acl"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := servertest.StartRedis(t, "--dir", redisDir, "--aclfile", "users.acl")
	s := spineltest.Start(t, "--dir", spinelDir, "--aclfile", "users.acl")
	return redisDir, spinelDir, dialPair(t, r.Addr, s.Addr), [2]string{r.Addr, s.Addr}
}

// TestACLFile compares ACL LOAD and ACL SAVE with an ACL file: accepted
// files, every kind of error (nothing changes), what SAVE writes, and that
// loading disconnects the clients of the previous non-default users.
func TestACLFile(t *testing.T) {
	redisDir, spinelDir, p, addrs := aclFilePair(t, "user default on nopass ~* &* +@all\n")
	write := func(content string) {
		t.Helper()
		for _, d := range []string{redisDir, spinelDir} {
			if err := os.WriteFile(filepath.Join(d, "users.acl"), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("user alice on >pw ~a* %R~r* &ch +get +@hash\n\n  user bob off +@all -@dangerous  \r\nuser carol on nopass ~* &* +@all (~x +set) (%W~y +del)\n")
	p.diff(t, same, "ACL", "LOAD")
	p.diff(t, normACL, "ACL", "LIST")
	p.diff(t, normACL, "ACL", "GETUSER", "carol")

	// A client of a previous user is disconnected by a reload.
	alice := dialPair(t, addrs[0], addrs[1])
	alice.diff(t, same, "AUTH", "alice", "pw")
	p.diff(t, same, "ACL", "SETUSER", "default", ">newpass")
	p.diff(t, same, "ACL", "SAVE")
	for _, d := range []string{redisDir, spinelDir} {
		b, err := os.ReadFile(filepath.Join(d, "users.acl"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "user default on #") {
			t.Fatalf("%s: ACL SAVE wrote %q", d, b)
		}
	}
	saved := func(d string) string {
		b, _ := os.ReadFile(filepath.Join(d, "users.acl"))
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			lines[i] = sortRuleTokens(l)
		}
		return strings.Join(lines, "\n")
	}
	if a, b := saved(redisDir), saved(spinelDir); a != b {
		t.Fatalf("saved files differ:\nredis:  %q\nspinel: %q", a, b)
	}
	p.diff(t, same, "ACL", "LOAD")
	for _, c := range []*servertest.RawConn{alice.r, alice.s} {
		if _, err := c.ReadReplyTimeout(time.Second); err == nil {
			t.Fatal("a reply to nothing")
		}
	}
	p.diff(t, same, "AUTH", "default", "newpass")

	for _, bad := range []string{
		"user x +nosuch foo bar\nuserx\nuser\n# comment\nuser alice\nuser alice\nuser \"a b\"\nuser z ~a\tb\n",
		"user y on\nuser w (+get\n",
		"user v on +@nosuch -nosuch2 on\nuser default off\n",
		"user u \x01 +get\nuser %s +get\n",
	} {
		write(bad)
		p.diff(t, same, "ACL", "LOAD")
		p.diff(t, normACL, "ACL", "LIST")
	}
	for _, d := range []string{redisDir, spinelDir} {
		_ = os.Remove(filepath.Join(d, "users.acl"))
	}
	p.diff(t, same, "ACL", "LOAD")
	p.diff(t, same, "ACL", "SAVE")
	p.diff(t, normACL, "ACL", "LIST")
	write("user default on nopass ~* &* +@all\nuser late on nopass +@all\n")
	p.diff(t, same, "ACL", "LOAD")
	p.diff(t, normACL, "ACL", "LIST")
}

// TestACLFileStartup starts both servers with users in the ACL file: they
// must be loaded before the first client connects.
func TestACLFileStartup(t *testing.T) {
	_, _, p, _ := aclFilePair(t, "user default on nopass ~* &* +@all\nuser app on >apppw ~app:* +@read +@write -@dangerous\nuser off1 >x\n")
	p.diff(t, same, "PING")
	p.diff(t, same, "AUTH", "app", "apppw")
	p.diff(t, same, "SET", "app:1", "v")
	p.diff(t, same, "SET", "other", "v")
	p.diff(t, same, "ACL", "WHOAMI")
	p.diff(t, same, "AUTH", "off1", "x")
	p.diff(t, same, "AUTH", "default", "anything")
	p.diff(t, normACL, "ACL", "LIST")
}
