package commands

import (
	"bytes"
	"math/bits"
	"math/rand/v2"

	"spinel/commands/keyspace"
)

// ---------------------------------------------------------------------------
// zskiplist: the large encoding of a sorted set ("skiplist" in OBJECT
// ENCODING). It is Redis's skiplist (Pugh's algorithm with repeated scores,
// ordering by (score, member), spans for O(log n) ranks and a backward link at
// level 0) joined with a chained hash table from member to node for O(1)
// score lookups and ZSCAN's reverse-binary cursor.
//
// Nothing in it holds a Go pointer: nodes live in one slice and are named by
// their index (0 is the header), their levels live in a second slice, member
// bytes in a third and the hash buckets in a fourth. A sorted set of a
// million members is four allocations the garbage collector never has to
// scan, instead of millions of small objects. Freed nodes and level runs are
// reused; member bytes of deleted nodes are reclaimed by rebuilding the
// structure once they are more than half of the buffer.
//
// The members of one sorted set may total at most 4 GiB (uint32 offsets).
// ---------------------------------------------------------------------------

const (
	zslMaxLevel = 32 // ZSKIPLIST_MAXLEVEL
	// zslP is ZSKIPLIST_P (0.25) as a threshold on a 32-bit random number.
	zslPThreshold = 1 << 30
)

type zslLevel struct {
	fwd  uint32 // next node at this level; 0 ends the list
	span uint32 // level-0 steps to fwd
}

type zslNode struct {
	score float64
	moff  uint32 // member bytes: mem[moff : moff+mlen]
	mlen  uint32
	back  uint32 // previous node at level 0; 0 when first
	hnext uint32 // next node in the hash bucket (or in the free list)
	hash  uint32
	lvl   uint32 // index of the node's level 0 in levels
	nlvl  uint32 // number of levels
}

type zskiplist struct {
	nodes    []zslNode
	levels   []zslLevel
	mem      []byte
	buckets  []uint32 // hash table heads; len is a power of two
	tail     uint32
	level    int // levels in use by the header
	length   int
	dead     int    // bytes of mem owned by no node
	freeNode uint32 // first reusable node index, chained through hnext
	// freeLvl[n] is 1 + the index of a free run of n levels, chained through
	// the run's first fwd (also stored +1); 0 when there is none.
	freeLvl [zslMaxLevel + 1]uint32
}

// newSkiplist returns an empty skiplist sized for about hint members.
func newSkiplist(hint int) *zskiplist {
	hint = max(hint, 4)
	zs := &zskiplist{
		nodes:   make([]zslNode, 1, hint+1),
		levels:  make([]zslLevel, zslMaxLevel, zslMaxLevel+hint+hint/3+1),
		buckets: make([]uint32, nextPow2(hint)),
		level:   1,
	}
	zs.nodes[0] = zslNode{nlvl: zslMaxLevel}
	return zs
}

func nextPow2(n int) int {
	if n <= 4 {
		return 4
	}
	return 1 << bits.Len(uint(n-1))
}

func zslRandomLevel() int {
	level := 1
	for rand.Uint32() < zslPThreshold && level < zslMaxLevel {
		level++
	}
	return level
}

func (zs *zskiplist) lv(x uint32, i int) *zslLevel { return &zs.levels[zs.nodes[x].lvl+uint32(i)] }

func (zs *zskiplist) fwd(x uint32) uint32 { return zs.levels[zs.nodes[x].lvl].fwd }

func (zs *zskiplist) member(x uint32) []byte {
	n := &zs.nodes[x]
	return zs.mem[n.moff : n.moff+n.mlen : n.moff+n.mlen]
}

func (zs *zskiplist) first() uint32 { return zs.levels[0].fwd }

// before reports whether node x sorts before (score, member).
func (zs *zskiplist) before(x uint32, score float64, member []byte) bool {
	s := zs.nodes[x].score
	return s < score || (s == score && bytes.Compare(zs.member(x), member) < 0)
}

// allocNode takes a node slot with n levels for (score, member bytes at
// moff). The slices may move: callers must not hold element pointers.
func (zs *zskiplist) allocNode(n int, score float64, moff, mlen, hash uint32) uint32 {
	var lvl uint32
	if head := zs.freeLvl[n]; head != 0 {
		lvl = head - 1
		zs.freeLvl[n] = zs.levels[lvl].fwd
	} else {
		lvl = uint32(len(zs.levels))
		for range n {
			zs.levels = append(zs.levels, zslLevel{})
		}
	}
	clear(zs.levels[lvl : lvl+uint32(n)])
	node := zslNode{score: score, moff: moff, mlen: mlen, hash: hash, lvl: lvl, nlvl: uint32(n)}
	if x := zs.freeNode; x != 0 {
		zs.freeNode = zs.nodes[x].hnext
		zs.nodes[x] = node
		return x
	}
	zs.nodes = append(zs.nodes, node)
	return uint32(len(zs.nodes) - 1)
}

