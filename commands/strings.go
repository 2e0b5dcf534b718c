package commands

import (
	"math"

	"spinel/commands/keyspace"
)

// Words of rewritten propagation forms.
var (
	setCmd       = []byte("SET")
	pxatArg      = []byte("PXAT")
	keepTTLArg   = []byte("KEEPTTL")
	pexpireatCmd = []byte("PEXPIREAT")
	persistCmd   = []byte("PERSIST")
)

var stringCommands = []cmdDef{
	{"get", cmdGet, 0},
	{"set", cmdSet, 0},
	{"setex", cmdSetex, 0},
	{"psetex", cmdPsetex, 0},
	{"setnx", cmdSetnx, 0},
	{"getset", cmdGetset, 0},
	{"getdel", cmdGetdel, 0},
	{"getex", cmdGetex, 0},
	{"mget", cmdMget, 0},
	{"mset", cmdMset, 0},
	{"msetnx", cmdMsetnx, 0},
	{"incr", cmdIncr, 0},
	{"decr", cmdDecr, 0},
	{"incrby", cmdIncrby, 0},
	{"decrby", cmdDecrby, 0},
	{"incrbyfloat", cmdIncrbyfloat, 0},
	{"append", cmdAppend, 0},
	{"strlen", cmdStrlen, 0},
	{"getrange", cmdGetrange, 0},
	{"substr", cmdGetrange, 0},
	{"setrange", cmdSetrange, 0},
	{"lcs", cmdLcs, 0},
}

// strEncoding picks the encoding Redis's tryObjectEncoding would give a
// string value: int for canonical 64-bit integers, embstr up to 44 bytes,
// raw beyond.
func strEncoding(v []byte) keyspace.StrEnc {
	if len(v) <= 20 {
		if _, ok := parseInt(v); ok {
			return keyspace.EncInt
		}
	}
	if len(v) <= 44 {
		return keyspace.EncEmbstr
	}
	return keyspace.EncRaw
}

// setKey stores a string value, replacing any value of any type, as Redis's
// setKey: the TTL goes unless keepTTL, and watchers are told.
func (s *Server) setKey(db *database, key, val []byte, enc keyspace.StrEnc, keepTTL bool) Ref {
	if s.notifyFlags&notifyNew != 0 && db.kv.Lookup(key) == 0 {
		r := db.kv.SetStr(key, val, enc, keepTTL, s.newKeyLRU())
		s.keyCreated(db, key)
		s.signalModifiedKey(db, key)
		return r
	}
	r := db.kv.SetStr(key, val, enc, keepTTL, s.newKeyLRU())
	s.signalModifiedKey(db, key)
	return r
}

// getString looks a key up for reading and checks it holds a string. It
// returns ok=false after replying WRONGTYPE.
func (s *Server) getString(c *Client, key []byte) (val []byte, found, ok bool) {
	r := s.lookupRead(c, key)
	if r == 0 {
		return nil, false, true
	}
	if c.db.kv.Type(r) != keyspace.TypeString {
		c.addError(ErrWrongType)
		return nil, true, false
	}
	return c.db.kv.Str(r), true, true
}

// getGeneric replies with the string at key (or null), as Redis's
// getGenericCommand; it reports false after a WRONGTYPE error.
func (s *Server) getGeneric(c *Client, key []byte) bool {
	v, found, ok := s.getString(c, key)
	if !ok {
		return false
	}
	if !found {
		c.addNull()
	} else {
		c.addBulk(v)
	}
	return true
}

func cmdGet(c *Client, args [][]byte) { c.srv.getGeneric(c, args[1]) }

// SET flags, as OBJ_SET_* in Redis.
const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
	setPersist
	setEX
	setPX
	setEXAT
	setPXAT
)

const (
	cmdTypeSet = iota
	cmdTypeGet
)

