package commands

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"sync"

	"spinel/eventloop/resp"
)

// ---------------------------------------------------------------------------
// Access control lists, as Redis 7.0's acl.c. A user has flags (on/off,
// nopass), SHA-256 password hashes and a list of selectors; the first one is
// the root selector, the others come from "(...)" rules. A command is
// allowed when any selector allows it: the command itself (a bit per
// command, plus allowed first arguments), every key it names (glob patterns
// with read/write permissions matched against the key specs' access flags)
// and every channel it publishes or subscribes to.
//
// The command universe is Redis's whole table (commands.json), not only the
// commands Spinel implements, so rules, categories and ACL CAT name the same
// commands as Redis 7.0.
// ---------------------------------------------------------------------------

// aclCategoryNames are Redis's ACL categories in ACLCommandCategories order:
// ACL CAT lists them so and the rule describer tries them in this order.
var aclCategoryNames = [...]string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting",
}

// aclCategoryByName returns the bit of a category, compared as strcasecmp
// does, or 0 if there is no such category.
func aclCategoryByName(name []byte) uint32 {
	for i, n := range aclCategoryNames {
		if strcaseEqual(name, n) {
			return 1 << i
		}
	}
	return 0
}

// aclCommand is one command or subcommand of the ACL universe.
type aclCommand struct {
	spec    *Spec // Redis's declarative data (shared, read-only)
	id      int   // bit in a selector's command bitmap
	cats    uint32
	hasKeys bool // doesCommandHaveKeys
	subs    []*aclCommand
	parent  *aclCommand
}

// aclUniverse is every Redis command with its ACL id.
type aclUniverse struct {
	top    []*aclCommand          // top-level commands by name
	all    []*aclCommand          // by id
	byName map[string]*aclCommand // by lower-case full name
}

const (
	aclWords = 8
	aclBits  = aclWords * 64
	// aclFutureBit is never given to a command: +@all sets it, so a
	// selector built from +@all is described from +@all (Redis's "future
	// commands" bit).
	aclFutureBit = aclBits - 1
)

var (
	aclUniverseOnce sync.Once
	aclUniv         *aclUniverse
)

// aclCommands returns the ACL universe, built once per process from the
// command specs.
func aclCommands() *aclUniverse {
	aclUniverseOnce.Do(func() {
		tmpl := specTemplate()
		u := &aclUniverse{byName: make(map[string]*aclCommand)}
		var add func(s *Spec, parent *aclCommand) *aclCommand
		add = func(s *Spec, parent *aclCommand) *aclCommand {
			ac := &aclCommand{spec: s, id: len(u.all), parent: parent, hasKeys: s.hasKeys()}
			// The Redis 7.2 commands Spinel accepts for newer clients
			// (CLIENT SETINFO) are in no category, so that categories
			// count, list and describe exactly Redis 7.0's commands.
			if s.Doc.Since <= "7.0.99" {
				for _, cat := range s.ACLCategories {
					ac.cats |= aclCategoryByName([]byte(cat))
				}
			}
			u.all = append(u.all, ac)
			u.byName[s.FullName] = ac
			for _, sub := range s.Subcommands {
				ac.subs = append(ac.subs, add(sub, ac))
			}
			return ac
		}
		for _, s := range tmpl.top {
			u.top = append(u.top, add(s, nil))
		}
		if len(u.all) >= aclFutureBit {
			panic("commands: too many commands for the ACL bitmap")
		}
		aclUniv = u
	})
	return aclUniv
}

// lookupStrict is ACLLookupCommand: "name" or "container|sub", compared
// case-insensitively; a name with a subcommand part resolves only for a
// container command.
func (u *aclUniverse) lookupStrict(name string) *aclCommand {
	name = cStr(name)
	parts := strings.Split(name, "|")
	if name == "" || len(parts) > 2 {
		return nil
	}
	base := u.byName[asciiLower(parts[0])]
	if base == nil || len(parts) == 1 {
		return base
	}
	if base.subs == nil {
		return nil
	}
	return u.byName[base.spec.FullName+"|"+asciiLower(parts[1])]
}

