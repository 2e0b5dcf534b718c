package keyspace

import "encoding/binary"

// ---------------------------------------------------------------------------
// Arena: a slab allocator over pointer-free byte pages.
//
// Keys and string values live in arena chunks instead of individual Go
// allocations, so a keyspace of millions of keys costs the garbage collector a
// few thousand page headers to mark rather than millions of pointers, and a
// freed chunk is reused at once instead of becoming garbage.
//
// A chunk is addressed by a handle: page id in the high 32 bits, byte offset in
// the low 32 bits; handle 0 is nil (page 0 is never used). Small requests are
// rounded up to one of the size classes and carved out of 64 KiB pages; each
// page threads its own free list through its free chunks. Requests above the
// largest class get a page of their own. A page whose chunks are all free is
// returned to the Go heap unless it is the last one of its class.
// ---------------------------------------------------------------------------

const (
	pageSize   = 64 << 10
	maxClass   = 16 << 10 // larger requests get a dedicated page
	largeClass = 0xff     // page.class for dedicated pages
	noPos      = -1
)

// classSizes are the chunk sizes, at most 12.5% apart above 128 bytes, so that
// rounding wastes little.
var classSizes = func() []uint32 {
	var s []uint32
	step := uint32(8)
	for size := uint32(16); size <= maxClass; size += step {
		s = append(s, size)
		if size >= 128 && size&(size-1) == 0 {
			step = size / 8
		}
	}
	return s
}()

// classIndex maps (n+7)/8 to the smallest class that holds n bytes.
var classIndex = func() []uint8 {
	idx := make([]uint8, maxClass/8+1)
	c := 0
	for i := range idx {
		for classSizes[c] < uint32(i*8) {
			c++
		}
		idx[i] = uint8(c)
	}
	return idx
}()

type page struct {
	mem   []byte
	class uint8
	pos   int32  // index in its class's partial list, or noPos
	free  uint32 // offset+1 of the first free chunk, 0 if none
	bump  uint32 // first never-used offset
	used  uint32 // live chunks
}

type sizeClass struct {
	size    uint32
	partial []uint32 // pages that can hand out a chunk
}

// Arena is a slab allocator. It is not safe for concurrent use: like the rest
// of the keyspace it belongs to the executor goroutine.
type Arena struct {
	pages     []page
	freeIDs   []uint32
	classes   []sizeClass
	allocated int64 // bytes in live chunks, at their class size
	reserved  int64 // bytes held in pages
}

// NewArena returns an empty arena.
func NewArena() *Arena {
	a := &Arena{pages: make([]page, 1), classes: make([]sizeClass, len(classSizes))}
	for i, s := range classSizes {
		a.classes[i].size = s
	}
	return a
}

// Alloc returns a handle to a chunk of at least n bytes, and the chunk.
func (a *Arena) Alloc(n int) (uint64, []byte) {
	if n > maxClass {
		return a.allocLarge(n)
	}
	ci := classIndex[(n+7)>>3]
	c := &a.classes[ci]
	if len(c.partial) == 0 {
		a.newPage(ci)
	}
	pid := c.partial[len(c.partial)-1]
	p := &a.pages[pid]
	var off uint32
	if p.free != 0 {
		off = p.free - 1
		p.free = binary.LittleEndian.Uint32(p.mem[off:])
	} else {
		off = p.bump
		p.bump += c.size
	}
	p.used++
	if p.free == 0 && p.bump+c.size > uint32(len(p.mem)) {
		a.unlistPartial(pid)
	}
	a.allocated += int64(c.size)
	return uint64(pid)<<32 | uint64(off), p.mem[off : off+c.size : off+c.size]
}

func (a *Arena) allocLarge(n int) (uint64, []byte) {
	pid := a.pageID()
	// Round to 4 KiB so a growing value (APPEND) can often stay in place.
	size := (n + 4095) &^ 4095
	a.pages[pid] = page{mem: make([]byte, size), class: largeClass, pos: noPos, used: 1}
	a.allocated += int64(size)
	a.reserved += int64(size)
	return uint64(pid) << 32, a.pages[pid].mem
}

func (a *Arena) pageID() uint32 {
	if n := len(a.freeIDs); n > 0 {
		id := a.freeIDs[n-1]
		a.freeIDs = a.freeIDs[:n-1]
		return id
	}
	a.pages = append(a.pages, page{})
	return uint32(len(a.pages) - 1)
}

func (a *Arena) newPage(ci uint8) {
	size := pageSize
	if s := int(a.classes[ci].size) * 8; s > size {
		size = s
	}
	pid := a.pageID()
	a.pages[pid] = page{mem: make([]byte, size), class: ci, pos: noPos}
	a.reserved += int64(size)
	a.listPartial(pid)
}

func (a *Arena) listPartial(pid uint32) {
	p := &a.pages[pid]
	c := &a.classes[p.class]
	p.pos = int32(len(c.partial))
	c.partial = append(c.partial, pid)
}

func (a *Arena) unlistPartial(pid uint32) {
	p := &a.pages[pid]
	c := &a.classes[p.class]
	last := c.partial[len(c.partial)-1]
	c.partial[p.pos] = last
	a.pages[last].pos = p.pos
	c.partial = c.partial[:len(c.partial)-1]
	p.pos = noPos
}

// Free releases the chunk behind h. h must come from Alloc and not be freed twice.
func (a *Arena) Free(h uint64) {
	pid := uint32(h >> 32)
	off := uint32(h)
	p := &a.pages[pid]
	if p.class == largeClass {
		a.allocated -= int64(len(p.mem))
		a.releasePage(pid)
		return
	}
	c := &a.classes[p.class]
	binary.LittleEndian.PutUint32(p.mem[off:], p.free)
	p.free = off + 1
	p.used--
	a.allocated -= int64(c.size)
	if p.pos == noPos {
		a.listPartial(pid)
	}
	if p.used == 0 && len(c.partial) > 1 {
		a.unlistPartial(pid)
		a.releasePage(pid)
	}
}

func (a *Arena) releasePage(pid uint32) {
	a.reserved -= int64(len(a.pages[pid].mem))
	a.pages[pid] = page{pos: noPos}
	a.freeIDs = append(a.freeIDs, pid)
}

// Chunk returns the chunk behind h at its full (class) size. The slice stays
// valid until h is freed.
func (a *Arena) Chunk(h uint64) []byte {
	p := &a.pages[h>>32]
	if p.class == largeClass {
		return p.mem
	}
	off := uint32(h)
	end := off + a.classes[p.class].size
	return p.mem[off:end:end]
}

// Cap returns the usable size of the chunk behind h.
func (a *Arena) Cap(h uint64) int {
	p := &a.pages[h>>32]
	if p.class == largeClass {
		return len(p.mem)
	}
	return int(a.classes[p.class].size)
}

// Allocated reports the bytes in live chunks, counted at their rounded size.
func (a *Arena) Allocated() int64 { return a.allocated }

// Reserved reports the bytes of all pages held by the arena.
func (a *Arena) Reserved() int64 {
	return a.reserved + int64(cap(a.pages))*int64(pageHeaderSize)
}

const pageHeaderSize = 40

// Reset frees everything at once.
func (a *Arena) Reset() { *a = *NewArena() }