// parseExtendedStringArgs parses the options of SET (cmdTypeSet) and GETEX
// (cmdTypeGet) from args[first:], as Redis's parseExtendedStringArgumentsOrReply.
func (c *Client) parseExtendedStringArgs(args [][]byte, first, cmdType int) (flags int, expire []byte, ok bool) {
	for j := first; j < len(args); j++ {
		opt := args[j]
		var next []byte
		if j < len(args)-1 {
			next = args[j+1]
		}
		expiring := setEX | setPX | setEXAT | setPXAT
		switch {
		case equalFold(opt, "nx") && flags&setXX == 0 && cmdType == cmdTypeSet:
			flags |= setNX
		case equalFold(opt, "xx") && flags&setNX == 0 && cmdType == cmdTypeSet:
			flags |= setXX
		case equalFold(opt, "get") && cmdType == cmdTypeSet:
			flags |= setGet
		case equalFold(opt, "keepttl") && flags&(setPersist|expiring) == 0 && cmdType == cmdTypeSet:
			flags |= setKeepTTL
		case equalFold(opt, "persist") && cmdType == cmdTypeGet && flags&(expiring|setKeepTTL) == 0:
			flags |= setPersist
		case equalFold(opt, "ex") && flags&(setKeepTTL|setPersist|setEXAT|setPX|setPXAT) == 0 && next != nil:
			flags |= setEX
			expire = next
			j++
		case equalFold(opt, "px") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPXAT) == 0 && next != nil:
			flags |= setPX
			expire = next
			j++
		case equalFold(opt, "exat") && flags&(setKeepTTL|setPersist|setEX|setPX|setPXAT) == 0 && next != nil:
			flags |= setEXAT
			expire = next
			j++
		case equalFold(opt, "pxat") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPX) == 0 && next != nil:
			flags |= setPXAT
			expire = next
			j++
		default:
			c.addError(ErrSyntax)
			return 0, nil, false
		}
	}
	return flags, expire, true
}

