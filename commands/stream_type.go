package commands

import (
	"math"
	"sort"
	"strconv"
)

// ---------------------------------------------------------------------------
// The stream type, after Redis's t_stream.c: a sequence of entries ordered by
// ID, held in nodes the way Redis holds them in listpacks under a radix tree.
//
// Each node packs up to stream-node-max-entries entries (and about
// stream-node-max-bytes bytes of Redis listpack) into one []byte: a node is
// one allocation without pointers however many entries it holds, so a stream
// of millions of entries costs the GC tens of thousands of objects. Entries
// are delta-encoded against the node's master ID, and an entry whose fields
// are the node's master fields stores only its values (Redis's SAMEFIELDS).
//
// Nodes split, fill and die exactly when Redis's listpacks do: for that each
// node keeps the size its Redis listpack would have (lpBytes), so that XADD
// opens a new node at the same entry as Redis, approximate trimming (~)
// removes the same whole nodes, and XINFO reports the same radix tree.
// Deleted entries stay in their node as tombstones until the node goes, as
// in Redis.
// ---------------------------------------------------------------------------

// streamID is a stream entry ID, <ms>-<seq>.
type streamID struct{ ms, seq uint64 }

var (
	streamMinID = streamID{}
	streamMaxID = streamID{math.MaxUint64, math.MaxUint64}
)

// cmp returns -1, 0 or 1 as a is smaller than, equal to or greater than b.
func (a streamID) cmp(b streamID) int {
	switch {
	case a.ms > b.ms:
		return 1
	case a.ms < b.ms:
		return -1
	case a.seq > b.seq:
		return 1
	case a.seq < b.seq:
		return -1
	}
	return 0
}

func (a streamID) isZero() bool { return a.ms == 0 && a.seq == 0 }

// incr returns the successor of a; ok is false when a is the largest ID (the
// result then wraps to 0-0, as Redis's streamIncrID).
func (a streamID) incr() (streamID, bool) {
	if a.seq == math.MaxUint64 {
		if a.ms == math.MaxUint64 {
			return streamID{}, false
		}
		return streamID{a.ms + 1, 0}, true
	}
	return streamID{a.ms, a.seq + 1}, true
}

// decr returns the predecessor of a; ok is false when a is 0-0 (the result
// then wraps to the largest ID, as Redis's streamDecrID).
func (a streamID) decr() (streamID, bool) {
	if a.seq == 0 {
		if a.ms == 0 {
			return streamMaxID, false
		}
		return streamID{a.ms - 1, math.MaxUint64}, true
	}
	return streamID{a.ms, a.seq - 1}, true
}

// appendStreamID formats id as <ms>-<seq>.
func appendStreamID(b []byte, id streamID) []byte {
	b = strconv.AppendUint(b, id.ms, 10)
	b = append(b, '-')
	return strconv.AppendUint(b, id.seq, 10)
}

// formatStreamID returns id as <ms>-<seq> in a new slice.
func formatStreamID(id streamID) []byte { return appendStreamID(make([]byte, 0, 24), id) }

// addStreamID replies with id as a bulk string.
func (c *Client) addStreamID(id streamID) {
	var buf [48]byte
	c.addBulk(appendStreamID(buf[:0], id))
}

// ---------------------------------------------------------------------------
// The stream.
// ---------------------------------------------------------------------------

// stream is a stream value: the nodes, the counters Redis keeps, and the
// consumer groups.
type stream struct {
	nodes        []*streamNode // ordered by master ID
	length       uint64        // live entries
	lastID       streamID      // last ID ever added (or set with XSETID)
	firstID      streamID      // first live entry (0-0 when empty)
	maxDeletedID streamID      // greatest ID deleted by XDEL
	entriesAdded uint64        // entries ever added
	groups       []*streamCG   // ordered by name
	// nodeBytes is the heap the nodes take, kept current so that
	// MemoryUsage, which runs after every write, is O(groups).
	nodeBytes int64
	// idBuf formats the ID XADD replies with and propagates, without an
	// allocation per XADD.
	idBuf [44]byte
}

// streamNodeOverhead is the heap a node costs besides its buffer: the
// struct, its pointer in the node slice and allocation rounding.
const streamNodeOverhead = 96

