package commands

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spinel/config"
)

func newACLTestServer(t *testing.T, args ...string) *Server {
	t.Helper()
	cfg, err := config.Load(append([]string{"--dir", t.TempDir()}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return NewServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// applyRules applies rules to a fresh user as ACL SETUSER does.
func applyRules(t *testing.T, rules ...string) *aclUser {
	t.Helper()
	u := newACLUser("t")
	for _, r := range rules {
		if err := u.setRule([]byte(r)); err != aclRuleOK {
			t.Fatalf("rule %q: %v", r, err)
		}
	}
	return u
}

func TestACLRuleErrors(t *testing.T) {
	f := func(rule string, want aclErr) {
		t.Helper()
		u := applyRules(t, "allkeys", "allchannels")
		if got := u.setRule([]byte(rule)); got != want {
			t.Errorf("rule %q: got %v; want %v", rule, got, want)
		}
	}
	f("", aclRuleOK)
	f("on", aclRuleOK)
	f("ON", aclRuleOK)
	f("foo", aclErrSyntax)
	f("+nosuch", aclErrUnknown)
	f("-nosuch", aclErrUnknown)
	f("+@nosuch", aclErrUnknown)
	f("+", aclErrUnknown)
	f("-", aclErrUnknown)
	f("+@", aclErrUnknown)
	f("~foo", aclErrKeysAll)
	f("%R~foo", aclErrKeysAll)
	f("&foo", aclErrChannelsAll)
	f("<nosuch", aclErrNoPassword)
	f("#abc", aclErrBadHash)
	f("!"+strings.Repeat("A", 64), aclErrBadHash)
	f("!"+strings.Repeat("a", 64), aclErrNoPassword)
	f("+config|get|x", aclErrFirstArgSub)
	f("+config|", aclErrSyntax)
	f("+config|nosuch", aclErrUnknown)
	f("-select|0", aclErrUnknown)
	f("+get|x", aclRuleOK)
	f("(foo)", aclErrSyntax)
	f("(on)", aclErrSyntax)
	f("()", aclRuleOK)
	f("(+get ~x &y)", aclRuleOK)
}

func TestACLKeyPatternRules(t *testing.T) {
	f := func(rule string, want string, wantErr aclErr) {
		t.Helper()
		u := newACLUser("t")
		err := u.setRule([]byte(rule))
		if err != wantErr {
			t.Fatalf("rule %q: err %v; want %v", rule, err, wantErr)
		}
		if got := u.root().keysString(); err == aclRuleOK && got != want {
			t.Errorf("rule %q: keys %q; want %q", rule, got, want)
		}
	}
	f("~a", "~a", aclRuleOK)
	f("%R~a", "%R~a", aclRuleOK)
	f("%W~a", "%W~a", aclRuleOK)
	f("%RW~a", "~a", aclRuleOK)
	f("%wr~a", "~a", aclRuleOK)
	f("%R", "%R~", aclRuleOK)
	f("%", "", aclErrSyntax)
	f("%~a", "", aclErrSyntax)
	f("%RR~a", "", aclErrSyntax)
	f("%X~a", "", aclErrSyntax)
	f("~a b", "", aclErrSyntax)
	f("~a\x00", "", aclErrSyntax)
	f("~*", "~*", aclRuleOK)
	f("%RW~*", "~*", aclRuleOK)
}

// TestACLDescribeRoundTrip checks Redis's invariant that the rules a
// selector is described with rebuild exactly its command bitmap, for random
// rule sets.
func TestACLDescribeRoundTrip(t *testing.T) {
	univ := aclCommands()
	var pool []string
	for _, c := range univ.all {
		pool = append(pool, "+"+c.spec.FullName, "-"+c.spec.FullName)
	}
	for _, cat := range aclCategoryNames {
		pool = append(pool, "+@"+cat, "-@"+cat)
	}
	pool = append(pool, "+@all", "-@all", "+select|0", "+get|k")
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		u := newACLUser("t")
		var rules []string
		for j := r.IntN(12); j >= 0; j-- {
			rule := pool[r.IntN(len(pool))]
			rules = append(rules, rule)
			if err := u.setRule([]byte(rule)); err != aclRuleOK {
				t.Fatalf("%q: %v", rule, err)
			}
		}
		desc := u.root().commandRules()
		v := newACLUser("t")
		for _, rule := range strings.Fields(desc) {
			if err := v.setRule([]byte(rule)); err != aclRuleOK {
				t.Fatalf("described rule %q: %v", rule, err)
			}
		}
		if v.root().allowed != u.root().allowed {
			t.Fatalf("rules %q described as %q rebuild another bitmap", rules, desc)
		}
	}
}

func TestACLDescribeUser(t *testing.T) {
	f := func(want string, rules ...string) {
		t.Helper()
		if got := applyRules(t, rules...).describe(); got != want {
			t.Errorf("%q: got %q; want %q", rules, got, want)
		}
	}
	f("off resetchannels -@all")
	f("on nopass ~* &* +@all", "on", "nopass", "~*", "&*", "+@all")
	f("off sanitize-payload resetchannels -@all", "reset")
	f("off #"+hashPassword([]byte("p"))+" ~a %R~b resetchannels &c -@all +get", ">p", "~a", "%R~b", "&c", "+get")
	f("off resetchannels -@all (~x resetchannels -@all +set) (resetchannels -@all)", "(+set ~x)", "()")
	f("off resetchannels +@all -@dangerous", "+@all", "-@dangerous")
	f("off resetchannels -@all +select|0 +select|1", "+select|0", "+SELECT|1", "+select|0")
}

func TestACLCheck(t *testing.T) {
	s := newACLTestServer(t)
	cmd := func(name string) *Spec {
		parts := strings.Split(name, "|")
		c := s.table.lookup([]byte(parts[0]))
		if len(parts) == 2 {
			c = c.subcommand([]byte(parts[1]))
		}
		return c
	}
	u := applyRules(t, "on", "nopass", "~k*", "%R~r*", "%W~w*", "&ch*", "+@all", "-del", "(+del ~d*)")
	f := func(want int, wantIdx int, args ...string) {
		t.Helper()
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		name := strings.ToLower(args[0])
		c := cmd(name)
		if c.Subcommands != nil {
			c = cmd(name + "|" + strings.ToLower(args[1]))
		}
		code, idx := s.checkUser(u, s.acl.bySpec[c], argv)
		if code != want || idx != wantIdx {
			t.Errorf("%q: got %d at %d; want %d at %d", args, code, idx, want, wantIdx)
		}
	}
	f(aclOK, 0, "GET", "k1")
	f(aclOK, 0, "GET", "r1")
	f(aclDeniedKey, 1, "GET", "w1")
	f(aclOK, 0, "SET", "w1", "v")
	f(aclDeniedKey, 1, "SET", "r1", "v")
	f(aclDeniedKey, 3, "MSET", "k1", "v", "r1", "v")
	f(aclOK, 0, "EXISTS", "w1", "r1")
	f(aclDeniedKey, 1, "DEL", "k1") // the selector allows DEL, not k1
	f(aclOK, 0, "DEL", "d1")
	f(aclDeniedKey, 1, "DEL", "x")
	f(aclOK, 0, "PUBLISH", "ch1", "m")
	f(aclDeniedChannel, 1, "PUBLISH", "x", "m")
	f(aclDeniedChannel, 2, "SUBSCRIBE", "ch1", "x")
	f(aclDeniedChannel, 1, "PSUBSCRIBE", "ch1")
	f(aclOK, 0, "PSUBSCRIBE", "ch*")
	f(aclOK, 0, "UNSUBSCRIBE", "x")
	f(aclOK, 0, "AUTH", "x")
	f(aclOK, 0, "CONFIG", "GET", "x")
}

func TestACLCredentials(t *testing.T) {
	s := newACLTestServer(t, "--requirepass", "sesame")
	f := func(user, pass string, want bool) {
		t.Helper()
		if got := s.checkCredentials([]byte(user), []byte(pass)) != nil; got != want {
			t.Errorf("%s/%s: got %v; want %v", user, pass, got, want)
		}
	}
	f("default", "sesame", true)
	f("default", "Sesame", false)
	f("default", "", false)
	f("nosuch", "sesame", false)
	s.acl.users["u"] = applyRules(t, "on", ">a", ">b")
	f("u", "a", true)
	f("u", "b", true)
	f("u", "c", false)
	s.acl.users["u"].setRule([]byte("off"))
	f("u", "a", false)
	s.acl.users["u"] = applyRules(t, "on", "nopass")
	f("u", "anything", true)
	s.acl.users["u"] = applyRules(t, "on")
	f("u", "", false)
	if s.defaultAuthenticated() || !s.authRequired() {
		t.Error("requirepass must require authentication")
	}
	s.cfg.RequirePass = ""
	_ = s.applyRequirePass(s.cfg)
	f("default", "anything", true)
	if !s.defaultAuthenticated() || s.authRequired() {
		t.Error("no requirepass must not require authentication")
	}
}

func TestProtectedModeDenied(t *testing.T) {
	s := newACLTestServer(t)
	ext := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 5000}
	f := func(addr net.Addr, denied bool) {
		t.Helper()
		if got := s.ProtectedModeDenied(addr) != ""; got != denied {
			t.Errorf("%v: denied=%v; want %v", addr, got, denied)
		}
	}
	f(ext, true)
	f(&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1}, false)
	f(&net.TCPAddr{IP: net.ParseIP("127.8.9.1"), Port: 1}, false)
	f(&net.TCPAddr{IP: net.ParseIP("::1"), Port: 1}, false)
	f(&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, true)
	f(&net.UnixAddr{Name: "/tmp/s", Net: "unix"}, false)
	f(nil, false)
	if msg := s.ProtectedModeDenied(ext); !strings.HasPrefix(msg, "-DENIED Redis is running in protected mode") || !strings.HasSuffix(msg, "\r\n") {
		t.Errorf("reply %q", msg)
	}
	s.acl.defaultUser.setRule([]byte(">pw"))
	f(ext, false)
	s.acl.defaultUser.setRule([]byte("nopass"))
	s.cfg.ProtectedMode = false
	f(ext, false)
}

