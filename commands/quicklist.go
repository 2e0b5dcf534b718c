package commands

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"unsafe"

	"spinel/eventloop/resp"
)

// ---------------------------------------------------------------------------
// quicklist: the list value, after Redis's quicklist.c. Redis 7.0 stores
// every list as a quicklist (OBJECT ENCODING always says "quicklist"): a
// sequence of nodes, each a compact buffer of entries whose size is bounded
// by list-max-listpack-size. That shape gives O(1) pushes and pops at both
// ends, a few bytes of overhead per element, one pointer-free allocation per
// few kilobytes of payload (nothing for the GC to scan) and fast sequential
// reads for LRANGE.
//
// A node's entries live in buf[lo:len(buf)], laid end to end, in an
// encoding much like listpack's (see "Entry encoding" below): integers are
// stored as integers, and every entry ends with its length written
// backwards, so that a node can be walked from either end (RPOP and
// reverse scans need it). Free room is kept at both ends of the buffer
// (before lo, and between len and cap), so pushes at either end of a node
// are amortised O(1).
//
// The nodes themselves are values in one slice; nodes[head:] are live, and
// the slots before head are room for nodes pushed at the head of the list.
// ---------------------------------------------------------------------------

// quicklist is a list value. It is never empty while it is in the keyspace.
type quicklist struct {
	nodes []qlNode // nodes[head:] are live, in list order
	head  int
	count int // number of elements
	fill  int // list-max-listpack-size at creation, clamped as quicklistSetFill
	// bufBytes is the sum of the live nodes' buffer capacities, kept up to
	// date so that MemoryUsage, which runs after every write, is O(1).
	bufBytes int
}

// qlNode is one node: n entries in buf[lo:].
type qlNode struct {
	buf []byte
	lo  int
	n   int
}

const (
	// qlFillMax is Redis's FILL_MAX: the largest positive fill.
	qlFillMax = 1<<15 - 1
	// qlSafetyLimit is Redis's SIZE_SAFETY_LIMIT: count-limited nodes stop
	// growing at this many bytes anyway.
	qlSafetyLimit = 8192
	// qlSizeOverhead is Redis's SIZE_ESTIMATE_OVERHEAD, added to an
	// element's length when deciding whether it fits a node.
	qlSizeOverhead = 8
	// qlNodeHeader is the fixed size of a listpack (header and end byte),
	// counted in a node's size as Redis counts it in node->sz.
	qlNodeHeader = 7
	// qlMinAlloc is the smallest node buffer.
	qlMinAlloc = 16
)

// qlSizeLevels are the node byte limits of fills -1 to -5 (Redis's
// optimization_level).
var qlSizeLevels = [...]int{4096, 8192, 16384, 32768, 65536}

// newQuicklist returns an empty list whose nodes follow fill, the value of
// list-max-listpack-size.
func newQuicklist(fill int) *quicklist {
	switch {
	case fill > qlFillMax:
		fill = qlFillMax
	case fill < -len(qlSizeLevels):
		fill = -len(qlSizeLevels)
	}
	return &quicklist{fill: fill}
}

// Len implements Object: the number of elements.
func (q *quicklist) Len() int { return q.count }

// Encoding implements Object. Redis 7.0 has no other list encoding.
func (q *quicklist) Encoding() string { return "quicklist" }

// numNodes returns the number of live nodes.
func (q *quicklist) numNodes() int { return len(q.nodes) - q.head }

// node returns live node i.
func (q *quicklist) node(i int) *qlNode { return &q.nodes[q.head+i] }

// byteLimit is the size a node may reach before a new one is started, for
// sizing buffers.
func (q *quicklist) byteLimit() int {
	if q.fill < 0 {
		return qlSizeLevels[-q.fill-1]
	}
	return qlSafetyLimit
}

// allowInsert reports whether an element of sz bytes may join nd, as
// _quicklistNodeAllowInsert: within the byte limit of a negative fill, or
// within both the entry count of a positive fill and the safety limit.
func (q *quicklist) allowInsert(nd *qlNode, sz int) bool {
	newSz := nd.size() + sz + qlSizeOverhead
	if q.fill < 0 {
		return newSz <= qlSizeLevels[-q.fill-1]
	}
	return newSz <= qlSafetyLimit && nd.n < q.fill
}

