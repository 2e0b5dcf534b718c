package keyspace

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
)

// ---------------------------------------------------------------------------
// Dict: Redis's dict (chained hashing, power-of-two tables, incremental
// rehashing, reverse-binary SCAN cursor) without Go pointers.
//
// Entries live in fixed-size chunks and are named by a uint32 id (0 is nil);
// buckets and chains hold ids. Each entry's key and value sit together in one
// arena chunk ("blob": uvarint key length, key, uvarint value length, value).
// Ids are stable for the life of an entry: rehashing relinks entries, it never
// moves them, and the arena never moves a chunk, so byte slices returned by
// Key and Value stay valid until that entry is changed or deleted.
// ---------------------------------------------------------------------------

const (
	chunkBits        = 12
	chunkLen         = 1 << chunkBits
	chunkMask        = chunkLen - 1
	initialBuckets   = 4
	minFillPercent   = 10 // shrink below this fill, as Redis's HASHTABLE_MIN_FILL
	rehashEmptyVisit = 10 // empty buckets one rehash step may skip
)

type entry struct {
	blob uint64 // arena chunk holding key and value
	next uint32 // next entry in the bucket chain, or the free list; 0 ends it
	hash uint32 // low 32 bits of the key's hash: bucket index and quick reject
	meta uint32 // owner-defined
	obj  uint32 // owner-defined
}

var hashSeed = maphash.MakeSeed()

// Hash returns the hash a Dict uses for key.
func Hash(key []byte) uint32 { return uint32(maphash.Bytes(hashSeed, key)) }

// Dict maps byte-string keys to byte-string values plus two owner-defined
// words per entry. Not safe for concurrent use.
type Dict struct {
	arena     *Arena
	ht        [2][]uint32 // bucket heads; ht[1] is non-nil only while rehashing
	used      [2]int
	rehashIdx int // next ht[0] bucket to move, -1 when not rehashing
	chunks    [][]entry
	nextID    uint32 // first never-used id
	freeID    uint32 // head of the list of released ids
}

// NewDict returns an empty dict whose blobs are allocated in arena.
func NewDict(arena *Arena) *Dict {
	return &Dict{arena: arena, rehashIdx: -1, nextID: 1}
}

func (d *Dict) ent(id uint32) *entry { return &d.chunks[id>>chunkBits][id&chunkMask] }

// Len returns the number of entries.
func (d *Dict) Len() int { return d.used[0] + d.used[1] }

// Buckets returns the total number of buckets, for memory accounting.
func (d *Dict) Buckets() int { return len(d.ht[0]) + len(d.ht[1]) }

// IsRehashing reports whether an incremental rehash is in progress.
func (d *Dict) IsRehashing() bool { return d.rehashIdx >= 0 }

// ---- blob encoding ----

func blobSize(klen, vlen int) int {
	return uvarintLen(klen) + klen + uvarintLen(vlen) + vlen
}

func uvarintLen(n int) int { return (bits.Len64(uint64(n)|1) + 6) / 7 }

func writeBlob(dst, key, val []byte) {
	n := binary.PutUvarint(dst, uint64(len(key)))
	n += copy(dst[n:], key)
	n += binary.PutUvarint(dst[n:], uint64(len(val)))
	copy(dst[n:], val)
}

func blobKey(b []byte) []byte {
	kl, n := binary.Uvarint(b)
	return b[n : n+int(kl) : n+int(kl)]
}

// blobValOffset returns where the value starts and how long it is.
func blobValOffset(b []byte) (int, int) {
	kl, n := binary.Uvarint(b)
	off := n + int(kl)
	vl, m := binary.Uvarint(b[off:])
	return off + m, int(vl)
}

// ---- lookups ----

// Find returns the id of key, or 0.
func (d *Dict) Find(key []byte) uint32 { return d.FindHash(key, Hash(key)) }

// FindHash is Find with a precomputed Hash(key).
func (d *Dict) FindHash(key []byte, h uint32) uint32 {
	if d.Len() == 0 {
		return 0
	}
	if d.rehashIdx >= 0 {
		d.rehash(1)
	}
	for t := 0; t < 2; t++ {
		tab := d.ht[t]
		if len(tab) == 0 {
			break
		}
		for id := tab[h&uint32(len(tab)-1)]; id != 0; {
			e := d.ent(id)
			if e.hash == h && bytes.Equal(blobKey(d.arena.Chunk(e.blob)), key) {
				return id
			}
			id = e.next
		}
		if d.rehashIdx < 0 {
			break
		}
	}
	return 0
}

