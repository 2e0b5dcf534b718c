package commands

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var aclCommandDefs = []cmdDef{
	{"acl", nil, 0},
	{"acl|cat", cmdACL, 0},
	{"acl|deluser", cmdACL, 0},
	{"acl|dryrun", cmdACL, 0},
	{"acl|genpass", cmdACL, 0},
	{"acl|getuser", cmdACL, 0},
	{"acl|help", cmdACL, 0},
	{"acl|list", cmdACL, 0},
	{"acl|load", cmdACL, 0},
	{"acl|log", cmdACL, 0},
	{"acl|save", cmdACL, 0},
	{"acl|setuser", cmdACL, 0},
	{"acl|users", cmdACL, 0},
	{"acl|whoami", cmdACL, 0},
}

// cmdACL is Redis's aclCommand: one handler for every subcommand, which
// checks the argument count itself (the specs' arities are looser).
func cmdACL(c *Client, args [][]byte) {
	s := c.srv
	sub := args[1]
	argc := len(args)
	switch {
	case strcaseEqual(sub, "setuser") && argc >= 3:
		aclSetUser(c, args)
	case strcaseEqual(sub, "deluser") && argc >= 3:
		aclDelUser(c, args)
	case strcaseEqual(sub, "getuser") && argc == 3:
		aclGetUser(c, args)
	case (strcaseEqual(sub, "list") || strcaseEqual(sub, "users")) && argc == 2:
		users := s.sortedUsers()
		c.addArrayLen(len(users))
		for _, u := range users {
			if strcaseEqual(sub, "users") {
				c.addBulkString(u.name)
			} else {
				c.addBulkString("user " + u.name + " " + u.describe())
			}
		}
	case strcaseEqual(sub, "whoami") && argc == 2:
		if c.user == nil {
			c.addNull()
		} else {
			c.addBulkString(c.user.name)
		}
	case s.cfg.ACLFile == "" && (strcaseEqual(sub, "load") || strcaseEqual(sub, "save")):
		c.addError("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
	case strcaseEqual(sub, "load") && argc == 2:
		if errs := s.aclLoadFile(c); errs != "" {
			c.addError("ERR " + errs)
		} else {
			c.addOK()
		}
	case strcaseEqual(sub, "save") && argc == 2:
		if err := s.aclSaveFile(); err != nil {
			s.log.Warn("ACL SAVE failed", "err", err)
			c.addError("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		} else {
			c.addOK()
		}
	case strcaseEqual(sub, "cat") && argc == 2:
		c.addArrayLen(len(aclCategoryNames))
		for _, name := range aclCategoryNames {
			c.addBulkString(name)
		}
	case strcaseEqual(sub, "cat") && argc == 3:
		cat := aclCategoryByName(args[2])
		if cat == 0 {
			c.addError("ERR Unknown category '" + string(cString(args[2], 128)) + "'")
			return
		}
		pos, n := c.deferLen(), 0
		var walk func(cmds []*aclCommand)
		walk = func(cmds []*aclCommand) {
			for _, cmd := range cmds {
				if cmd.cats&cat != 0 {
					c.addBulkString(cmd.spec.FullName)
					n++
				}
				walk(cmd.subs)
			}
		}
		walk(aclCommands().top)
		c.setDeferredArrayLen(pos, n)
	case strcaseEqual(sub, "genpass") && (argc == 2 || argc == 3):
		const maxBits = 4096
		bits := int64(256)
		if argc == 3 {
			v, ok := c.getInt(args[2])
			if !ok {
				return
			}
			bits = v
		}
		if bits <= 0 || bits > maxBits {
			c.addError(fmt.Sprintf("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to %d", maxBits))
			return
		}
		chars := (bits + 3) / 4
		buf := make([]byte, (chars+1)/2)
		_, _ = rand.Read(buf)
		c.addBulkString(hex.EncodeToString(buf)[:chars])
	case strcaseEqual(sub, "log") && (argc == 2 || argc == 3):
		aclLog(c, args)
	case strcaseEqual(sub, "dryrun") && argc >= 4:
		aclDryRun(c, args)
	case argc == 2 && strcaseEqual(sub, "help"):
		c.addHelp("ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CAT [<category>]",
			"    List all commands that belong to <category>, or all command categories",
			"    when no category is specified.",
			"DELUSER <username> [<username> ...]",
			"    Delete a list of users.",
			"DRYRUN <username> <command> [<arg> ...]",
			"    Returns whether the user can execute the given command without executing the command.",
			"GETUSER <username>",
			"    Get the user's details.",
			"GENPASS [<bits>]",
			"    Generate a secure 256-bit user password. The optional `bits` argument can",
			"    be used to specify a different size.",
			"LIST",
			"    Show users details in config file format.",
			"LOAD",
			"    Reload users from the ACL file.",
			"LOG [<count> | RESET]",
			"    Show the ACL log entries.",
			"SAVE",
			"    Save the current config to the ACL file.",
			"SETUSER <username> <attribute> [<attribute> ...]",
			"    Create or modify a user with the specified attributes.",
			"USERS",
			"    List all the registered usernames.",
			"WHOAMI",
			"    Return the current connection username.",
		)
	default:
		c.addError("ERR unknown subcommand or wrong number of arguments for '" + string(cString(sub, 128)) +
			"'. Try " + strings.ToUpper(string(args[0])) + " HELP.")
	}
}

// aclSetUser stages every rule on a copy of the user and applies them all,
// or none if one is refused.
func aclSetUser(c *Client, args [][]byte) {
	s := c.srv
	name := args[2]
	if hasSpaces(name) {
		c.addError("ERR Usernames can't contain spaces or null characters")
		return
	}
	rules, bad := mergeSelectorArgs(args[3:])
	if rules == nil && bad >= 0 {
		c.addError("ERR Unmatched parenthesis in acl selector starting at '" + string(cString(args[3+bad], len(args[3+bad]))) + "'.")
		return
	}
	u := s.acl.users[string(name)]
	temp := newACLUser(string(name))
	if u != nil {
		temp.copyFrom(u)
	}
	for _, r := range rules {
		if err := temp.setRule(r); err != aclRuleOK {
			c.addError("ERR Error in ACL SETUSER modifier '" + string(cString(r, len(r))) + "': " + err.String())
			return
		}
	}
	if u != nil {
		s.killPubsubClientsIfNeeded(c, temp, u)
	} else {
		u = newACLUser(string(name))
		s.acl.users[u.name] = u
	}
	u.copyFrom(temp)
	c.addOK()
}

func aclDelUser(c *Client, args [][]byte) {
	s := c.srv
	for _, name := range args[2:] {
		if string(cString(name, len(name))) == "default" {
			c.addError("ERR The 'default' user cannot be removed")
			return
		}
	}
	deleted := int64(0)
	for _, name := range args[2:] {
		u := s.acl.users[string(name)]
		if u == nil {
			continue
		}
		delete(s.acl.users, u.name)
		s.freeUserClients(c, u)
		deleted++
	}
	c.addInt(deleted)
}

func aclGetUser(c *Client, args [][]byte) {
	u := c.srv.acl.users[string(args[2])]
	if u == nil {
		c.addNull()
		return
	}
	c.addMapLen(6)
	c.addBulkString("flags")
	n := 0
	for i := range userFlagNames {
		if u.flags&(1<<i) != 0 {
			n++
		}
	}
	c.addSetLen(n)
	for i, name := range userFlagNames {
		if u.flags&(1<<i) != 0 {
			c.addBulkString(name)
		}
	}
	c.addBulkString("passwords")
	c.addArrayLen(len(u.passwords))
	for _, p := range u.passwords {
		c.addBulkString(p)
	}
	addSelectorReply(c, u.root())
	c.addBulkString("selectors")
	c.addArrayLen(len(u.selectors) - 1)
	for _, sel := range u.selectors[1:] {
		c.addMapLen(3)
		addSelectorReply(c, sel)
	}
}

// addSelectorReply is aclAddReplySelectorDescription: commands, keys and
// channels of a selector.
func addSelectorReply(c *Client, sel *aclSelector) {
	c.addBulkString("commands")
	c.addBulkString(sel.commandRules())
	c.addBulkString("keys")
	c.addBulkString(sel.keysString())
	c.addBulkString("channels")
	c.addBulkString(sel.channelsString())
}

func aclLog(c *Client, args [][]byte) {
	s := c.srv
	count := int64(10)
	if len(args) == 3 {
		if strcaseEqual(args[2], "reset") {
			clear(s.acl.log)
			s.acl.log = s.acl.log[:0]
			c.addOK()
			return
		}
		v, ok := c.getInt(args[2])
		if !ok {
			return
		}
		count = max(v, 0)
	}
	count = min(count, int64(len(s.acl.log)))
	now := time.Now().UnixMilli()
	c.addArrayLen(int(count))
	for _, e := range s.acl.log[:count] {
		c.addMapLen(7)
		c.addBulkString("count")
		c.addInt(e.count)
		c.addBulkString("reason")
		c.addBulkString([...]string{aclDeniedCmd: "command", aclDeniedKey: "key",
			aclDeniedAuth: "auth", aclDeniedChannel: "channel"}[e.reason])
		c.addBulkString("context")
		c.addBulkString([...]string{aclCtxTopLevel: "toplevel", aclCtxMulti: "multi", aclCtxLua: "lua"}[e.context])
		c.addBulkString("object")
		c.addBulkString(e.object)
		c.addBulkString("username")
		c.addBulkString(e.username)
		c.addBulkString("age-seconds")
		c.addDouble(float64(now-e.ctime) / 1000)
		c.addBulkString("client-info")
		c.addBulkString(e.cinfo)
	}
}

// aclDryRun checks a command for a user without running it or logging.
func aclDryRun(c *Client, args [][]byte) {
	s := c.srv
	u := s.acl.users[string(args[2])]
	if u == nil {
		c.addError("ERR User '" + string(cString(args[2], len(args[2]))) + "' not found")
		return
	}
	argv := args[3:]
	cmd := aclCommands().lookupArgv(argv)
	if cmd == nil {
		c.addError("ERR Command '" + string(cString(argv[0], len(argv[0]))) + "' not found")
		return
	}
	if a := cmd.spec.Arity; (a > 0 && a != len(argv)) || len(argv) < -a {
		c.addErrorArity(cmd.spec.FullName)
		return
	}
	code, idx := s.checkUser(u, cmd, argv)
	switch code {
	case aclOK:
		c.addOK()
	case aclDeniedCmd:
		c.addBulkString("This user has no permissions to run the '" + cmd.spec.FullName + "' command")
	case aclDeniedKey:
		c.addBulkString("This user has no permissions to access the '" + string(cString(argv[idx], len(argv[idx]))) + "' key")
	default:
		c.addBulkString("This user has no permissions to access the '" + string(cString(argv[idx], len(argv[idx]))) + "' channel")
	}
}

// ---------------------------------------------------------------------------
// The ACL file.
// ---------------------------------------------------------------------------

// LoadACLFile loads the users of the aclfile option at start-up, as
// ACLLoadUsersAtStartup: with an error (the whole message Redis logs
// before exiting) the server must not start. Without aclfile it does
// nothing.
func (s *Server) LoadACLFile() error {
	if s.cfg.ACLFile == "" {
		return nil
	}
	if errs := s.aclLoadFile(nil); errs != "" {
		return errors.New("Aborting Redis startup because of ACL errors: " + errs)
	}
	return nil
}

// aclFilePath is the aclfile option resolved against dir, as Redis opens
// it after chdir(dir).
func (s *Server) aclFilePath() string {
	if filepath.IsAbs(s.cfg.ACLFile) {
		return s.cfg.ACLFile
	}
	return filepath.Join(s.cfg.Dir, s.cfg.ACLFile)
}

// aclLoadFile is ACLLoadFromFile: every line is validated into a new set of
// users; with any error nothing changes and the errors are returned as one
// line. On success the default user is updated in place and the clients of
// every other previous user are disconnected (self after its reply).
func (s *Server) aclLoadFile(self *Client) string {
	name := s.cfg.ACLFile
	data, err := os.ReadFile(s.aclFilePath())
	if err != nil {
		return fmt.Sprintf("Error loading ACLs, opening file '%s': %s", name, strerror(err))
	}
	var errs strings.Builder
	users := make(map[string]*aclUser)
	for i, line := range strings.Split(string(data), "\n") {
		lineno := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", name, lineno)
			continue
		}
		if hasSpaces([]byte(argv[1])) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", name, lineno, argv[1])
			continue
		}
		if users[argv[1]] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", argv[1], lineno)
			continue
		}
		u := newACLUser(argv[1])
		users[u.name] = u
		ops := make([][]byte, len(argv)-2)
		for j, a := range argv[2:] {
			ops[j] = []byte(a)
		}
		rules, bad := mergeSelectorArgs(ops)
		if bad >= 0 {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", name, lineno)
		}
		syntaxErr := false
		for _, r := range rules {
			r = []byte(strings.Trim(string(r), "\t\r\n"))
			err := u.setRule(r)
			switch {
			case err == aclRuleOK:
			case err == aclErrUnknown:
				fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", name, lineno, cString(r, len(r)), err)
			case !syntaxErr:
				fmt.Fprintf(&errs, "%s:%d: %s. ", name, lineno, err)
				syntaxErr = true
			}
		}
	}
	if errs.Len() > 0 {
		return errs.String() + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	}
	// The default user is referenced by every client: copy the new rules
	// into it rather than replacing it.
	def := s.acl.defaultUser
	if nd := users["default"]; nd != nil {
		def.copyFrom(nd)
	} else {
		def.copyFrom(newDefaultUser())
	}
	users["default"] = def
	for _, old := range s.sortedUsers() {
		if old != def {
			s.freeUserClients(self, old)
		}
	}
	s.acl.users = users
	return ""
}