// size is the node's size as Redis would count its listpack.
func (nd *qlNode) size() int { return len(nd.buf) - nd.lo + qlNodeHeader }

// ---------------------------------------------------------------------------
// Entry encoding. An entry is <header><payload><backlen>. Like listpack,
// elements that are canonical 64-bit integers ("123", not "0123" or "+1")
// are stored as integers: a list of ids costs what Redis's does. The header
// byte h says:
//
//	0x00-0x7F  a string of h bytes follows
//	0x80-0xBF  the integer h-0x80 (0 to 63), no payload
//	0xC0-0xC7  an integer of h-0xBF bytes follows, little-endian, signed
//	0xF0       a string whose length follows in 2 bytes (little-endian)
//	0xF1       a string whose length follows in 4 bytes
//	0xF2       a string whose length follows in 8 bytes
//
// backlen is the size of header and payload as a varint read from right to
// left: the low 7 bits in the last byte, each byte flagging with its high
// bit that more bits follow to its left. A string of up to 127 bytes costs
// 2 bytes of overhead; "123456" costs 5 bytes in all.
// ---------------------------------------------------------------------------

const (
	qlSmallIntTag = 0x80
	qlSmallIntMax = 63
	qlIntTag      = 0xC0
	qlStr16Tag    = 0xF0
	qlStr32Tag    = 0xF1
	qlStr64Tag    = 0xF2
)

// qlVarLen is the size of n as a varint (and as a backlen).
func qlVarLen(n int) int { return (bits.Len64(uint64(n)|1) + 6) / 7 }

// qlItem is an element about to be stored: its bytes, whether it is stored
// as an integer, and its encoded size.
type qlItem struct {
	s     []byte
	iv    int64
	isInt bool
	size  int
}

// qlIntBytes is how many bytes hold v in two's complement.
func qlIntBytes(v int64) int {
	if v < 0 {
		v = ^v
	}
	return bits.Len64(uint64(v))/8 + 1
}

// qlPrepare classifies v and computes its encoded size.
func qlPrepare(v []byte) qlItem {
	it := qlItem{s: v}
	if n := len(v); n < 0x7F && (n == 0 || n > 20 || v[0] > '9' || (v[0] < '0' && v[0] != '-')) {
		// The common case: a string of up to 126 bytes (one byte of
		// header, one of backlen) that cannot be an integer.
		it.size = n + 2
		return it
	}
	var body int
	if iv, ok := parseInt(v); ok {
		it.iv, it.isInt = iv, true
		if iv >= 0 && iv <= qlSmallIntMax {
			body = 1
		} else {
			body = 1 + qlIntBytes(iv)
		}
	} else {
		switch n := len(v); {
		case n < 0x80:
			body = 1 + n
		case n <= 0xFFFF:
			body = 3 + n
		case n <= 0xFFFFFFFF:
			body = 5 + n
		default:
			body = 9 + n
		}
	}
	it.size = body + qlVarLen(body)
	return it
}

// qlPut encodes it at the start of dst, which has room for it.
func qlPut(dst []byte, it *qlItem) {
	if n := len(it.s); !it.isInt && n < 0x7F {
		dst[0] = byte(n)
		copy(dst[1:], it.s)
		dst[n+1] = byte(n + 1) // backlen
		return
	}
	var p int
	switch {
	case it.isInt && it.iv >= 0 && it.iv <= qlSmallIntMax:
		dst[0] = byte(qlSmallIntTag + it.iv)
		p = 1
	case it.isInt:
		k := qlIntBytes(it.iv)
		dst[0] = byte(qlIntTag + k - 1)
		u := uint64(it.iv)
		for i := 1; i <= k; i++ {
			dst[i] = byte(u)
			u >>= 8
		}
		p = 1 + k
	default:
		n := len(it.s)
		switch {
		case n < 0x80:
			dst[0] = byte(n)
			p = 1
		case n <= 0xFFFF:
			dst[0] = qlStr16Tag
			binary.LittleEndian.PutUint16(dst[1:], uint16(n))
			p = 3
		case n <= 0xFFFFFFFF:
			dst[0] = qlStr32Tag
			binary.LittleEndian.PutUint32(dst[1:], uint32(n))
			p = 5
		default:
			dst[0] = qlStr64Tag
			binary.LittleEndian.PutUint64(dst[1:], uint64(n))
			p = 9
		}
		p += copy(dst[p:], it.s)
	}
	l, k := p, qlVarLen(p)
	for i := k - 1; i >= 0; i-- {
		b := byte(l & 127)
		l >>= 7
		if i > 0 {
			b |= 128
		}
		dst[p+i] = b
	}
}

