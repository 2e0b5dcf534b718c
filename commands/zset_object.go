package commands

import (
	"math"
	"math/rand/v2"

	"spinel/eventloop/resp"
)

// ---------------------------------------------------------------------------
// zsetObject is the value of a sorted set key, in one of two encodings as in
// Redis (t_zset.c): the compact one (lp, "listpack") while the set has at
// most zset-max-listpack-entries members of at most zset-max-listpack-value
// bytes, the skiplist beyond (sl, "skiplist"). A set converts exactly when
// Redis's would, and like Redis 7.0 never converts back, except for the
// results of ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE, which pick their encoding
// by size (zsetConvertToListpackIfNeeded).
//
// Elements are addressed by positions: a byte offset in lp, a node index in
// sl, and -1 for "none". A position stays valid until the set is modified.
// ---------------------------------------------------------------------------

type zsetObject struct {
	lp []byte // compact encoding; used while sl is nil
	n  int    // entries in lp
	sl *zskiplist
}

// zsetLimits are the conversion thresholds, from the config.
type zsetLimits struct {
	entries, value int
}

func (s *Server) zsetLimits() zsetLimits {
	return zsetLimits{s.cfg.ZsetMaxListpackEntries, s.cfg.ZsetMaxListpackValue}
}

func newZsetListpack() *zsetObject { return &zsetObject{} }

func newZsetSkiplist(hint int) *zsetObject { return &zsetObject{sl: newSkiplist(hint)} }

// Encoding implements Object.
func (z *zsetObject) Encoding() string {
	if z.sl != nil {
		return "skiplist"
	}
	return "listpack"
}

// Len implements Object.
func (z *zsetObject) Len() int {
	if z.sl != nil {
		return z.sl.length
	}
	return z.n
}

// Copy implements Object: the copy keeps the encoding, as Redis's zsetDup.
func (z *zsetObject) Copy() Object {
	if z.sl != nil {
		return &zsetObject{sl: z.sl.clone()}
	}
	return &zsetObject{lp: append([]byte(nil), z.lp...), n: z.n}
}

// MemoryUsage implements Object.
func (z *zsetObject) MemoryUsage() int64 {
	if z.sl != nil {
		return 48 + z.sl.memoryUsage()
	}
	return 48 + int64(cap(z.lp))
}

// Rewrite implements Object as Redis's rewriteSortedSetObject: ZADD key
// score member ... with at most 64 pairs per command, scores as "%.17g".
func (z *zsetObject) Rewrite(key []byte, emit func(argv [][]byte)) {
	const perCmd = 64
	argv := make([][]byte, 2, 2+2*perCmd)
	argv[0], argv[1] = []byte("ZADD"), key
	for p := z.head(); p >= 0; p = z.next(p) {
		m, score := z.at(p)
		argv = append(argv, resp.AppendFloat(nil, score), m)
		if len(argv) == cap(argv) {
			emit(argv)
			argv = argv[:2]
		}
	}
	if len(argv) > 2 {
		emit(argv)
	}
}

// ---- positions ----

func (z *zsetObject) head() int {
	if z.sl != nil {
		if f := z.sl.first(); f != 0 {
			return int(f)
		}
		return -1
	}
	if len(z.lp) == 0 {
		return -1
	}
	return 0
}

func (z *zsetObject) tail() int {
	if z.sl != nil {
		if z.sl.length == 0 {
			return -1
		}
		return int(z.sl.tail)
	}
	return lpPrev(z.lp, len(z.lp))
}

func (z *zsetObject) next(p int) int {
	if z.sl != nil {
		if f := z.sl.fwd(uint32(p)); f != 0 {
			return int(f)
		}
		return -1
	}
	return lpNext(z.lp, p)
}

func (z *zsetObject) prev(p int) int {
	if z.sl != nil {
		if b := z.sl.nodes[p].back; b != 0 {
			return int(b)
		}
		return -1
	}
	return lpPrev(z.lp, p)
}

// step moves one element forward, or backward when rev.
func (z *zsetObject) step(p int, rev bool) int {
	if rev {
		return z.prev(p)
	}
	return z.next(p)
}

