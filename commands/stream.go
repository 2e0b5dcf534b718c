package commands

import (
	"math"

	"spinel/commands/keyspace"
)

var streamCommands = []cmdDef{
	{"xadd", cmdXadd, 0},
	{"xlen", cmdXlen, 0},
	{"xrange", cmdXrange, 0},
	{"xrevrange", cmdXrevrange, 0},
	{"xdel", cmdXdel, 0},
	{"xtrim", cmdXtrim, 0},
	{"xsetid", cmdXsetid, 0},
	{"xread", cmdXread, 0},
	{"xreadgroup", cmdXread, 0},
	{"xgroup|create", cmdXgroup, 0},
	{"xgroup|setid", cmdXgroup, 0},
	{"xgroup|destroy", cmdXgroup, 0},
	{"xgroup|createconsumer", cmdXgroup, 0},
	{"xgroup|delconsumer", cmdXgroup, 0},
	{"xgroup|help", cmdXgroup, 0},
	{"xack", cmdXack, 0},
	{"xpending", cmdXpending, 0},
	{"xclaim", cmdXclaim, 0},
	{"xautoclaim", cmdXautoclaim, 0},
	{"xinfo|stream", cmdXinfo, 0},
	{"xinfo|groups", cmdXinfo, 0},
	{"xinfo|consumers", cmdXinfo, 0},
	{"xinfo|help", cmdXinfo, 0},
}

// Error replies of the stream commands.
const (
	errStreamInvalidID  = "ERR Invalid stream ID specified as stream command argument"
	errStreamXaddSmall  = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errStreamXaddZero   = "ERR The ID specified in XADD must be greater than 0-0"
	errStreamExhausted  = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errStreamTooLarge   = "ERR Elements are too large to be stored"
	errStreamInvalidBeg = "ERR invalid start ID for the interval"
	errStreamInvalidEnd = "ERR invalid end ID for the interval"
)

// ---------------------------------------------------------------------------
// Stream IDs as arguments.
// ---------------------------------------------------------------------------

