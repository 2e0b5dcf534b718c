package commands

import (
	"math"

	"spinel/commands/keyspace"
)

var zsetCommands = []cmdDef{
	{"zadd", cmdZadd, 0},
	{"zincrby", cmdZincrby, 0},
	{"zrem", cmdZrem, 0},
	{"zcard", cmdZcard, 0},
	{"zscore", cmdZscore, 0},
	{"zmscore", cmdZmscore, 0},
	{"zrank", cmdZrank, 0},
	{"zrevrank", cmdZrevrank, 0},
	{"zcount", cmdZcount, 0},
	{"zlexcount", cmdZlexcount, 0},
	{"zrange", cmdZrange, 0},
	{"zrangestore", cmdZrangestore, 0},
	{"zrevrange", cmdZrevrange, 0},
	{"zrangebyscore", cmdZrangebyscore, 0},
	{"zrevrangebyscore", cmdZrevrangebyscore, 0},
	{"zrangebylex", cmdZrangebylex, 0},
	{"zrevrangebylex", cmdZrevrangebylex, 0},
	{"zremrangebyrank", cmdZremrangebyrank, 0},
	{"zremrangebyscore", cmdZremrangebyscore, 0},
	{"zremrangebylex", cmdZremrangebylex, 0},
	{"zpopmin", cmdZpopmin, 0},
	{"zpopmax", cmdZpopmax, 0},
	{"zmpop", cmdZmpop, 0},
	{"bzpopmin", cmdBzpopmin, 0},
	{"bzpopmax", cmdBzpopmax, 0},
	{"bzmpop", cmdBzmpop, 0},
	{"zrandmember", cmdZrandmember, 0},
	{"zunion", cmdZunion, 0},
	{"zunionstore", cmdZunionstore, 0},
	{"zinter", cmdZinter, 0},
	{"zinterstore", cmdZinterstore, 0},
	{"zintercard", cmdZintercard, 0},
	{"zdiff", cmdZdiff, 0},
	{"zdiffstore", cmdZdiffstore, 0},
	{"zscan", cmdZscan, 0},
}

// ---------------------------------------------------------------------------
// Sorted set commands, as Redis 7.0's t_zset.c: the same option parsing,
// the same order of checks (so the same error wins), the same keyspace
// events and dirty counts.
// ---------------------------------------------------------------------------

// readZset looks key up for reading: (nil, 0, true) when missing, ok=false
// after a WRONGTYPE reply.
func (s *Server) readZset(c *Client, key []byte) (*zsetObject, Ref, bool) {
	o, r, ok := s.readObject(c, key, keyspace.TypeZSet)
	if !ok || o == nil {
		return nil, r, ok
	}
	return o.(*zsetObject), r, true
}

// writeZset is readZset for commands that modify the value.
func (s *Server) writeZset(c *Client, key []byte) (*zsetObject, Ref, bool) {
	o, r, ok := s.writeObject(c, key, keyspace.TypeZSet)
	if !ok || o == nil {
		return nil, r, ok
	}
	return o.(*zsetObject), r, true
}

// storeZset makes key hold z, as Redis's setKey: an existing key of any type
// is overwritten in place (no "new" event) and loses its TTL; watchers are
// told.
func (s *Server) storeZset(db *database, key []byte, z *zsetObject) {
	if r := s.lookupWriteDB(db, key, true); r != 0 {
		db.kv.SetObject(r, keyspace.TypeZSet, z)
		db.kv.Persist(r)
	} else {
		s.addObject(db, key, keyspace.TypeZSet, z)
	}
	s.signalModifiedKey(db, key)
}

// deleteZsetKey removes an emptied sorted set (the caller sends the events).
func deleteZsetKey(db *database, r Ref) { db.kv.Delete(r) }

// addScoreMember replies with a member and, when withScores, its score:
// a [member, score] pair in RESP3 (nested), flat in RESP2.
func (c *Client) addScoreMember(member []byte, score float64, withScores bool) {
	if withScores && c.resp > 2 {
		c.addArrayLen(2)
	}
	c.addBulk(member)
	if withScores {
		c.addDouble(score)
	}
}

// ---- ZADD, ZINCRBY ----

func cmdZadd(c *Client, args [][]byte)    { zaddGeneric(c, args, 0) }
func cmdZincrby(c *Client, args [][]byte) { zaddGeneric(c, args, zaddIncr) }

