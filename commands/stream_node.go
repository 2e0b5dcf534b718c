package commands

import (
	"encoding/binary"
	"math"
)

// ---------------------------------------------------------------------------
// Redis listpack sizes. A node must know how large Redis's listpack for the
// same entries would be: that size decides when XADD starts a new node.
// ---------------------------------------------------------------------------

// Listpack header (total bytes + element count) and terminator sizes.
const (
	streamLpHeaderSize = 6
	streamLpEndSize    = 1
)

// streamLpIntEncSize is the encoded size of an integer element, without backlen.
func streamLpIntEncSize(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 1
	case v >= -4096 && v <= 4095:
		return 2
	case v >= -32768 && v <= 32767:
		return 3
	case v >= -8388608 && v <= 8388607:
		return 4
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 5
	}
	return 9
}

// streamLpBacklenSize is the size of the back-length that follows an element whose
// encoding takes l bytes.
func streamLpBacklenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// streamLpIntSize is the full size of an integer element.
func streamLpIntSize(v int64) int {
	l := streamLpIntEncSize(v)
	return l + streamLpBacklenSize(l)
}

// streamLpStrSize is the full size of a string element: listpacks store strings
// that are canonical integers as integers.
func streamLpStrSize(b []byte) int {
	if len(b) <= 20 {
		if v, ok := parseInt(b); ok {
			return streamLpIntSize(v)
		}
	}
	var l int
	switch n := len(b); {
	case n < 64:
		l = 1 + n
	case n < 4096:
		l = 2 + n
	default:
		l = 5 + n
	}
	return l + streamLpBacklenSize(l)
}

// ---------------------------------------------------------------------------
// Nodes.
//
// buf holds the master fields, then the entries:
//
//	master field:  <len uvarint><bytes>
//	entry:         <flags byte><ms delta uvarint><seq delta varint>
//	               [<nfields uvarint>]  (absent with streamSameFields)
//	               <field><value>...    (values only with streamSameFields)
//	               <backlen>            (entry size, readable backwards)
//
// where strings are <len uvarint><bytes>. The backlen lets XREVRANGE walk a
// node from its end as Redis walks a listpack.
// ---------------------------------------------------------------------------

// Entry flags, as Redis's STREAM_ITEM_FLAG_*.
const (
	streamDeleted    = 1 << 0 // tombstone: skipped by iterators
	streamSameFields = 1 << 1 // fields are the node's master fields
)

// streamNode is one of Redis's listpack nodes.
type streamNode struct {
	master  streamID // ID of the first entry ever added to the node
	live    int64    // entries not deleted (the listpack "count")
	deleted int64    // tombstones
	nfields int      // number of master fields
	first   int      // offset of the first entry in buf
	// lpRest is the size of Redis's listpack for this node minus the header,
	// terminator and the count and deleted elements, which change.
	lpRest int
	buf    []byte
}

// lpBytes is the size of Redis's listpack for the node (lpBytes()).
func (n *streamNode) lpBytes() int {
	return streamLpHeaderSize + streamLpEndSize + streamLpIntSize(n.live) + streamLpIntSize(n.deleted) + n.lpRest
}

// streamAppendBacklen appends l so that it can be read backwards from its last
// byte: 7 bits per byte, the most significant group first, every byte but
// the first flagged with bit 7.
func streamAppendBacklen(b []byte, l int) []byte {
	var tmp [10]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte(l&127) | 128
		l >>= 7
		if l == 0 {
			break
		}
	}
	tmp[i] &^= 128 // the most significant group, read last, ends the value
	return append(b, tmp[i:]...)
}

// streamBacklenSize is the number of bytes streamAppendBacklen uses for l.
func streamBacklenSize(l int) int {
	n := 1
	for l >= 128 {
		l >>= 7
		n++
	}
	return n
}

// streamReadBacklen reads the backlen that ends just before end; it returns the
// value and the offset where the backlen starts.
func streamReadBacklen(b []byte, end int) (l, start int) {
	p := end - 1
	shift := 0
	for {
		ch := b[p]
		l |= int(ch&127) << shift
		if ch&128 == 0 {
			return l, p
		}
		shift += 7
		p--
	}
}