// getExpireMillis turns an expire argument into an absolute unix ms time, as
// Redis's getExpireMillisecondsOrReply.
func (c *Client) getExpireMillis(expire []byte, flags int) (int64, bool) {
	ms, ok := c.getInt(expire)
	if !ok {
		return 0, false
	}
	seconds := flags&(setEX|setEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		c.addErrorExpireTime()
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(setEX|setPX) != 0 {
		ms += c.srv.now // wraps on overflow as in C, caught below
	}
	if ms <= 0 {
		c.addErrorExpireTime()
		return 0, false
	}
	return ms, true
}

func (c *Client) addErrorExpireTime() {
	c.addError("ERR invalid expire time in '" + c.cmd.FullName + "' command")
}

// setGeneric is the heart of SET, SETEX, PSETEX and SETNX.
func (s *Server) setGeneric(c *Client, flags int, key, val, expire []byte, okReply, abortReply string) {
	var when int64
	if expire != nil {
		var ok bool
		if when, ok = c.getExpireMillis(expire, flags); !ok {
			return
		}
	}
	if flags&setGet != 0 {
		if !s.getGeneric(c, key) {
			return
		}
	}
	existing := s.lookupWrite(c, key)
	found := existing != 0
	if (flags&setNX != 0 && found) || (flags&setXX != 0 && !found) {
		if flags&setGet == 0 {
			if abortReply != "" {
				c.addRawString(abortReply)
			} else {
				c.addNull()
			}
		}
		return
	}
	// The key was just looked up: overwrite it in place rather than search
	// for it again (the hot path of SET).
	r := existing
	if r != 0 {
		c.db.kv.ReplaceStr(r, val, strEncoding(val), flags&setKeepTTL != 0)
		s.signalModifiedKey(c.db, key)
	} else {
		r = s.setKey(c.db, key, val, strEncoding(val), false)
	}
	s.dirty++
	s.notify(c.db, notifyString, "set", key)
	if expire != nil {
		s.setExpire(c.db, r, when)
		s.notify(c.db, notifyGeneric, "expire", key)
		// Replay must not depend on when it happens: log the absolute time.
		var num [20]byte
		c.propagateAs(setCmd, key, val, pxatArg, formatInt(num[:], when))
	}
	if flags&setGet == 0 {
		if okReply != "" {
			c.addRawString(okReply)
		} else {
			c.addOK()
		}
	}
}

func cmdSet(c *Client, args [][]byte) {
	flags, expire, ok := c.parseExtendedStringArgs(args, 3, cmdTypeSet)
	if !ok {
		return
	}
	c.srv.setGeneric(c, flags, args[1], args[2], expire, "", "")
}

func cmdSetnx(c *Client, args [][]byte) {
	c.srv.setGeneric(c, setNX, args[1], args[2], nil, ":1\r\n", ":0\r\n")
}

func cmdSetex(c *Client, args [][]byte) {
	c.srv.setGeneric(c, setEX, args[1], args[3], args[2], "", "")
}

func cmdPsetex(c *Client, args [][]byte) {
	c.srv.setGeneric(c, setPX, args[1], args[3], args[2], "", "")
}

func cmdGetset(c *Client, args [][]byte) {
	s := c.srv
	if !s.getGeneric(c, args[1]) {
		return
	}
	s.setKey(c.db, args[1], args[2], strEncoding(args[2]), false)
	s.notify(c.db, notifyString, "set", args[1])
	s.dirty++
}

func cmdGetdel(c *Client, args [][]byte) {
	s := c.srv
	if !s.getGeneric(c, args[1]) {
		return
	}
	if r := s.lookupWrite(c, args[1]); r != 0 {
		s.dbDelete(c.db, r)
		s.notify(c.db, notifyGeneric, "del", args[1])
		s.dirty++
		c.propagateAs(delCmd, args[1])
	}
}

func cmdGetex(c *Client, args [][]byte) {
	s := c.srv
	flags, expire, ok := c.parseExtendedStringArgs(args, 2, cmdTypeGet)
	if !ok {
		return
	}
	var when int64
	if expire != nil {
		if when, ok = c.getExpireMillis(expire, flags); !ok {
			return
		}
	}
	key := args[1]
	r := s.lookupRead(c, key)
	if r == 0 {
		c.addNull()
		return
	}
	if c.db.kv.Type(r) != keyspace.TypeString {
		c.addError(ErrWrongType)
		return
	}
	c.addBulk(c.db.kv.Str(r))
	switch {
	case flags&(setPXAT|setEXAT) != 0 && s.checkAlreadyExpired(when):
		s.dbDelete(c.db, r)
		s.notify(c.db, notifyGeneric, "del", key)
		s.dirty++
		c.propagateAs(delCmd, key)
	case expire != nil:
		s.setExpire(c.db, r, when)
		s.signalModifiedKey(c.db, key)
		s.notify(c.db, notifyGeneric, "expire", key)
		s.dirty++
		var num [20]byte
		c.propagateAs(pexpireatCmd, key, formatInt(num[:], when))
	case flags&setPersist != 0:
		if c.db.kv.Persist(r) {
			s.signalModifiedKey(c.db, key)
			s.notify(c.db, notifyGeneric, "persist", key)
			s.dirty++
			c.propagateAs(persistCmd, key)
		}
	}
}

func cmdMget(c *Client, args [][]byte) {
	s := c.srv
	c.addArrayLen(len(args) - 1)
	for _, key := range args[1:] {
		r := s.lookupRead(c, key)
		if r == 0 || c.db.kv.Type(r) != keyspace.TypeString {
			c.addNull()
			continue
		}
		c.addBulk(c.db.kv.Str(r))
	}
}

func (s *Server) msetGeneric(c *Client, args [][]byte, nx bool) {
	if len(args)%2 == 0 {
		c.addErrorArity(c.cmd.FullName)
		return
	}
	if nx {
		for j := 1; j < len(args); j += 2 {
			if s.lookupWrite(c, args[j]) != 0 {
				c.addInt(0)
				return
			}
		}
	}
	for j := 1; j < len(args); j += 2 {
		s.setKey(c.db, args[j], args[j+1], strEncoding(args[j+1]), false)
		s.notify(c.db, notifyString, "set", args[j])
	}
	s.dirty += int64(len(args) / 2)
	if nx {
		c.addInt(1)
	} else {
		c.addOK()
	}
}

func cmdMset(c *Client, args [][]byte)   { c.srv.msetGeneric(c, args, false) }
func cmdMsetnx(c *Client, args [][]byte) { c.srv.msetGeneric(c, args, true) }

// incrDecr adds incr to the integer at key, as Redis's incrDecrCommand.
func (s *Server) incrDecr(c *Client, key []byte, incr int64) {
	r := s.lookupWrite(c, key)
	var value int64
	if r != 0 {
		if c.db.kv.Type(r) != keyspace.TypeString {
			c.addError(ErrWrongType)
			return
		}
		var ok bool
		if value, ok = parseInt(c.db.kv.Str(r)); !ok {
			c.addError(ErrNotInteger)
			return
		}
	}
	if (incr < 0 && value < 0 && incr < math.MinInt64-value) ||
		(incr > 0 && value > 0 && incr > math.MaxInt64-value) {
		c.addError(ErrOverflow)
		return
	}
	value += incr
	var buf [24]byte
	v := formatInt(buf[:], value)
	if r != 0 {
		c.db.kv.UpdateStr(r, v, keyspace.EncInt)
	} else {
		c.db.kv.SetStr(key, v, keyspace.EncInt, false, s.newKeyLRU())
		s.keyCreated(c.db, key)
	}
	s.signalModifiedKey(c.db, key)
	s.notify(c.db, notifyString, "incrby", key)
	s.dirty++
	c.addInt(value)
}

func cmdIncr(c *Client, args [][]byte) { c.srv.incrDecr(c, args[1], 1) }
func cmdDecr(c *Client, args [][]byte) { c.srv.incrDecr(c, args[1], -1) }

func cmdIncrby(c *Client, args [][]byte) {
	if incr, ok := c.getInt(args[2]); ok {
		c.srv.incrDecr(c, args[1], incr)
	}
}

func cmdDecrby(c *Client, args [][]byte) {
	incr, ok := c.getInt(args[2])
	if !ok {
		return
	}
	if incr == math.MinInt64 {
		c.addError("ERR decrement would overflow")
		return
	}
	c.srv.incrDecr(c, args[1], -incr)
}

func cmdIncrbyfloat(c *Client, args [][]byte) {
	s := c.srv
	key := args[1]
	r := s.lookupWrite(c, key)
	cur := []byte("0")
	if r != 0 {
		if c.db.kv.Type(r) != keyspace.TypeString {
			c.addError(ErrWrongType)
			return
		}
		cur = c.db.kv.Str(r)
	}
	value, ok := parseLongDouble(cur)
	if !ok {
		c.addError(ErrNotFloat)
		return
	}
	incr, ok := parseLongDouble(args[2])
	if !ok {
		c.addError(ErrNotFloat)
		return
	}
	sum, ok := addLongDouble(value, incr)
	if !ok {
		c.addError("ERR increment would produce NaN or Infinity")
		return
	}
	out := formatLongDouble(sum)
	if r != 0 {
		c.db.kv.UpdateStr(r, out, strEncodingNoInt(out))
	} else {
		c.db.kv.SetStr(key, out, strEncodingNoInt(out), false, s.newKeyLRU())
		s.keyCreated(c.db, key)
	}
	s.signalModifiedKey(c.db, key)
	s.notify(c.db, notifyString, "incrbyfloat", key)
	s.dirty++
	// Floating point must not be recomputed on replay: log the result.
	c.propagateAs(setCmd, key, out, keepTTLArg)
	c.addBulk(out)
}

// strEncodingNoInt is the encoding of a string built by Redis from a number
// or by an in-place edit: embstr when short, raw otherwise, never int.
func strEncodingNoInt(v []byte) keyspace.StrEnc {
	if len(v) <= 44 {
		return keyspace.EncEmbstr
	}
	return keyspace.EncRaw
}

// checkStringLength refuses a string that would grow past proto-max-bulk-len.
func (c *Client) checkStringLength(size, add int64) bool {
	total := size + add
	if total > c.srv.cfg.ProtoMaxBulkLen || total < size || total < add {
		c.addError(ErrStringTooLong)
		return false
	}
	return true
}

func cmdAppend(c *Client, args [][]byte) {
	s := c.srv
	key, add := args[1], args[2]
	r := s.lookupWrite(c, key)
	var total int
	if r == 0 {
		s.setKey(c.db, key, add, strEncoding(add), false)
		total = len(add)
	} else {
		if c.db.kv.Type(r) != keyspace.TypeString {
			c.addError(ErrWrongType)
			return
		}
		old := len(c.db.kv.Str(r))
		if !c.checkStringLength(int64(old), int64(len(add))) {
			return
		}
		v := c.db.kv.GrowStr(r, old+len(add), keyspace.EncRaw)
		copy(v[old:], add)
		total = len(v)
		s.signalModifiedKey(c.db, key)
	}
	s.notify(c.db, notifyString, "append", key)
	s.dirty++
	c.addInt(int64(total))
}

func cmdStrlen(c *Client, args [][]byte) {
	v, _, ok := c.srv.getString(c, args[1])
	if ok {
		c.addInt(int64(len(v)))
	}
}

func cmdGetrange(c *Client, args [][]byte) {
	start, ok := c.getInt(args[2])
	if !ok {
		return
	}
	end, ok := c.getInt(args[3])
	if !ok {
		return
	}
	v, found, ok := c.srv.getString(c, args[1])
	if !ok {
		return
	}
	if !found {
		c.addRawString("$0\r\n\r\n")
		return
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.addRawString("$0\r\n\r\n")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.addRawString("$0\r\n\r\n")
		return
	}
	c.addBulk(v[start : end+1])
}

func cmdSetrange(c *Client, args [][]byte) {
	s := c.srv
	key, value := args[1], args[3]
	offset, ok := c.getInt(args[2])
	if !ok {
		return
	}
	if offset < 0 {
		c.addError("ERR offset is out of range")
		return
	}
	r := s.lookupWrite(c, key)
	if r == 0 {
		if len(value) == 0 {
			c.addInt(0)
			return
		}
		if !c.checkStringLength(offset, int64(len(value))) {
			return
		}
		r = c.db.kv.SetStr(key, nil, keyspace.EncRaw, false, s.newKeyLRU())
		s.keyCreated(c.db, key)
	} else {
		if c.db.kv.Type(r) != keyspace.TypeString {
			c.addError(ErrWrongType)
			return
		}
		olen := int64(len(c.db.kv.Str(r)))
		if len(value) == 0 {
			c.addInt(olen)
			return
		}
		if !c.checkStringLength(offset, int64(len(value))) {
			return
		}
	}
	need := int(offset) + len(value)
	cur := len(c.db.kv.Str(r))
	v := c.db.kv.GrowStr(r, max(cur, need), keyspace.EncRaw)
	copy(v[offset:], value)
	s.signalModifiedKey(c.db, key)
	s.notify(c.db, notifyString, "setrange", key)
	s.dirty++
	c.addInt(int64(len(v)))
}

func cmdLcs(c *Client, args [][]byte) {
	s := c.srv
	var getIdx, getLen, withMatchLen bool
	var minMatchLen int64
	for j := 3; j < len(args); j++ {
		opt := args[j]
		more := len(args) - 1 - j
		switch {
		case equalFold(opt, "idx"):
			getIdx = true
		case equalFold(opt, "len"):
			getLen = true
		case equalFold(opt, "withmatchlen"):
			withMatchLen = true
		case equalFold(opt, "minmatchlen") && more > 0:
			v, ok := c.getInt(args[j+1])
			if !ok {
				return
			}
			minMatchLen = max(v, 0)
			j++
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	if getIdx && getLen {
		c.addError("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	ra, rb := s.lookupRead(c, args[1]), s.lookupRead(c, args[2])
	if (ra != 0 && c.db.kv.Type(ra) != keyspace.TypeString) || (rb != 0 && c.db.kv.Type(rb) != keyspace.TypeString) {
		c.addError("ERR The specified keys must contain string values")
		return
	}
	var a, b []byte
	if ra != 0 {
		a = c.db.kv.Str(ra)
	}
	if rb != 0 {
		b = c.db.kv.Str(rb)
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		c.addError("ERR String too long for LCS")
		return
	}
	alen, blen := len(a), len(b)
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > uint64(s.cfg.ProtoMaxBulkLen) {
		c.addError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	dp := make([]uint32, cells)
	at := func(i, j int) *uint32 { return &dp[j*(alen+1)+i] }
	for i := 0; i <= alen; i++ {
		for j := 0; j <= blen; j++ {
			switch {
			case i == 0 || j == 0:
				*at(i, j) = 0
			case a[i-1] == b[j-1]:
				*at(i, j) = *at(i-1, j-1) + 1
			default:
				*at(i, j) = max(*at(i-1, j), *at(i, j-1))
			}
		}
	}
	idx := *at(alen, blen)
	computeLCS := getIdx || !getLen
	var result []byte
	if !getLen {
		result = make([]byte, idx)
	}
	var arrayPos, arrayLen int
	if getIdx {
		c.addMapLen(2)
		c.addBulkString("matches")
		arrayPos = c.deferLen()
	}
	i, j := alen, blen
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0
	for computeLCS && i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			if result != nil {
				result[idx-1] = a[i-1]
			}
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if *at(i-1, j) > *at(i, j-1) {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		matchLen := aEnd - aStart + 1
		if emit {
			if (minMatchLen == 0 || int64(matchLen) >= minMatchLen) && getIdx {
				if withMatchLen {
					c.addArrayLen(3)
				} else {
					c.addArrayLen(2)
				}
				c.addArrayLen(2)
				c.addInt(int64(aStart))
				c.addInt(int64(aEnd))
				c.addArrayLen(2)
				c.addInt(int64(bStart))
				c.addInt(int64(bEnd))
				if withMatchLen {
					c.addInt(int64(matchLen))
				}
				arrayLen++
			}
			aStart = alen
		}
	}
	switch {
	case getIdx:
		c.setDeferredArrayLen(arrayPos, arrayLen)
		c.addBulkString("len")
		c.addInt(int64(*at(alen, blen)))
	case getLen:
		c.addInt(int64(*at(alen, blen)))
	default:
		c.addBulk(result)
	}
}

// equalFold reports whether b equals the lower-case ASCII word s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != s[i] {
			return false
		}
	}
	return true
}