// Key returns the key of entry id.
func (d *Dict) Key(id uint32) []byte { return blobKey(d.arena.Chunk(d.ent(id).blob)) }

// Value returns the value of entry id.
func (d *Dict) Value(id uint32) []byte {
	b := d.arena.Chunk(d.ent(id).blob)
	off, n := blobValOffset(b)
	return b[off : off+n : off+n]
}

// Meta returns the first owner-defined word of entry id.
func (d *Dict) Meta(id uint32) uint32 { return d.ent(id).meta }

// SetMeta sets the first owner-defined word of entry id.
func (d *Dict) SetMeta(id, v uint32) { d.ent(id).meta = v }

// Obj returns the second owner-defined word of entry id.
func (d *Dict) Obj(id uint32) uint32 { return d.ent(id).obj }

// SetObj sets the second owner-defined word of entry id.
func (d *Dict) SetObj(id, v uint32) { d.ent(id).obj = v }

// BlobSize returns the arena bytes entry id occupies.
func (d *Dict) BlobSize(id uint32) int { return d.arena.Cap(d.ent(id).blob) }

// ---- changes ----

// AddHash inserts key, which must not be present, with value val and returns
// its id; h must be Hash(key).
func (d *Dict) AddHash(key, val []byte, h uint32) uint32 {
	if d.rehashIdx >= 0 {
		d.rehash(1)
	}
	d.expandIfNeeded()
	id := d.newID()
	e := d.ent(id)
	size := blobSize(len(key), len(val))
	blob, mem := d.arena.Alloc(size)
	writeBlob(mem, key, val)
	t := 0
	if d.rehashIdx >= 0 {
		t = 1
	}
	idx := h & uint32(len(d.ht[t])-1)
	*e = entry{blob: blob, next: d.ht[t][idx], hash: h}
	d.ht[t][idx] = id
	d.used[t]++
	return id
}

// Add inserts key, which must not be present.
func (d *Dict) Add(key, val []byte) uint32 { return d.AddHash(key, val, Hash(key)) }

// SetValue replaces the value of entry id, in place when it fits.
func (d *Dict) SetValue(id uint32, val []byte) {
	e := d.ent(id)
	old := d.arena.Chunk(e.blob)
	kl, n := binary.Uvarint(old)
	klen := int(kl)
	size := blobSize(klen, len(val))
	if size <= len(old) {
		off := n + klen
		off += binary.PutUvarint(old[off:], uint64(len(val)))
		copy(old[off:], val)
		return
	}
	blob, mem := d.arena.Alloc(size)
	// The key is copied from the old chunk before it is freed; val may alias
	// the old chunk too, which is why the free comes last.
	m := binary.PutUvarint(mem, kl)
	m += copy(mem[m:], old[n:n+klen])
	m += binary.PutUvarint(mem[m:], uint64(len(val)))
	copy(mem[m:], val)
	d.arena.Free(e.blob)
	e.blob = blob
}

// GrowValue makes the value of entry id n bytes long, keeping its first bytes
// and zero-filling the rest, and returns it for the caller to write into.
// Large values grow with slack, as Redis's sds does, so repeated APPENDs are
// amortised O(1).
func (d *Dict) GrowValue(id uint32, n int) []byte {
	e := d.ent(id)
	old := d.arena.Chunk(e.blob)
	kl, kn := binary.Uvarint(old)
	klen := int(kl)
	voff, vlen := blobValOffset(old)
	size := blobSize(klen, n)
	if size <= len(old) && uvarintLen(n) == uvarintLen(vlen) {
		binary.PutUvarint(old[kn+klen:], uint64(n))
		v := old[voff : voff+n : voff+n]
		if n > vlen {
			clear(v[vlen:])
		}
		return v
	}
	want := size
	if n > vlen && want > maxClass {
		if want < 1<<20 {
			want *= 2
		} else {
			want += 1 << 20
		}
	}
	blob, mem := d.arena.Alloc(want)
	m := binary.PutUvarint(mem, kl)
	m += copy(mem[m:], old[kn:kn+klen])
	m += binary.PutUvarint(mem[m:], uint64(n))
	copied := copy(mem[m:m+n], old[voff:voff+min(vlen, n)])
	clear(mem[m+copied : m+n])
	d.arena.Free(e.blob)
	e.blob = blob
	return mem[m : m+n : m+n]
}

