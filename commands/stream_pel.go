package commands

import "sort"

// ---------------------------------------------------------------------------
// idMap is an ordered map from stream IDs to values, for the pending entries
// lists (PELs) of consumer groups and consumers, which Redis keeps in radix
// trees. It is a B+tree of one level: sorted chunks of at most idChunkMax
// entries, found by binary search on their first keys. Entries are stored
// inline (no allocation per entry), appends at the end (the usual case:
// IDs are delivered in order) are O(1), and inserting or removing anywhere
// moves at most one chunk's entries plus the chunk index.
// ---------------------------------------------------------------------------

const idChunkMax = 128

type idChunk[V any] struct {
	keys []streamID
	vals []V
}

type idMap[V any] struct {
	chunks []*idChunk[V]
	n      int
}

func (m *idMap[V]) len() int { return m.n }

// chunkFor returns the index of the chunk that holds id or would hold it.
func (m *idMap[V]) chunkFor(id streamID) int {
	i := sort.Search(len(m.chunks), func(i int) bool { return m.chunks[i].keys[0].cmp(id) > 0 })
	if i > 0 {
		i--
	}
	return i
}

// search returns the chunk and position of the first key >= id.
func (m *idMap[V]) search(id streamID) (ci, i int) {
	if len(m.chunks) == 0 {
		return 0, 0
	}
	ci = m.chunkFor(id)
	ch := m.chunks[ci]
	i = sort.Search(len(ch.keys), func(j int) bool { return ch.keys[j].cmp(id) >= 0 })
	if i == len(ch.keys) && ci+1 < len(m.chunks) {
		return ci + 1, 0
	}
	return ci, i
}

// get returns a pointer to id's value, or nil. The pointer is valid until
// the map is modified.
func (m *idMap[V]) get(id streamID) *V {
	ci, i := m.search(id)
	if ci < len(m.chunks) {
		ch := m.chunks[ci]
		if i < len(ch.keys) && ch.keys[i] == id {
			return &ch.vals[i]
		}
	}
	return nil
}

// insert adds id with value v; it returns false, changing nothing, if id is
// already there.
func (m *idMap[V]) insert(id streamID, v V) bool {
	if len(m.chunks) == 0 {
		m.chunks = append(m.chunks, &idChunk[V]{keys: []streamID{id}, vals: []V{v}})
		m.n++
		return true
	}
	ci := m.chunkFor(id)
	ch := m.chunks[ci]
	i := sort.Search(len(ch.keys), func(j int) bool { return ch.keys[j].cmp(id) >= 0 })
	if i < len(ch.keys) && ch.keys[i] == id {
		return false
	}
	if len(ch.keys) == idChunkMax {
		// Split: appends at the very end start a fresh chunk so that a map
		// filled in order ends up with full chunks; otherwise halve.
		at := idChunkMax / 2
		if ci == len(m.chunks)-1 && i == len(ch.keys) {
			at = idChunkMax
		}
		right := &idChunk[V]{
			keys: append(make([]streamID, 0, idChunkMax), ch.keys[at:]...),
			vals: append(make([]V, 0, idChunkMax), ch.vals[at:]...),
		}
		clear(ch.vals[at:])
		ch.keys, ch.vals = ch.keys[:at], ch.vals[:at]
		m.chunks = append(m.chunks, nil)
		copy(m.chunks[ci+2:], m.chunks[ci+1:])
		m.chunks[ci+1] = right
		if i > at || (i == at && at == idChunkMax) {
			ch, i = right, i-at
		}
	}
	ch.keys = append(ch.keys, streamID{})
	copy(ch.keys[i+1:], ch.keys[i:])
	ch.keys[i] = id
	var zero V
	ch.vals = append(ch.vals, zero)
	copy(ch.vals[i+1:], ch.vals[i:])
	ch.vals[i] = v
	m.n++
	return true
}