// streamParseULL parses an unsigned integer as Redis's string2ull: string2ll for
// the common case, else whatever strtoull(3) accepts as a whole (leading
// blanks, a sign, leading zeros; "-n" wraps modulo 2^64).
func streamParseULL(b []byte) (uint64, bool) {
	if v, ok := parseInt(b); ok {
		if v < 0 {
			return 0, false
		}
		return uint64(v), true
	}
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// streamIDMode says how parseStreamID treats special forms.
type streamIDMode struct {
	strict     bool   // "-" and "+" are invalid
	seqStar    bool   // accept <ms>-* (XADD)
	missingSeq uint64 // sequence of an ID given as <ms> alone
}

// parseStreamID parses an ID argument as Redis's streamGenericParseIDOrReply:
// <ms>-<seq>, <ms> (sequence missingSeq), "-" and "+" unless strict, and
// <ms>-* with seqStar (seqGiven false). It works on the argument as a C
// string, as Redis does.
func parseStreamID(arg []byte, mode streamIDMode) (id streamID, seqGiven, ok bool) {
	if len(arg) > 127 {
		return streamID{}, false, false
	}
	buf := cString(arg, len(arg))
	if len(buf) == 1 && (buf[0] == '-' || buf[0] == '+') {
		if mode.strict {
			return streamID{}, false, false
		}
		if buf[0] == '-' {
			return streamMinID, true, true
		}
		return streamMaxID, true, true
	}
	seqGiven = true
	dash := indexByte(buf, '-')
	msPart := buf
	if dash >= 0 {
		msPart = buf[:dash]
	}
	ms, ok := streamParseULL(msPart)
	if !ok {
		return streamID{}, false, false
	}
	seq := mode.missingSeq
	if dash >= 0 {
		rest := buf[dash+1:]
		if mode.seqStar && len(rest) == 1 && rest[0] == '*' {
			seq, seqGiven = 0, false
		} else if seq, ok = streamParseULL(rest); !ok {
			return streamID{}, false, false
		}
	}
	return streamID{ms, seq}, seqGiven, true
}

// getStreamID parses an ID argument or replies with Redis's error.
func (c *Client) getStreamID(arg []byte, strict bool, missingSeq uint64) (streamID, bool) {
	id, _, ok := parseStreamID(arg, streamIDMode{strict: strict, missingSeq: missingSeq})
	if !ok {
		c.addError(errStreamInvalidID)
	}
	return id, ok
}

// getStreamIntervalID parses a range bound, where a "(" prefix makes it exclusive
// (Redis's streamParseIntervalIDOrReply).
func (c *Client) getStreamIntervalID(arg []byte, missingSeq uint64) (id streamID, exclusive, ok bool) {
	if len(arg) > 1 && arg[0] == '(' {
		id, ok = c.getStreamID(arg[1:], true, missingSeq)
		return id, true, ok
	}
	id, ok = c.getStreamID(arg, false, missingSeq)
	return id, false, ok
}

// getStreamRangeStart and getStreamRangeEnd parse the bounds of XRANGE, XPENDING and
// XAUTOCLAIM, turning exclusive bounds into inclusive ones.
func (c *Client) getStreamRangeStart(arg []byte) (streamID, bool) {
	id, ex, ok := c.getStreamIntervalID(arg, 0)
	if !ok {
		return id, false
	}
	if ex {
		if id, ok = id.incr(); !ok {
			c.addError(errStreamInvalidBeg)
			return id, false
		}
	}
	return id, true
}

func (c *Client) getStreamRangeEnd(arg []byte) (streamID, bool) {
	id, ex, ok := c.getStreamIntervalID(arg, math.MaxUint64)
	if !ok {
		return id, false
	}
	if ex {
		if id, ok = id.decr(); !ok {
			c.addError(errStreamInvalidEnd)
			return id, false
		}
	}
	return id, true
}

// streamCStr returns b as C's "%s" prints it: up to the first NUL.
func streamCStr(b []byte) string { return string(cString(b, len(b))) }

// ---------------------------------------------------------------------------
// Lookups.
// ---------------------------------------------------------------------------

// readStream looks key up for reading. ok is false after a WRONGTYPE reply.
func (s *Server) readStream(c *Client, key []byte) (*stream, bool) {
	o, _, ok := s.readObject(c, key, keyspace.TypeStream)
	if !ok || o == nil {
		return nil, ok
	}
	return o.(*stream), true
}

// writeStream looks key up for writing. ok is false after a WRONGTYPE reply.
func (s *Server) writeStream(c *Client, key []byte) (*stream, bool) {
	o, _, ok := s.writeObject(c, key, keyspace.TypeStream)
	if !ok || o == nil {
		return nil, ok
	}
	return o.(*stream), true
}

// streamLimits returns the node size options.
func (s *Server) streamLimits() streamNodeLimits {
	return streamNodeLimits{maxBytes: s.cfg.StreamNodeMaxBytes, maxEntries: int64(s.cfg.StreamNodeMaxEntries)}
}

// ---------------------------------------------------------------------------
// Replies.
// ---------------------------------------------------------------------------

// addStreamEntry replies with one entry: [id, [field, value, ...]].
func (c *Client) addStreamEntry(e *streamEntry) {
	c.addArrayLen(2)
	c.addStreamID(e.id)
	c.addArrayLen(2 * e.nfields)
	e.each(func(f, v []byte) {
		c.addBulk(f)
		c.addBulk(v)
	})
}

// addStreamRange replies with the entries in [start, end], at most count
// (0: all), as an array, and returns how many there were.
func (c *Client) addStreamRange(st *stream, start, end streamID, count int64, rev bool) int64 {
	pos := c.deferLen()
	n := c.addStreamRangeRaw(st, start, end, count, rev)
	c.setDeferredArrayLen(pos, int(n))
	return n
}

// addStreamRangeRaw is addStreamRange without the array header.
func (c *Client) addStreamRangeRaw(st *stream, start, end streamID, count int64, rev bool) int64 {
	var n int64
	it := st.iter(start, end, rev)
	var e streamEntry
	for it.next(&e) {
		c.addStreamEntry(&e)
		n++
		if count != 0 && n == count {
			break
		}
	}
	return n
}

// ---------------------------------------------------------------------------
// XADD / XTRIM.
// ---------------------------------------------------------------------------

// xaddArgs are XADD's options, parsed with the trimming ones.
type xaddArgs struct {
	streamTrimArgs
	id         streamID
	idGiven    bool
	seqGiven   bool
	noMkstream bool
}

// parseStreamAddTrimArgs parses the options of XADD (xadd) or XTRIM from args[2:],
// as Redis's streamParseAddOrTrimArgsOrReply. For XADD it returns the
// position of the ID argument; -1 means an error was sent.
func (c *Client) parseStreamAddTrimArgs(args [][]byte, a *xaddArgs, xadd bool) int {
	i := 2
	limitGiven := false
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			// The common case: an auto-generated ID.
		case equalFold(opt, "maxlen") && more > 0, equalFold(opt, "minid") && more > 0:
			if a.strategy != trimNone {
				c.addError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
				return -1
			}
			a.approx = false
			next := args[i+1]
			if more >= 2 && len(next) == 1 && next[0] == '~' {
				a.approx = true
				i++
			} else if more >= 2 && len(next) == 1 && next[0] == '=' {
				i++
			}
			if equalFold(opt, "maxlen") {
				v, ok := c.getInt(args[i+1])
				if !ok {
					return -1
				}
				if v < 0 {
					c.addError("ERR The MAXLEN argument must be >= 0.")
					return -1
				}
				a.maxLen = v
				a.strategy = trimMaxLen
			} else {
				id, ok := c.getStreamID(args[i+1], true, 0)
				if !ok {
					return -1
				}
				a.minID = id
				a.strategy = trimMinID
			}
			i++
			a.argIdx = i
			continue
		case equalFold(opt, "limit") && more > 0:
			v, ok := c.getInt(args[i+1])
			if !ok {
				return -1
			}
			if v < 0 {
				c.addError("ERR The LIMIT argument must be >= 0.")
				return -1
			}
			a.limit = v
			limitGiven = true
			i++
			continue
		case xadd && equalFold(opt, "nomkstream"):
			a.noMkstream = true
			continue
		case xadd:
			id, seqGiven, ok := parseStreamID(opt, streamIDMode{strict: true, seqStar: true})
			if !ok {
				c.addError(errStreamInvalidID)
				return -1
			}
			a.id, a.idGiven, a.seqGiven = id, true, seqGiven
		default:
			c.addError(ErrSyntax)
			return -1
		}
		break
	}
	if a.limit != 0 && a.strategy == trimNone {
		c.addError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
		return -1
	}
	if !xadd && a.strategy == trimNone {
		c.addError("ERR syntax error, XTRIM must be called with a trimming strategy")
		return -1
	}
	if limitGiven {
		if !a.approx {
			c.addError("ERR syntax error, LIMIT cannot be used without the special ~ option")
			return -1
		}
	} else if a.approx {
		// Bound the work of an approximate trim to about 100 nodes.
		a.limit = 100 * int64(c.srv.cfg.StreamNodeMaxEntries)
		if a.limit <= 0 {
			a.limit = 10000
		}
		if a.limit > 1000000 {
			a.limit = 1000000
		}
	} else {
		a.limit = 0
	}
	return i
}