// Delete removes entry id and frees its blob.
func (d *Dict) Delete(id uint32) {
	if d.rehashIdx >= 0 {
		d.rehash(1)
	}
	e := d.ent(id)
	for t := 0; t < 2; t++ {
		tab := d.ht[t]
		if len(tab) == 0 {
			break
		}
		idx := e.hash & uint32(len(tab)-1)
		prev := uint32(0)
		for cur := tab[idx]; cur != 0; cur = d.ent(cur).next {
			if cur != id {
				prev = cur
				continue
			}
			if prev == 0 {
				tab[idx] = e.next
			} else {
				d.ent(prev).next = e.next
			}
			d.used[t]--
			d.arena.Free(e.blob)
			*e = entry{next: d.freeID}
			d.freeID = id
			return
		}
	}
	panic("keyspace: Delete of an entry that is not in the dict")
}

func (d *Dict) newID() uint32 {
	if id := d.freeID; id != 0 {
		d.freeID = d.ent(id).next
		return id
	}
	id := d.nextID
	if id>>chunkBits == uint32(len(d.chunks)) {
		d.chunks = append(d.chunks, make([]entry, chunkLen))
	}
	d.nextID++
	return id
}

// ---- resizing ----

func nextPow2(n int) int {
	if n <= initialBuckets {
		return initialBuckets
	}
	return 1 << bits.Len(uint(n-1))
}

func (d *Dict) expandIfNeeded() {
	if d.rehashIdx >= 0 {
		return
	}
	if len(d.ht[0]) == 0 {
		d.ht[0] = make([]uint32, initialBuckets)
		return
	}
	if d.used[0] >= len(d.ht[0]) {
		d.resize(d.used[0] + 1)
	}
}

// resize starts an incremental rehash into a table sized for n entries.
func (d *Dict) resize(n int) {
	size := nextPow2(n)
	if size == len(d.ht[0]) || d.rehashIdx >= 0 {
		return
	}
	if len(d.ht[0]) == 0 || d.used[0] == 0 {
		d.ht[0] = make([]uint32, size)
		return
	}
	d.ht[1] = make([]uint32, size)
	d.rehashIdx = 0
}

// ShrinkIfNeeded starts shrinking the table when it is less than 10% full,
// as Redis's cron does.
func (d *Dict) ShrinkIfNeeded() {
	size := len(d.ht[0])
	if d.rehashIdx < 0 && size > initialBuckets && d.used[0]*100/size < minFillPercent {
		d.resize(d.used[0])
	}
}

// Rehash moves up to n buckets from the old table to the new one and reports
// whether rehashing is still in progress.
func (d *Dict) Rehash(n int) bool { return d.rehash(n) }

func (d *Dict) rehash(n int) bool {
	if d.rehashIdx < 0 {
		return false
	}
	empty := n * rehashEmptyVisit
	old, tab := d.ht[0], d.ht[1]
	mask := uint32(len(tab) - 1)
	for ; n > 0 && d.used[0] != 0; n-- {
		for old[d.rehashIdx] == 0 {
			d.rehashIdx++
			if empty--; empty == 0 {
				return true
			}
		}
		for id := old[d.rehashIdx]; id != 0; {
			e := d.ent(id)
			next := e.next
			idx := e.hash & mask
			e.next = tab[idx]
			tab[idx] = id
			d.used[0]--
			d.used[1]++
			id = next
		}
		old[d.rehashIdx] = 0
		d.rehashIdx++
	}
	if d.used[0] == 0 {
		d.ht[0], d.ht[1] = tab, nil
		d.used[0], d.used[1] = d.used[1], 0
		d.rehashIdx = -1
		return false
	}
	return true
}

// ---- iteration ----

