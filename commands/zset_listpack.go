package commands

import (
	"bytes"
	"encoding/binary"
	"math"
)

// ---------------------------------------------------------------------------
// The compact encoding of a sorted set ("listpack" in OBJECT ENCODING): one
// []byte holding the (member, score) pairs in order, as Redis's listpack
// does, so a small sorted set is a single pointer-free allocation.
//
// Entry layout:
//
//	header   uvarint: len(member)<<1 | 1 if the score is a float64
//	member   the bytes
//	score    zig-zag varint when the score is an integer of at most 2^53 in
//	         magnitude, else 8 bytes of IEEE 754, little endian
//	backlen  the length of the three fields above, written so that it can
//	         be read backwards from the next entry (like listpack's backlen)
//
// Like Redis, which stores integral scores as listpack integers, a score of
// -0 is stored as 0: the sign of a zero does not survive the compact
// encoding, in Redis or here.
// ---------------------------------------------------------------------------

// lpMaxIntScore bounds the scores stored as varints: every integer of at
// most 2^53 in magnitude is exact in a float64.
const lpMaxIntScore = 1 << 53

func lpScoreIsInt(score float64) bool {
	return score == math.Trunc(score) && math.Abs(score) <= lpMaxIntScore
}

// lpBacklenSize is the number of bytes of a backlen of value l.
func lpBacklenSize(l int) int {
	n := 1
	for l >= 128 {
		l >>= 7
		n++
	}
	return n
}

func uvarintSize(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// lpEntrySize returns the bytes an entry takes, backlen excluded.
func lpEntrySize(member []byte, score float64) int {
	n := len(member)
	if lpScoreIsInt(score) {
		i := int64(score)
		n += uvarintSize(uint64(i<<1 ^ i>>63))
	} else {
		n += 8
	}
	return n + uvarintSize(uint64(len(member))<<1|1)
}

// lpPut writes an entry (backlen included) at the start of dst, which must
// be large enough, and returns the bytes written.
func lpPut(dst []byte, member []byte, score float64) int {
	isInt := lpScoreIsInt(score)
	hdr := uint64(len(member)) << 1
	if !isInt {
		hdr |= 1
	}
	n := binary.PutUvarint(dst, hdr)
	n += copy(dst[n:], member)
	if isInt {
		n += binary.PutVarint(dst[n:], int64(score))
	} else {
		binary.LittleEndian.PutUint64(dst[n:], math.Float64bits(score))
		n += 8
	}
	// backlen: most significant group first, every group but the first
	// flagged with 0x80 ("more bytes to the left").
	l := n
	size := lpBacklenSize(l)
	for i := size - 1; i >= 0; i-- {
		b := byte(l & 127)
		if i > 0 {
			b |= 128
		}
		dst[n+i] = b
		l >>= 7
	}
	return n + size
}

// lpEntry decodes the entry at off and returns its member, its score and
// the offset of the next entry.
func lpEntry(lp []byte, off int) (member []byte, score float64, next int) {
	hdr, n := binary.Uvarint(lp[off:])
	p := off + n
	mlen := int(hdr >> 1)
	member = lp[p : p+mlen : p+mlen]
	p += mlen
	if hdr&1 != 0 {
		score = math.Float64frombits(binary.LittleEndian.Uint64(lp[p:]))
		p += 8
	} else {
		i, n := binary.Varint(lp[p:])
		score = float64(i)
		p += n
	}
	return member, score, p + lpBacklenSize(p-off)
}

// lpMember decodes only the member of the entry at off.
func lpMember(lp []byte, off int) []byte {
	hdr, n := binary.Uvarint(lp[off:])
	p := off + n
	mlen := int(hdr >> 1)
	return lp[p : p+mlen : p+mlen]
}

// lpNext returns the offset of the entry after off, or -1.
func lpNext(lp []byte, off int) int {
	_, _, next := lpEntry(lp, off)
	if next >= len(lp) {
		return -1
	}
	return next
}

// lpPrev returns the offset of the entry before off (len(lp) for the last
// entry), or -1.
func lpPrev(lp []byte, off int) int {
	if off <= 0 {
		return -1
	}
	p := off - 1
	b := lp[p]
	l := int(b & 127)
	shift := 7
	for b&128 != 0 {
		p--
		b = lp[p]
		l |= int(b&127) << shift
		shift += 7
	}
	return p - l
}

// lpFind returns the offset and score of member, or -1.
func lpFind(lp []byte, member []byte) (int, float64) {
	for off := 0; off < len(lp); {
		m, score, next := lpEntry(lp, off)
		if bytes.Equal(m, member) {
			return off, score
		}
		off = next
	}
	return -1, 0
}

// lpInsert adds (member, score), which must not be present, at its place
// in the order, as Redis's zzlInsert.
func lpInsert(lp []byte, member []byte, score float64) []byte {
	pos := len(lp)
	for off := 0; off < len(lp); {
		m, s, next := lpEntry(lp, off)
		if s > score || (s == score && bytes.Compare(m, member) > 0) {
			pos = off
			break
		}
		off = next
	}
	return lpInsertAt(lp, pos, member, score)
}

// lpInsertAt writes an entry at byte offset pos.
func lpInsertAt(lp []byte, pos int, member []byte, score float64) []byte {
	l := lpEntrySize(member, score)
	size := l + lpBacklenSize(l)
	n := len(lp)
	if cap(lp)-n < size {
		grown := make([]byte, n, n+size+n/4+16)
		copy(grown, lp)
		lp = grown
	}
	lp = lp[:n+size]
	copy(lp[pos+size:], lp[pos:n])
	lpPut(lp[pos:], member, score)
	return lp
}

// lpDeleteRange removes the bytes [from, to), giving memory back when most
// of the buffer became unused.
func lpDeleteRange(lp []byte, from, to int) []byte {
	lp = append(lp[:from], lp[to:]...)
	if cap(lp) > 256 && len(lp) < cap(lp)/4 {
		lp = append(make([]byte, 0, len(lp)+len(lp)/4), lp...)
	}
	return lp
}

// lpDelete removes the entry at off.
func lpDelete(lp []byte, off int) []byte {
	_, _, next := lpEntry(lp, off)
	return lpDeleteRange(lp, off, next)
}