// lookupArgv is lookupCommand as ACL DRYRUN uses it: a container with a
// further argument resolves to its subcommand (nil if unknown).
func (u *aclUniverse) lookupArgv(argv [][]byte) *aclCommand {
	base := u.byName[asciiLower(string(argv[0]))]
	if base == nil || base.parent != nil {
		return nil // "config|get" is no command name
	}
	if len(argv) == 1 || base.subs == nil {
		return base
	}
	sub := u.byName[base.spec.FullName+"|"+asciiLower(string(argv[1]))]
	if sub == nil || sub.parent != base {
		return nil
	}
	return sub
}

// asciiLower lower-cases ASCII letters only, as Redis's case-insensitive
// command dictionary does.
func asciiLower(s string) string { return string(lowerInto(make([]byte, 0, len(s)), []byte(s))) }

// cStr is s as a C string: cut at its first NUL.
func cStr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// ---------------------------------------------------------------------------
// Users and selectors.
// ---------------------------------------------------------------------------

// User flags, in the order ACL GETUSER and ACL LIST print them.
const (
	userEnabled uint8 = 1 << iota
	userDisabled
	userNopass
	userSkipSanitize
	userSanitize
)

var userFlagNames = [...]string{"on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload"}

// Selector flags.
const (
	selRoot uint8 = 1 << iota
	selAllKeys
	selAllChannels
	selAllCommands
)

// Key pattern permissions.
const (
	aclRead  uint8 = 1
	aclWrite uint8 = 2
	aclAll         = aclRead | aclWrite
)

type keyPattern struct {
	flags   uint8
	pattern string
}

// String is the pattern as rules write it: ~p, %R~p or %W~p.
func (p keyPattern) String() string {
	switch p.flags {
	case aclAll:
		return "~" + p.pattern
	case aclRead:
		return "%R~" + p.pattern
	default:
		return "%W~" + p.pattern
	}
}

type cmdBits [aclWords]uint64

func (b *cmdBits) get(id int) bool { return b[id/64]&(1<<(id%64)) != 0 }

// aclSelector is one set of permissions: commands, keys and channels.
type aclSelector struct {
	flags   uint8
	allowed cmdBits
	// firstArgs are the allowed first arguments of otherwise denied
	// commands (+select|0), by command id, in the order they were added.
	firstArgs map[int][]string
	patterns  []keyPattern
	channels  []string
}

func (s *aclSelector) clone() *aclSelector {
	n := &aclSelector{flags: s.flags, allowed: s.allowed}
	n.patterns = append([]keyPattern(nil), s.patterns...)
	n.channels = append([]string(nil), s.channels...)
	if s.firstArgs != nil {
		n.firstArgs = make(map[int][]string, len(s.firstArgs))
		for id, args := range s.firstArgs {
			n.firstArgs[id] = append([]string(nil), args...)
		}
	}
	return n
}

// setBit is ACLSetSelectorCommandBit: clearing any bit drops allcommands.
func (s *aclSelector) setBit(id int, on bool) {
	if on {
		s.allowed[id/64] |= 1 << (id % 64)
	} else {
		s.allowed[id/64] &^= 1 << (id % 64)
		s.flags &^= selAllCommands
	}
}

// changePerm allows or denies a command and, for a container, all of its
// subcommands (ACLChangeSelectorPerm).
func (s *aclSelector) changePerm(cmd *aclCommand, allow bool) {
	s.setBit(cmd.id, allow)
	delete(s.firstArgs, cmd.id)
	for _, sub := range cmd.subs {
		s.setBit(sub.id, allow)
	}
}

// setCategory applies +@cat / -@cat to every command in the category.
func (s *aclSelector) setCategory(cmds []*aclCommand, cat uint32, allow bool) {
	for _, cmd := range cmds {
		if cmd.cats&cat != 0 {
			s.changePerm(cmd, allow)
		}
		if cmd.subs != nil {
			s.setCategory(cmd.subs, cat, allow)
		}
	}
}

