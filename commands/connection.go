package commands

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

var connectionCommands = []cmdDef{
	{"ping", cmdPing, FlagPubSubContext},
	{"echo", cmdEcho, 0},
	{"quit", cmdQuit, FlagTxControl | FlagPubSubContext},
	{"hello", cmdHello, 0},
	{"auth", cmdAuth, 0},
	{"select", cmdSelect, 0},
	{"reset", cmdReset, FlagTxControl | FlagPubSubContext},
	{"client", nil, 0},
	{"client|id", cmdClientID, 0},
	{"client|setname", cmdClientSetname, 0},
	{"client|getname", cmdClientGetname, 0},
	{"client|list", cmdClientList, 0},
	{"client|info", cmdClientInfo, 0},
	{"client|kill", cmdClientKill, 0},
	{"client|setinfo", cmdClientSetinfo, 0},
	{"client|no-evict", cmdClientNoEvict, 0},
	{"client|no-touch", cmdClientNoTouch, 0},
	{"client|help", cmdClientHelp, 0},
}

func cmdPing(c *Client, args [][]byte) {
	if len(args) > 2 {
		c.addErrorArity(c.cmd.FullName)
		return
	}
	if c.inPubSubMode() && c.resp == 2 {
		c.addArrayLen(2)
		c.addBulkString("pong")
		if len(args) == 1 {
			c.addBulkString("")
		} else {
			c.addBulk(args[1])
		}
		return
	}
	if len(args) == 1 {
		c.addRawString("+PONG\r\n")
	} else {
		c.addBulk(args[1])
	}
}

func cmdEcho(c *Client, args [][]byte) { c.addBulk(args[1]) }

func cmdQuit(c *Client, args [][]byte) {
	c.addOK()
	c.closeAfterReply = true
}

func cmdSelect(c *Client, args [][]byte) {
	id, ok := c.getInt32(args[1], "")
	if !ok {
		return
	}
	if id < 0 || id >= len(c.srv.dbs) {
		c.addError("ERR DB index is out of range")
		return
	}
	c.db = c.srv.dbs[id]
	c.addOK()
}