// qlGet decodes the entry at off: a string (aliasing buf) or an integer,
// and the offset of the next entry.
func qlGet(buf []byte, off int) (s []byte, iv int64, isInt bool, next int) {
	h := buf[off]
	var end int
	switch {
	case h < 0x80:
		st := off + 1
		end = st + int(h)
		s = buf[st:end:end]
	case h < qlIntTag:
		iv, isInt, end = int64(h-qlSmallIntTag), true, off+1
	case h < qlStr16Tag:
		k := int(h-qlIntTag) + 1
		var u uint64
		for i := k; i >= 1; i-- {
			u = u<<8 | uint64(buf[off+i])
		}
		// Sign-extend from 8k bits.
		shift := uint(64 - 8*k)
		iv, isInt, end = int64(u<<shift)>>shift, true, off+1+k
	default:
		var n, st int
		switch h {
		case qlStr16Tag:
			n, st = int(binary.LittleEndian.Uint16(buf[off+1:])), off+3
		case qlStr32Tag:
			n, st = int(binary.LittleEndian.Uint32(buf[off+1:])), off+5
		default:
			n, st = int(binary.LittleEndian.Uint64(buf[off+1:])), off+9
		}
		end = st + n
		s = buf[st:end:end]
	}
	return s, iv, isInt, end + qlVarLen(end-off)
}

// qlNext returns the offset of the entry after the one at off.
func qlNext(buf []byte, off int) int {
	h := buf[off]
	if h < 0x7F {
		return off + int(h) + 2
	}
	_, _, _, next := qlGet(buf, off)
	return next
}

// qlPrev returns the offset of the entry that ends at end.
func qlPrev(buf []byte, end int) int {
	l, w := int(buf[end-1]), 1
	if l >= 128 {
		l, w = 0, 0
		for shift := 0; ; shift += 7 {
			b := buf[end-1-w]
			w++
			l |= int(b&127) << shift
			if b < 128 {
				break
			}
		}
	}
	return end - w - l
}

// qlValue returns the element at off as bytes, formatting an integer into
// sc, and the offset of the next entry.
func qlValue(buf []byte, off int, sc *[20]byte) ([]byte, int) {
	s, iv, isInt, next := qlGet(buf, off)
	if isInt {
		s = strconv.AppendInt(sc[:0], iv, 10)
	}
	return s, next
}

// qlAppendBulk appends the element at off as a RESP bulk string and returns
// the offset of the next entry.
func qlAppendBulk(out, buf []byte, off int) ([]byte, int) {
	if h := int(buf[off]); h < 0x7F {
		// A string of at most 126 bytes: one byte of backlen.
		st := off + 1
		return resp.AppendBulk(out, buf[st:st+h]), st + h + 1
	}
	s, iv, isInt, next := qlGet(buf, off)
	if isInt {
		return resp.AppendBulkInt(out, iv), next
	}
	return resp.AppendBulk(out, s), next
}

// qlMatch compares entries with one element, comparing integers as
// integers.
type qlMatch struct {
	s     []byte
	iv    int64
	isInt bool
}

func qlMatcher(v []byte) qlMatch {
	iv, ok := parseInt(v)
	return qlMatch{s: v, iv: iv, isInt: ok}
}

// at reports whether the entry at off equals the element, and returns the
// offset of the next entry.
func (m *qlMatch) at(buf []byte, off int) (bool, int) {
	s, iv, isInt, next := qlGet(buf, off)
	if isInt {
		return m.isInt && iv == m.iv, next
	}
	return !m.isInt && bytes.Equal(s, m.s), next
}

// ---------------------------------------------------------------------------
// Node buffers.
// ---------------------------------------------------------------------------

// qlAlloc returns a buffer of at least n bytes, its length rounded up to the
// allocator's size class so that no allocated byte is wasted.
func qlAlloc(n int) []byte {
	b := append([]byte(nil), make([]byte, n)...)
	return b[:cap(b)]
}