// countCategory counts the commands of a category the selector allows (on)
// and denies (off).
func (s *aclSelector) countCategory(cmds []*aclCommand, cat uint32) (on, off int) {
	for _, cmd := range cmds {
		if cmd.cats&cat != 0 {
			if s.allowed.get(cmd.id) {
				on++
			} else {
				off++
			}
		}
		if cmd.subs != nil {
			a, b := s.countCategory(cmd.subs, cat)
			on, off = on+a, off+b
		}
	}
	return on, off
}

func (s *aclSelector) addFirstArg(id int, arg string) {
	if s.firstArgs == nil {
		s.firstArgs = make(map[int][]string)
	}
	for _, a := range s.firstArgs[id] {
		if strings.EqualFold(a, arg) {
			return
		}
	}
	s.firstArgs[id] = append(s.firstArgs[id], arg)
}

// aclUser is an ACL user. Clients point to their user; rule changes update
// the struct in place, so they apply to connected clients at once.
type aclUser struct {
	name      string
	flags     uint8
	passwords []string // lower-case hex SHA-256
	selectors []*aclSelector
	// unrestricted caches that the root selector allows every command,
	// key and channel, so that the gate skips all checks.
	unrestricted bool
}

func newACLUser(name string) *aclUser {
	// acl-pubsub-default is resetchannels in Redis 7.0.
	return &aclUser{name: name, flags: userDisabled, selectors: []*aclSelector{{flags: selRoot}}}
}

func (u *aclUser) root() *aclSelector { return u.selectors[0] }

// copyFrom gives u the rules of src (ACLCopyUser), keeping its name.
func (u *aclUser) copyFrom(src *aclUser) {
	u.flags = src.flags
	u.passwords = append([]string(nil), src.passwords...)
	u.selectors = make([]*aclSelector, len(src.selectors))
	for i, s := range src.selectors {
		u.selectors[i] = s.clone()
	}
	u.refresh()
}

func (u *aclUser) refresh() {
	const all = selAllCommands | selAllKeys | selAllChannels
	u.unrestricted = u.root().flags&all == all
}

// newDefaultUser is ACLCreateDefaultUser: every permission, no password.
func newDefaultUser() *aclUser {
	u := newACLUser("default")
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		u.setRule([]byte(op))
	}
	return u
}

// aclErr says why a rule was refused; the texts are ACLSetUserStringError's.
type aclErr int

const (
	aclRuleOK aclErr = iota
	aclErrSyntax
	aclErrUnknown
	aclErrKeysAll
	aclErrChannelsAll
	aclErrNoPassword
	aclErrBadHash
	aclErrFirstArgSub
)

func (e aclErr) String() string {
	switch e {
	case aclErrUnknown:
		return "Unknown command or category name in ACL"
	case aclErrSyntax:
		return "Syntax error"
	case aclErrKeysAll:
		return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	case aclErrChannelsAll:
		return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	case aclErrNoPassword:
		return "The password you are trying to remove from the user does not exist"
	case aclErrBadHash:
		return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	case aclErrFirstArgSub:
		return "Allowing first-arg of a subcommand is not supported"
	}
	return "Wrong format"
}

// hashPassword is ACLHashPassword: lower-case hex SHA-256.
func hashPassword(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}

func validPasswordHash(h []byte) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// hasSpaces is ACLStringHasSpaces: usernames and patterns may not contain
// white space or NUL.
func hasSpaces(b []byte) bool {
	for _, c := range b {
		if c == ' ' || (c >= '\t' && c <= '\r') || c == 0 {
			return true
		}
	}
	return false
}