func cmdAuth(c *Client, args [][]byte) {
	s := c.srv
	if len(args) > 3 {
		c.addError(ErrSyntax)
		return
	}
	user, pass := []byte("default"), args[len(args)-1]
	if len(args) == 2 {
		// The old form, with no password configured, is most likely a
		// configuration mistake: Redis says so.
		if s.acl.defaultUser.flags&userNopass != 0 {
			c.addError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	} else {
		user = args[1]
	}
	if !s.authenticate(c, user, pass) {
		c.addError(ErrWrongPass)
		return
	}
	c.addOK()
}

func cmdHello(c *Client, args [][]byte) {
	s := c.srv
	var ver int64
	next := 1
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			c.addError("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.addError("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	var user, pass, name []byte
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case equalFold(args[j], "auth") && more >= 2:
			user, pass = args[j+1], args[j+2]
			j += 2
		case equalFold(args[j], "setname") && more >= 1:
			name = args[j+1]
			if !validClientName(name) {
				c.addError("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			j++
		default:
			c.addError("ERR Syntax error in HELLO option '" + string(cString(args[j], len(args[j]))) + "'")
			return
		}
	}
	if user != nil && !s.authenticate(c, user, pass) {
		c.addError(ErrWrongPass)
		return
	}
	if !c.authn {
		c.addError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if name != nil {
		c.name = string(name)
	}
	if ver != 0 {
		c.resp = int(ver)
	}
	c.addMapLen(7)
	c.addBulkString("server")
	c.addBulkString("redis")
	c.addBulkString("version")
	c.addBulkString(Version)
	c.addBulkString("proto")
	c.addInt(int64(c.resp))
	c.addBulkString("id")
	c.addInt(c.id)
	c.addBulkString("mode")
	c.addBulkString("standalone")
	c.addBulkString("role")
	c.addBulkString("master")
	c.addBulkString("modules")
	c.addEmptyArray()
}

func cmdReset(c *Client, args [][]byte) {
	c.srv.resetClient(c)
	c.addSimple("RESET")
}

// resetClient clears a connection's state as Redis's
// clearClientConnectionState: database 0, RESP2, default authentication, no
// transaction, no subscriptions, no name.
func (s *Server) resetClient(c *Client) {
	c.db = s.dbs[0]
	c.resp = 2
	c.user = s.acl.defaultUser
	c.authn = s.defaultAuthenticated()
	s.discardTransaction(c)
	s.unsubscribeAll(c, false)
	c.name = ""
	c.noTouch = false
}

// validClientName reports whether a name has only printable ASCII without
// spaces, as Redis's validateClientName.
func validClientName(name []byte) bool {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func cmdClientID(c *Client, args [][]byte) { c.addInt(c.id) }

func cmdClientSetname(c *Client, args [][]byte) {
	if !validClientName(args[2]) {
		c.addError("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.name = string(args[2])
	c.addOK()
}

func cmdClientGetname(c *Client, args [][]byte) {
	if c.name == "" {
		c.addNull()
		return
	}
	c.addBulkString(c.name)
}

func cmdClientSetinfo(c *Client, args [][]byte) {
	attr, val := args[2], args[3]
	var dst *string
	switch {
	case equalFold(attr, "lib-name"):
		dst = &c.lib[0]
	case equalFold(attr, "lib-ver"):
		dst = &c.lib[1]
	default:
		c.addError("ERR Unrecognized option '" + string(cString(attr, len(attr))) + "'")
		return
	}
	if !validClientName(val) {
		c.addError("ERR " + string(cString(attr, len(attr))) + " cannot contain spaces, newlines or special characters.")
		return
	}
	*dst = string(val)
	c.addOK()
}

// onOff parses CLIENT's ON|OFF argument, replying with a syntax error otherwise.
func (c *Client) onOff(b []byte) (on, ok bool) {
	switch {
	case equalFold(b, "on"):
		return true, true
	case equalFold(b, "off"):
		return false, true
	}
	c.addError(ErrSyntax)
	return false, false
}

func cmdClientNoEvict(c *Client, args [][]byte) {
	if on, ok := c.onOff(args[2]); ok {
		c.noEvict = on
		c.addOK()
	}
}

func cmdClientNoTouch(c *Client, args [][]byte) {
	if on, ok := c.onOff(args[2]); ok {
		c.noTouch = on
		c.addOK()
	}
}

// clientFlags is the flags field of CLIENT LIST.
func (c *Client) clientFlags() string {
	var b []byte
	if c.inPubSubMode() {
		b = append(b, 'P')
	}
	if c.inMulti() {
		b = append(b, 'x')
	}
	if c.isBlocked() {
		b = append(b, 'b')
	}
	if c.dirtyCAS {
		b = append(b, 'd')
	}
	if c.closeAfterReply {
		b = append(b, 'c')
	}
	if c.noEvict {
		b = append(b, 'e')
	}
	if c.noTouch {
		b = append(b, 'T')
	}
	if len(b) == 0 {
		b = append(b, 'N')
	}
	return string(b)
}

// infoLine is the client's line in CLIENT LIST and CLIENT INFO, with Redis's
// fields in Redis's order.
func (c *Client) infoLine() string {
	s := c.srv
	var b strings.Builder
	w := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	cmd := "NULL"
	if c.lastCmd != nil {
		cmd = c.lastCmd.FullName
	}
	if c.cmd != nil {
		cmd = c.cmd.FullName
	}
	multi := int64(-1)
	if c.inMulti() {
		multi = int64(len(c.multiQueue))
	}
	obl := int64(len(c.out))
	omem := int64(c.conn.OutboundBuffered())
	w("id", itoa(c.id))
	w("addr", c.conn.RemoteAddr())
	w("laddr", c.conn.LocalAddr())
	w("fd", itoa(int64(c.conn.Fd())))
	w("name", c.name)
	w("age", itoa((s.now-c.created)/1000))
	w("idle", itoa((s.now-c.lastActivity)/1000))
	w("flags", c.clientFlags())
	w("db", itoa(int64(c.db.id)))
	w("sub", itoa(int64(len(c.channels))))
	w("psub", itoa(int64(len(c.patterns))))
	w("ssub", itoa(int64(len(c.shardChannels))))
	w("multi", itoa(multi))
	w("qbuf", itoa(int64(c.QueryBufLen)))
	w("qbuf-free", "0")
	w("argv-mem", itoa(argvMem(c.argv)))
	w("multi-mem", itoa(c.multiMem))
	w("rbs", itoa(int64(cap(c.out))))
	w("rbp", itoa(obl))
	w("obl", itoa(obl))
	w("oll", "0")
	w("omem", itoa(omem))
	w("tot-mem", itoa(c.memory()))
	w("events", "r")
	w("cmd", cmd)
	w("user", c.userName())
	w("redir", "-1")
	w("resp", itoa(int64(c.resp)))
	w("lib-name", c.lib[0])
	w("lib-ver", c.lib[1])
	return b.String()
}

// userName is the user field of CLIENT LIST.
func (c *Client) userName() string {
	if c.user == nil {
		return "(superuser)"
	}
	return c.user.name
}

func argvMem(argv [][]byte) int64 {
	var n int64
	for _, a := range argv {
		n += int64(len(a))
	}
	return n
}

// memory estimates what the client costs: its buffers and transaction.
func (c *Client) memory() int64 {
	return int64(cap(c.out)) + int64(c.conn.OutboundBuffered()) + int64(c.QueryBufLen) + c.multiMem + 1024
}

func cmdClientInfo(c *Client, args [][]byte) {
	c.addVerbatim(c.infoLine() + "\n")
}

// clientType is the TYPE filter of CLIENT LIST and CLIENT KILL.
func clientType(b []byte) (string, bool) {
	switch {
	case equalFold(b, "normal"):
		return "normal", true
	case equalFold(b, "pubsub"):
		return "pubsub", true
	case equalFold(b, "replica"), equalFold(b, "slave"):
		return "replica", true
	case equalFold(b, "master"):
		return "master", true
	}
	return "", false
}

func (c *Client) typeName() string {
	if c.inPubSubMode() {
		return "pubsub"
	}
	return "normal"
}

func cmdClientList(c *Client, args [][]byte) {
	s := c.srv
	var typ string
	var ids map[int64]bool
	if len(args) == 4 && equalFold(args[2], "type") {
		t, ok := clientType(args[3])
		if !ok {
			c.addError("ERR Unknown client type '" + string(args[3]) + "'")
			return
		}
		typ = t
	} else if len(args) > 3 && equalFold(args[2], "id") {
		ids = make(map[int64]bool)
		for _, a := range args[3:] {
			id, ok := parseInt(a)
			if !ok || id <= 0 {
				c.addError("ERR Invalid client ID")
				return
			}
			ids[id] = true
		}
	} else if len(args) != 2 {
		c.addError(ErrSyntax)
		return
	}
	var b strings.Builder
	for _, other := range s.sortedClients() {
		if typ != "" && other.typeName() != typ {
			continue
		}
		if ids != nil && !ids[other.id] {
			continue
		}
		b.WriteString(other.infoLine())
		b.WriteByte('\n')
	}
	c.addVerbatim(b.String())
}

// sortedClients returns the connected clients by id, as Redis lists them.
func (s *Server) sortedClients() []*Client {
	list := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		// A killed client is gone for Redis at once; its socket closes at
		// the end of the event.
		if !c.killed {
			list = append(list, c)
		}
	}
	slices.SortFunc(list, func(a, b *Client) int { return cmp.Compare(a.id, b.id) })
	return list
}

func cmdClientKill(c *Client, args [][]byte) {
	s := c.srv
	if len(args) == 3 {
		// Old form: CLIENT KILL addr:port.
		for _, other := range s.sortedClients() {
			if other.conn.RemoteAddr() == string(args[2]) {
				s.killClient(c, other)
				c.addOK()
				return
			}
		}
		c.addError("ERR No such client")
		return
	}
	var (
		id              int64
		addr, laddr     string
		typ             string
		user            *aclUser
		maxAge          int64
		skipMe          = true
		haveFilterID    bool
		haveFilterOther bool
	)
	if len(args)%2 != 0 {
		c.addError(ErrSyntax)
		return
	}
	for i := 2; i < len(args); i += 2 {
		opt, val := args[i], args[i+1]
		switch {
		case equalFold(opt, "id"):
			v, ok := parseInt(val)
			if !ok || v <= 0 {
				c.addError("ERR client-id should be greater than 0")
				return
			}
			id, haveFilterID = v, true
		case equalFold(opt, "type"):
			t, ok := clientType(val)
			if !ok {
				c.addError("ERR Unknown client type '" + string(val) + "'")
				return
			}
			typ, haveFilterOther = t, true
		case equalFold(opt, "addr"):
			addr, haveFilterOther = string(val), true
		case equalFold(opt, "laddr"):
			laddr, haveFilterOther = string(val), true
		case equalFold(opt, "user"):
			u := s.acl.users[string(val)]
			if u == nil {
				c.addError("ERR No such user '" + string(cString(val, len(val))) + "'")
				return
			}
			user, haveFilterOther = u, true
		case equalFold(opt, "maxage"):
			// Redis 7.4: kill connections older than maxage seconds.
			v, ok := parseInt(val)
			if !ok {
				c.addError("ERR maxage is not an integer or out of range")
				return
			}
			if v <= 0 {
				c.addError("ERR maxage should be greater than 0")
				return
			}
			maxAge, haveFilterOther = v, true
		case equalFold(opt, "skipme"):
			switch {
			case equalFold(val, "yes"):
				skipMe = true
			case equalFold(val, "no"):
				skipMe = false
			default:
				c.addError(ErrSyntax)
				return
			}
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	_ = haveFilterID
	_ = haveFilterOther
	killed := int64(0)
	for _, other := range s.sortedClients() {
		if haveFilterID && other.id != id {
			continue
		}
		if addr != "" && other.conn.RemoteAddr() != addr {
			continue
		}
		if laddr != "" && other.conn.LocalAddr() != laddr {
			continue
		}
		if typ != "" && other.typeName() != typ {
			continue
		}
		if user != nil && other.user != user {
			continue
		}
		if maxAge != 0 && (s.now-other.created)/1000 <= maxAge {
			continue
		}
		if other == c && skipMe {
			continue
		}
		s.killClient(c, other)
		killed++
	}
	c.addInt(killed)
}

// killClient closes other; when it is the caller, only after its reply.
func (s *Server) killClient(self, other *Client) {
	if other == self {
		self.closeAfterReply = true
		return
	}
	other.killed = true
	other.conn.Close()
}

func cmdClientHelp(c *Client, args [][]byte) {
	c.addHelp("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * MAXAGE <maxage>",
		"      Kill connections older than the specified age.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <LIB-NAME|LIB-VER> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on.",
	)
}
