package commands

import (
	"math"

	"spinel/commands/glob"
	"spinel/commands/keyspace"
)

var keyCommands = []cmdDef{
	{"del", cmdDel, 0},
	{"unlink", cmdDel, 0},
	{"exists", cmdExists, 0},
	{"type", cmdType, 0},
	{"expire", cmdExpire, 0},
	{"pexpire", cmdPexpire, 0},
	{"expireat", cmdExpireat, 0},
	{"pexpireat", cmdPexpireat, 0},
	{"ttl", cmdTTL, 0},
	{"pttl", cmdPTTL, 0},
	{"expiretime", cmdExpiretime, 0},
	{"pexpiretime", cmdPexpiretime, 0},
	{"persist", cmdPersist, 0},
	{"keys", cmdKeys, 0},
	{"scan", cmdScan, 0},
	{"rename", cmdRename, 0},
	{"renamenx", cmdRenamenx, 0},
	{"randomkey", cmdRandomkey, 0},
	{"dbsize", cmdDbsize, 0},
	{"flushdb", cmdFlushdb, 0},
	{"flushall", cmdFlushall, 0},
	{"touch", cmdTouch, 0},
	{"copy", cmdCopy, 0},
	{"move", cmdMove, 0},
	{"swapdb", cmdSwapdb, 0},
	{"object", nil, 0},
	{"object|encoding", cmdObjectEncoding, 0},
	{"object|refcount", cmdObjectRefcount, 0},
	{"object|idletime", cmdObjectIdletime, 0},
	{"object|freq", cmdObjectFreq, 0},
	{"object|help", cmdObjectHelp, 0},
}

func cmdDel(c *Client, args [][]byte) {
	s := c.srv
	var n int64
	for _, key := range args[1:] {
		if r := s.lookupWrite(c, key); r != 0 {
			s.dbDelete(c.db, r)
			s.notify(c.db, notifyGeneric, "del", key)
			s.dirty++
			n++
		}
	}
	c.addInt(n)
}

func cmdExists(c *Client, args [][]byte) {
	s := c.srv
	var n int64
	noTouch := c.noTouch
	c.noTouch = true
	for _, key := range args[1:] {
		if s.lookupRead(c, key) != 0 {
			n++
		}
	}
	c.noTouch = noTouch
	c.addInt(n)
}

func cmdTouch(c *Client, args [][]byte) {
	s := c.srv
	var n int64
	for _, key := range args[1:] {
		if s.lookupRead(c, key) != 0 {
			n++
		}
	}
	c.addInt(n)
}

func cmdType(c *Client, args [][]byte) {
	s := c.srv
	noTouch := c.noTouch
	c.noTouch = true
	r := s.lookupRead(c, args[1])
	c.noTouch = noTouch
	if r == 0 {
		c.addSimple("none")
		return
	}
	c.addSimple(c.db.kv.Type(r).String())
}