// zaddGeneric is ZADD and ZINCRBY, as Redis's zaddGenericCommand.
func zaddGeneric(c *Client, args [][]byte, flags int) {
	s := c.srv
	key := args[1]
	ch := false
	scoreIdx := 2
options:
	for ; scoreIdx < len(args); scoreIdx++ {
		opt := args[scoreIdx]
		switch {
		case equalFold(opt, "nx"):
			flags |= zaddNX
		case equalFold(opt, "xx"):
			flags |= zaddXX
		case equalFold(opt, "ch"):
			ch = true
		case equalFold(opt, "incr"):
			flags |= zaddIncr
		case equalFold(opt, "gt"):
			flags |= zaddGT
		case equalFold(opt, "lt"):
			flags |= zaddLT
		default:
			break options
		}
	}
	incr := flags&zaddIncr != 0
	nx, xx := flags&zaddNX != 0, flags&zaddXX != 0
	gt, lt := flags&zaddGT != 0, flags&zaddLT != 0
	elements := len(args) - scoreIdx
	if elements%2 != 0 || elements == 0 {
		c.addError(ErrSyntax)
		return
	}
	elements /= 2
	if nx && xx {
		c.addError("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.addError("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if incr && elements > 1 {
		c.addError("ERR INCR option supports a single increment-element pair")
		return
	}
	// Parse every score first: the command runs entirely or not at all.
	var scoreBuf [16]float64
	scores := scoreBuf[:0]
	for j := 0; j < elements; j++ {
		f, ok := c.getScore(args[scoreIdx+2*j], "")
		if !ok {
			return
		}
		scores = append(scores, f)
	}
	z, _, ok := s.writeZset(c, key)
	if !ok {
		return
	}
	added, updated, processed := 0, 0, 0
	var score float64
	if z == nil && !xx {
		lim := s.zsetLimits()
		if lim.entries == 0 || lim.value < len(args[scoreIdx+1]) {
			z = newZsetSkiplist(elements)
		} else {
			z = newZsetListpack()
		}
		s.addObject(c.db, key, keyspace.TypeZSet, z)
	}
	if z != nil {
		lim := s.zsetLimits()
		for j := 0; j < elements; j++ {
			out, newScore := z.add(scores[j], args[scoreIdx+1+2*j], flags, lim)
			if out == zaddOutNaN {
				c.addError("ERR resulting score is not a number (NaN)")
				zaddNotify(c, key, added+updated, incr)
				return
			}
			if out&zaddOutAdded != 0 {
				added++
			}
			if out&zaddOutUpdated != 0 {
				updated++
			}
			if out&zaddOutNop == 0 {
				processed++
			}
			score = newScore
		}
		s.dirty += int64(added + updated)
	}
	switch {
	case !incr && ch:
		c.addInt(int64(added + updated))
	case !incr:
		c.addInt(int64(added))
	case processed > 0:
		c.addDouble(score)
	default:
		c.addNull()
	}
	zaddNotify(c, key, added+updated, incr)
}

func zaddNotify(c *Client, key []byte, changed int, incr bool) {
	if changed == 0 {
		return
	}
	s := c.srv
	s.signalModifiedKey(c.db, key)
	if incr {
		s.notify(c.db, notifyZset, "zincr", key)
	} else {
		s.notify(c.db, notifyZset, "zadd", key)
	}
}

// ---- ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK ----

func cmdZrem(c *Client, args [][]byte) {
	s := c.srv
	key := args[1]
	z, r, ok := s.writeZset(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	deleted, keyRemoved := 0, false
	for _, m := range args[2:] {
		if z.remove(m) {
			deleted++
		}
		if z.Len() == 0 {
			deleteZsetKey(c.db, r)
			keyRemoved = true
			break
		}
	}
	if deleted > 0 {
		s.notify(c.db, notifyZset, "zrem", key)
		if keyRemoved {
			s.notify(c.db, notifyGeneric, "del", key)
		}
		s.signalModifiedKey(c.db, key)
		s.dirty += int64(deleted)
	}
	c.addInt(int64(deleted))
}

func cmdZcard(c *Client, args [][]byte) {
	z, _, ok := c.srv.readZset(c, args[1])
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(z.Len()))
}

func cmdZscore(c *Client, args [][]byte) {
	z, _, ok := c.srv.readZset(c, args[1])
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	if score, found := z.score(args[2]); found {
		c.addDouble(score)
	} else {
		c.addNull()
	}
}

func cmdZmscore(c *Client, args [][]byte) {
	z, _, ok := c.srv.readZset(c, args[1])
	if !ok {
		return
	}
	c.addArrayLen(len(args) - 2)
	for _, m := range args[2:] {
		if z == nil {
			c.addNull()
			continue
		}
		if score, found := z.score(m); found {
			c.addDouble(score)
		} else {
			c.addNull()
		}
	}
}

func cmdZrank(c *Client, args [][]byte)    { zrankGeneric(c, args, false) }
func cmdZrevrank(c *Client, args [][]byte) { zrankGeneric(c, args, true) }

func zrankGeneric(c *Client, args [][]byte, rev bool) {
	z, _, ok := c.srv.readZset(c, args[1])
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	if rank, found := z.rank(args[2], rev); found {
		c.addInt(int64(rank))
	} else {
		c.addNull()
	}
}

// ---- ZCOUNT, ZLEXCOUNT ----

func cmdZcount(c *Client, args [][]byte) {
	rg, ok := c.parseScoreRange(args[2], args[3])
	if !ok {
		return
	}
	z, _, ok := c.srv.readZset(c, args[1])
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(z.countInRange(&rg)))
}

func cmdZlexcount(c *Client, args [][]byte) {
	rg, ok := c.parseLexRange(args[2], args[3])
	if !ok {
		return
	}
	z, _, ok := c.srv.readZset(c, args[1])
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	c.addInt(int64(z.countInLex(&rg)))
}

// ---- ZRANGE and friends ----

// Range kinds and directions, as Redis's zrange_type and zrange_direction;
// "auto" means the command's options decide.
const (
	zrangeAuto = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

const (
	zdirAuto = iota
	zdirForward
	zdirReverse
)

// zrangeResult receives the elements of a range, as Redis's
// zrange_result_handler: either the client's reply or, for ZRANGESTORE, a
// new sorted set.
type zrangeResult struct {
	c          *Client
	store      bool
	dstKey     []byte
	withScores bool
	deferred   int // position of the deferred array header, or -1
	dst        *zsetObject
	lim        zsetLimits
}

// begin starts the result; length is the element count when known (> 0).
func (h *zrangeResult) begin(length int) {
	if h.store {
		// As Redis's zrangeResultBeginStore (zsetTypeCreate): a rank range,
		// whose length is known, longer than zset-max-listpack-entries
		// starts as a skiplist; other results start as a listpack and
		// convert as they grow.
		h.lim = h.c.srv.zsetLimits()
		if length > h.lim.entries {
			h.dst = newZsetSkiplist(length)
		} else {
			h.dst = newZsetListpack()
		}
		return
	}
	if length > 0 {
		if h.withScores && h.c.resp == 2 {
			length *= 2
		}
		h.c.addArrayLen(length)
		h.deferred = -1
		return
	}
	h.deferred = h.c.deferLen()
}

func (h *zrangeResult) emit(member []byte, score float64) {
	if h.store {
		h.dst.add(score, member, 0, h.lim)
		return
	}
	h.c.addScoreMember(member, score, h.withScores)
}

// finish completes the result of n elements: the deferred header, or the
// ZRANGESTORE destination.
func (h *zrangeResult) finish(n int) {
	c := h.c
	if !h.store {
		if h.deferred >= 0 {
			if h.withScores && c.resp == 2 {
				n *= 2
			}
			c.setDeferredArrayLen(h.deferred, n)
		}
		return
	}
	s := c.srv
	if n > 0 {
		s.storeZset(c.db, h.dstKey, h.dst)
		c.addInt(int64(n))
		s.notify(c.db, notifyZset, "zrangestore", h.dstKey)
		s.dirty++
		return
	}
	c.addInt(0)
	s.deleteZsetStoreTarget(c.db, h.dstKey)
}

// deleteZsetStoreTarget removes the destination of a ...STORE command whose
// result is empty, as Redis's dbDelete (no expiry check), with its events.
func (s *Server) deleteZsetStoreTarget(db *database, key []byte) {
	r := db.kv.Lookup(key)
	if r == 0 {
		return
	}
	db.kv.Delete(r)
	s.signalModifiedKey(db, key)
	s.notify(db, notifyGeneric, "del", key)
	s.dirty++
}

func cmdZrange(c *Client, args [][]byte) {
	zrangeGeneric(c, args, 1, nil, zrangeAuto, zdirAuto)
}

func cmdZrangestore(c *Client, args [][]byte) {
	zrangeGeneric(c, args, 2, args[1], zrangeAuto, zdirAuto)
}

func cmdZrevrange(c *Client, args [][]byte) {
	zrangeGeneric(c, args, 1, nil, zrangeRank, zdirReverse)
}

func cmdZrangebyscore(c *Client, args [][]byte) {
	zrangeGeneric(c, args, 1, nil, zrangeScore, zdirForward)
}

func cmdZrevrangebyscore(c *Client, args [][]byte) {
	zrangeGeneric(c, args, 1, nil, zrangeScore, zdirReverse)
}

func cmdZrangebylex(c *Client, args [][]byte) {
	zrangeGeneric(c, args, 1, nil, zrangeLex, zdirForward)
}

func cmdZrevrangebylex(c *Client, args [][]byte) {
	zrangeGeneric(c, args, 1, nil, zrangeLex, zdirReverse)
}

// zrangeGeneric implements ZRANGE, ZRANGESTORE and the older
// Z[REV]RANGE[BYSCORE|BYLEX], as Redis's zrangeGenericCommand. argStart is
// the index of the source key; dstKey is set for ZRANGESTORE.
func zrangeGeneric(c *Client, args [][]byte, argStart int, dstKey []byte, kind, dir int) {
	store := dstKey != nil
	key := args[argStart]
	minIdx, maxIdx := argStart+1, argStart+2
	withScores := false
	var offset int64
	limit := int64(-1)
	for j := argStart + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case !store && equalFold(args[j], "withscores"):
			withScores = true
		case equalFold(args[j], "limit") && left >= 2:
			var ok bool
			if offset, ok = c.getInt(args[j+1]); !ok {
				return
			}
			if limit, ok = c.getInt(args[j+2]); !ok {
				return
			}
			j += 2
		case dir == zdirAuto && equalFold(args[j], "rev"):
			dir = zdirReverse
		case kind == zrangeAuto && equalFold(args[j], "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && equalFold(args[j], "byscore"):
			kind = zrangeScore
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	if dir == zdirAuto {
		dir = zdirForward
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	if limit != -1 && kind == zrangeRank {
		c.addError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && kind == zrangeLex {
		c.addError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	rev := dir == zdirReverse
	if rev && kind != zrangeRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var start, end int64
	var srange scoreRange
	var lrange lexRange
	var ok bool
	switch kind {
	case zrangeRank:
		if start, ok = c.getInt(args[minIdx]); !ok {
			return
		}
		if end, ok = c.getInt(args[maxIdx]); !ok {
			return
		}
	case zrangeScore:
		if srange, ok = c.parseScoreRange(args[minIdx], args[maxIdx]); !ok {
			return
		}
	case zrangeLex:
		if lrange, ok = c.parseLexRange(args[minIdx], args[maxIdx]); !ok {
			return
		}
	}
	h := &zrangeResult{c: c, store: store, dstKey: dstKey, withScores: withScores || store}
	z, _, ok := c.srv.readZset(c, key)
	if !ok {
		return
	}
	if z == nil {
		if store {
			h.begin(-1)
			h.finish(0)
		} else {
			c.addEmptyArray()
		}
		return
	}
	switch kind {
	case zrangeRank:
		zrangeByRank(h, z, start, end, rev)
	case zrangeScore:
		zrangeByScore(h, z, &srange, offset, limit, rev)
	case zrangeLex:
		zrangeByLex(h, z, &lrange, offset, limit, rev)
	}
}

// zrangeByRank emits ranks start..end (negative from the end), as Redis's
// genericZrangebyrankCommand.
func zrangeByRank(h *zrangeResult, z *zsetObject, start, end int64, rev bool) {
	llen := int64(z.Len())
	if start < 0 {
		start += llen
	}
	if end < 0 {
		end += llen
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= llen {
		h.begin(0)
		h.finish(0)
		return
	}
	if end >= llen {
		end = llen - 1
	}
	n := int(end - start + 1)
	h.begin(n)
	p := z.seek(int(start), rev)
	for i := 0; i < n; i++ {
		m, score := z.at(p)
		h.emit(m, score)
		p = z.step(p, rev)
	}
	h.finish(n)
}

// zrangeByScore emits the members in rg after skipping offset, at most
// limit of them (negative: no limit), as genericZrangebyscoreCommand. A
// negative offset skips everything, as Redis's "while (offset--)" does.
func zrangeByScore(h *zrangeResult, z *zsetObject, rg *scoreRange, offset, limit int64, rev bool) {
	h.begin(-1)
	if offset > 0 && offset >= int64(z.Len()) {
		h.finish(0)
		return
	}
	var p int
	if rev {
		p = z.lastInRange(rg)
	} else {
		p = z.firstInRange(rg)
	}
	for ; p >= 0 && offset != 0; offset-- {
		p = z.step(p, rev)
	}
	n := 0
	for ; p >= 0 && limit != 0; limit-- {
		m, score := z.at(p)
		if rev {
			if !rg.gteMin(score) {
				break
			}
		} else if !rg.lteMax(score) {
			break
		}
		n++
		h.emit(m, score)
		p = z.step(p, rev)
	}
	h.finish(n)
}

// zrangeByLex is zrangeByScore for lexicographic ranges
// (genericZrangebylexCommand, which has no early offset check).
func zrangeByLex(h *zrangeResult, z *zsetObject, rg *lexRange, offset, limit int64, rev bool) {
	h.begin(-1)
	var p int
	if rev {
		p = z.lastInLex(rg)
	} else {
		p = z.firstInLex(rg)
	}
	for ; p >= 0 && offset != 0; offset-- {
		p = z.step(p, rev)
	}
	n := 0
	for ; p >= 0 && limit != 0; limit-- {
		m, score := z.at(p)
		if rev {
			if !rg.gteMin(m) {
				break
			}
		} else if !rg.lteMax(m) {
			break
		}
		n++
		h.emit(m, score)
		p = z.step(p, rev)
	}
	h.finish(n)
}

// ---- ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX ----

func cmdZremrangebyrank(c *Client, args [][]byte)  { zremrangeGeneric(c, args, zrangeRank) }
func cmdZremrangebyscore(c *Client, args [][]byte) { zremrangeGeneric(c, args, zrangeScore) }
func cmdZremrangebylex(c *Client, args [][]byte)   { zremrangeGeneric(c, args, zrangeLex) }

// zremrangeGeneric is Redis's zremrangeGenericCommand.
func zremrangeGeneric(c *Client, args [][]byte, kind int) {
	s := c.srv
	key := args[1]
	var start, end int64
	var srange scoreRange
	var lrange lexRange
	var event string
	var ok bool
	switch kind {
	case zrangeRank:
		event = "zremrangebyrank"
		if start, ok = c.getInt(args[2]); !ok {
			return
		}
		if end, ok = c.getInt(args[3]); !ok {
			return
		}
	case zrangeScore:
		event = "zremrangebyscore"
		if srange, ok = c.parseScoreRange(args[2], args[3]); !ok {
			return
		}
	default:
		event = "zremrangebylex"
		if lrange, ok = c.parseLexRange(args[2], args[3]); !ok {
			return
		}
	}
	z, r, ok := s.writeZset(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.addInt(0)
		return
	}
	if kind == zrangeRank {
		llen := int64(z.Len())
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		if start < 0 {
			start = 0
		}
		if start > end || start >= llen {
			c.addInt(0)
			return
		}
		if end >= llen {
			end = llen - 1
		}
	}
	var deleted int
	switch kind {
	case zrangeRank:
		deleted = z.removeRangeByRank(int(start), int(end))
	case zrangeScore:
		deleted = z.removeRangeByScore(&srange)
	default:
		deleted = z.removeRangeByLex(&lrange)
	}
	keyRemoved := z.Len() == 0
	if keyRemoved {
		deleteZsetKey(c.db, r)
	}
	if deleted > 0 {
		s.signalModifiedKey(c.db, key)
		s.notify(c.db, notifyZset, event, key)
		if keyRemoved {
			s.notify(c.db, notifyGeneric, "del", key)
		}
	}
	s.dirty += int64(deleted)
	c.addInt(int64(deleted))
}

// ---- helpers shared by the files of the sorted set commands ----

// getRangeInt parses an integer in [min, max] as Redis's
// getRangeLongFromObjectOrReply: msg, when set, is the error for both a
// non-integer and an out-of-range value.
func (c *Client) getRangeInt(b []byte, min, max int64, msg string) (int64, bool) {
	v, ok := parseInt(b)
	if !ok {
		if msg != "" {
			c.addError("ERR " + msg)
		} else {
			c.addError(ErrNotInteger)
		}
		return 0, false
	}
	if v < min || v > max {
		if msg != "" {
			c.addError("ERR " + msg)
		} else {
			c.addError("ERR value is out of range, value must between " +
				string(formatInt(make([]byte, 0, 24), min)) + " and " +
				string(formatInt(make([]byte, 0, 24), max)))
		}
		return 0, false
	}
	return v, true
}

// getPositiveIntMsg is Redis's getPositiveLongFromObjectOrReply: a
// non-negative integer, with msg (or "value is out of range, must be
// positive") as the error for anything else.
func (c *Client) getPositiveIntMsg(b []byte, msg string) (int64, bool) {
	if msg == "" {
		msg = "value is out of range, must be positive"
	}
	return c.getRangeInt(b, 0, math.MaxInt64, msg)
}