// setRule applies one rule to the user (ACLSetUser).
func (u *aclUser) setRule(op []byte) aclErr {
	if len(op) == 0 {
		return aclRuleOK
	}
	switch {
	case strcaseEqual(op, "on"):
		u.flags = u.flags&^userDisabled | userEnabled
	case strcaseEqual(op, "off"):
		u.flags = u.flags&^userEnabled | userDisabled
	case strcaseEqual(op, "skip-sanitize-payload"):
		u.flags = u.flags&^userSanitize | userSkipSanitize
	case strcaseEqual(op, "sanitize-payload"):
		u.flags = u.flags&^userSkipSanitize | userSanitize
	case strcaseEqual(op, "nopass"):
		u.flags |= userNopass
		u.passwords = nil
	case strcaseEqual(op, "resetpass"):
		u.flags &^= userNopass
		u.passwords = nil
	case op[0] == '>' || op[0] == '#':
		var h string
		if op[0] == '>' {
			h = hashPassword(op[1:])
		} else {
			if !validPasswordHash(op[1:]) {
				return aclErrBadHash
			}
			h = string(op[1:])
		}
		found := false
		for _, p := range u.passwords {
			found = found || p == h
		}
		if !found {
			u.passwords = append(u.passwords, h)
		}
		u.flags &^= userNopass
	case op[0] == '<' || op[0] == '!':
		var h string
		if op[0] == '<' {
			h = hashPassword(op[1:])
		} else {
			if !validPasswordHash(op[1:]) {
				return aclErrBadHash
			}
			h = string(op[1:])
		}
		i := 0
		for i < len(u.passwords) && u.passwords[i] != h {
			i++
		}
		if i == len(u.passwords) {
			return aclErrNoPassword
		}
		u.passwords = append(u.passwords[:i:i], u.passwords[i+1:]...)
	case op[0] == '(' && op[len(op)-1] == ')':
		sel := &aclSelector{}
		// Unbalanced quotes leave an empty selector, as sdssplitargs
		// returning no arguments does in Redis.
		args, ok := resp.SplitArgs(op[1:len(op)-1], nil)
		if ok {
			for _, a := range args {
				if err := sel.setRule(a); err != aclRuleOK {
					return err
				}
			}
		}
		u.selectors = append(u.selectors, sel)
	case strcaseEqual(op, "clearselectors"):
		u.selectors = u.selectors[:1:1]
	case strcaseEqual(op, "reset"):
		for _, r := range []string{"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload", "clearselectors", "-@all"} {
			u.setRule([]byte(r))
		}
	default:
		if err := u.root().setRule(op); err != aclRuleOK {
			return err
		}
	}
	u.refresh()
	return aclRuleOK
}

