package commands

import (
	"math"
	"math/rand/v2"
	"sort"
	"unsafe"

	"spinel/commands/glob"
	"spinel/commands/keyspace"
)

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their ...STORE forms and ZINTERCARD, as Redis
// 7.0's zunionInterDiffGenericCommand; plain sets are accepted as inputs,
// every member scoring 1. Then ZRANDMEMBER and ZSCAN.
// ---------------------------------------------------------------------------

const (
	zsetOpUnion = iota
	zsetOpInter
	zsetOpDiff
)

const (
	aggrSum = iota
	aggrMin
	aggrMax
)

// zsetSrc is one input of a set operation: a sorted set or a set.
type zsetSrc struct {
	z      *zsetObject
	set    *setObject
	weight float64
}

func (s *zsetSrc) length() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.set != nil:
		return s.set.Len()
	}
	return 0
}

// same reports whether two inputs are the same value (the same key twice).
func (s *zsetSrc) same(o *zsetSrc) bool {
	return (s.z != nil && s.z == o.z) || (s.set != nil && s.set == o.set)
}

// each calls fn with every element. Sorted sets are walked from the highest
// score down, as Redis's zuiInitIterator does. The member bytes are only
// valid during the call.
func (s *zsetSrc) each(fn func(m []byte, score float64)) {
	switch {
	case s.z != nil:
		for p := s.z.tail(); p >= 0; p = s.z.prev(p) {
			m, score := s.z.at(p)
			fn(m, score)
		}
	case s.set != nil:
		s.set.each(func(m []byte) bool {
			fn(m, 1)
			return true
		})
	}
}

func (s *zsetSrc) find(m []byte) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.score(m)
	case s.set != nil:
		return 1, s.set.contains(m)
	}
	return 0, false
}

// aggregate folds val into target, as Redis's zunionInterAggregate: a sum
// of +inf and -inf is 0, and MIN/MAX ignore a NaN.
func aggregate(target *float64, val float64, aggr int) {
	switch aggr {
	case aggrSum:
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case aggrMin:
		if val < *target {
			*target = val
		}
	case aggrMax:
		if val > *target {
			*target = val
		}
	}
}

// zsetElem is one element of a computed result.
type zsetElem struct {
	member string
	score  float64
}

func cmdZunionstore(c *Client, args [][]byte) { zsetOpGeneric(c, args, args[1], 2, zsetOpUnion, false) }
func cmdZinterstore(c *Client, args [][]byte) { zsetOpGeneric(c, args, args[1], 2, zsetOpInter, false) }
func cmdZdiffstore(c *Client, args [][]byte)  { zsetOpGeneric(c, args, args[1], 2, zsetOpDiff, false) }
func cmdZunion(c *Client, args [][]byte)      { zsetOpGeneric(c, args, nil, 1, zsetOpUnion, false) }
func cmdZinter(c *Client, args [][]byte)      { zsetOpGeneric(c, args, nil, 1, zsetOpInter, false) }
func cmdZintercard(c *Client, args [][]byte)  { zsetOpGeneric(c, args, nil, 1, zsetOpInter, true) }
func cmdZdiff(c *Client, args [][]byte)       { zsetOpGeneric(c, args, nil, 1, zsetOpDiff, false) }