func (zs *zskiplist) freeNodeSlot(x uint32) {
	n := &zs.nodes[x]
	zs.dead += int(n.mlen)
	zs.levels[n.lvl].fwd = zs.freeLvl[n.nlvl]
	zs.freeLvl[n.nlvl] = n.lvl + 1
	*n = zslNode{hnext: zs.freeNode}
	zs.freeNode = x
}

// insert adds a member that is not in the set yet and returns its node.
func (zs *zskiplist) insert(score float64, member []byte) uint32 {
	moff := uint32(len(zs.mem))
	zs.mem = append(zs.mem, member...)
	x := zs.allocNode(zslRandomLevel(), score, moff, uint32(len(member)), keyspace.Hash(member))
	zs.link(x)
	zs.hashAdd(x)
	return x
}

// link threads node x into the skiplist at the place of its (score,
// member), as Redis's zslInsert.
func (zs *zskiplist) link(x uint32) {
	var update [zslMaxLevel]uint32
	var rank [zslMaxLevel]uint32
	score, member := zs.nodes[x].score, zs.member(x)
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		if i < zs.level-1 {
			rank[i] = rank[i+1]
		}
		for {
			l := zs.lv(p, i)
			if l.fwd == 0 || !zs.before(l.fwd, score, member) {
				break
			}
			rank[i] += l.span
			p = l.fwd
		}
		update[i] = p
	}
	level := int(zs.nodes[x].nlvl)
	if level > zs.level {
		for i := zs.level; i < level; i++ {
			rank[i] = 0
			update[i] = 0
			zs.lv(0, i).span = uint32(zs.length)
		}
		zs.level = level
	}
	for i := 0; i < level; i++ {
		ul, xl := zs.lv(update[i], i), zs.lv(x, i)
		xl.fwd = ul.fwd
		ul.fwd = x
		xl.span = ul.span - (rank[0] - rank[i])
		ul.span = rank[0] - rank[i] + 1
	}
	for i := level; i < zs.level; i++ {
		zs.lv(update[i], i).span++
	}
	zs.nodes[x].back = update[0]
	if f := zs.fwd(x); f != 0 {
		zs.nodes[f].back = x
	} else {
		zs.tail = x
	}
	zs.length++
}

// findUpdate fills update with the last node before (score, member) at
// every level, and returns the level-0 successor of that position.
func (zs *zskiplist) findUpdate(score float64, member []byte, update *[zslMaxLevel]uint32) uint32 {
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			f := zs.lv(p, i).fwd
			if f == 0 || !zs.before(f, score, member) {
				break
			}
			p = f
		}
		update[i] = p
	}
	return zs.fwd(p)
}

// unlink removes node x from the skiplist (not from the hash), as Redis's
// zslDeleteNode.
func (zs *zskiplist) unlink(x uint32, update *[zslMaxLevel]uint32) {
	for i := 0; i < zs.level; i++ {
		ul := zs.lv(update[i], i)
		if ul.fwd == x {
			xl := zs.lv(x, i)
			ul.span += xl.span - 1
			ul.fwd = xl.fwd
		} else {
			ul.span--
		}
	}
	if f := zs.fwd(x); f != 0 {
		zs.nodes[f].back = zs.nodes[x].back
	} else {
		zs.tail = zs.nodes[x].back
	}
	for zs.level > 1 && zs.lv(0, zs.level-1).fwd == 0 {
		zs.level--
	}
	zs.length--
}

// remove deletes node x entirely.
func (zs *zskiplist) remove(x uint32) {
	var update [zslMaxLevel]uint32
	zs.findUpdate(zs.nodes[x].score, zs.member(x), &update)
	zs.unlink(x, &update)
	zs.hashRemove(x)
	zs.freeNodeSlot(x)
}

// updateScore moves node x to newScore, in place when its position does not
// change, as Redis's zslUpdateScore.
func (zs *zskiplist) updateScore(x uint32, newScore float64) {
	back, f := zs.nodes[x].back, zs.fwd(x)
	if (back == 0 || zs.nodes[back].score < newScore) && (f == 0 || zs.nodes[f].score > newScore) {
		zs.nodes[x].score = newScore
		return
	}
	var update [zslMaxLevel]uint32
	zs.findUpdate(zs.nodes[x].score, zs.member(x), &update)
	zs.unlink(x, &update)
	zs.nodes[x].score = newScore
	zs.link(x)
}