func (n *streamNode) heapBytes() int64 { return streamNodeOverhead + int64(cap(n.buf)) }

func newStream() *stream { return &stream{} }

// Encoding reports "stream", as OBJECT ENCODING does for every stream.
func (s *stream) Encoding() string { return "stream" }

// Len is the number of live entries.
func (s *stream) Len() int { return int(s.length) }

// tail returns the last node, or nil.
func (s *stream) tail() *streamNode {
	if len(s.nodes) == 0 {
		return nil
	}
	return s.nodes[len(s.nodes)-1]
}

// streamNodeLimits are the stream-node-max-bytes and -entries options.
type streamNodeLimits struct {
	maxBytes   int64
	maxEntries int64
}

// streamListpackMaxSize is Redis's STREAM_LISTPACK_MAX_SIZE: no listpack
// grows past 1GB whatever the configuration says.
const streamListpackMaxSize = 1 << 30

// errStreamID and errStreamTooLarge are the reasons an append fails, as
// Redis's EDOM and ERANGE.
const (
	appendOK = iota
	appendBadID
	appendTooLarge
)

// appendEntry adds an entry with the field/value pairs fv, as Redis's
// streamAppendItem. With useID nil the ID is generated from now (unix ms);
// with seqGiven false only useID.ms was given (the <ms>-* form). It returns
// the new ID and appendOK, or the reason it failed.
func (s *stream) appendEntry(fv [][]byte, useID *streamID, seqGiven bool, now int64, lim streamNodeLimits) (streamID, int) {
	var id streamID
	switch {
	case useID == nil:
		if ms := uint64(now); ms > s.lastID.ms {
			id = streamID{ms, 0}
		} else {
			id, _ = s.lastID.incr()
		}
	case seqGiven:
		id = *useID
	default:
		if s.lastID.ms == useID.ms {
			if s.lastID.seq == math.MaxUint64 {
				// Redis 7.0 fails here without setting errno, so XADD
				// reports the other error it knows.
				return streamID{}, appendTooLarge
			}
			id = streamID{s.lastID.ms, s.lastID.seq + 1}
		} else {
			id = *useID
		}
	}
	if id.cmp(s.lastID) <= 0 {
		return streamID{}, appendBadID
	}
	total := 0
	for _, b := range fv {
		total += len(b)
	}
	if total > streamListpackMaxSize {
		return streamID{}, appendTooLarge
	}

	n := s.tail()
	if n != nil {
		maxBytes := lim.maxBytes
		if maxBytes == 0 || maxBytes > streamListpackMaxSize {
			maxBytes = streamListpackMaxSize
		}
		full := int64(n.lpBytes()+total) >= maxBytes ||
			(lim.maxEntries != 0 && n.live+n.deleted >= lim.maxEntries)
		if full {
			// The node is done growing: give back the spare capacity, as
			// Redis's lpShrinkToFit.
			if cap(n.buf)-len(n.buf) > 64 {
				s.nodeBytes -= int64(cap(n.buf))
				n.buf = append([]byte(nil), n.buf...)
				s.nodeBytes += int64(cap(n.buf))
			}
			n = nil
		}
	}
	if n == nil {
		hint := 256
		if lim.maxBytes > 0 && lim.maxBytes < int64(hint) {
			hint = int(lim.maxBytes)
		}
		n = newStreamNode(id, fv, max(hint, total+32))
		s.nodes = append(s.nodes, n)
		s.nodeBytes += n.heapBytes()
	}
	before := cap(n.buf)
	n.appendEntry(id, fv)
	s.nodeBytes += int64(cap(n.buf) - before)
	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
	return id, appendOK
}

// removeNode drops node i.
func (s *stream) removeNode(i int) {
	s.nodeBytes -= s.nodes[i].heapBytes()
	copy(s.nodes[i:], s.nodes[i+1:])
	s.nodes[len(s.nodes)-1] = nil
	s.nodes = s.nodes[:len(s.nodes)-1]
}

// removeFirstNodes drops the first k nodes.
func (s *stream) removeFirstNodes(k int) {
	if k == 0 {
		return
	}
	for _, n := range s.nodes[:k] {
		s.nodeBytes -= n.heapBytes()
	}
	clear(s.nodes[:k])
	s.nodes = s.nodes[k:]
	if len(s.nodes) == 0 {
		s.nodes = nil
	}
}