// remove deletes id and reports whether it was there.
func (m *idMap[V]) remove(id streamID) bool {
	if len(m.chunks) == 0 {
		return false
	}
	ci := m.chunkFor(id)
	ch := m.chunks[ci]
	i := sort.Search(len(ch.keys), func(j int) bool { return ch.keys[j].cmp(id) >= 0 })
	if i == len(ch.keys) || ch.keys[i] != id {
		return false
	}
	copy(ch.keys[i:], ch.keys[i+1:])
	ch.keys = ch.keys[:len(ch.keys)-1]
	copy(ch.vals[i:], ch.vals[i+1:])
	var zero V
	ch.vals[len(ch.vals)-1] = zero
	ch.vals = ch.vals[:len(ch.vals)-1]
	m.n--
	switch {
	case len(ch.keys) == 0:
		copy(m.chunks[ci:], m.chunks[ci+1:])
		m.chunks[len(m.chunks)-1] = nil
		m.chunks = m.chunks[:len(m.chunks)-1]
	case len(ch.keys) < idChunkMax/4 && ci+1 < len(m.chunks) && len(ch.keys)+len(m.chunks[ci+1].keys) <= idChunkMax/2:
		// Merge a sparse chunk into its right neighbour's room.
		next := m.chunks[ci+1]
		ch.keys = append(ch.keys, next.keys...)
		ch.vals = append(ch.vals, next.vals...)
		copy(m.chunks[ci+1:], m.chunks[ci+2:])
		m.chunks[len(m.chunks)-1] = nil
		m.chunks = m.chunks[:len(m.chunks)-1]
	}
	return true
}

// ceil returns the first key >= id with its value.
func (m *idMap[V]) ceil(id streamID) (streamID, *V, bool) {
	ci, i := m.search(id)
	if ci < len(m.chunks) && i < len(m.chunks[ci].keys) {
		ch := m.chunks[ci]
		return ch.keys[i], &ch.vals[i], true
	}
	return streamID{}, nil, false
}

// first and last return the smallest and greatest keys.
func (m *idMap[V]) first() (streamID, bool) {
	if m.n == 0 {
		return streamID{}, false
	}
	return m.chunks[0].keys[0], true
}

func (m *idMap[V]) last() (streamID, bool) {
	if m.n == 0 {
		return streamID{}, false
	}
	ch := m.chunks[len(m.chunks)-1]
	return ch.keys[len(ch.keys)-1], true
}

// ascend calls fn for every key >= from in order until fn returns false.
// fn must not modify the map.
func (m *idMap[V]) ascend(from streamID, fn func(id streamID, v *V) bool) {
	ci, i := m.search(from)
	for ; ci < len(m.chunks); ci, i = ci+1, 0 {
		ch := m.chunks[ci]
		for ; i < len(ch.keys); i++ {
			if !fn(ch.keys[i], &ch.vals[i]) {
				return
			}
		}
	}
}

// clone returns a copy; values are copied with cp.
func (m *idMap[V]) clone(cp func(V) V) idMap[V] {
	c := idMap[V]{n: m.n, chunks: make([]*idChunk[V], len(m.chunks))}
	for i, ch := range m.chunks {
		nc := &idChunk[V]{keys: append([]streamID(nil), ch.keys...), vals: make([]V, len(ch.vals))}
		for j, v := range ch.vals {
			nc.vals[j] = cp(v)
		}
		c.chunks[i] = nc
	}
	return c
}

// bytes estimates the heap bytes of the map given the size of a value, in
// O(1): chunks are between half full and full after splits.
func (m *idMap[V]) bytes(valSize int) int64 {
	return int64(cap(m.chunks))*8 + int64(len(m.chunks))*64 + int64(m.n)*int64(16+valSize)*4/3
}

// ---------------------------------------------------------------------------
// Consumer groups, as Redis's streamCG / streamConsumer / streamNACK.
// ---------------------------------------------------------------------------

// streamNACK is a pending entry: delivered to a consumer, not yet acked.
type streamNACK struct {
	deliveryTime  int64 // unix ms of the last delivery
	deliveryCount uint64
	consumer      *streamConsumer // nil only while XCLAIM FORCE creates it
}

// streamConsumer is a consumer of a group. Its PEL is the set of the IDs it
// owns; their NACKs live in the group's PEL.
type streamConsumer struct {
	name     string
	seenTime int64 // unix ms of the last interaction
	pel      idMap[struct{}]
}

// streamCG is a consumer group.
type streamCG struct {
	name        string
	lastID      streamID // last delivered ID
	entriesRead int64    // logical read counter, or invalidEntriesRead
	pel         idMap[streamNACK]
	consumers   []*streamConsumer // ordered by name
	nameBytes   int64             // total length of the consumer names
}