// aclSaveFile is ACLSaveToFile: every user as a rule line, written to a
// temporary file renamed over the ACL file.
func (s *Server) aclSaveFile() error {
	var b strings.Builder
	for _, u := range s.sortedUsers() {
		b.WriteString("user ")
		b.WriteString(u.name)
		b.WriteByte(' ')
		b.WriteString(u.describe())
		b.WriteByte('\n')
	}
	path := s.aclFilePath()
	tmp := fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), time.Now().UnixMilli())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("opening temp ACL file for ACL SAVE: %w", err)
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing ACL file for ACL SAVE: %w", err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Protected mode.
// ---------------------------------------------------------------------------

// protectedModeError is Redis 7.0's reply to a client refused by protected
// mode (networking.c), sent before the connection is closed.
const protectedModeError = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// ProtectedModeDenied returns the raw reply to send before closing a new
// connection from remote that protected mode refuses, or "" to accept it.
// As Redis 7.0, protected mode refuses TCP clients from anywhere but the
// loopback interface while the default user has no password (nopass); a
// server bound only to loopback addresses never sees such clients, so
// binding to another address without a password is what it guards against.
// Unix socket clients are always accepted.
func (s *Server) ProtectedModeDenied(remote net.Addr) string {
	if !s.cfg.ProtectedMode || s.acl.defaultUser.flags&userNopass == 0 {
		return ""
	}
	tcp, ok := remote.(*net.TCPAddr)
	if !ok || tcp.IP.IsLoopback() {
		return ""
	}
	return protectedModeError
}