// Scan calls fn for every entry in the buckets named by cursor and returns the
// next cursor, 0 when the iteration is complete. It is Redis's dictScan: an
// entry present for the whole iteration is reported at least once, even
// across resizes. fn must not change the dict.
func (d *Dict) Scan(cursor uint64, fn func(id uint32)) uint64 {
	if d.Len() == 0 {
		return 0
	}
	v := cursor
	emit := func(tab []uint32, idx uint64) {
		for id := tab[idx]; id != 0; {
			next := d.ent(id).next
			fn(id)
			id = next
		}
	}
	if d.rehashIdx < 0 {
		m0 := uint64(len(d.ht[0]) - 1)
		emit(d.ht[0], v&m0)
		v |= ^m0
		v = bits.Reverse64(bits.Reverse64(v) + 1)
		return v
	}
	t0, t1 := d.ht[0], d.ht[1]
	if len(t0) > len(t1) {
		t0, t1 = t1, t0
	}
	m0, m1 := uint64(len(t0)-1), uint64(len(t1)-1)
	emit(t0, v&m0)
	for {
		emit(t1, v&m1)
		v |= ^m1
		v = bits.Reverse64(bits.Reverse64(v) + 1)
		if v&(m0^m1) == 0 {
			break
		}
	}
	return v
}

// Random returns a random entry id, or 0 when empty (Redis's dictGetRandomKey).
func (d *Dict) Random() uint32 {
	if d.Len() == 0 {
		return 0
	}
	if d.rehashIdx >= 0 {
		d.rehash(1)
	}
	var head uint32
	if d.rehashIdx >= 0 {
		s0 := len(d.ht[0])
		span := uint64(s0 + len(d.ht[1]) - d.rehashIdx)
		for head == 0 {
			i := d.rehashIdx + int(rand.Uint64N(span))
			if i >= s0 {
				head = d.ht[1][i-s0]
			} else {
				head = d.ht[0][i]
			}
		}
	} else {
		mask := uint64(len(d.ht[0]) - 1)
		for head == 0 {
			head = d.ht[0][rand.Uint64()&mask]
		}
	}
	n := 0
	for id := head; id != 0; id = d.ent(id).next {
		n++
	}
	pick := rand.IntN(n)
	id := head
	for ; pick > 0; pick-- {
		id = d.ent(id).next
	}
	return id
}

// Sample calls fn for up to n entries taken from random consecutive buckets
// (Redis's dictGetSomeKeys); it may report fewer than n. fn returns false to
// stop early.
func (d *Dict) Sample(n int, fn func(id uint32) bool) {
	if d.Len() == 0 || n <= 0 {
		return
	}
	if n > d.Len() {
		n = d.Len()
	}
	for j := 0; j < n && d.rehashIdx >= 0; j++ {
		d.rehash(1)
	}
	tables := 1
	if d.rehashIdx >= 0 {
		tables = 2
	}
	maxMask := uint64(len(d.ht[0]) - 1)
	if tables == 2 && uint64(len(d.ht[1])-1) > maxMask {
		maxMask = uint64(len(d.ht[1]) - 1)
	}
	i := rand.Uint64() & maxMask
	emptyLen, stored := 0, 0
	for steps := n * 10; stored < n && steps > 0; steps-- {
		for t := 0; t < tables; t++ {
			tab := d.ht[t]
			if tables == 2 && t == 0 && i < uint64(d.rehashIdx) {
				// Already moved: jump ahead in the bigger table when this one
				// is smaller, or continue in the second table otherwise.
				if i >= uint64(len(d.ht[1])) {
					i = uint64(d.rehashIdx)
				} else {
					continue
				}
			}
			if i >= uint64(len(tab)) {
				continue
			}
			id := tab[i]
			if id == 0 {
				emptyLen++
				if emptyLen >= 5 && emptyLen > n {
					i = rand.Uint64() & maxMask
					emptyLen = 0
				}
				continue
			}
			emptyLen = 0
			for ; id != 0 && stored < n; stored++ {
				next := d.ent(id).next
				if !fn(id) {
					return
				}
				id = next
			}
		}
		i = (i + 1) & maxMask
	}
}

// Reset drops every entry. The arena is not touched: the owner resets it.
func (d *Dict) Reset() { *d = Dict{arena: d.arena, rehashIdx: -1, nextID: 1} }

// Each calls fn for every entry, in no particular order, until fn returns
// false. fn must not change the dict.
func (d *Dict) Each(fn func(id uint32) bool) {
	for t := 0; t < 2; t++ {
		for _, head := range d.ht[t] {
			for id := head; id != 0; {
				next := d.ent(id).next
				if !fn(id) {
					return
				}
				id = next
			}
		}
	}
}

// MemoryOverhead returns the bytes the dict itself holds besides blobs.
func (d *Dict) MemoryOverhead() int64 {
	return int64(d.Buckets())*4 + int64(len(d.chunks))*chunkLen*24
}