// streamAppendStr appends a length-prefixed string.
func streamAppendStr(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// streamReadStr reads the length-prefixed string at off.
func streamReadStr(b []byte, off int) (s []byte, next int) {
	n, w := binary.Uvarint(b[off:])
	start := off + w
	end := start + int(n)
	return b[start:end:end], end
}

// streamSkipStr returns the offset after the length-prefixed string at off.
func streamSkipStr(b []byte, off int) int {
	n, w := binary.Uvarint(b[off:])
	return off + w + int(n)
}

// newStreamNode starts a node whose master entry has the fields of fv (the
// field/value pairs of its first entry).
func newStreamNode(id streamID, fv [][]byte, capHint int) *streamNode {
	nf := len(fv) / 2
	n := &streamNode{master: id, nfields: nf}
	n.buf = make([]byte, 0, capHint)
	n.lpRest = streamLpIntSize(int64(nf)) + streamLpIntSize(0) // num-fields, master terminator
	for i := 0; i < nf; i++ {
		n.buf = streamAppendStr(n.buf, fv[2*i])
		n.lpRest += streamLpStrSize(fv[2*i])
	}
	n.first = len(n.buf)
	return n
}

// sameFields reports whether the fields of fv are the node's master fields.
func (n *streamNode) sameFields(fv [][]byte) bool {
	if len(fv)/2 != n.nfields {
		return false
	}
	off := 0
	for i := 0; i < n.nfields; i++ {
		var f []byte
		f, off = streamReadStr(n.buf, off)
		if string(f) != string(fv[2*i]) {
			return false
		}
	}
	return true
}

// appendEntry adds an entry at the end of the node.
func (n *streamNode) appendEntry(id streamID, fv [][]byte) {
	nf := len(fv) / 2
	var flags byte
	if n.sameFields(fv) {
		flags = streamSameFields
	}
	start := len(n.buf)
	msDelta := id.ms - n.master.ms
	seqDelta := int64(id.seq - n.master.seq)
	b := append(n.buf, flags)
	b = binary.AppendUvarint(b, msDelta)
	b = binary.AppendVarint(b, seqDelta)
	// Redis: flags, ms-diff, seq-diff, [num-fields, fields], values, lp-count.
	lp := streamLpIntSize(int64(flags)) + streamLpIntSize(int64(msDelta)) + streamLpIntSize(seqDelta)
	lpCount := nf + 3
	if flags&streamSameFields == 0 {
		b = binary.AppendUvarint(b, uint64(nf))
		lp += streamLpIntSize(int64(nf))
		lpCount += nf + 1
		for i := 0; i < nf; i++ {
			b = streamAppendStr(b, fv[2*i])
			b = streamAppendStr(b, fv[2*i+1])
			lp += streamLpStrSize(fv[2*i]) + streamLpStrSize(fv[2*i+1])
		}
	} else {
		for i := 0; i < nf; i++ {
			b = streamAppendStr(b, fv[2*i+1])
			lp += streamLpStrSize(fv[2*i+1])
		}
	}
	lp += streamLpIntSize(int64(lpCount))
	n.buf = streamAppendBacklen(b, len(b)-start)
	n.lpRest += lp
	n.live++
}

// streamEntry is an entry decoded from a node. Its slices alias the node.
type streamEntry struct {
	id      streamID
	flags   byte
	node    *streamNode
	off     int // offset of the entry (its flags byte)
	body    int // offset of the first field (or value, with SameFields)
	nfields int
	end     int // offset after the entry, backlen included
}

// decode reads the entry at off.
func (n *streamNode) decode(off int, e *streamEntry) {
	b := n.buf
	e.node = n
	e.off = off
	e.flags = b[off]
	p := off + 1
	msDelta, w := binary.Uvarint(b[p:])
	p += w
	seqDelta, w := binary.Varint(b[p:])
	p += w
	e.id = streamID{n.master.ms + msDelta, n.master.seq + uint64(seqDelta)}
	if e.flags&streamSameFields != 0 {
		e.nfields = n.nfields
	} else {
		nf, w := binary.Uvarint(b[p:])
		p += w
		e.nfields = int(nf)
	}
	e.body = p
	strs := e.nfields
	if e.flags&streamSameFields == 0 {
		strs *= 2
	}
	for i := 0; i < strs; i++ {
		p = streamSkipStr(b, p)
	}
	e.end = p + streamBacklenSize(p-off)
}

// each calls fn with every field/value pair of the entry.
func (e *streamEntry) each(fn func(f, v []byte)) {
	b := e.node.buf
	p := e.body
	if e.flags&streamSameFields != 0 {
		mf := 0
		for i := 0; i < e.nfields; i++ {
			var f, v []byte
			f, mf = streamReadStr(b, mf)
			v, p = streamReadStr(b, p)
			fn(f, v)
		}
		return
	}
	for i := 0; i < e.nfields; i++ {
		var f, v []byte
		f, p = streamReadStr(b, p)
		v, p = streamReadStr(b, p)
		fn(f, v)
	}
}

// markDeleted flags the entry at off as a tombstone.
func (n *streamNode) markDeleted(off int) {
	n.buf[off] |= streamDeleted
	n.live--
	n.deleted++
}

// lastEntryID returns the ID of the node's last entry, tombstones included
// (Redis's lpGetEdgeStreamID for the last entry).
func (n *streamNode) lastEntryID() (streamID, bool) {
	if len(n.buf) == n.first {
		return streamID{}, false
	}
	l, start := streamReadBacklen(n.buf, len(n.buf))
	var e streamEntry
	n.decode(start-l, &e)
	return e.id, true
}

// clone returns a deep copy of the node.
func (n *streamNode) clone() *streamNode {
	c := *n
	c.buf = append([]byte(nil), n.buf...)
	return &c
}