// makeRoom makes sure nd has need free bytes before lo (front) or after
// len(buf) (back). It recentres the data when the buffer is mostly free and
// reallocates otherwise, growing by doubling up to limit.
func (nd *qlNode) makeRoom(need int, front bool, limit int) {
	if front && nd.lo >= need || !front && cap(nd.buf)-len(nd.buf) >= need {
		return
	}
	live := len(nd.buf) - nd.lo
	want := live + need
	if want <= cap(nd.buf)/2 {
		// Plenty of room, all at the other end (a queue: pushed at one
		// end, popped at the other): move the data over.
		if front {
			c := cap(nd.buf)
			copy(nd.buf[:c][c-live:], nd.buf[nd.lo:])
			nd.buf, nd.lo = nd.buf[:c], c-live
		} else {
			copy(nd.buf, nd.buf[nd.lo:])
			nd.buf, nd.lo = nd.buf[:live], 0
		}
		return
	}
	newCap := max(want, min(2*cap(nd.buf), limit), qlMinAlloc)
	nb := qlAlloc(newCap)
	if front {
		c := len(nb)
		copy(nb[c-live:], nd.buf[nd.lo:])
		nd.buf, nd.lo = nb, c-live
	} else {
		copy(nb, nd.buf[nd.lo:])
		nd.buf, nd.lo = nb[:live], 0
	}
}

// pushFront adds it before the node's first entry.
func (nd *qlNode) pushFront(it *qlItem, limit int) {
	nd.makeRoom(it.size, true, limit)
	nd.lo -= it.size
	qlPut(nd.buf[nd.lo:], it)
	nd.n++
}

// pushBack adds it after the node's last entry.
func (nd *qlNode) pushBack(it *qlItem, limit int) {
	nd.makeRoom(it.size, false, limit)
	off := len(nd.buf)
	nd.buf = nd.buf[:off+it.size]
	qlPut(nd.buf[off:], it)
	nd.n++
}

// insertAt adds it before the entry at off (off == len(buf) appends).
func (nd *qlNode) insertAt(off int, it *qlItem, limit int) {
	switch off {
	case nd.lo:
		nd.pushFront(it, limit)
		return
	case len(nd.buf):
		nd.pushBack(it, limit)
		return
	}
	sz := it.size
	rel := off - nd.lo
	if nd.lo >= sz && (rel < len(nd.buf)-off || cap(nd.buf)-len(nd.buf) < sz) {
		// Shift the entries before off down into the front room.
		copy(nd.buf[nd.lo-sz:], nd.buf[nd.lo:off])
		nd.lo -= sz
		off -= sz
	} else {
		nd.makeRoom(sz, false, limit)
		off = nd.lo + rel
		end := len(nd.buf)
		nd.buf = nd.buf[:end+sz]
		copy(nd.buf[off+sz:], nd.buf[off:end])
	}
	qlPut(nd.buf[off:], it)
	nd.n++
}

// deleteAt removes the entry spanning [off, next), moving the smaller side.
func (nd *qlNode) deleteAt(off, next int) {
	sz := next - off
	if off-nd.lo < len(nd.buf)-next {
		copy(nd.buf[nd.lo+sz:], nd.buf[nd.lo:off])
		nd.lo += sz
	} else {
		copy(nd.buf[off:], nd.buf[next:])
		nd.buf = nd.buf[:len(nd.buf)-sz]
	}
	nd.n--
	nd.maybeShrink()
}

// maybeShrink gives back a large buffer that deletions left mostly empty.
func (nd *qlNode) maybeShrink() {
	live := len(nd.buf) - nd.lo
	if cap(nd.buf) > 1024 && live < cap(nd.buf)/4 {
		nb := qlAlloc(max(2*live, qlMinAlloc))
		copy(nb, nd.buf[nd.lo:])
		nd.buf, nd.lo = nb[:live], 0
	}
}

// offsetOf returns the offset of the node's entry i, walking from the
// nearer end.
func (nd *qlNode) offsetOf(i int) int {
	if i <= nd.n/2 {
		off := nd.lo
		for ; i > 0; i-- {
			off = qlNext(nd.buf, off)
		}
		return off
	}
	off := len(nd.buf)
	for k := nd.n - i; k > 0; k-- {
		off = qlPrev(nd.buf, off)
	}
	return off
}

// ---------------------------------------------------------------------------
// Node list.
// ---------------------------------------------------------------------------