// at returns the member and score at p. The member aliases the set.
func (z *zsetObject) at(p int) ([]byte, float64) {
	if z.sl != nil {
		return z.sl.member(uint32(p)), z.sl.nodes[p].score
	}
	m, s, _ := lpEntry(z.lp, p)
	return m, s
}

// seek returns the position of 0-based rank r (0 <= r < Len), or of the
// r-th element from the end when rev.
func (z *zsetObject) seek(r int, rev bool) int {
	if rev {
		r = z.Len() - 1 - r
	}
	if z.sl != nil {
		return int(z.sl.byRank(r + 1))
	}
	if r > z.n/2 {
		p := z.tail()
		for i := z.n - 1; i > r; i-- {
			p = lpPrev(z.lp, p)
		}
		return p
	}
	p := 0
	for ; r > 0; r-- {
		p = lpNext(z.lp, p)
	}
	return p
}

// ---- lookups ----

// score returns member's score.
func (z *zsetObject) score(member []byte) (float64, bool) {
	if z.sl != nil {
		x := z.sl.find(member)
		if x == 0 {
			return 0, false
		}
		return z.sl.nodes[x].score, true
	}
	off, score := lpFind(z.lp, member)
	return score, off >= 0
}

// rank returns member's 0-based rank, from the highest score when rev.
func (z *zsetObject) rank(member []byte, rev bool) (int, bool) {
	var r int
	if z.sl != nil {
		x := z.sl.find(member)
		if x == 0 {
			return 0, false
		}
		r = z.sl.rank(x) - 1
	} else {
		r = -1
		i := 0
		for off := 0; off < len(z.lp); i++ {
			m, _, next := lpEntry(z.lp, off)
			if string(m) == string(member) {
				r = i
				break
			}
			off = next
		}
		if r < 0 {
			return 0, false
		}
	}
	if rev {
		r = z.Len() - 1 - r
	}
	return r, true
}

// firstInRange and the three functions below return the first or last
// position whose score (member) is in the range, or -1.
func (z *zsetObject) firstInRange(rg *scoreRange) int {
	if z.sl != nil {
		return nodePos(z.sl.firstInRange(rg))
	}
	if rg.empty() {
		return -1
	}
	for off := 0; off < len(z.lp); {
		_, s, next := lpEntry(z.lp, off)
		if rg.gteMin(s) {
			if rg.lteMax(s) {
				return off
			}
			return -1
		}
		off = next
	}
	return -1
}

func (z *zsetObject) lastInRange(rg *scoreRange) int {
	if z.sl != nil {
		return nodePos(z.sl.lastInRange(rg))
	}
	if rg.empty() {
		return -1
	}
	for off := z.tail(); off >= 0; off = lpPrev(z.lp, off) {
		_, s, _ := lpEntry(z.lp, off)
		if rg.lteMax(s) {
			if rg.gteMin(s) {
				return off
			}
			return -1
		}
	}
	return -1
}

func (z *zsetObject) firstInLex(rg *lexRange) int {
	if z.sl != nil {
		return nodePos(z.sl.firstInLex(rg))
	}
	if !z.lpInLex(rg) {
		return -1
	}
	for off := z.head(); off >= 0; off = lpNext(z.lp, off) {
		m := lpMember(z.lp, off)
		if rg.gteMin(m) {
			if rg.lteMax(m) {
				return off
			}
			return -1
		}
	}
	return -1
}

func (z *zsetObject) lastInLex(rg *lexRange) int {
	if z.sl != nil {
		return nodePos(z.sl.lastInLex(rg))
	}
	if !z.lpInLex(rg) {
		return -1
	}
	for off := z.tail(); off >= 0; off = lpPrev(z.lp, off) {
		m := lpMember(z.lp, off)
		if rg.lteMax(m) {
			if rg.gteMin(m) {
				return off
			}
			return -1
		}
	}
	return -1
}

// lpInLex is Redis's zzlIsInLexRange: whether the range can hold anything,
// judged by the last member against min and the first against max. The
// members are only in lexicographic order when all scores are equal; when
// they are not, this check decides the result as it does in Redis.
func (z *zsetObject) lpInLex(rg *lexRange) bool {
	if rg.empty() || len(z.lp) == 0 {
		return false
	}
	return rg.gteMin(lpMember(z.lp, z.tail())) && rg.lteMax(lpMember(z.lp, 0))
}