// nodeFor returns the index of the last node whose master ID is <= id, or
// -1 if there is none.
func (s *stream) nodeFor(id streamID) int {
	i := sort.Search(len(s.nodes), func(i int) bool { return s.nodes[i].master.cmp(id) > 0 })
	return i - 1
}

// ---------------------------------------------------------------------------
// Iteration, as Redis's streamIterator: entries between start and end
// (inclusive) forwards or backwards, tombstones skipped unless asked for.
// ---------------------------------------------------------------------------

type streamIter struct {
	s          *stream
	start, end streamID
	rev        bool
	tombstones bool
	ni         int // current node, out of range when done
	off        int // forward: next entry offset; reverse: end of next entry
	started    bool
}

// iter starts an iteration over [start, end].
func (s *stream) iter(start, end streamID, rev bool) streamIter {
	it := streamIter{s: s, start: start, end: end, rev: rev}
	if !rev {
		it.ni = max(s.nodeFor(start), 0)
	} else {
		it.ni = s.nodeFor(end)
	}
	return it
}

// next decodes the next entry in range into e and reports whether there was
// one.
func (it *streamIter) next(e *streamEntry) bool {
	nodes := it.s.nodes
	for it.ni >= 0 && it.ni < len(nodes) {
		n := nodes[it.ni]
		if !it.started {
			it.started = true
			if it.rev {
				it.off = len(n.buf)
			} else {
				it.off = n.first
			}
		}
		if !it.rev {
			for it.off < len(n.buf) {
				n.decode(it.off, e)
				it.off = e.end
				if e.id.cmp(it.start) < 0 || (!it.tombstones && e.flags&streamDeleted != 0) {
					continue
				}
				if e.id.cmp(it.end) > 0 {
					it.ni = len(nodes)
					return false
				}
				return true
			}
			it.ni++
		} else {
			for it.off > n.first {
				l, bl := streamReadBacklen(n.buf, it.off)
				start := bl - l
				n.decode(start, e)
				it.off = start
				if e.id.cmp(it.end) > 0 || (!it.tombstones && e.flags&streamDeleted != 0) {
					continue
				}
				if e.id.cmp(it.start) < 0 {
					it.ni = -1
					return false
				}
				return true
			}
			it.ni--
		}
		it.started = false
	}
	return false
}

// lookup finds the live entry id (Redis's streamEntryExists, which also
// gives the entry).
func (s *stream) lookup(id streamID, e *streamEntry) bool {
	it := s.iter(id, id, false)
	return it.next(e)
}

// edgeID returns the first or last entry's ID; with tombstones false only
// live entries count. An empty stream gives the largest ID for first and
// 0-0 for last (Redis's streamGetEdgeID).
func (s *stream) edgeID(first, tombstones bool) streamID {
	it := s.iter(streamMinID, streamMaxID, !first)
	it.tombstones = tombstones
	var e streamEntry
	if it.next(&e) {
		return e.id
	}
	if first {
		return streamMaxID
	}
	return streamMinID
}

// lastValidID is the ID of the last live entry.
func (s *stream) lastValidID() streamID { return s.edgeID(false, false) }

// deleteEntry removes the live entry id, as Redis's streamDeleteItem: it is
// flagged as a tombstone, or its node goes if it was the node's last live
// entry.
func (s *stream) deleteEntry(id streamID) bool {
	var e streamEntry
	if !s.lookup(id, &e) {
		return false
	}
	n := e.node
	if n.live == 1 {
		s.removeNode(s.nodeFor(n.master))
	} else {
		n.markDeleted(e.off)
	}
	s.length--
	return true
}

// deleteIDs deletes entries as XDEL does and returns how many there were:
// the greatest deleted ID is remembered for the lag computations, and the
// first ID follows.
func (s *stream) deleteIDs(ids []streamID) int {
	deleted := 0
	firstEntry := false
	for _, id := range ids {
		if !s.deleteEntry(id) {
			continue
		}
		if id == s.firstID {
			firstEntry = true
		}
		if id.cmp(s.maxDeletedID) > 0 {
			s.maxDeletedID = id
		}
		deleted++
	}
	if deleted > 0 {
		if s.length == 0 {
			s.firstID = streamID{}
		} else if firstEntry {
			s.firstID = s.edgeID(true, false)
		}
	}
	return deleted
}