// insertNode makes nd live node i.
func (q *quicklist) insertNode(i int, nd qlNode) {
	q.bufBytes += cap(nd.buf)
	if i == 0 && q.head > 0 {
		q.head--
		q.nodes[q.head] = nd
		return
	}
	live := q.numNodes()
	if live == 0 {
		if cap(q.nodes) == 0 {
			q.nodes = make([]qlNode, 1)
		}
		q.nodes, q.head = q.nodes[:1], 0
		q.nodes[0] = nd
		return
	}
	if i == 0 || len(q.nodes) == cap(q.nodes) {
		// Reallocate with room at both ends.
		room := 0
		if i == 0 {
			room = live/2 + 1
		}
		nn := make([]qlNode, room+live, room+2*live+1)
		copy(nn[room:], q.nodes[q.head:])
		q.nodes, q.head = nn, room
		if i == 0 {
			q.head--
			q.nodes[q.head] = nd
			return
		}
	}
	q.nodes = append(q.nodes, qlNode{})
	copy(q.nodes[q.head+i+1:], q.nodes[q.head+i:])
	q.nodes[q.head+i] = nd
}

// removeNode drops live node i.
func (q *quicklist) removeNode(i int) {
	q.bufBytes -= cap(q.node(i).buf)
	last := q.numNodes() - 1
	switch {
	case last == 0:
		q.nodes[q.head] = qlNode{}
		q.nodes, q.head = q.nodes[:0], 0
	case i == 0:
		q.nodes[q.head] = qlNode{}
		q.head++
	default:
		copy(q.nodes[q.head+i:], q.nodes[q.head+i+1:])
		q.nodes[len(q.nodes)-1] = qlNode{}
		q.nodes = q.nodes[:len(q.nodes)-1]
	}
}

// recount recomputes bufBytes after operations that reshape nodes (all of
// them already O(nodes)).
func (q *quicklist) recount() {
	q.bufBytes = 0
	for i := 0; i < q.numNodes(); i++ {
		q.bufBytes += cap(q.node(i).buf)
	}
}

// locate returns the node and the offset of element idx (0 <= idx < count),
// walking from the nearer end of the list.
func (q *quicklist) locate(idx int) (int, int) {
	nn := q.numNodes()
	if idx < q.count/2 {
		for i := 0; i < nn; i++ {
			nd := q.node(i)
			if idx < nd.n {
				return i, nd.offsetOf(idx)
			}
			idx -= nd.n
		}
	} else {
		back := q.count - 1 - idx // elements after idx
		for i := nn - 1; i >= 0; i-- {
			nd := q.node(i)
			if back < nd.n {
				return i, nd.offsetOf(nd.n - 1 - back)
			}
			back -= nd.n
		}
	}
	panic("quicklist: index out of range")
}

// ---------------------------------------------------------------------------
// List operations. Elements handed out alias the list (or, for integers,
// the caller's scratch buffer): they are valid until the list is modified.
// ---------------------------------------------------------------------------

// push adds v at the head (LPUSH) or the tail (RPUSH).
func (q *quicklist) push(v []byte, head bool) {
	it := qlPrepare(v)
	nn := q.numNodes()
	var nd *qlNode
	if head {
		if nn == 0 || !q.allowInsert(q.node(0), len(v)) {
			q.insertNode(0, qlNode{})
		}
		nd = q.node(0)
	} else {
		if nn == 0 || !q.allowInsert(q.node(nn-1), len(v)) {
			q.insertNode(nn, qlNode{})
			nn++
		}
		nd = q.node(nn - 1)
	}
	c := cap(nd.buf)
	if head {
		nd.pushFront(&it, q.byteLimit())
	} else {
		nd.pushBack(&it, q.byteLimit())
	}
	q.bufBytes += cap(nd.buf) - c
	q.count++
}

func (q *quicklist) pushHead(v []byte) { q.push(v, true) }
func (q *quicklist) pushTail(v []byte) { q.push(v, false) }

// end returns the head or tail element.
func (q *quicklist) end(head bool, sc *[20]byte) []byte {
	if head {
		nd := q.node(0)
		v, _ := qlValue(nd.buf, nd.lo, sc)
		return v
	}
	nd := q.node(q.numNodes() - 1)
	v, _ := qlValue(nd.buf, qlPrev(nd.buf, len(nd.buf)), sc)
	return v
}