func TestLoadACLFile(t *testing.T) {
	s := newACLTestServer(t)
	if err := s.LoadACLFile(); err != nil {
		t.Fatalf("no aclfile: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	s = newACLTestServer(t, "--aclfile", path, "--requirepass", "ignored")
	if err := s.LoadACLFile(); err == nil || !strings.Contains(err.Error(), "Error loading ACLs, opening file '"+path+"': No such file or directory") {
		t.Fatalf("missing file: %v", err)
	}
	write := func(body string) {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("user alice on >pw ~a* +get\n\n  user bob off +@all  \r\n")
	if err := s.LoadACLFile(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range s.sortedUsers() {
		names = append(names, u.name+" "+u.describe())
	}
	want := []string{
		"alice on #" + hashPassword([]byte("pw")) + " ~a* resetchannels -@all +get",
		"bob off resetchannels +@all",
		"default on nopass ~* &* +@all", // the file has no default user: it is reset
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("users:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	write("user x +nosuch foo bar\nuserx\nuser alice\nuser alice\nuser y on (+get\n")
	err := s.LoadACLFile()
	wantErr := "Aborting Redis startup because of ACL errors: " +
		path + ":1: Error in applying operation '+nosuch': Unknown command or category name in ACL. " +
		path + ":1: Syntax error. " +
		path + ":2 should start with user keyword followed by the username. " +
		"WARNING: Duplicate user 'alice' found on line 4. " +
		path + ":5: Unmatched parenthesis in selector definition." +
		"WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	if err == nil || err.Error() != wantErr {
		t.Fatalf("errors:\n%v\nwant:\n%s", err, wantErr)
	}
	if len(s.acl.users) != 3 {
		t.Fatal("a failed load changed the users")
	}
	// ACL SAVE writes what ACL LOAD reads back.
	s.acl.users["carol"] = applyRules(t, "on", ">c", "%R~r*", "&ch", "+@read", "-get", "(+set ~s*)")
	s.acl.users["carol"].name = "carol"
	before := describeAll(s)
	if err := s.aclSaveFile(); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadACLFile(); err != nil {
		t.Fatal(err)
	}
	if after := describeAll(s); after != before {
		t.Fatalf("after SAVE and LOAD:\n%s\nbefore:\n%s", after, before)
	}
}

func describeAll(s *Server) string {
	var b strings.Builder
	for _, u := range s.sortedUsers() {
		b.WriteString(u.name + " " + u.describe() + "\n")
	}
	return b.String()
}

func TestMergeSelectorArgs(t *testing.T) {
	f := func(in []string, want []string, bad int) {
		t.Helper()
		args := make([][]byte, len(in))
		for i, a := range in {
			args[i] = []byte(a)
		}
		out, at := mergeSelectorArgs(args)
		var got []string
		for _, o := range out {
			got = append(got, string(o))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") || at != bad {
			t.Errorf("%q: got %q, %d; want %q, %d", in, got, at, want, bad)
		}
	}
	f([]string{"on", "(+get", "~x)", "off"}, []string{"on", "(+get ~x)", "off"}, -1)
	f([]string{"(+get", "(~y", "+set)"}, []string{"(~y +set)"}, -1)
	f([]string{"(+get)", ""}, []string{"(+get)", ""}, -1)
	f([]string{"on", "(+get", "~x"}, nil, 1)
	f([]string{"(+get", "", "~x)"}, []string{"(+get  ~x)"}, -1)
}