// zsetOpGeneric is Redis's zunionInterDiffGenericCommand.
func zsetOpGeneric(c *Client, args [][]byte, dstKey []byte, numkeysIdx, op int, cardOnly bool) {
	s := c.srv
	setnum, ok := c.getInt(args[numkeysIdx])
	if !ok {
		return
	}
	if setnum < 1 {
		c.addError("ERR at least 1 input key is needed for '" + c.cmd.FullName + "' command")
		return
	}
	if setnum > int64(len(args)-(numkeysIdx+1)) {
		c.addError(ErrSyntax)
		return
	}
	srcs := make([]zsetSrc, setnum)
	j := numkeysIdx + 1
	for i := range srcs {
		srcs[i].weight = 1
		r := s.lookupRead(c, args[j])
		j++
		if r == 0 {
			continue
		}
		switch c.db.kv.Type(r) {
		case keyspace.TypeZSet:
			srcs[i].z = c.db.kv.Object(r).(*zsetObject)
		case keyspace.TypeSet:
			srcs[i].set = c.db.kv.Object(r).(*setObject)
		default:
			c.addError(ErrWrongType)
			return
		}
	}
	aggr := aggrSum
	withScores := false
	var limit int64
	for remaining := len(args) - j; remaining > 0; remaining = len(args) - j {
		switch {
		case op != zsetOpDiff && !cardOnly && remaining >= len(srcs)+1 && equalFold(args[j], "weights"):
			j++
			for i := range srcs {
				if srcs[i].weight, ok = c.getScore(args[j], "weight value is not a float"); !ok {
					return
				}
				j++
			}
		case op != zsetOpDiff && !cardOnly && remaining >= 2 && equalFold(args[j], "aggregate"):
			switch {
			case equalFold(args[j+1], "sum"):
				aggr = aggrSum
			case equalFold(args[j+1], "min"):
				aggr = aggrMin
			case equalFold(args[j+1], "max"):
				aggr = aggrMax
			default:
				c.addError(ErrSyntax)
				return
			}
			j += 2
		case dstKey == nil && !cardOnly && equalFold(args[j], "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && equalFold(args[j], "limit"):
			if limit, ok = c.getPositiveIntMsg(args[j+1], "LIMIT can't be negative"); !ok {
				return
			}
			j += 2
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	if op != zsetOpDiff {
		// Smallest first (Redis uses qsort, which glibc implements as a
		// stable merge sort here): the order of the additions decides the
		// last bits of a SUM.
		sort.SliceStable(srcs, func(a, b int) bool { return srcs[a].length() < srcs[b].length() })
	}
	var result []zsetElem
	cardinality := int64(0)
	switch op {
	case zsetOpInter:
		if srcs[0].length() == 0 {
			break
		}
		stop := false
		srcs[0].each(func(m []byte, zscore float64) {
			if stop {
				return
			}
			score := srcs[0].weight * zscore
			if math.IsNaN(score) {
				score = 0
			}
			for k := 1; k < len(srcs); k++ {
				if srcs[k].same(&srcs[0]) {
					aggregate(&score, zscore*srcs[k].weight, aggr)
				} else if v, found := srcs[k].find(m); found {
					aggregate(&score, v*srcs[k].weight, aggr)
				} else {
					return
				}
			}
			if cardOnly {
				cardinality++
				if limit > 0 && cardinality >= limit {
					stop = true
				}
				return
			}
			result = append(result, zsetElem{string(m), score})
		})
	case zsetOpUnion:
		acc := make(map[string]int, srcs[len(srcs)-1].length())
		for i := range srcs {
			if srcs[i].length() == 0 {
				continue
			}
			w := srcs[i].weight
			srcs[i].each(func(m []byte, zscore float64) {
				score := w * zscore
				if math.IsNaN(score) {
					score = 0
				}
				if idx, found := acc[string(m)]; found {
					aggregate(&result[idx].score, score, aggr)
					return
				}
				acc[string(m)] = len(result)
				result = append(result, zsetElem{string(m), score})
			})
		}
	case zsetOpDiff:
		if srcs[0].length() == 0 {
			break
		}
		for k := 1; k < len(srcs); k++ {
			if srcs[k].same(&srcs[0]) {
				srcs[0] = zsetSrc{}
				break
			}
		}
		srcs[0].each(func(m []byte, zscore float64) {
			for k := 1; k < len(srcs); k++ {
				if _, found := srcs[k].find(m); found {
					return
				}
			}
			result = append(result, zsetElem{string(m), zscore})
		})
	}
	if cardOnly {
		c.addInt(cardinality)
		return
	}
	sort.Slice(result, func(a, b int) bool {
		x, y := &result[a], &result[b]
		return x.score < y.score || (x.score == y.score && x.member < y.member)
	})
	if dstKey != nil {
		if len(result) == 0 {
			c.addInt(0)
			s.deleteZsetStoreTarget(c.db, dstKey)
			return
		}
		s.storeZset(c.db, dstKey, buildZset(result, s.zsetLimits()))
		c.addInt(int64(len(result)))
		event := "zunionstore"
		switch op {
		case zsetOpInter:
			event = "zinterstore"
		case zsetOpDiff:
			event = "zdiffstore"
		}
		s.notify(c.db, notifyZset, event, dstKey)
		s.dirty++
		return
	}
	if withScores && c.resp == 2 {
		c.addArrayLen(2 * len(result))
	} else {
		c.addArrayLen(len(result))
	}
	for i := range result {
		c.addScoreMember(strBytesOf(result[i].member), result[i].score, withScores)
	}
}

// buildZset makes a sorted set of sorted elements in the encoding Redis
// ends up with for an ...STORE result: a skiplist converted back to a
// listpack when it fits (zsetConvertToListpackIfNeeded).
func buildZset(elems []zsetElem, lim zsetLimits) *zsetObject {
	maxLen := 0
	for i := range elems {
		maxLen = max(maxLen, len(elems[i].member))
	}
	if len(elems) <= lim.entries && maxLen <= lim.value {
		z := newZsetListpack()
		for i := range elems {
			z.lp = lpInsertAt(z.lp, len(z.lp), strBytesOf(elems[i].member), elems[i].score)
		}
		z.n = len(elems)
		return z
	}
	z := newZsetSkiplist(len(elems))
	for i := len(elems) - 1; i >= 0; i-- {
		z.sl.insert(elems[i].score, strBytesOf(elems[i].member))
	}
	return z
}

// strBytesOf returns the bytes of s without a copy; they must not be
// modified.
func strBytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// ---- ZRANDMEMBER ----

// zrandMaxReply bounds the reply of ZRANDMEMBER with a negative count, in
// estimated bytes. Redis builds whatever is asked and dies of OOM for a
// count such as -9223372036854775807; Spinel refuses instead.
const zrandMaxReply = 1 << 30

func cmdZrandmember(c *Client, args [][]byte) {
	if len(args) >= 3 {
		l, ok := c.getRangeInt(args[2], -math.MaxInt64, math.MaxInt64, "")
		if !ok {
			return
		}
		if len(args) > 4 || (len(args) == 4 && !equalFold(args[3], "withscores")) {
			c.addError(ErrSyntax)
			return
		}
		zrandmemberWithCount(c, args[1], l, len(args) == 4)
		return
	}
	z, _, ok := c.srv.readZset(c, args[1])
	if !ok {
		return
	}
	if z == nil {
		c.addNull()
		return
	}
	m, _ := z.random()
	c.addBulk(m)
}

// zrandmemberWithCount is Redis's zrandmemberWithCountCommand.
func zrandmemberWithCount(c *Client, key []byte, l int64, withScores bool) {
	z, _, ok := c.srv.readZset(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.addEmptyArray()
		return
	}
	size := int64(z.Len())
	count, uniq := l, true
	if l < 0 {
		count, uniq = -l, false
	}
	if count == 0 {
		c.addEmptyArray()
		return
	}
	replyLen := func(n int64) {
		if withScores && c.resp == 2 {
			c.addArrayLen(int(n * 2))
		} else {
			c.addArrayLen(int(n))
		}
	}
	// CASE 1: a negative count (or 1) samples the whole set every time.
	if !uniq || count == 1 {
		m, _ := z.random()
		if count > zrandMaxReply/int64(len(m)+48) {
			c.addError("ERR value is out of range, the reply would be too large")
			return
		}
		replyLen(count)
		for ; count > 0; count-- {
			m, score := z.random()
			c.addScoreMember(m, score, withScores)
		}
		return
	}
	replyLen(min(count, size))
	// CASE 2: the whole set, in the order Redis's iterator walks it (from
	// the highest score down).
	if count >= size {
		for p := z.tail(); p >= 0; p = z.prev(p) {
			m, score := z.at(p)
			c.addScoreMember(m, score, withScores)
		}
		return
	}
	// CASES 3 and 4: count distinct members in random order. Redis's order
	// here is its dict's, which is random too.
	ranks := make([]int, 0, count)
	if count*3 > size {
		perm := rand.Perm(int(size))
		ranks = append(ranks, perm[:count]...)
	} else {
		seen := make(map[int]struct{}, count)
		for int64(len(ranks)) < count {
			r := rand.IntN(int(size))
			if _, dup := seen[r]; dup {
				continue
			}
			seen[r] = struct{}{}
			ranks = append(ranks, r)
		}
	}
	for _, r := range ranks {
		m, score := z.at(z.seek(r, false))
		c.addScoreMember(m, score, withScores)
	}
}

// ---- ZSCAN ----

func cmdZscan(c *Client, args [][]byte) {
	s := c.srv
	cursor, ok := parseScanCursor(args[2])
	if !ok {
		c.addError(ErrInvalidCursor)
		return
	}
	z, _, ok := s.readZset(c, args[1])
	if !ok {
		return
	}
	if z == nil {
		c.addRawString("*2\r\n$1\r\n0\r\n*0\r\n")
		return
	}
	opts, ok := c.parseScanOptions(args, 3, false)
	if !ok {
		return
	}
	var found []int // positions
	if z.sl == nil {
		// A listpack is returned whole, with cursor 0, whatever COUNT says.
		for p := z.head(); p >= 0; p = z.next(p) {
			found = append(found, p)
		}
		cursor = 0
	} else {
		// As Redis's scanGenericCommand, COUNT is compared with the length
		// of the reply list, which holds both members and scores.
		maxIter := opts.count * 10
		for {
			cursor = z.sl.scan(cursor, func(x uint32) { found = append(found, int(x)) })
			maxIter--
			if cursor == 0 || maxIter <= 0 || int64(2*len(found)) >= opts.count {
				break
			}
		}
	}
	c.addArrayLen(2)
	var buf [32]byte
	c.addBulk(formatUint(buf[:], cursor))
	pos := c.deferLen()
	n := 0
	for _, p := range found {
		m, score := z.at(p)
		if opts.pattern != nil && !glob.Match(opts.pattern, m, false) {
			continue
		}
		c.addBulk(m)
		c.addBulk(z.formatScanScore(buf[:0], score))
		n += 2
	}
	c.setDeferredArrayLen(pos, n)
}