// rank returns the 1-based rank of node x.
func (zs *zskiplist) rank(x uint32) int {
	score, member := zs.nodes[x].score, zs.member(x)
	rank := 0
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			l := zs.lv(p, i)
			f := l.fwd
			if f == 0 {
				break
			}
			s := zs.nodes[f].score
			if s > score || (s == score && bytes.Compare(zs.member(f), member) > 0) {
				break
			}
			rank += int(l.span)
			p = f
		}
		if p == x {
			return rank
		}
	}
	return 0
}

// byRank returns the node of 1-based rank r, or 0.
func (zs *zskiplist) byRank(r int) uint32 {
	traversed := 0
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			l := zs.lv(p, i)
			if l.fwd == 0 || traversed+int(l.span) > r {
				break
			}
			traversed += int(l.span)
			p = l.fwd
		}
		if traversed == r {
			return p
		}
	}
	return 0
}

// firstInRange returns the first node whose score is in rg, or 0.
func (zs *zskiplist) firstInRange(rg *scoreRange) uint32 {
	if rg.empty() || zs.length == 0 || !rg.gteMin(zs.nodes[zs.tail].score) || !rg.lteMax(zs.nodes[zs.first()].score) {
		return 0
	}
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			f := zs.lv(p, i).fwd
			if f == 0 || rg.gteMin(zs.nodes[f].score) {
				break
			}
			p = f
		}
	}
	p = zs.fwd(p)
	if p == 0 || !rg.lteMax(zs.nodes[p].score) {
		return 0
	}
	return p
}

// lastInRange returns the last node whose score is in rg, or 0.
func (zs *zskiplist) lastInRange(rg *scoreRange) uint32 {
	if rg.empty() || zs.length == 0 || !rg.gteMin(zs.nodes[zs.tail].score) || !rg.lteMax(zs.nodes[zs.first()].score) {
		return 0
	}
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			f := zs.lv(p, i).fwd
			if f == 0 || !rg.lteMax(zs.nodes[f].score) {
				break
			}
			p = f
		}
	}
	if p == 0 || !rg.gteMin(zs.nodes[p].score) {
		return 0
	}
	return p
}

// firstInLex returns the first node whose member is in rg, or 0.
func (zs *zskiplist) firstInLex(rg *lexRange) uint32 {
	if rg.empty() || zs.length == 0 || !rg.gteMin(zs.member(zs.tail)) || !rg.lteMax(zs.member(zs.first())) {
		return 0
	}
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			f := zs.lv(p, i).fwd
			if f == 0 || rg.gteMin(zs.member(f)) {
				break
			}
			p = f
		}
	}
	p = zs.fwd(p)
	if p == 0 || !rg.lteMax(zs.member(p)) {
		return 0
	}
	return p
}

// lastInLex returns the last node whose member is in rg, or 0.
func (zs *zskiplist) lastInLex(rg *lexRange) uint32 {
	if rg.empty() || zs.length == 0 || !rg.gteMin(zs.member(zs.tail)) || !rg.lteMax(zs.member(zs.first())) {
		return 0
	}
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			f := zs.lv(p, i).fwd
			if f == 0 || !rg.lteMax(zs.member(f)) {
				break
			}
			p = f
		}
	}
	if p == 0 || !rg.gteMin(zs.member(p)) {
		return 0
	}
	return p
}

// deleteRange removes the run of nodes starting at the level-0 successor
// of the update path while in(node) holds, and returns how many went.
func (zs *zskiplist) deleteRun(update *[zslMaxLevel]uint32, x uint32, in func(x uint32) bool) int {
	removed := 0
	for x != 0 && in(x) {
		next := zs.fwd(x)
		zs.unlink(x, update)
		zs.hashRemove(x)
		zs.freeNodeSlot(x)
		removed++
		x = next
	}
	return removed
}

// deleteRangeByScore removes the nodes whose score is in rg.
func (zs *zskiplist) deleteRangeByScore(rg *scoreRange) int {
	var update [zslMaxLevel]uint32
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			f := zs.lv(p, i).fwd
			if f == 0 || rg.gteMin(zs.nodes[f].score) {
				break
			}
			p = f
		}
		update[i] = p
	}
	return zs.deleteRun(&update, zs.fwd(p), func(x uint32) bool { return rg.lteMax(zs.nodes[x].score) })
}

// deleteRangeByLex removes the nodes whose member is in rg.
func (zs *zskiplist) deleteRangeByLex(rg *lexRange) int {
	var update [zslMaxLevel]uint32
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			f := zs.lv(p, i).fwd
			if f == 0 || rg.gteMin(zs.member(f)) {
				break
			}
			p = f
		}
		update[i] = p
	}
	return zs.deleteRun(&update, zs.fwd(p), func(x uint32) bool { return rg.lteMax(zs.member(x)) })
}

