package commands

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// ---------------------------------------------------------------------------
// strTable: the "hashtable" encoding of hashes and sets, after Redis's
// dict.c, laid out for the Go heap.
//
// Entries live densely in one slice; each holds a single string, the key
// (set member, hash field) followed by the value (hash value; nothing for
// sets), so an element costs one small allocation plus a 24-byte slot and
// a 4-byte bucket head. Buckets are a power-of-two []uint32 of chain heads,
// chains linked through the entries by index. Deleting moves the last entry
// into the hole, so the slice stays dense: a random element is one index
// away (SPOP, SRANDMEMBER, HRANDFIELD) and iteration is a slice walk.
//
// Scan uses Redis's reverse-binary cursor over the buckets. The table is
// rehashed at once on growth and shrinkage (never two tables at a time), and
// with power-of-two sizes that cursor guarantees SCAN's contract: every
// element present for the whole iteration is returned at least once, however
// the table was resized between calls.
// ---------------------------------------------------------------------------

// tableSeed seeds the hash of every table: iteration order is random from
// one run to the next, as in Redis.
var tableSeed = maphash.MakeSeed()

// tableEntry is one element.
type tableEntry struct {
	data string // key, then value
	klen uint32 // length of the key in data
	next uint32 // index+1 of the next entry of the chain; 0 ends it
}

func (e *tableEntry) key() string { return e.data[:e.klen] }
func (e *tableEntry) val() string { return e.data[e.klen:] }

// strTable maps byte-string keys to byte-string values (empty for sets).
type strTable struct {
	buckets []uint32 // index+1 of each chain's first entry
	ents    []tableEntry
	bytes   int64 // sum of len(data), for MemoryUsage
}

const tableMinBuckets = 4

func newStrTable(hint int) *strTable {
	t := &strTable{}
	t.buckets = make([]uint32, tableSize(hint))
	t.ents = make([]tableEntry, 0, hint)
	return t
}

// tableSize is the bucket count for n elements: the smallest power of two
// holding them at load factor 1.
func tableSize(n int) int {
	if n <= tableMinBuckets {
		return tableMinBuckets
	}
	return 1 << bits.Len(uint(n-1))
}

func (t *strTable) Len() int { return len(t.ents) }

func (t *strTable) mask() uint64 { return uint64(len(t.buckets) - 1) }

func hashBytes(b []byte) uint64  { return maphash.Bytes(tableSeed, b) }
func hashString(s string) uint64 { return maphash.String(tableSeed, s) }

// Find returns the index of key's entry, or -1.
func (t *strTable) Find(key []byte) int {
	i := t.buckets[hashBytes(key)&t.mask()]
	for i != 0 {
		e := &t.ents[i-1]
		if int(e.klen) == len(key) && e.key() == string(key) {
			return int(i - 1)
		}
		i = e.next
	}
	return -1
}

// Entry returns entry i (valid until the table changes).
func (t *strTable) Entry(i int) *tableEntry { return &t.ents[i] }

// Set adds key with val, or replaces the value of an existing key. It
// reports whether key was new.
func (t *strTable) Set(key, val []byte) bool {
	h := hashBytes(key)
	b := h & t.mask()
	for i := t.buckets[b]; i != 0; {
		e := &t.ents[i-1]
		if int(e.klen) == len(key) && e.key() == string(key) {
			if e.val() != string(val) {
				t.bytes += int64(len(val)) - int64(len(e.val()))
				e.data = concatString(e.key(), val)
			}
			return false
		}
		i = e.next
	}
	t.insert(b, concatString(key, val), len(key))
	return true
}

// SetValue replaces the value of entry i.
func (t *strTable) SetValue(i int, val []byte) {
	e := &t.ents[i]
	t.bytes += int64(len(val)) - int64(len(e.val()))
	e.data = concatString(e.key(), val)
}

// concatString returns a+b as a new string in a single allocation (a plain
// string(key)+string(val) would allocate for each conversion too). The
// buffer is never written after the conversion, which is what makes the
// unsafe.String sound.
func concatString[T string | []byte](a T, b []byte) string {
	n := len(a) + len(b)
	if n == 0 {
		return ""
	}
	buf := make([]byte, n)
	copy(buf, a)
	copy(buf[len(a):], b)
	return unsafe.String(&buf[0], n)
}

// AddString adds a key known to be absent, with its value, from strings
// already owned by the caller (no copy).
func (t *strTable) AddString(key, val string) {
	t.insert(hashString(key)&t.mask(), key+val, len(key))
}

