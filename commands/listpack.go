package commands

import (
	"bytes"
	"encoding/binary"
)

// ---------------------------------------------------------------------------
// listpack: the compact encoding of small hashes and sorted sets (and of any
// type that wants one), after Redis's listpack.c. The entries are byte
// strings laid end to end in a single []byte, each one its length as a
// uvarint followed by its bytes:
//
//	<len0 uvarint><bytes0><len1 uvarint><bytes1>...
//
// One allocation holds the whole collection and the GC sees no pointers in
// it, which is the point: a small collection costs little more than its
// payload. Every operation is O(size), which is why types convert to a hash
// table or skiplist past their *-max-listpack-* thresholds.
//
// Entries are addressed by byte offset: Entry(off) returns the entry at off
// and the offset of the next one; End() is the offset after the last entry.
// Offsets are invalidated by any modification before or at them. Pairs
// (field/value, member/score) are simply consecutive entries; Find's skip
// argument looks at the first entry of each pair only.
//
// A listpack does not interpret its entries: a sorted set may store its
// scores in any fixed encoding (e.g. 8 bytes of math.Float64bits) or as
// text, and compares them itself.
// ---------------------------------------------------------------------------

// listpack is a sequence of byte strings in one buffer. The zero value is an
// empty listpack.
type listpack struct {
	buf []byte
	n   int // number of entries
}

// Len returns the number of entries.
func (lp *listpack) Len() int { return lp.n }

// Bytes returns the encoded size.
func (lp *listpack) Bytes() int { return len(lp.buf) }

// End is the offset just past the last entry: iteration stops there.
func (lp *listpack) End() int { return len(lp.buf) }

// Entry returns the entry at off and the offset of the next one. The bytes
// alias the listpack: copy them before modifying it.
func (lp *listpack) Entry(off int) (v []byte, next int) {
	b := lp.buf[off:]
	n, w := binary.Uvarint(b)
	start := off + w
	end := start + int(n)
	return lp.buf[start:end:end], end
}

// Next returns the offset of the entry after the one at off.
func (lp *listpack) Next(off int) int {
	n, w := binary.Uvarint(lp.buf[off:])
	return off + w + int(n)
}

// Seek returns the offset of entry i (0-based; negative counts from the end,
// -1 being the last), or -1 when out of range.
func (lp *listpack) Seek(i int) int {
	if i < 0 {
		i += lp.n
	}
	if i < 0 || i >= lp.n {
		return -1
	}
	off := 0
	for ; i > 0; i-- {
		off = lp.Next(off)
	}
	return off
}

// Offsets appends the offset of every entry to dst, for random access and
// reverse iteration (listpacks are small: one pass is cheap).
func (lp *listpack) Offsets(dst []int) []int {
	for off := 0; off < len(lp.buf); off = lp.Next(off) {
		dst = append(dst, off)
	}
	return dst
}

// Find returns the offset of the first entry equal to v at or after start,
// comparing one entry and then skipping skip entries (skip=1 looks at the
// fields of field/value pairs only), or -1.
func (lp *listpack) Find(v []byte, start, skip int) int {
	off := start
	for off < len(lp.buf) {
		e, next := lp.Entry(off)
		if bytes.Equal(e, v) {
			return off
		}
		off = next
		for i := 0; i < skip && off < len(lp.buf); i++ {
			off = lp.Next(off)
		}
	}
	return -1
}

// entrySize is the encoded size of an entry of n bytes.
func entrySize(n int) int {
	var tmp [binary.MaxVarintLen64]byte
	return binary.PutUvarint(tmp[:], uint64(n)) + n
}

// Append adds entries at the end.
func (lp *listpack) Append(vs ...[]byte) {
	for _, v := range vs {
		lp.buf = binary.AppendUvarint(lp.buf, uint64(len(v)))
		lp.buf = append(lp.buf, v...)
	}
	lp.n += len(vs)
}

// Insert adds entries before the entry at off (off == End() appends).
func (lp *listpack) Insert(off int, vs ...[]byte) {
	if off == len(lp.buf) {
		lp.Append(vs...)
		return
	}
	grow := 0
	for _, v := range vs {
		grow += entrySize(len(v))
	}
	lp.buf = growBytes(lp.buf, grow)
	copy(lp.buf[off+grow:], lp.buf[off:len(lp.buf)-grow])
	p := off
	for _, v := range vs {
		p += binary.PutUvarint(lp.buf[p:], uint64(len(v)))
		p += copy(lp.buf[p:], v)
	}
	lp.n += len(vs)
}

// Delete removes count entries starting at off.
func (lp *listpack) Delete(off, count int) {
	end := off
	for i := 0; i < count; i++ {
		end = lp.Next(end)
	}
	lp.buf = append(lp.buf[:off], lp.buf[end:]...)
	lp.n -= count
	lp.maybeShrink()
}

// Replace overwrites the entry at off with v, in place when the size does
// not change.
func (lp *listpack) Replace(off int, v []byte) {
	n, w := binary.Uvarint(lp.buf[off:])
	oldSize := w + int(n)
	newSize := entrySize(len(v))
	switch {
	case newSize > oldSize:
		grow := newSize - oldSize
		lp.buf = growBytes(lp.buf, grow)
		copy(lp.buf[off+newSize:], lp.buf[off+oldSize:len(lp.buf)-grow])
	case newSize < oldSize:
		lp.buf = append(lp.buf[:off+newSize], lp.buf[off+oldSize:]...)
	}
	p := off + binary.PutUvarint(lp.buf[off:], uint64(len(v)))
	copy(lp.buf[p:], v)
	if newSize < oldSize {
		lp.maybeShrink()
	}
}

// Clone returns an independent copy.
func (lp *listpack) Clone() listpack {
	return listpack{buf: append([]byte(nil), lp.buf...), n: lp.n}
}

// MemoryUsage is the heap the listpack holds.
func (lp *listpack) MemoryUsage() int64 { return int64(cap(lp.buf)) }

// maybeShrink gives back a buffer that deletions left mostly empty.
func (lp *listpack) maybeShrink() {
	if cap(lp.buf) > 256 && len(lp.buf) < cap(lp.buf)/4 {
		lp.buf = append(make([]byte, 0, len(lp.buf)*2), lp.buf...)
	}
}

// growBytes extends b by n bytes (of unspecified content).
func growBytes(b []byte, n int) []byte {
	if len(b)+n <= cap(b) {
		return b[:len(b)+n]
	}
	return append(b, make([]byte, n)...)
}