// deleteRangeByRank removes the nodes of 1-based ranks start..end.
func (zs *zskiplist) deleteRangeByRank(start, end int) int {
	var update [zslMaxLevel]uint32
	traversed := 0
	p := uint32(0)
	for i := zs.level - 1; i >= 0; i-- {
		for {
			l := zs.lv(p, i)
			if l.fwd == 0 || traversed+int(l.span) >= start {
				break
			}
			traversed += int(l.span)
			p = l.fwd
		}
		update[i] = p
	}
	rank := traversed + 1
	return zs.deleteRun(&update, zs.fwd(p), func(uint32) bool {
		ok := rank <= end
		rank++
		return ok
	})
}

// ---- hash table ----

func (zs *zskiplist) find(member []byte) uint32 {
	h := keyspace.Hash(member)
	for x := zs.buckets[h&uint32(len(zs.buckets)-1)]; x != 0; x = zs.nodes[x].hnext {
		if zs.nodes[x].hash == h && bytes.Equal(zs.member(x), member) {
			return x
		}
	}
	return 0
}

func (zs *zskiplist) hashAdd(x uint32) {
	if zs.length > len(zs.buckets) {
		zs.rehash(len(zs.buckets) * 2)
	}
	b := zs.nodes[x].hash & uint32(len(zs.buckets)-1)
	zs.nodes[x].hnext = zs.buckets[b]
	zs.buckets[b] = x
}

func (zs *zskiplist) hashRemove(x uint32) {
	b := zs.nodes[x].hash & uint32(len(zs.buckets)-1)
	if zs.buckets[b] == x {
		zs.buckets[b] = zs.nodes[x].hnext
		return
	}
	for p := zs.buckets[b]; p != 0; p = zs.nodes[p].hnext {
		if zs.nodes[p].hnext == x {
			zs.nodes[p].hnext = zs.nodes[x].hnext
			return
		}
	}
}

// rehash moves every node into a table of n buckets.
func (zs *zskiplist) rehash(n int) {
	old := zs.buckets
	zs.buckets = make([]uint32, n)
	mask := uint32(n - 1)
	for _, head := range old {
		for x := head; x != 0; {
			next := zs.nodes[x].hnext
			b := zs.nodes[x].hash & mask
			zs.nodes[x].hnext = zs.buckets[b]
			zs.buckets[b] = x
			x = next
		}
	}
}

// scan visits the nodes of one bucket for SCAN's reverse-binary cursor and
// returns the next cursor, as Redis's dictScan on a table that is not
// rehashing: every member present for the whole iteration is returned at
// least once, even across resizes.
func (zs *zskiplist) scan(cursor uint64, fn func(x uint32)) uint64 {
	m := uint64(len(zs.buckets) - 1)
	for x := zs.buckets[cursor&m]; x != 0; x = zs.nodes[x].hnext {
		fn(x)
	}
	cursor |= ^m
	cursor = bits.Reverse64(cursor)
	cursor++
	return bits.Reverse64(cursor)
}

// random returns a node chosen uniformly (Redis's dictGetFairRandomKey).
func (zs *zskiplist) random() uint32 { return zs.byRank(1 + rand.IntN(zs.length)) }

// compacted returns zs, or a rebuilt copy when deletions left most of its
// memory unused (member bytes, node slots or hash buckets), so that a set
// that shrank gives its memory back.
func (zs *zskiplist) compacted() *zskiplist {
	slots := len(zs.nodes) - 1
	if (zs.dead > 4096 && zs.dead*2 > len(zs.mem)) ||
		(slots > 64 && zs.length*4 < slots) {
		return zs.clone()
	}
	if len(zs.buckets) > 4 && zs.length*10 < len(zs.buckets) {
		zs.rehash(nextPow2(zs.length))
	}
	return zs
}

// clone returns a tightly sized copy. Nodes are added from the tail, so
// each insertion stops at the header (O(1)), as Redis's zsetDup.
func (zs *zskiplist) clone() *zskiplist {
	out := newSkiplist(zs.length)
	out.mem = make([]byte, 0, len(zs.mem)-zs.dead)
	for x := zs.tail; x != 0; x = zs.nodes[x].back {
		out.insert(zs.nodes[x].score, zs.member(x))
	}
	return out
}

// memoryUsage estimates the bytes held in the Go heap.
func (zs *zskiplist) memoryUsage() int64 {
	return int64(cap(zs.nodes))*40 + int64(cap(zs.levels))*8 + int64(cap(zs.mem)) +
		int64(cap(zs.buckets))*4 + 200
}