// lookupGroup finds a group by name.
func (s *stream) lookupGroup(name []byte) *streamCG {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].name >= string(name) })
	if i < len(s.groups) && s.groups[i].name == string(name) {
		return s.groups[i]
	}
	return nil
}

// createGroup adds a group; it returns nil if the name is taken.
func (s *stream) createGroup(name []byte, id streamID, entriesRead int64) *streamCG {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].name >= string(name) })
	if i < len(s.groups) && s.groups[i].name == string(name) {
		return nil
	}
	cg := &streamCG{name: string(name), lastID: id, entriesRead: entriesRead}
	s.groups = append(s.groups, nil)
	copy(s.groups[i+1:], s.groups[i:])
	s.groups[i] = cg
	return cg
}

// destroyGroup removes a group and reports whether it existed.
func (s *stream) destroyGroup(name []byte) bool {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].name >= string(name) })
	if i < len(s.groups) && s.groups[i].name == string(name) {
		copy(s.groups[i:], s.groups[i+1:])
		s.groups[len(s.groups)-1] = nil
		s.groups = s.groups[:len(s.groups)-1]
		return true
	}
	return false
}

// lookupConsumer finds a consumer by name.
func (g *streamCG) lookupConsumer(name []byte) *streamConsumer {
	i := sort.Search(len(g.consumers), func(i int) bool { return g.consumers[i].name >= string(name) })
	if i < len(g.consumers) && g.consumers[i].name == string(name) {
		return g.consumers[i]
	}
	return nil
}

// createConsumer adds a consumer; it returns nil if the name is taken.
func (g *streamCG) createConsumer(name []byte, now int64) *streamConsumer {
	i := sort.Search(len(g.consumers), func(i int) bool { return g.consumers[i].name >= string(name) })
	if i < len(g.consumers) && g.consumers[i].name == string(name) {
		return nil
	}
	c := &streamConsumer{name: string(name), seenTime: now}
	g.nameBytes += int64(len(name))
	g.consumers = append(g.consumers, nil)
	copy(g.consumers[i+1:], g.consumers[i:])
	g.consumers[i] = c
	return c
}

// deleteConsumer removes a consumer and its pending entries from the group
// PEL, and returns how many it had.
func (g *streamCG) deleteConsumer(c *streamConsumer) int {
	pending := c.pel.len()
	g.nameBytes -= int64(len(c.name))
	c.pel.ascend(streamMinID, func(id streamID, _ *struct{}) bool {
		g.pel.remove(id)
		return true
	})
	i := sort.Search(len(g.consumers), func(i int) bool { return g.consumers[i].name >= c.name })
	copy(g.consumers[i:], g.consumers[i+1:])
	g.consumers[len(g.consumers)-1] = nil
	g.consumers = g.consumers[:len(g.consumers)-1]
	return pending
}

// ack removes id from the group and consumer PELs.
func (g *streamCG) ack(id streamID) bool {
	nack := g.pel.get(id)
	if nack == nil {
		return false
	}
	if nack.consumer != nil {
		nack.consumer.pel.remove(id)
	}
	g.pel.remove(id)
	return true
}

// clone deep-copies the group, re-pointing NACKs at the copied consumers.
func (g *streamCG) clone() *streamCG {
	c := &streamCG{name: g.name, lastID: g.lastID, entriesRead: g.entriesRead, nameBytes: g.nameBytes}
	byOld := make(map[*streamConsumer]*streamConsumer, len(g.consumers))
	for _, cons := range g.consumers {
		nc := &streamConsumer{name: cons.name, seenTime: cons.seenTime}
		nc.pel = cons.pel.clone(func(v struct{}) struct{} { return v })
		c.consumers = append(c.consumers, nc)
		byOld[cons] = nc
	}
	c.pel = g.pel.clone(func(v streamNACK) streamNACK {
		v.consumer = byOld[v.consumer]
		return v
	})
	return c
}

// memoryUsage estimates the group's heap bytes in O(1): every pending
// entry is in the group PEL and in one consumer's.
func (g *streamCG) memoryUsage() int64 {
	const consumerOverhead = 128 // struct, pointer, PEL header and chunk
	return int64(96+len(g.name)) + g.pel.bytes(24) + int64(g.pel.len())*16*4/3 +
		int64(len(g.consumers))*consumerOverhead + g.nameBytes
}