// setRule applies one selector rule (ACLSetSelector).
func (s *aclSelector) setRule(op []byte) aclErr {
	univ := aclCommands()
	switch {
	case strcaseEqual(op, "allkeys"), strcaseEqual(op, "~*"):
		s.flags |= selAllKeys
		s.patterns = nil
	case strcaseEqual(op, "resetkeys"):
		s.flags &^= selAllKeys
		s.patterns = nil
	case strcaseEqual(op, "allchannels"), strcaseEqual(op, "&*"):
		s.flags |= selAllChannels
		s.channels = nil
	case strcaseEqual(op, "resetchannels"):
		s.flags &^= selAllChannels
		s.channels = nil
	case strcaseEqual(op, "allcommands"), strcaseEqual(op, "+@all"):
		for i := range s.allowed {
			s.allowed[i] = math.MaxUint64
		}
		s.flags |= selAllCommands
		s.firstArgs = nil
	case strcaseEqual(op, "nocommands"), strcaseEqual(op, "-@all"):
		s.allowed = cmdBits{}
		s.flags &^= selAllCommands
		s.firstArgs = nil
	case op[0] == '~' || op[0] == '%':
		if s.flags&selAllKeys != 0 {
			return aclErrKeysAll
		}
		var flags uint8
		off := 1
		if op[0] == '%' {
		scan:
			for ; off < len(op); off++ {
				switch {
				case op[off]|0x20 == 'r' && flags&aclRead == 0:
					flags |= aclRead
				case op[off]|0x20 == 'w' && flags&aclWrite == 0:
					flags |= aclWrite
				case op[off] == '~':
					off++
					break scan
				default:
					return aclErrSyntax
				}
			}
		} else {
			flags = aclAll
		}
		if flags == 0 || hasSpaces(op[off:]) {
			return aclErrSyntax
		}
		pat := string(op[off:])
		found := false
		for i := range s.patterns {
			if s.patterns[i].pattern == pat {
				s.patterns[i].flags |= flags
				found = true
				break
			}
		}
		if !found {
			s.patterns = append(s.patterns, keyPattern{flags, pat})
		}
		s.flags &^= selAllKeys
	case op[0] == '&':
		if s.flags&selAllChannels != 0 {
			return aclErrChannelsAll
		}
		if hasSpaces(op[1:]) {
			return aclErrSyntax
		}
		ch := string(op[1:])
		found := false
		for _, c := range s.channels {
			found = found || c == ch
		}
		if !found {
			s.channels = append(s.channels, ch)
		}
		s.flags &^= selAllChannels
	case op[0] == '+' && (len(op) < 2 || op[1] != '@'):
		name := cStr(string(op[1:]))
		bar := strings.LastIndexByte(name, '|')
		if bar < 0 {
			cmd := univ.lookupStrict(name)
			if cmd == nil {
				return aclErrUnknown
			}
			s.changePerm(cmd, true)
			break
		}
		cmd := univ.lookupStrict(name[:bar])
		switch {
		case cmd == nil:
			return aclErrUnknown
		case cmd.parent != nil:
			return aclErrFirstArgSub
		case bar == len(name)-1:
			return aclErrSyntax
		case cmd.subs != nil:
			sub := univ.lookupStrict(name)
			if sub == nil {
				return aclErrUnknown
			}
			s.changePerm(sub, true)
		default:
			// A first argument of a command without subcommands
			// (+select|0), which Redis deprecates but honours.
			s.addFirstArg(cmd.id, name[bar+1:])
		}
	case op[0] == '-' && (len(op) < 2 || op[1] != '@'):
		cmd := univ.lookupStrict(string(op[1:]))
		if cmd == nil {
			return aclErrUnknown
		}
		s.changePerm(cmd, false)
	case (op[0] == '+' || op[0] == '-') && op[1] == '@':
		cat := aclCategoryByName(op[2:])
		if cat == 0 {
			return aclErrUnknown
		}
		s.setCategory(univ.top, cat, op[0] == '+')
	default:
		return aclErrSyntax
	}
	return aclRuleOK
}

// mergeSelectorArgs joins a selector spread over several arguments ("(+get"
// "~x)") into one, as ACLMergeSelectorArguments in Redis 7.0: an argument
// opening a parenthesis inside an open one starts the selector again. It
// returns the index of the opening argument when a parenthesis is left
// unmatched.
func mergeSelectorArgs(args [][]byte) ([][]byte, int) {
	var out [][]byte
	open := -1
	var sel []byte
	for j, op := range args {
		if len(op) > 0 && op[0] == '(' && op[len(op)-1] != ')' {
			sel = append([]byte(nil), op...)
			open = j
			continue
		}
		if open != -1 {
			sel = append(append(sel, ' '), op...)
			if len(op) > 0 && op[len(op)-1] == ')' {
				open = -1
				out = append(out, sel)
			}
			continue
		}
		out = append(out, op)
	}
	if open != -1 {
		return nil, open
	}
	return out, -1
}

// ---------------------------------------------------------------------------
// Describing users as rules (ACL LIST, ACL GETUSER, ACL SAVE).
// ---------------------------------------------------------------------------