// ---------------------------------------------------------------------------
// Trimming, as Redis's streamTrim.
// ---------------------------------------------------------------------------

const (
	trimNone = iota
	trimMaxLen
	trimMinID
)

// streamTrimArgs are the trimming options of XADD and XTRIM.
type streamTrimArgs struct {
	strategy int
	argIdx   int // position of the MAXLEN/MINID value, for propagation
	approx   bool
	limit    int64 // maximum entries to remove; 0 means no limit
	maxLen   int64
	minID    streamID
}

// trim removes entries from the head and returns how many went. Whole nodes
// go when they can; with approx only whole nodes go. limit bounds the work.
func (s *stream) trim(a *streamTrimArgs) int64 {
	if a.strategy == trimNone {
		return 0
	}
	maxLen := uint64(a.maxLen)
	var deleted int64
	removed := 0 // whole nodes removed from the head
	for i := 0; i < len(s.nodes); i++ {
		if a.strategy == trimMaxLen && s.length <= maxLen {
			break
		}
		n := s.nodes[i]
		entries := n.live
		if a.limit != 0 && deleted+entries > a.limit {
			break
		}
		var removeNode bool
		if a.strategy == trimMaxLen {
			removeNode = s.length-uint64(entries) >= maxLen
		} else {
			last, _ := n.lastEntryID()
			removeNode = last.cmp(a.minID) < 0
		}
		if removeNode {
			s.length -= uint64(entries)
			deleted += entries
			removed++
			continue
		}
		if a.approx {
			break
		}
		// Flag entries inside the node.
		for off := n.first; off < len(n.buf); {
			var e streamEntry
			n.decode(off, &e)
			var stop bool
			if a.strategy == trimMaxLen {
				stop = s.length <= maxLen
			} else {
				stop = e.id.cmp(a.minID) >= 0
			}
			if stop {
				break
			}
			if e.flags&streamDeleted == 0 {
				n.markDeleted(off)
				s.length--
				deleted++
			}
			off = e.end
		}
		break
	}
	s.removeFirstNodes(removed)
	if s.length == 0 {
		s.firstID = streamID{}
	} else if deleted > 0 {
		s.firstID = s.edgeID(true, false)
	}
	return deleted
}

// ---------------------------------------------------------------------------
// Consumer groups lag (Redis 7.0 entries-read tracking).
// ---------------------------------------------------------------------------

// invalidEntriesRead is Redis's SCG_INVALID_ENTRIES_READ.
const invalidEntriesRead = -1

// rangeHasTombstones reports whether a deleted entry may lie in [start, end]
// (Redis's streamRangeHasTombstones; end nil means the stream's end).
func (s *stream) rangeHasTombstones(start streamID, end *streamID) bool {
	if s.length == 0 || s.maxDeletedID.isZero() {
		return false
	}
	if s.firstID.cmp(s.maxDeletedID) > 0 {
		return false
	}
	e := streamMaxID
	if end != nil {
		e = *end
	}
	return start.cmp(s.maxDeletedID) <= 0 && s.maxDeletedID.cmp(e) <= 0
}

// estimateDistanceFromFirstEverEntry returns the logical read counter of id,
// or invalidEntriesRead when it cannot be known (Redis's
// streamEstimateDistanceFromFirstEverEntry).
func (s *stream) estimateDistanceFromFirstEverEntry(id streamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.cmp(s.lastID) < 1 {
		return int64(s.entriesAdded)
	}
	cmpLast := id.cmp(s.lastID)
	if cmpLast == 0 {
		return int64(s.entriesAdded)
	} else if cmpLast > 0 {
		return invalidEntriesRead
	}
	cmpIDFirst := id.cmp(s.firstID)
	cmpXdelFirst := s.maxDeletedID.cmp(s.firstID)
	if s.maxDeletedID.isZero() || cmpXdelFirst < 0 {
		if cmpIDFirst < 0 {
			return int64(s.entriesAdded - s.length)
		} else if cmpIDFirst == 0 {
			return int64(s.entriesAdded - s.length + 1)
		}
	}
	return invalidEntriesRead
}