// streamTrimPropagation returns argv with an approximate trim rewritten as exact
// (MAXLEN = <length after trim> or MINID = <first id>), as Redis's
// streamRewriteTrimArgument, so that replaying it gives the same stream.
func streamTrimPropagation(argv [][]byte, st *stream, a *streamTrimArgs) [][]byte {
	out := make([][]byte, len(argv))
	copy(out, argv)
	out[a.argIdx-1] = []byte("=")
	if a.strategy == trimMaxLen {
		out[a.argIdx] = formatInt(make([]byte, 0, 20), int64(st.length))
	} else {
		out[a.argIdx] = formatStreamID(st.edgeID(true, true))
	}
	return out
}

func cmdXadd(c *Client, args [][]byte) {
	s := c.srv
	var a xaddArgs
	idpos := c.parseStreamAddTrimArgs(args, &a, true)
	if idpos < 0 {
		return
	}
	fieldPos := idpos + 1
	if n := len(args) - fieldPos; n < 2 || n%2 == 1 {
		c.addErrorArity(c.cmd.FullName)
		return
	}
	if a.idGiven && a.seqGiven && a.id.isZero() {
		c.addError(errStreamXaddZero)
		return
	}
	key := args[1]
	st, ok := s.writeStream(c, key)
	if !ok {
		return
	}
	if st == nil {
		if a.noMkstream {
			c.addNull()
			return
		}
		st = newStream()
		s.addObject(c.db, key, keyspace.TypeStream, st)
	}
	if st.lastID == streamMaxID {
		c.addError(errStreamExhausted)
		return
	}
	var useID *streamID
	if a.idGiven {
		useID = &a.id
	}
	id, res := st.appendEntry(args[fieldPos:], useID, a.seqGiven, s.now, s.streamLimits())
	switch res {
	case appendBadID:
		c.addError(errStreamXaddSmall)
		return
	case appendTooLarge:
		c.addError(errStreamTooLarge)
		return
	}
	idText := appendStreamID(st.idBuf[:0], id)
	c.addBulk(idText)
	s.notify(c.db, notifyStream, "xadd", key)
	s.dirty++

	var prop [][]byte
	if a.strategy != trimNone {
		if st.trim(&a.streamTrimArgs) > 0 {
			s.notify(c.db, notifyStream, "xtrim", key)
		}
		if a.approx {
			prop = streamTrimPropagation(args, st, &a.streamTrimArgs)
		}
	}
	s.signalModifiedKey(c.db, key)
	// The generated ID is propagated, not "*" (Redis rewrites the argument).
	if !a.idGiven || !a.seqGiven {
		if prop == nil {
			var argvBuf [8][]byte
			prop = append(argvBuf[:0], args...)
		}
		prop[idpos] = idText
	}
	if prop != nil {
		c.propagateAs(prop...)
	}
}