func nodePos(x uint32) int {
	if x == 0 {
		return -1
	}
	return int(x)
}

// countInRange counts the members whose score is in rg (ZCOUNT).
func (z *zsetObject) countInRange(rg *scoreRange) int {
	p := z.firstInRange(rg)
	if p < 0 {
		return 0
	}
	if z.sl != nil {
		last := z.sl.lastInRange(rg)
		return z.sl.rank(last) - z.sl.rank(uint32(p)) + 1
	}
	n := 0
	for ; p >= 0; p = lpNext(z.lp, p) {
		_, s, _ := lpEntry(z.lp, p)
		if !rg.lteMax(s) {
			break
		}
		n++
	}
	return n
}

// countInLex counts the members in rg (ZLEXCOUNT).
func (z *zsetObject) countInLex(rg *lexRange) int {
	p := z.firstInLex(rg)
	if p < 0 {
		return 0
	}
	if z.sl != nil {
		last := z.sl.lastInLex(rg)
		return z.sl.rank(last) - z.sl.rank(uint32(p)) + 1
	}
	n := 0
	for ; p >= 0; p = lpNext(z.lp, p) {
		if !rg.lteMax(lpMember(z.lp, p)) {
			break
		}
		n++
	}
	return n
}

// random returns a member and its score chosen uniformly.
func (z *zsetObject) random() ([]byte, float64) {
	if z.sl != nil {
		x := z.sl.random()
		return z.sl.member(x), z.sl.nodes[x].score
	}
	return z.at(z.seek(rand.IntN(z.n), false))
}

// ---- modifications ----

// ZADD input flags (ZADD_IN_*) and output flags (ZADD_OUT_*).
const (
	zaddIncr = 1 << iota
	zaddNX
	zaddXX
	zaddGT
	zaddLT
)

const (
	zaddOutNaN = 1 << iota
	zaddOutAdded
	zaddOutUpdated
	zaddOutNop
)

// add adds member or updates its score, as Redis's zsetAdd, converting to
// the skiplist encoding when the new member would pass the limits. It
// returns the out flags and the member's resulting score; zaddOutNaN alone
// means the increment produced NaN and nothing changed.
func (z *zsetObject) add(score float64, member []byte, flags int, lim zsetLimits) (int, float64) {
	incr := flags&zaddIncr != 0
	nx, xx := flags&zaddNX != 0, flags&zaddXX != 0
	gt, lt := flags&zaddGT != 0, flags&zaddLT != 0
	if math.IsNaN(score) {
		return zaddOutNaN, 0
	}
	// update applies the NX/INCR/GT/LT rules to an existing member.
	update := func(cur float64) (int, float64, bool) {
		if nx {
			return zaddOutNop, cur, false
		}
		if incr {
			score += cur
			if math.IsNaN(score) {
				return zaddOutNaN, 0, false
			}
		}
		if (lt && score >= cur) || (gt && score <= cur) {
			return zaddOutNop, cur, false
		}
		return 0, score, score != cur
	}
	if z.sl == nil {
		if off, cur := lpFind(z.lp, member); off >= 0 {
			out, newScore, change := update(cur)
			if change {
				z.lp = lpDelete(z.lp, off)
				z.lp = lpInsert(z.lp, member, newScore)
				out |= zaddOutUpdated
			}
			return out, newScore
		}
		if xx {
			return zaddOutNop, 0
		}
		if z.n+1 <= lim.entries && len(member) <= lim.value {
			z.lp = lpInsert(z.lp, member, score)
			z.n++
			return zaddOutAdded, score
		}
		z.convertToSkiplist(z.n + 1)
	}
	if x := z.sl.find(member); x != 0 {
		out, newScore, change := update(z.sl.nodes[x].score)
		if change {
			z.sl.updateScore(x, newScore)
			out |= zaddOutUpdated
		}
		return out, newScore
	}
	if xx {
		return zaddOutNop, 0
	}
	z.sl.insert(score, member)
	return zaddOutAdded, score
}