// EXPIRE option flags.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// expireGeneric implements EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT, as
// Redis's expireGenericCommand. basetime is added to the argument, which is
// in seconds when seconds is set.
func (s *Server) expireGeneric(c *Client, args [][]byte, basetime int64, seconds bool) {
	key := args[1]
	var flags int
	for _, opt := range args[3:] {
		switch {
		case equalFold(opt, "nx"):
			flags |= expireNX
		case equalFold(opt, "xx"):
			flags |= expireXX
		case equalFold(opt, "gt"):
			flags |= expireGT
		case equalFold(opt, "lt"):
			flags |= expireLT
		default:
			c.addError("ERR Unsupported option " + string(cString(opt, len(opt))))
			return
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		c.addError("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		c.addError("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := c.getInt(args[2])
	if !ok {
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.addErrorExpireTime()
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-basetime {
		c.addErrorExpireTime()
		return
	}
	when += basetime
	r := s.lookupWrite(c, key)
	if r == 0 {
		c.addInt(0)
		return
	}
	if flags != 0 {
		cur := getExpire(c.db, r)
		if (flags&expireNX != 0 && cur != -1) ||
			(flags&expireXX != 0 && cur == -1) ||
			(flags&expireGT != 0 && (when <= cur || cur == -1)) ||
			(flags&expireLT != 0 && cur != -1 && when >= cur) {
			c.addInt(0)
			return
		}
	}
	if s.checkAlreadyExpired(when) {
		s.dbDelete(c.db, r)
		s.dirty++
		s.notify(c.db, notifyGeneric, "del", key)
		c.propagateAs(delCmd, key)
		c.addInt(1)
		return
	}
	s.setExpire(c.db, r, when)
	var num [20]byte
	c.propagateAs(pexpireatCmd, key, formatInt(num[:], when))
	c.addInt(1)
	s.signalModifiedKey(c.db, key)
	s.notify(c.db, notifyGeneric, "expire", key)
	s.dirty++
}

func cmdExpire(c *Client, args [][]byte)    { c.srv.expireGeneric(c, args, c.srv.now, true) }
func cmdPexpire(c *Client, args [][]byte)   { c.srv.expireGeneric(c, args, c.srv.now, false) }
func cmdExpireat(c *Client, args [][]byte)  { c.srv.expireGeneric(c, args, 0, true) }
func cmdPexpireat(c *Client, args [][]byte) { c.srv.expireGeneric(c, args, 0, false) }

// ttlGeneric implements TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func (s *Server) ttlGeneric(c *Client, key []byte, ms, abs bool) {
	noTouch := c.noTouch
	c.noTouch = true
	r := s.lookupRead(c, key)
	c.noTouch = noTouch
	if r == 0 {
		c.addInt(-2)
		return
	}
	expire := getExpire(c.db, r)
	if expire == -1 {
		c.addInt(-1)
		return
	}
	ttl := expire
	if !abs {
		ttl = expire - s.now
	}
	ttl = max(ttl, 0)
	if ms {
		c.addInt(ttl)
	} else {
		c.addInt((ttl + 500) / 1000)
	}
}

func cmdTTL(c *Client, args [][]byte)         { c.srv.ttlGeneric(c, args[1], false, false) }
func cmdPTTL(c *Client, args [][]byte)        { c.srv.ttlGeneric(c, args[1], true, false) }
func cmdExpiretime(c *Client, args [][]byte)  { c.srv.ttlGeneric(c, args[1], false, true) }
func cmdPexpiretime(c *Client, args [][]byte) { c.srv.ttlGeneric(c, args[1], true, true) }

func cmdPersist(c *Client, args [][]byte) {
	s := c.srv
	r := s.lookupWrite(c, args[1])
	if r == 0 || !c.db.kv.Persist(r) {
		c.addInt(0)
		return
	}
	s.signalModifiedKey(c.db, args[1])
	s.notify(c.db, notifyGeneric, "persist", args[1])
	s.dirty++
	c.addInt(1)
}

func cmdKeys(c *Client, args [][]byte) {
	s := c.srv
	pattern := args[1]
	all := len(pattern) == 1 && pattern[0] == '*'
	pos := c.deferLen()
	n := 0
	c.db.kv.Each(func(r Ref) bool {
		key := c.db.kv.Key(r)
		if (all || glob.Match(pattern, key, false)) && !s.keyIsExpired(c.db, r) {
			c.addBulk(key)
			n++
		}
		return true
	})
	c.setDeferredArrayLen(pos, n)
}

// parseScanCursor parses a cursor as strtoul does, which Redis uses: an
// optional sign (a negative value wraps), decimal digits, nothing else.
func parseScanCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && isCSpace(b[0]) {
		return 0, false
	}
	neg := false
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		// strtoul consumed nothing: Redis sees an empty tail only when the
		// argument itself was empty, which reads as cursor 0.
		return 0, len(b) == 0
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(ch-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanOptions are the options shared by SCAN, HSCAN, SSCAN and ZSCAN.
type scanOptions struct {
	count   int64
	pattern []byte // nil: match all
	typ     []byte // SCAN only
}

// parseScanOptions parses COUNT, MATCH and (for SCAN) TYPE from args[first:].
func (c *Client) parseScanOptions(args [][]byte, first int, allowType bool) (scanOptions, bool) {
	o := scanOptions{count: 10}
	for i := first; i < len(args); {
		more := len(args) - i
		switch {
		case equalFold(args[i], "count") && more >= 2:
			n, ok := c.getInt(args[i+1])
			if !ok {
				return o, false
			}
			if n < 1 {
				c.addError(ErrSyntax)
				return o, false
			}
			o.count = n
			i += 2
		case equalFold(args[i], "match") && more >= 2:
			p := args[i+1]
			if len(p) == 1 && p[0] == '*' {
				o.pattern = nil
			} else {
				o.pattern = p
			}
			i += 2
		case equalFold(args[i], "type") && allowType && more >= 2:
			o.typ = args[i+1]
			i += 2
		default:
			c.addError(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

func cmdScan(c *Client, args [][]byte) {
	s := c.srv
	cursor, ok := parseScanCursor(args[1])
	if !ok {
		c.addError(ErrInvalidCursor)
		return
	}
	opts, ok := c.parseScanOptions(args, 2, true)
	if !ok {
		return
	}
	kv := c.db.kv
	var refs []Ref
	maxIter := opts.count * 10
	for {
		cursor = kv.Scan(cursor, func(r Ref) { refs = append(refs, r) })
		maxIter--
		if cursor == 0 || maxIter <= 0 || int64(len(refs)) >= opts.count {
			break
		}
	}
	// Filter after the scan step: expiring a key while scanning would
	// change the dict under the iterator.
	keys := make([][]byte, 0, len(refs))
	for _, r := range refs {
		key := kv.Key(r)
		if opts.pattern != nil && !glob.Match(opts.pattern, key, false) {
			continue
		}
		if opts.typ != nil && !equalFoldBytes(opts.typ, kv.Type(r).String()) {
			continue
		}
		keys = append(keys, append([]byte(nil), key...))
	}
	c.addArrayLen(2)
	var buf [24]byte
	c.addBulk(formatUint(buf[:], cursor))
	pos := c.deferLen()
	n := 0
	for _, key := range keys {
		if r := kv.Lookup(key); r != 0 && s.expireIfNeeded(c.db, r) {
			continue
		}
		c.addBulk(key)
		n++
	}
	c.setDeferredArrayLen(pos, n)
}

func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (s *Server) renameGeneric(c *Client, args [][]byte, nx bool) {
	src, dst := args[1], args[2]
	same := string(src) == string(dst)
	r := s.lookupWrite(c, src)
	if r == 0 {
		c.addError(ErrNoSuchKey)
		return
	}
	if same {
		if nx {
			c.addInt(0)
		} else {
			c.addOK()
		}
		return
	}
	if d := s.lookupWrite(c, dst); d != 0 {
		if nx {
			c.addInt(0)
			return
		}
		s.dbDelete(c.db, d)
		r = c.db.kv.Lookup(src)
	}
	c.db.kv.Rename(r, dst)
	s.keyCreated(c.db, dst)
	s.signalModifiedKey(c.db, src)
	s.signalModifiedKey(c.db, dst)
	s.notify(c.db, notifyGeneric, "rename_from", src)
	s.notify(c.db, notifyGeneric, "rename_to", dst)
	s.dirty++
	if nx {
		c.addInt(1)
	} else {
		c.addOK()
	}
}

func cmdRename(c *Client, args [][]byte)   { c.srv.renameGeneric(c, args, false) }
func cmdRenamenx(c *Client, args [][]byte) { c.srv.renameGeneric(c, args, true) }

func cmdRandomkey(c *Client, args [][]byte) {
	s := c.srv
	kv := c.db.kv
	for tries := 0; ; tries++ {
		r := kv.Random()
		if r == 0 {
			c.addNull()
			return
		}
		if s.keyIsExpired(c.db, r) {
			if kv.ExpiresLen() == kv.Len() && tries >= 100 {
				// Every key is volatile and we keep hitting expired
				// ones: return one rather than loop for long.
				c.addBulk(kv.Key(r))
				return
			}
			s.deleteExpired(c.db, r)
			continue
		}
		c.addBulk(kv.Key(r))
		return
	}
}

func cmdDbsize(c *Client, args [][]byte) { c.addInt(int64(c.db.kv.Len())) }

// flushFlagsOK checks FLUSHDB/FLUSHALL's optional SYNC|ASYNC argument.
func (c *Client) flushFlagsOK(args [][]byte) bool {
	if len(args) > 2 || (len(args) == 2 && !equalFold(args[1], "sync") && !equalFold(args[1], "async")) {
		c.addError(ErrSyntax)
		return false
	}
	return true
}

func (s *Server) flushDB(db *database) {
	s.snapshotAll(db)
	s.signalFlushedDB(db)
	s.dirty += int64(db.kv.Len())
	db.kv.Flush()
	// Blocked XREADGROUP clients learn their stream is gone.
	s.signalDeletedStreams(db)
}

func cmdFlushdb(c *Client, args [][]byte) {
	if !c.flushFlagsOK(args) {
		return
	}
	c.srv.flushDB(c.db)
	c.srv.dirty++ // propagated even when the database was already empty
	c.addOK()
}

func cmdFlushall(c *Client, args [][]byte) {
	if !c.flushFlagsOK(args) {
		return
	}
	for _, db := range c.srv.dbs {
		c.srv.flushDB(db)
	}
	c.srv.dirty++
	c.addOK()
}

func cmdCopy(c *Client, args [][]byte) {
	s := c.srv
	src, dst := c.db, c.db
	replace := false
	for j := 3; j < len(args); j++ {
		more := len(args) - j - 1
		switch {
		case equalFold(args[j], "replace"):
			replace = true
		case equalFold(args[j], "db") && more >= 1:
			id, ok := c.getInt32(args[j+1], "")
			if !ok {
				return
			}
			if id < 0 || id >= len(s.dbs) {
				c.addError("ERR DB index is out of range")
				return
			}
			dst = s.dbs[id]
			j++
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	key, newKey := args[1], args[2]
	if src == dst && string(key) == string(newKey) {
		c.addError(ErrSameObject)
		return
	}
	r := s.lookupRead(c, key)
	if r == 0 {
		c.addInt(0)
		return
	}
	expire := getExpire(src, r)
	d := s.lookupWriteDB(dst, newKey, true)
	if d != 0 && !replace {
		c.addInt(0)
		return
	}
	if d != 0 {
		dst.kv.Delete(d)
		r = src.kv.Lookup(key)
	}
	nr := s.copyValue(src, r, dst, newKey)
	if expire != -1 {
		s.setExpire(dst, nr, expire)
	}
	s.signalModifiedKey(dst, newKey)
	s.notify(dst, notifyGeneric, "copy_to", newKey)
	s.dirty++
	c.addInt(1)
}

// copyValue adds newKey to dst holding a deep copy of r's value.
func (s *Server) copyValue(src *database, r Ref, dst *database, newKey []byte) Ref {
	kv := src.kv
	if kv.Type(r) == keyspace.TypeString {
		v := append([]byte(nil), kv.Str(r)...)
		nr := dst.kv.SetStr(newKey, v, kv.StrEncoding(r), false, s.newKeyLRU())
		s.keyCreated(dst, newKey)
		return nr
	}
	obj := kv.Object(r).(Object)
	nr := dst.kv.AddObject(newKey, kv.Type(r), obj.Copy(), s.newKeyLRU())
	s.measureObject(dst, nr)
	s.keyCreated(dst, newKey)
	return nr
}

// moveValue adds key to dst with r's value, TTL and access clock, and removes
// it from src.
func (s *Server) moveValue(src *database, r Ref, dst *database, key []byte) Ref {
	kv := src.kv
	lru := kv.LRU(r)
	var nr Ref
	if kv.Type(r) == keyspace.TypeString {
		nr = dst.kv.SetStr(key, kv.Str(r), kv.StrEncoding(r), false, lru)
	} else {
		nr = dst.kv.AddObject(key, kv.Type(r), kv.Object(r), lru)
		dst.kv.SetObjectSize(nr, kv.ObjectSize(r))
	}
	if at, ok := kv.ExpireAt(r); ok {
		dst.kv.SetExpireAt(nr, at)
	}
	kv.Delete(r)
	s.keyCreated(dst, key)
	return nr
}

func cmdMove(c *Client, args [][]byte) {
	s := c.srv
	id, ok := c.getInt32(args[2], "")
	if !ok {
		return
	}
	if id < 0 || id >= len(s.dbs) {
		c.addError("ERR DB index is out of range")
		return
	}
	src, dst := c.db, s.dbs[id]
	if src == dst {
		c.addError(ErrSameObject)
		return
	}
	key := args[1]
	r := s.lookupWrite(c, key)
	if r == 0 {
		c.addInt(0)
		return
	}
	if s.lookupWriteDB(dst, key, true) != 0 {
		c.addInt(0)
		return
	}
	s.moveValue(src, r, dst, key)
	s.signalModifiedKey(src, key)
	s.signalModifiedKey(dst, key)
	s.notify(src, notifyGeneric, "move_from", key)
	s.notify(dst, notifyGeneric, "move_to", key)
	s.dirty++
	c.addInt(1)
}

func cmdSwapdb(c *Client, args [][]byte) {
	s := c.srv
	id1, ok := c.getInt32(args[1], "ERR invalid first DB index")
	if !ok {
		return
	}
	id2, ok := c.getInt32(args[2], "ERR invalid second DB index")
	if !ok {
		return
	}
	if id1 < 0 || id1 >= len(s.dbs) || id2 < 0 || id2 >= len(s.dbs) {
		c.addError("ERR DB index is out of range")
		return
	}
	if id1 != id2 {
		a, b := s.dbs[id1], s.dbs[id2]
		// Clients keep their database numbers: swap the contents, not the
		// database objects, and invalidate WATCHes on both sides.
		s.snapshotAll(a)
		s.snapshotAll(b)
		s.signalFlushedDB(a)
		s.signalFlushedDB(b)
		a.kv, b.kv = b.kv, a.kv
		s.swapBlocked(a, b)
		s.signalDeletedStreams(a)
		s.signalDeletedStreams(b)
		s.dirty++
	}
	c.addOK()
}

// objectLookup finds a key for OBJECT without touching its access clock.
func (s *Server) objectLookup(c *Client, key []byte) Ref {
	noTouch := c.noTouch
	c.noTouch = true
	r := s.lookupRead(c, key)
	c.noTouch = noTouch
	return r
}

func cmdObjectEncoding(c *Client, args [][]byte) {
	r := c.srv.objectLookup(c, args[2])
	if r == 0 {
		c.addNull()
		return
	}
	c.addBulkString(c.srv.encodingOf(c.db, r))
}

// encodingOf returns the name OBJECT ENCODING gives r's value.
func (s *Server) encodingOf(db *database, r Ref) string {
	if db.kv.Type(r) == keyspace.TypeString {
		return db.kv.StrEncoding(r).String()
	}
	return db.kv.Object(r).(Object).Encoding()
}

// sharedIntegers is Redis's OBJ_SHARED_INTEGERS: small integers are shared
// objects, whose refcount OBJECT REFCOUNT reports as INT_MAX.
const sharedIntegers = 10000

func cmdObjectRefcount(c *Client, args [][]byte) {
	s := c.srv
	r := s.objectLookup(c, args[2])
	if r == 0 {
		c.addNull()
		return
	}
	kv := c.db.kv
	if kv.Type(r) == keyspace.TypeString && kv.StrEncoding(r) == keyspace.EncInt && s.sharedIntegersAllowed() {
		if v, _ := parseInt(kv.Str(r)); v >= 0 && v < sharedIntegers {
			c.addInt(math.MaxInt32)
			return
		}
	}
	c.addInt(1)
}

func cmdObjectIdletime(c *Client, args [][]byte) {
	s := c.srv
	r := s.objectLookup(c, args[2])
	if r == 0 {
		c.addNull()
		return
	}
	if s.lfuPolicy() {
		c.addError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.addInt(s.idleTime(c.db, r) / 1000)
}

func cmdObjectFreq(c *Client, args [][]byte) {
	s := c.srv
	r := s.objectLookup(c, args[2])
	if r == 0 {
		c.addNull()
		return
	}
	if !s.lfuPolicy() {
		c.addError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.addInt(int64(s.lfuDecrAndReturn(c.db, r)))
}

func cmdObjectHelp(c *Client, args [][]byte) {
	c.addHelp("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
	)
}

// addHelp replies with a HELP text, as Redis's addReplyHelp: the lines given,
// then the common "HELP / Prints this help." pair, as status strings.
func (c *Client) addHelp(lines ...string) {
	c.addArrayLen(len(lines) + 2)
	for _, l := range lines {
		c.addSimple(l)
	}
	c.addSimple("HELP")
	c.addSimple("    Prints this help.")
}