// trimEnd removes n elements (n <= count) from the head or the tail.
func (q *quicklist) trimEnd(n int, head bool) {
	if head {
		q.trimHead(n)
	} else {
		q.trimTail(n)
	}
}

// trimHead removes the first k elements (k <= count).
func (q *quicklist) trimHead(k int) {
	q.count -= k
	for k > 0 {
		nd := q.node(0)
		if k >= nd.n {
			k -= nd.n
			q.removeNode(0)
			continue
		}
		for ; k > 0; k-- {
			nd.lo = qlNext(nd.buf, nd.lo)
			nd.n--
		}
	}
}

// trimTail removes the last k elements (k <= count).
func (q *quicklist) trimTail(k int) {
	q.count -= k
	for k > 0 {
		i := q.numNodes() - 1
		nd := q.node(i)
		if k >= nd.n {
			k -= nd.n
			q.removeNode(i)
			continue
		}
		end := len(nd.buf)
		for ; k > 0; k-- {
			end = qlPrev(nd.buf, end)
			nd.n--
		}
		nd.buf = nd.buf[:end]
	}
}

// index returns element idx (0 <= idx < count).
func (q *quicklist) index(idx int, sc *[20]byte) []byte {
	ni, off := q.locate(idx)
	v, _ := qlValue(q.node(ni).buf, off, sc)
	return v
}

// set replaces element idx (0 <= idx < count) with v (LSET).
func (q *quicklist) set(idx int, v []byte) {
	it := qlPrepare(v)
	ni, off := q.locate(idx)
	nd := q.node(ni)
	next := qlNext(nd.buf, off)
	if next-off == it.size {
		qlPut(nd.buf[off:], &it)
		return
	}
	defer q.recount()
	rel := off - nd.lo
	if nd.n == 1 || nd.size()-(next-off)+it.size <= q.byteLimit() {
		// Replace in place.
		nd.deleteAt(off, next)
		nd.insertAt(nd.lo+rel, &it, q.byteLimit())
		return
	}
	// The node would outgrow its limit: take the old element out and
	// insert the new one as LINSERT would, splitting the node. (nd.n > 1,
	// so the node survives the deletion.)
	nd.deleteAt(off, next)
	q.count--
	q.insertAt(ni, nd.lo+rel, &it)
}

// insertAt adds it before the entry at off of live node ni (off ==
// len(buf) inserts after the node's last entry), splitting a full node as
// quicklist's _quicklistInsert does.
func (q *quicklist) insertAt(ni, off int, it *qlItem) {
	defer q.recount()
	q.count++
	limit := q.byteLimit()
	sz := len(it.s)
	nd := q.node(ni)
	if q.allowInsert(nd, sz) {
		nd.insertAt(off, it, limit)
		return
	}
	atTail, atHead := off == len(nd.buf), off == nd.lo
	switch {
	case atTail && ni+1 < q.numNodes() && q.allowInsert(q.node(ni+1), sz):
		q.node(ni+1).pushFront(it, limit)
	case atHead && ni > 0 && q.allowInsert(q.node(ni-1), sz):
		q.node(ni-1).pushBack(it, limit)
	case atTail:
		var fresh qlNode
		fresh.pushBack(it, limit)
		q.insertNode(ni+1, fresh)
	case atHead:
		var fresh qlNode
		fresh.pushBack(it, limit)
		q.insertNode(ni, fresh)
	default:
		// Split: the entries from off on move to a new node after nd, and
		// the element goes at the end of nd, or at the head of the new
		// node, or in a node of its own between them.
		var right qlNode
		tail := nd.buf[off:]
		right.buf = qlAlloc(max(len(tail), qlMinAlloc))[:len(tail)]
		copy(right.buf, tail)
		for p := 0; p < len(tail); right.n++ {
			p = qlNext(tail, p)
		}
		nd.buf = nd.buf[:off]
		nd.n -= right.n
		nd.maybeShrink()
		switch {
		case q.allowInsert(nd, sz):
			nd.pushBack(it, limit)
			q.insertNode(ni+1, right)
		case q.allowInsert(&right, sz):
			right.pushFront(it, limit)
			q.insertNode(ni+1, right)
		default:
			var fresh qlNode
			fresh.pushBack(it, limit)
			q.insertNode(ni+1, right)
			q.insertNode(ni+1, fresh)
		}
	}
}

