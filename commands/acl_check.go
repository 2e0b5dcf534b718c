package commands

import (
	"crypto/subtle"
	"sort"

	"spinel/commands/glob"
	"spinel/config"
)

// ---------------------------------------------------------------------------
// Permission checks.
// ---------------------------------------------------------------------------

// Outcomes of a check, ordered as Redis's ACL_DENIED_* values: when every
// selector refuses, the highest reason is reported.
const (
	aclOK = iota
	aclDeniedCmd
	aclDeniedKey
	aclDeniedAuth
	aclDeniedChannel
)

// ACL log contexts.
const (
	aclCtxTopLevel = iota
	aclCtxMulti
	aclCtxLua
)

// aclKeyCache holds the keys of the command being checked, found once for
// all selectors.
type aclKeyCache struct {
	done bool
	keys keyResult
}

// checkKey is ACLSelectorCheckKey: the key must match a pattern that grants
// the access its key spec declares.
func (s *aclSelector) checkKey(key []byte, kf keyFlags) bool {
	if s.flags&selAllKeys != 0 {
		return true
	}
	var need uint8
	if kf&keyAccess != 0 {
		need |= aclRead
	}
	if kf&(keyInsert|keyDelete|keyUpdate) != 0 {
		need |= aclWrite
	}
	for _, p := range s.patterns {
		if p.flags&need == need && glob.MatchString(p.pattern, string(key), false) {
			return true
		}
	}
	return false
}

// checkChannel is ACLCheckChannelAgainstList: a channel matches the
// selector's patterns; a PSUBSCRIBE pattern must equal one literally.
func checkChannel(list []string, channel []byte, isPattern bool) bool {
	for _, p := range list {
		if isPattern {
			if p == string(cString(channel, len(channel))) {
				return true
			}
		} else if glob.MatchString(p, string(channel), false) {
			return true
		}
	}
	return false
}

// channelArgs returns which arguments of a command are channels it
// publishes or subscribes to, and whether they are patterns (Redis's
// commands_with_channels table; UNSUBSCRIBE is never checked).
func channelArgs(name string, argc int) (first, last int, pattern bool) {
	switch name {
	case "subscribe", "ssubscribe":
		return 1, argc - 1, false
	case "psubscribe":
		return 1, argc - 1, true
	case "publish", "spublish":
		return 1, 1, false
	}
	return 0, -1, false
}

// checkCmd is ACLSelectorCheckCmd: the command (or an allowed first
// argument), then its keys, then its channels. It returns the outcome and
// the argument at fault.
func (s *aclSelector) checkCmd(cmd *aclCommand, argv [][]byte, cache *aclKeyCache) (int, int) {
	if s.flags&selAllCommands == 0 && cmd.spec.Flags&FlagNoAuth == 0 && !s.allowed.get(cmd.id) {
		idx := 1
		if cmd.parent != nil {
			idx = 2
		}
		allowed := false
		if len(argv) >= 2 && idx < len(argv) {
			for _, a := range s.firstArgs[cmd.id] {
				if strcaseEqual(argv[idx], a) {
					allowed = true
					break
				}
			}
		}
		if !allowed {
			return aclDeniedCmd, 0
		}
	}
	if s.flags&selAllKeys == 0 && cmd.hasKeys {
		if !cache.done {
			cache.keys.withFlags = true
			cache.keys.reset()
			cmd.spec.getKeysWithSpecs(argv, &cache.keys)
			cache.done = true
		}
		for i, pos := range cache.keys.pos {
			if !s.checkKey(argv[pos], cache.keys.flags[i]) {
				return aclDeniedKey, pos
			}
		}
	}
	if s.flags&selAllChannels == 0 {
		first, last, pattern := channelArgs(cmd.spec.FullName, len(argv))
		for i := first; i <= last && i < len(argv); i++ {
			if !checkChannel(s.channels, argv[i], pattern) {
				return aclDeniedChannel, i
			}
		}
	}
	return aclOK, 0
}