// insert links a new entry at the head of bucket b, growing the table past
// a load factor of 1 as Redis's dict does.
func (t *strTable) insert(b uint64, data string, klen int) {
	t.ents = append(t.ents, tableEntry{data: data, klen: uint32(klen), next: t.buckets[b]})
	t.buckets[b] = uint32(len(t.ents))
	t.bytes += int64(len(data))
	if len(t.ents) > len(t.buckets) {
		t.resize(tableSize(len(t.ents)))
	}
}

// Delete removes key and reports whether it was there.
func (t *strTable) Delete(key []byte) bool {
	b := hashBytes(key) & t.mask()
	link := &t.buckets[b]
	for *link != 0 {
		i := *link - 1
		e := &t.ents[i]
		if int(e.klen) == len(key) && e.key() == string(key) {
			*link = e.next
			t.removeAt(int(i))
			return true
		}
		link = &e.next
	}
	return false
}

// DeleteAt removes entry i.
func (t *strTable) DeleteAt(i int) {
	e := &t.ents[i]
	link := &t.buckets[hashString(e.key())&t.mask()]
	for *link != uint32(i+1) {
		link = &t.ents[*link-1].next
	}
	*link = e.next
	t.removeAt(i)
}

// removeAt frees slot i of an entry already unlinked: the last entry moves
// into it, so the slice stays dense.
func (t *strTable) removeAt(i int) {
	t.bytes -= int64(len(t.ents[i].data))
	last := len(t.ents) - 1
	if i != last {
		moved := &t.ents[last]
		link := &t.buckets[hashString(moved.key())&t.mask()]
		for *link != uint32(last+1) {
			link = &t.ents[*link-1].next
		}
		*link = uint32(i + 1)
		t.ents[i] = *moved
	}
	t.ents[last] = tableEntry{}
	t.ents = t.ents[:last]
	// Shrink below 10% fill, as Redis's htNeedsResize after a removal.
	if len(t.buckets) > tableMinBuckets && len(t.ents)*10 < len(t.buckets) {
		t.resize(tableSize(len(t.ents)))
		if cap(t.ents) > 64 && cap(t.ents) > 4*len(t.ents) {
			t.ents = append(make([]tableEntry, 0, 2*len(t.ents)), t.ents...)
		}
	}
}

// resize rebuilds the chains over n buckets.
func (t *strTable) resize(n int) {
	if n == len(t.buckets) {
		return
	}
	t.buckets = make([]uint32, n)
	mask := uint64(n - 1)
	for i := range t.ents {
		e := &t.ents[i]
		b := hashString(e.key()) & mask
		e.next = t.buckets[b]
		t.buckets[b] = uint32(i + 1)
	}
}

// Random returns the index of a uniformly chosen entry; the table must not
// be empty.
func (t *strTable) Random() int { return rand.IntN(len(t.ents)) }

// Scan calls fn for each entry of the bucket the cursor designates and
// returns the next cursor, 0 when the iteration is complete, as Redis's
// dictScan over a single table.
func (t *strTable) Scan(cursor uint64, fn func(e *tableEntry)) uint64 {
	m := t.mask()
	for i := t.buckets[cursor&m]; i != 0; {
		e := &t.ents[i-1]
		fn(e)
		i = e.next
	}
	// Increment the reversed cursor over the masked bits, so that buckets
	// that split or merged in a resize are neither skipped nor (mostly)
	// repeated.
	cursor |= ^m
	cursor = bits.Reverse64(cursor)
	cursor++
	cursor = bits.Reverse64(cursor)
	return cursor
}

// Clone returns an independent copy (strings are immutable and shared).
func (t *strTable) Clone() *strTable {
	return &strTable{
		buckets: append([]uint32(nil), t.buckets...),
		ents:    append([]tableEntry(nil), t.ents...),
		bytes:   t.bytes,
	}
}

// MemoryUsage estimates the heap the table holds: its arrays and one
// allocation per element, which the allocator's size classes round up by
// about 4 bytes on average for short strings.
func (t *strTable) MemoryUsage() int64 {
	const entrySize = int64(unsafe.Sizeof(tableEntry{}))
	n := int64(len(t.ents))
	return int64(unsafe.Sizeof(*t)) + int64(cap(t.buckets))*4 + int64(cap(t.ents))*entrySize + t.bytes + n*4
}