func cmdXtrim(c *Client, args [][]byte) {
	s := c.srv
	var a xaddArgs
	if c.parseStreamAddTrimArgs(args, &a, false) < 0 {
		return
	}
	key := args[1]
	st, ok := s.writeStream(c, key)
	if !ok {
		return
	}
	if st == nil {
		c.addInt(0)
		return
	}
	deleted := st.trim(&a.streamTrimArgs)
	if deleted > 0 {
		s.notify(c.db, notifyStream, "xtrim", key)
		if a.approx {
			c.propagateAs(streamTrimPropagation(args, st, &a.streamTrimArgs)...)
		}
		s.signalModifiedKey(c.db, key)
		s.dirty += deleted
	}
	c.addInt(deleted)
}

// ---------------------------------------------------------------------------
// XLEN / XRANGE / XREVRANGE / XDEL / XSETID.
// ---------------------------------------------------------------------------

func cmdXlen(c *Client, args [][]byte) {
	st, ok := c.srv.readStream(c, args[1])
	if !ok {
		return
	}
	if st == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(st.length))
}

func cmdXrange(c *Client, args [][]byte)    { xrangeGeneric(c, args, false) }
func cmdXrevrange(c *Client, args [][]byte) { xrangeGeneric(c, args, true) }

func xrangeGeneric(c *Client, args [][]byte, rev bool) {
	startArg, endArg := args[2], args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := c.getStreamRangeStart(startArg)
	if !ok {
		return
	}
	end, ok := c.getStreamRangeEnd(endArg)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(args); j++ {
		if equalFold(args[j], "count") && j+1 < len(args) {
			if count, ok = c.getInt(args[j+1]); !ok {
				return
			}
			if count < 0 {
				count = 0
			}
			j++
			continue
		}
		c.addError(ErrSyntax)
		return
	}
	st, ok := c.srv.readStream(c, args[1])
	if !ok {
		return
	}
	if st == nil {
		c.addEmptyArray()
		return
	}
	if count == 0 {
		c.addNullArray()
		return
	}
	if count == -1 {
		count = 0
	}
	c.addStreamRange(st, start, end, count, rev)
}

func cmdXdel(c *Client, args [][]byte) {
	s := c.srv
	key := args[1]
	st, ok := s.writeStream(c, key)
	if !ok {
		return
	}
	if st == nil {
		c.addInt(0)
		return
	}
	ids := make([]streamID, len(args)-2)
	for j := 2; j < len(args); j++ {
		if ids[j-2], ok = c.getStreamID(args[j], true, 0); !ok {
			return
		}
	}
	deleted := st.deleteIDs(ids)
	if deleted > 0 {
		s.signalModifiedKey(c.db, key)
		s.notify(c.db, notifyStream, "xdel", key)
		s.dirty += int64(deleted)
	}
	c.addInt(int64(deleted))
}

func cmdXsetid(c *Client, args [][]byte) {
	s := c.srv
	id, ok := c.getStreamID(args[2], true, 0)
	if !ok {
		return
	}
	entriesAdded := int64(-1)
	var maxXdel streamID
	for i := 3; i < len(args); i += 2 {
		more := len(args) - 1 - i
		switch {
		case equalFold(args[i], "entriesadded") && more > 0:
			if entriesAdded, ok = c.getInt(args[i+1]); !ok {
				return
			}
			if entriesAdded < 0 {
				c.addError("ERR entries_added must be positive")
				return
			}
		case equalFold(args[i], "maxdeletedid") && more > 0:
			if maxXdel, ok = c.getStreamID(args[i+1], true, 0); !ok {
				return
			}
			if id.cmp(maxXdel) < 0 {
				c.addError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	key := args[1]
	st, ok := s.writeStream(c, key)
	if !ok {
		return
	}
	if st == nil {
		c.addError(ErrNoSuchKey)
		return
	}
	if st.length > 0 {
		if id.cmp(st.lastValidID()) < 0 {
			c.addError("ERR The ID specified in XSETID is smaller than the target stream top item")
			return
		}
		if entriesAdded != -1 && st.length > uint64(entriesAdded) {
			c.addError("ERR The entries_added specified in XSETID is smaller than the target stream length")
			return
		}
	}
	st.lastID = id
	if entriesAdded != -1 {
		st.entriesAdded = uint64(entriesAdded)
	}
	if !maxXdel.isZero() {
		st.maxDeletedID = maxXdel
	}
	// Redis 7.0 does not signal the key as modified here: WATCH does not
	// see XSETID.
	s.notify(c.db, notifyStream, "xsetid", key)
	s.dirty++
	c.addOK()
}