// insertPivot inserts v before (or after) the first element equal to
// pivot, and reports whether the pivot was found (LINSERT).
func (q *quicklist) insertPivot(pivot, v []byte, after bool) bool {
	m := qlMatcher(pivot)
	for ni := 0; ni < q.numNodes(); ni++ {
		nd := q.node(ni)
		for off := nd.lo; off < len(nd.buf); {
			eq, next := m.at(nd.buf, off)
			if eq {
				if after {
					off = next
				}
				it := qlPrepare(v)
				q.insertAt(ni, off, &it)
				return true
			}
			off = next
		}
	}
	return false
}

// remove deletes elements equal to v, at most limit of them (limit <= 0:
// all, as LREM's count 0), from the head, or from the tail when fromTail,
// and returns how many went (LREM). Each node is compacted in place in one
// pass.
func (q *quicklist) remove(v []byte, limit int64, fromTail bool) int64 {
	var removed int64
	if limit < 0 {
		limit = 0
	}
	m := qlMatcher(v)
	nn := q.numNodes()
	for k := 0; k < nn && (limit == 0 || removed < limit); k++ {
		ni := k
		if fromTail {
			ni = nn - 1 - k
		}
		nd := q.node(ni)
		before := nd.n
		if !fromTail {
			w := nd.lo
			r := nd.lo
			for r < len(nd.buf) {
				if limit != 0 && removed == limit {
					w += copy(nd.buf[w:], nd.buf[r:])
					break
				}
				eq, next := m.at(nd.buf, r)
				if eq {
					removed++
					nd.n--
				} else {
					if w != r {
						copy(nd.buf[w:], nd.buf[r:next])
					}
					w += next - r
				}
				r = next
			}
			nd.buf = nd.buf[:w]
		} else {
			w := len(nd.buf)
			r := len(nd.buf)
			for r > nd.lo {
				if limit != 0 && removed == limit {
					copy(nd.buf[w-(r-nd.lo):], nd.buf[nd.lo:r])
					w -= r - nd.lo
					break
				}
				start := qlPrev(nd.buf, r)
				if eq, _ := m.at(nd.buf, start); eq {
					removed++
					nd.n--
				} else {
					if w != r {
						copy(nd.buf[w-(r-start):], nd.buf[start:r])
					}
					w -= r - start
				}
				r = start
			}
			nd.lo = w
		}
		q.count -= before - nd.n
		if nd.n != before {
			nd.maybeShrink()
		}
	}
	// Drop the nodes that emptied.
	for i := q.numNodes() - 1; i >= 0; i-- {
		if q.node(i).n == 0 {
			q.removeNode(i)
		}
	}
	q.recount()
	return removed
}

// qlIter walks the list from an element towards the tail or the head.
type qlIter struct {
	q       *quicklist
	ni, off int // forward: next entry starts at off; backward: ends at off
	fwd     bool
	sc      [20]byte
}

// iter returns an iterator at element idx (0 <= idx < count), going towards
// the tail (fwd) or the head.
func (q *quicklist) iter(idx int, fwd bool) qlIter {
	var ni, off int
	switch {
	case fwd && idx == 0:
		off = q.node(0).lo
	case !fwd && idx == q.count-1:
		ni = q.numNodes() - 1
		off = len(q.node(ni).buf)
	default:
		ni, off = q.locate(idx)
		if !fwd {
			off = qlNext(q.node(ni).buf, off)
		}
	}
	return qlIter{q: q, ni: ni, off: off, fwd: fwd}
}

// seek moves to the next entry and returns its node's buffer and offset,
// or false at the end.
func (it *qlIter) seek() ([]byte, int, bool) {
	q := it.q
	if it.ni < 0 || it.ni >= q.numNodes() {
		return nil, 0, false
	}
	nd := q.node(it.ni)
	if it.fwd {
		for it.off >= len(nd.buf) {
			it.ni++
			if it.ni >= q.numNodes() {
				return nil, 0, false
			}
			nd = q.node(it.ni)
			it.off = nd.lo
		}
		off := it.off
		it.off = qlNext(nd.buf, off)
		return nd.buf, off, true
	}
	for it.off <= nd.lo {
		it.ni--
		if it.ni < 0 {
			return nil, 0, false
		}
		nd = q.node(it.ni)
		it.off = len(nd.buf)
	}
	it.off = qlPrev(nd.buf, it.off)
	return nd.buf, it.off, true
}