// checkUser is ACLCheckAllUserCommandPerm: allowed if any selector allows
// it; otherwise the most relevant refusal (a channel over a key over the
// command, then the last argument).
func (s *Server) checkUser(u *aclUser, cmd *aclCommand, argv [][]byte) (int, int) {
	if u == nil {
		return aclOK, 0
	}
	cache := &s.acl.keyCache
	cache.done = false
	relevant, lastIdx, idx := aclDeniedCmd, 0, 0
	for _, sel := range u.selectors {
		code, at := sel.checkCmd(cmd, argv, cache)
		if code == aclOK {
			return aclOK, 0
		}
		if code != aclDeniedCmd {
			// Redis leaves the position unchanged for a command refusal.
			idx = at
		}
		if code > relevant || (code == relevant && idx > lastIdx) {
			relevant, lastIdx = code, idx
		}
	}
	return relevant, lastIdx
}

// aclCheck reports why the client's user may not run cmd with argv, as
// Redis's ACLCheckAllPerm in processCommand, as the full -NOPERM error text
// (without '-'); "" allows it. A refusal is recorded in the ACL log.
func (s *Server) aclCheck(c *Client, cmd *Spec, argv [][]byte) string {
	u := c.user
	if u == nil || u.unrestricted {
		return ""
	}
	ac := s.acl.bySpec[cmd]
	code, idx := s.checkUser(u, ac, argv)
	if code == aclOK {
		return ""
	}
	ctx := aclCtxTopLevel
	if c.multi {
		ctx = aclCtxMulti
	}
	s.aclLogDenial(c, code, ctx, cmd.FullName, argv, idx)
	switch code {
	case aclDeniedCmd:
		return "NOPERM this user has no permissions to run the '" + cmd.FullName + "' command"
	case aclDeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	default:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
}

// aclCheckExec re-checks a queued command when EXEC runs it, in case the
// rules changed after it was queued, as execCommand does; it returns the
// full error text (without '-') or "".
func (s *Server) aclCheckExec(c *Client, cmd *Spec, argv [][]byte) string {
	u := c.user
	if u == nil || u.unrestricted {
		return ""
	}
	code, idx := s.checkUser(u, s.acl.bySpec[cmd], argv)
	if code == aclOK {
		return ""
	}
	s.aclLogDenial(c, code, aclCtxMulti, cmd.FullName, argv, idx)
	reason := "no permission to execute the command or subcommand"
	switch code {
	case aclDeniedKey:
		reason = "no permission to touch the specified keys"
	case aclDeniedChannel:
		reason = "no permission to access one of the channels used as arguments"
	}
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason
}

// aclCheckScript checks a command a script runs (redis.call/pcall) for the
// user of the client that called the script, logging a refusal with the
// "lua" context. It returns the error (without '-') the script gets,
// "ERR The user executing the script can't ...", or "".
func (s *Server) aclCheckScript(caller *Client, cmd *Spec, argv [][]byte) string {
	u := caller.user
	if u == nil || u.unrestricted {
		return ""
	}
	code, idx := s.checkUser(u, s.acl.bySpec[cmd], argv)
	if code == aclOK {
		return ""
	}
	s.aclLogDenial(caller, code, aclCtxLua, cmd.FullName, argv, idx)
	return "ERR The user executing the script " + aclErrorMessage(code)
}

// aclAllows reports whether the caller's user may run cmd with argv, without
// logging (redis.acl_check_cmd).
func (s *Server) aclAllows(caller *Client, cmd *Spec, argv [][]byte) bool {
	u := caller.user
	if u == nil || u.unrestricted {
		return true
	}
	code, _ := s.checkUser(u, s.acl.bySpec[cmd], argv)
	return code == aclOK
}

// aclErrorMessage is getAclErrorMessage.
func aclErrorMessage(code int) string {
	switch code {
	case aclDeniedCmd:
		return "can't run this command or subcommand"
	case aclDeniedKey:
		return "can't access at least one of the keys mentioned in the command arguments"
	case aclDeniedChannel:
		return "can't publish to the channel mentioned in the command"
	}
	return "lacking the permissions for the command"
}

// ---------------------------------------------------------------------------
// Server state: the users, the default user and the ACL log.
// ---------------------------------------------------------------------------

// aclState is the server's ACL state.
type aclState struct {
	users       map[string]*aclUser
	defaultUser *aclUser
	// bySpec maps the command table's specs to the ACL universe.
	bySpec   map[*Spec]*aclCommand
	log      []*aclLogEntry // newest first
	keyCache aclKeyCache
}

// initACL creates the default user, gives it requirepass as its password
// and keeps it in step with CONFIG SET requirepass.
func (s *Server) initACL() {
	univ := aclCommands()
	s.acl.bySpec = make(map[*Spec]*aclCommand)
	for _, top := range s.table.Commands() {
		s.acl.bySpec[top] = univ.byName[top.FullName]
		for _, sub := range top.Subcommands {
			s.acl.bySpec[sub] = univ.byName[sub.FullName]
		}
	}
	s.acl.defaultUser = newDefaultUser()
	s.acl.users = map[string]*aclUser{"default": s.acl.defaultUser}
	_ = s.applyRequirePass(s.cfg)
	s.cfg.OnApply("requirepass", s.applyRequirePass)
}

// applyRequirePass is ACLUpdateDefaultUserPassword: requirepass is the
// default user's only password; empty makes it nopass.
func (s *Server) applyRequirePass(cfg *config.Config) error {
	u := s.acl.defaultUser
	u.setRule([]byte("resetpass"))
	if cfg.RequirePass != "" {
		u.setRule(append([]byte{'>'}, cfg.RequirePass...))
	} else {
		u.setRule([]byte("nopass"))
	}
	return nil
}

// defaultAuthenticated is what a new (or RESET) connection starts with:
// authenticated as the default user when it needs no password.
func (s *Server) defaultAuthenticated() bool {
	f := s.acl.defaultUser.flags
	return f&userNopass != 0 && f&userDisabled == 0
}

// authRequired is Redis's authRequired for a client not authenticated: the
// default user has a password or is disabled.
func (s *Server) authRequired() bool {
	f := s.acl.defaultUser.flags
	return f&userNopass == 0 || f&userDisabled != 0
}

// sortedUsers returns the users by name (Redis keeps them in a radix tree).
func (s *Server) sortedUsers() []*aclUser {
	list := make([]*aclUser, 0, len(s.acl.users))
	for _, u := range s.acl.users {
		list = append(list, u)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return list
}

// checkCredentials is ACLCheckUserCredentials: the user exists, is enabled
// and either needs no password or has this one. Every stored hash is
// compared in constant time.
func (s *Server) checkCredentials(user, pass []byte) *aclUser {
	u := s.acl.users[string(user)]
	if u == nil || u.flags&userDisabled != 0 {
		return nil
	}
	if u.flags&userNopass != 0 {
		return u
	}
	h := []byte(hashPassword(pass))
	ok := 0
	for _, p := range u.passwords {
		ok |= subtle.ConstantTimeCompare(h, []byte(p))
	}
	if ok == 1 {
		return u
	}
	return nil
}

// authenticate is ACLAuthenticateUser: on success the connection becomes
// the user's; a failure is logged with the command name as typed.
func (s *Server) authenticate(c *Client, user, pass []byte) bool {
	if u := s.checkCredentials(user, pass); u != nil {
		c.authn = true
		c.user = u
		return true
	}
	ctx := aclCtxTopLevel
	if c.multi {
		ctx = aclCtxMulti
	}
	s.aclLogAdd(c, aclDeniedAuth, ctx, string(c.argv[0]), string(user))
	return false
}

// freeUserClients disconnects the clients of a deleted user
// (ACLFreeUserAndKillClients); the caller's own connection closes after its
// reply.
func (s *Server) freeUserClients(self *Client, u *aclUser) {
	for _, c := range s.sortedClients() {
		if c.user != u {
			continue
		}
		c.user = s.acl.defaultUser
		c.authn = false
		s.killClient(self, c)
	}
}

// killPubsubClientsIfNeeded disconnects the subscribed clients of a user
// whose channel permissions shrink so that a subscription is no longer
// allowed (ACLKillPubsubClientsIfNeeded).
func (s *Server) killPubsubClientsIfNeeded(self *Client, updated, original *aclUser) {
	if s.pubsub.numChannels()+s.pubsub.numPatterns()+s.pubsub.numShardChannels() == 0 {
		return
	}
	var upcoming []string
	for _, sel := range updated.selectors {
		if sel.flags&selAllChannels != 0 {
			return
		}
		upcoming = append(upcoming, sel.channels...)
	}
	match := true
	for _, sel := range original.selectors {
		if sel.flags&selAllChannels != 0 {
			match = false
			break
		}
		for _, ch := range sel.channels {
			found := false
			for _, up := range upcoming {
				found = found || up == ch
			}
			if !found {
				match = false
			}
		}
	}
	if match {
		return
	}
	for _, c := range s.sortedClients() {
		if c.user != original || !c.inPubSubMode() {
			continue
		}
		kill := false
		for p := range c.patterns {
			kill = kill || !checkChannel(upcoming, []byte(p), true)
		}
		for ch := range c.channels {
			kill = kill || !checkChannel(upcoming, []byte(ch), false)
		}
		for ch := range c.shardChannels {
			kill = kill || !checkChannel(upcoming, []byte(ch), false)
		}
		if kill {
			s.killClient(self, c)
		}
	}
}

// ---------------------------------------------------------------------------
// The ACL log.
// ---------------------------------------------------------------------------

const (
	aclLogMaxLen      = 128   // acllog-max-len's default
	aclLogGroupWithin = 60000 // ms: ACL_LOG_GROUPING_MAX_TIME_DELTA
)

type aclLogEntry struct {
	count    int64
	reason   int
	context  int
	object   string
	username string
	ctime    int64 // unix ms of the last update
	cinfo    string
}

// aclLogDenial logs a refused command: the command name, or the key or
// channel at fault.
func (s *Server) aclLogDenial(c *Client, code, ctx int, fullName string, argv [][]byte, idx int) {
	object := fullName
	if code == aclDeniedKey || code == aclDeniedChannel {
		object = string(argv[idx])
	}
	s.aclLogAdd(c, code, ctx, object, c.user.name)
}

// aclLogAdd is addACLLogEntry: an entry like one of the ten newest (same
// reason, context, object and user, within a minute) is bumped and moved to
// the head instead of added; the log keeps the newest 128 entries.
func (s *Server) aclLogAdd(c *Client, reason, ctx int, object, username string) {
	e := &aclLogEntry{count: 1, reason: reason, context: ctx, object: object,
		username: username, ctime: s.now, cinfo: c.infoLine()}
	for i, cur := range s.acl.log {
		if i == 10 {
			break
		}
		delta := cur.ctime - e.ctime
		if delta < 0 {
			delta = -delta
		}
		if cur.reason == e.reason && cur.context == e.context && delta <= aclLogGroupWithin &&
			cur.object == e.object && cur.username == e.username {
			copy(s.acl.log[1:i+1], s.acl.log[:i])
			s.acl.log[0] = cur
			cur.cinfo, cur.ctime = e.cinfo, e.ctime
			cur.count++
			return
		}
	}
	s.acl.log = append(s.acl.log, nil)
	copy(s.acl.log[1:], s.acl.log)
	s.acl.log[0] = e
	if len(s.acl.log) > aclLogMaxLen {
		s.acl.log[aclLogMaxLen] = nil
		s.acl.log = s.acl.log[:aclLogMaxLen]
	}
}