// groupLag returns a group's lag, and false when it is unknown (null).
func (s *stream) groupLag(cg *streamCG) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if cg.entriesRead != invalidEntriesRead && !s.rangeHasTombstones(cg.lastID, nil) {
		return int64(s.entriesAdded) - cg.entriesRead, true
	}
	if read := s.estimateDistanceFromFirstEverEntry(cg.lastID); read != invalidEntriesRead {
		return int64(s.entriesAdded) - read, true
	}
	return 0, false
}

// ---------------------------------------------------------------------------
// Object interface.
// ---------------------------------------------------------------------------

// Copy returns a deep copy, groups and pending entries included.
func (s *stream) Copy() Object {
	c := *s
	c.nodes = make([]*streamNode, len(s.nodes))
	c.nodeBytes = 0
	for i, n := range s.nodes {
		c.nodes[i] = n.clone()
		c.nodeBytes += c.nodes[i].heapBytes()
	}
	c.groups = nil
	for _, g := range s.groups {
		c.groups = append(c.groups, g.clone())
	}
	return &c
}

// MemoryUsage estimates the heap bytes of the stream. It is O(groups): the
// node bytes are kept current as the stream changes.
func (s *stream) MemoryUsage() int64 {
	size := int64(128) + int64(cap(s.nodes))*8 + s.nodeBytes
	for _, g := range s.groups {
		size += g.memoryUsage()
	}
	return size
}

// Rewrite emits the commands that rebuild the stream, as Redis's
// rewriteStreamObject: one XADD per entry (or XADD MAXLEN 0 for an empty
// stream), XSETID with the counters, then every group with XGROUP CREATE and
// its pending entries as XCLAIM ... FORCE (consumers without pending
// entries as XGROUP CREATECONSUMER).
func (s *stream) Rewrite(key []byte, emit func(argv [][]byte)) {
	var argv [][]byte
	var idbuf, tbuf, cbuf [48]byte
	if s.length > 0 {
		it := s.iter(streamMinID, streamMaxID, false)
		var e streamEntry
		for it.next(&e) {
			argv = append(argv[:0], []byte("XADD"), key, appendStreamID(idbuf[:0], e.id))
			e.each(func(f, v []byte) { argv = append(argv, f, v) })
			emit(argv)
		}
	} else {
		emit([][]byte{[]byte("XADD"), key, []byte("MAXLEN"), []byte("0"), []byte("0-1"), []byte("x"), []byte("y")})
	}
	emit([][]byte{[]byte("XSETID"), key, appendStreamID(idbuf[:0], s.lastID),
		[]byte("ENTRIESADDED"), strconv.AppendUint(cbuf[:0], s.entriesAdded, 10),
		[]byte("MAXDELETEDID"), appendStreamID(tbuf[:0], s.maxDeletedID)})
	for _, g := range s.groups {
		name := []byte(g.name)
		emit([][]byte{[]byte("XGROUP"), []byte("CREATE"), key, name, appendStreamID(idbuf[:0], g.lastID),
			[]byte("ENTRIESREAD"), strconv.AppendInt(cbuf[:0], g.entriesRead, 10)})
		for _, cons := range g.consumers {
			cname := []byte(cons.name)
			if cons.pel.len() == 0 {
				emit([][]byte{[]byte("XGROUP"), []byte("CREATECONSUMER"), key, name, cname})
				continue
			}
			cons.pel.ascend(streamMinID, func(id streamID, _ *struct{}) bool {
				nack := g.pel.get(id)
				emit([][]byte{[]byte("XCLAIM"), key, name, cname, []byte("0"), appendStreamID(idbuf[:0], id),
					[]byte("TIME"), strconv.AppendInt(tbuf[:0], nack.deliveryTime, 10),
					[]byte("RETRYCOUNT"), strconv.AppendUint(cbuf[:0], nack.deliveryCount, 10),
					[]byte("JUSTID"), []byte("FORCE")})
				return true
			})
		}
	}
}