// next returns the next element, valid until the next call, or false at
// the end.
func (it *qlIter) next() ([]byte, bool) {
	buf, off, ok := it.seek()
	if !ok {
		return nil, false
	}
	v, _ := qlValue(buf, off, &it.sc)
	return v, true
}

// appendRange appends n elements from start as RESP bulk strings to out,
// towards the tail, or towards the head when reverse (start then counts
// from the tail: 0 is the last element). This is LRANGE's hot loop.
func (q *quicklist) appendRange(out []byte, start, n int, reverse bool) []byte {
	if reverse {
		it := q.iter(q.count-1-start, false)
		for ; n > 0; n-- {
			buf, off, _ := it.seek()
			out, _ = qlAppendBulk(out, buf, off)
		}
		return out
	}
	ni, off := q.locate(start)
	for n > 0 {
		nd := q.node(ni)
		buf := nd.buf
		// Room for the node's payload and the bulk headers, so that the
		// appends below do not reallocate.
		out = slices.Grow(out, len(buf)-off+8*min(n, nd.n))
		for off < len(buf) && n > 0 {
			if h := int(buf[off]); h < 0x7F {
				// Inline fast path: a short string.
				st := off + 1
				if h < 10 {
					out = append(out, '$', byte('0'+h), '\r', '\n')
				} else if h < 100 {
					out = append(out, '$', byte('0'+h/10), byte('0'+h%10), '\r', '\n')
				} else {
					out = append(out, '$', '1', byte('0'+h/10%10), byte('0'+h%10), '\r', '\n')
				}
				out = append(out, buf[st:st+h]...)
				out = append(out, '\r', '\n')
				off = st + h + 1
			} else {
				out, off = qlAppendBulk(out, buf, off)
			}
			n--
		}
		ni++
		if ni < q.numNodes() {
			off = q.node(ni).lo
		}
	}
	return out
}

// each calls fn with every element, head to tail, until it returns false.
// v is valid during the call only.
func (q *quicklist) each(fn func(v []byte) bool) {
	var sc [20]byte
	for i := 0; i < q.numNodes(); i++ {
		nd := q.node(i)
		for off := nd.lo; off < len(nd.buf); {
			var v []byte
			v, off = qlValue(nd.buf, off, &sc)
			if !fn(v) {
				return
			}
		}
	}
}

// Copy implements Object: a deep copy with compact buffers.
func (q *quicklist) Copy() Object {
	cp := &quicklist{count: q.count, fill: q.fill, nodes: make([]qlNode, q.numNodes())}
	for i := range cp.nodes {
		nd := q.node(i)
		live := nd.buf[nd.lo:]
		b := qlAlloc(max(len(live), qlMinAlloc))[:len(live)]
		copy(b, live)
		cp.nodes[i] = qlNode{buf: b, n: nd.n}
	}
	cp.recount()
	return cp
}

// MemoryUsage implements Object: the list header, the node array and the
// node buffers.
func (q *quicklist) MemoryUsage() int64 {
	return int64(unsafe.Sizeof(*q)) + int64(cap(q.nodes))*int64(unsafe.Sizeof(qlNode{})) + int64(q.bufBytes)
}

// Rewrite implements Object: RPUSH commands of up to 64 elements, as
// Redis's rewriteListObject.
func (q *quicklist) Rewrite(key []byte, emit func(argv [][]byte)) {
	const batch = 64
	argv := make([][]byte, 0, 2+batch)
	argv = append(argv, []byte("RPUSH"), key)
	// Integers are formatted into ints, which is reset with each batch so
	// that the argv of a batch never alias each other.
	ints := make([]byte, 0, batch*20)
	for i := 0; i < q.numNodes(); i++ {
		nd := q.node(i)
		for off := nd.lo; off < len(nd.buf); {
			s, iv, isInt, next := qlGet(nd.buf, off)
			off = next
			if isInt {
				at := len(ints)
				ints = strconv.AppendInt(ints, iv, 10)
				s = ints[at:len(ints):len(ints)]
			}
			argv = append(argv, s)
			if len(argv) == 2+batch {
				emit(argv)
				argv, ints = argv[:2], ints[:0]
			}
		}
	}
	if len(argv) > 2 {
		emit(argv)
	}
}