// commandRules is ACLDescribeSelectorCommandRules: +@all or -@all, then the
// categories that best fit the bitmap, then single commands, so that the
// rules rebuild exactly the same bitmap. Redis walks its command dictionary
// in hash order; Spinel walks commands by name.
func (s *aclSelector) commandRules() string {
	univ := aclCommands()
	var b strings.Builder
	fake := &aclSelector{}
	additive := !s.allowed.get(aclFutureBit)
	if additive {
		b.WriteString("-@all ")
		fake.setRule([]byte("-@all"))
	} else {
		b.WriteString("+@all ")
		fake.setRule([]byte("+@all"))
	}
	temp := &aclSelector{allowed: s.allowed}
	var applied [len(aclCategoryNames)]bool
	for {
		best, minDiff, maxSame := -1, math.MaxInt32, 0
		for j := range aclCategoryNames {
			if applied[j] {
				continue
			}
			on, off := temp.countCategory(univ.top, 1<<j)
			diff, same := on, off
			if additive {
				diff, same = off, on
			}
			if same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best == -1 {
			break
		}
		fake.setCategory(univ.top, 1<<best, additive)
		temp.setCategory(univ.top, 1<<best, !additive)
		if additive {
			b.WriteString("+@")
		} else {
			b.WriteString("-@")
		}
		b.WriteString(aclCategoryNames[best])
		b.WriteByte(' ')
		applied[best] = true
	}
	s.singleCommandRules(fake, &b, univ.top)
	out := b.String()
	return out[:len(out)-1]
}

func (s *aclSelector) singleCommandRules(fake *aclSelector, b *strings.Builder, cmds []*aclCommand) {
	for _, cmd := range cmds {
		userBit := s.allowed.get(cmd.id)
		if userBit != fake.allowed.get(cmd.id) {
			if userBit {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
			b.WriteString(cmd.spec.FullName)
			b.WriteByte(' ')
			fake.changePerm(cmd, userBit)
		}
		if cmd.subs != nil {
			s.singleCommandRules(fake, b, cmd.subs)
		}
		if !userBit {
			for _, arg := range s.firstArgs[cmd.id] {
				b.WriteByte('+')
				b.WriteString(cmd.spec.FullName)
				b.WriteByte('|')
				b.WriteString(arg)
				b.WriteByte(' ')
			}
		}
	}
}

// describe is ACLDescribeSelector: keys, channels, commands.
func (s *aclSelector) describe() string {
	var b strings.Builder
	if s.flags&selAllKeys != 0 {
		b.WriteString("~* ")
	} else {
		for _, p := range s.patterns {
			b.WriteString(p.String())
			b.WriteByte(' ')
		}
	}
	if s.flags&selAllChannels != 0 {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, ch := range s.channels {
			b.WriteByte('&')
			b.WriteString(ch)
			b.WriteByte(' ')
		}
	}
	b.WriteString(s.commandRules())
	return b.String()
}

// keysString and channelsString are ACL GETUSER's "keys" and "channels".
func (s *aclSelector) keysString() string {
	if s.flags&selAllKeys != 0 {
		return "~*"
	}
	parts := make([]string, len(s.patterns))
	for i, p := range s.patterns {
		parts[i] = p.String()
	}
	return strings.Join(parts, " ")
}

func (s *aclSelector) channelsString() string {
	if s.flags&selAllChannels != 0 {
		return "&*"
	}
	parts := make([]string, len(s.channels))
	for i, ch := range s.channels {
		parts[i] = "&" + ch
	}
	return strings.Join(parts, " ")
}

// describe is ACLDescribeUser: the user's rules as ACL LIST and ACL SAVE
// write them.
func (u *aclUser) describe() string {
	var b strings.Builder
	for i, name := range userFlagNames {
		if u.flags&(1<<i) != 0 {
			b.WriteString(name)
			b.WriteByte(' ')
		}
	}
	for _, p := range u.passwords {
		b.WriteByte('#')
		b.WriteString(p)
		b.WriteByte(' ')
	}
	for i, s := range u.selectors {
		if i == 0 {
			b.WriteString(s.describe())
		} else {
			b.WriteString(" (")
			b.WriteString(s.describe())
			b.WriteByte(')')
		}
	}
	return b.String()
}