// convertToSkiplist switches to the skiplist encoding (zsetConvert).
func (z *zsetObject) convertToSkiplist(hint int) {
	sl := newSkiplist(max(hint, z.n))
	sl.mem = make([]byte, 0, len(z.lp))
	// Insert from the tail so that every insertion stops at the header.
	for off := z.tail(); off >= 0; off = lpPrev(z.lp, off) {
		m, s, _ := lpEntry(z.lp, off)
		sl.insert(s, m)
	}
	z.sl, z.lp, z.n = sl, nil, 0
}

// convertToListpackIfNeeded switches a skiplist result back to the compact
// encoding when it fits, as Redis's zsetConvertToListpackIfNeeded (used for
// the ...STORE results of ZUNION, ZINTER and ZDIFF).
func (z *zsetObject) convertToListpackIfNeeded(maxLen int, lim zsetLimits) {
	if z.sl == nil || z.sl.length > lim.entries || maxLen > lim.value {
		return
	}
	var lp []byte
	for x := z.sl.first(); x != 0; x = z.sl.fwd(x) {
		lp = lpInsertAt(lp, len(lp), z.sl.member(x), z.sl.nodes[x].score)
	}
	z.lp, z.n, z.sl = lp, z.sl.length, nil
}

// remove deletes member and reports whether it was there.
func (z *zsetObject) remove(member []byte) bool {
	if z.sl != nil {
		x := z.sl.find(member)
		if x == 0 {
			return false
		}
		z.sl.remove(x)
		z.sl = z.sl.compacted()
		return true
	}
	off, _ := lpFind(z.lp, member)
	if off < 0 {
		return false
	}
	z.lp = lpDelete(z.lp, off)
	z.n--
	return true
}

// removeAt deletes the element at position p.
func (z *zsetObject) removeAt(p int) {
	if z.sl != nil {
		z.sl.remove(uint32(p))
		z.sl = z.sl.compacted()
		return
	}
	z.lp = lpDelete(z.lp, p)
	z.n--
}

// removeRangeByRank deletes the 0-based ranks start..end (valid, inclusive).
func (z *zsetObject) removeRangeByRank(start, end int) int {
	if z.sl != nil {
		n := z.sl.deleteRangeByRank(start+1, end+1)
		z.sl = z.sl.compacted()
		return n
	}
	from := z.seek(start, false)
	to := from
	for i := start; i <= end; i++ {
		_, _, to = lpEntry(z.lp, to)
	}
	z.lp = lpDeleteRange(z.lp, from, to)
	z.n -= end - start + 1
	return end - start + 1
}

// removeRangeByScore deletes the members whose score is in rg.
func (z *zsetObject) removeRangeByScore(rg *scoreRange) int {
	if z.sl != nil {
		n := z.sl.deleteRangeByScore(rg)
		z.sl = z.sl.compacted()
		return n
	}
	from := z.firstInRange(rg)
	if from < 0 {
		return 0
	}
	to, n := from, 0
	for to < len(z.lp) {
		_, s, next := lpEntry(z.lp, to)
		if !rg.lteMax(s) {
			break
		}
		to = next
		n++
	}
	z.lp = lpDeleteRange(z.lp, from, to)
	z.n -= n
	return n
}

// removeRangeByLex deletes the members in rg.
func (z *zsetObject) removeRangeByLex(rg *lexRange) int {
	if z.sl != nil {
		n := z.sl.deleteRangeByLex(rg)
		z.sl = z.sl.compacted()
		return n
	}
	from := z.firstInLex(rg)
	if from < 0 {
		return 0
	}
	to, n := from, 0
	for to < len(z.lp) {
		m, _, next := lpEntry(z.lp, to)
		if !rg.lteMax(m) {
			break
		}
		to = next
		n++
	}
	z.lp = lpDeleteRange(z.lp, from, to)
	z.n -= n
	return n
}

// formatScanScore formats a score as ZSCAN shows it. A listpack stores an
// integral score of at most 2^62 in magnitude as an integer (double2ll) and
// ZSCAN prints it as one, e.g. "1152921504606846976"; otherwise, and for
// every skiplist score, it prints "%.17g" ("1.152921504606847e+18").
func (z *zsetObject) formatScanScore(buf []byte, score float64) []byte {
	if z.sl == nil && score == math.Trunc(score) && math.Abs(score) <= 1<<62 {
		return formatInt(buf, int64(score))
	}
	return resp.AppendFloat(buf[:0], score)
}
