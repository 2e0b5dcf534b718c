package commands

import (
	"encoding/binary"
	"math"
)

// ---------------------------------------------------------------------------
// intset: the compact encoding of sets of integers, after Redis's intset.c.
// The members are kept sorted in one []byte, little-endian, all of the same
// width: 2 bytes while every member fits an int16, 4 for int32, 8 for int64.
// Adding a wider member upgrades the whole set; like Redis, it never
// downgrades. Lookups are binary searches; insertions and removals move the
// tail, which is why sets convert to a hash table past
// set-max-intset-entries.
// ---------------------------------------------------------------------------

// intset is a sorted set of int64 in one buffer. The zero value is empty.
type intset struct {
	buf   []byte
	width uint8 // bytes per member: 0 (empty, never grown), 2, 4 or 8
}

// Len returns the number of members.
func (is *intset) Len() int {
	if is.width == 0 {
		return 0
	}
	return len(is.buf) / int(is.width)
}

// Get returns member i (0-based, ascending order).
func (is *intset) Get(i int) int64 {
	switch is.width {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(is.buf[i*2:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(is.buf[i*4:])))
	default:
		return int64(binary.LittleEndian.Uint64(is.buf[i*8:]))
	}
}

func (is *intset) put(i int, v int64) {
	switch is.width {
	case 2:
		binary.LittleEndian.PutUint16(is.buf[i*2:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(is.buf[i*4:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(is.buf[i*8:], uint64(v))
	}
}

// search returns the index of v and true, or the index where v would be
// inserted and false.
func (is *intset) search(v int64) (int, bool) {
	lo, hi := 0, is.Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		x := is.Get(mid)
		switch {
		case x == v:
			return mid, true
		case x < v:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return lo, false
}

// Contains reports whether v is a member.
func (is *intset) Contains(v int64) bool {
	if is.width == 0 || widthFor(v) > is.width {
		return false
	}
	_, ok := is.search(v)
	return ok
}

// widthFor is the member width v needs.
func widthFor(v int64) uint8 {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}

// Add inserts v and reports whether it was new.
func (is *intset) Add(v int64) bool {
	if w := widthFor(v); w > is.width {
		is.upgrade(w)
		// A member wider than all others is either the smallest or the
		// largest.
		n := is.Len()
		is.buf = growBytes(is.buf, int(is.width))
		if v < 0 {
			copy(is.buf[int(is.width):], is.buf[:n*int(is.width)])
			is.put(0, v)
		} else {
			is.put(n, v)
		}
		return true
	}
	i, found := is.search(v)
	if found {
		return false
	}
	w := int(is.width)
	is.buf = growBytes(is.buf, w)
	copy(is.buf[(i+1)*w:], is.buf[i*w:len(is.buf)-w])
	is.put(i, v)
	return true
}

// upgrade re-encodes every member with width w.
func (is *intset) upgrade(w uint8) {
	old := *is
	n := old.Len()
	is.width = w
	is.buf = make([]byte, n*int(w), (n+1)*int(w))
	for i := 0; i < n; i++ {
		is.put(i, old.Get(i))
	}
}

// Remove deletes v and reports whether it was there.
func (is *intset) Remove(v int64) bool {
	if is.width == 0 || widthFor(v) > is.width {
		return false
	}
	i, found := is.search(v)
	if !found {
		return false
	}
	w := int(is.width)
	is.buf = append(is.buf[:i*w], is.buf[(i+1)*w:]...)
	if cap(is.buf) > 256 && len(is.buf) < cap(is.buf)/4 {
		is.buf = append(make([]byte, 0, len(is.buf)*2), is.buf...)
	}
	return true
}

// Clone returns an independent copy.
func (is *intset) Clone() intset {
	return intset{buf: append([]byte(nil), is.buf...), width: is.width}
}

// MemoryUsage is the heap the intset holds.
func (is *intset) MemoryUsage() int64 { return int64(cap(is.buf)) }
