package commands

import (
	"strconv"

	"spinel/commands/keyspace"
)

// ---------------------------------------------------------------------------
// XREAD and XREADGROUP, with BLOCK, as Redis 7.0's xreadCommand and
// serveClientsBlockedOnStreamKey.
// ---------------------------------------------------------------------------

// xreadBlockedDefaultCount is the COUNT of a blocked read without one
// (Redis's XREAD_BLOCKED_DEFAULT_COUNT).
const xreadBlockedDefaultCount = 1000

// streamGroupRead is what a consumer group read needs beyond the range: the
// group, the consumer, and the names for propagation.
type streamGroupRead struct {
	group     *streamCG
	consumer  *streamConsumer
	noack     bool
	key       []byte
	groupName []byte
}

// addStreamGroupRange replies with the entries from start on (at most count,
// 0 for all) for a consumer group read, as Redis's streamReplyWithRange with
// a group: the group's last delivered ID and read counter advance, and
// unless NOACK every entry enters the group's and the consumer's PELs. The
// new pending entries are propagated as XCLAIM.
func (s *Server) addStreamGroupRange(c *Client, db *database, st *stream, start streamID, count int64, g *streamGroupRead) {
	pos := c.deferLen()
	n := 0
	group, consumer := g.group, g.consumer
	propagateLastID := false
	it := st.iter(start, streamMaxID, false)
	var e streamEntry
	for it.next(&e) {
		if e.id.cmp(group.lastID) > 0 {
			if group.entriesRead != invalidEntriesRead && !st.rangeHasTombstones(e.id, nil) {
				group.entriesRead++
			} else if st.entriesAdded != 0 {
				group.entriesRead = st.estimateDistanceFromFirstEverEntry(e.id)
			}
			group.lastID = e.id
			// Without NOACK the XCLAIMs below carry the last ID.
			if g.noack {
				propagateLastID = true
			}
		}
		c.addStreamEntry(&e)
		if !g.noack {
			nack := group.pel.get(e.id)
			if nack == nil {
				group.pel.insert(e.id, streamNACK{deliveryTime: s.now, deliveryCount: 1, consumer: consumer})
				nack = group.pel.get(e.id)
			} else {
				// Already pending (XGROUP SETID moved the group back):
				// the entry changes hands.
				if nack.consumer != nil {
					nack.consumer.pel.remove(e.id)
				}
				nack.consumer = consumer
				nack.deliveryTime = s.now
				nack.deliveryCount = 1
			}
			consumer.pel.insert(e.id, struct{}{})
			s.propagateXclaim(db, g.key, group, g.groupName, formatStreamID(e.id), nack)
		}
		n++
		if count != 0 && int64(n) == count {
			break
		}
	}
	if propagateLastID {
		s.propagateStreamGroupID(db, g.key, group, g.groupName)
	}
	c.setDeferredArrayLen(pos, n)
}

// addConsumerHistory replies with the consumer's pending entries from start
// on (XREADGROUP with an ID other than ">"), as Redis's
// streamReplyWithRangeFromConsumerPEL: deleted entries appear as [id, nil],
// and every entry served counts as a new delivery.
func (s *Server) addConsumerHistory(c *Client, st *stream, group *streamCG, consumer *streamConsumer, start streamID, count int64) {
	pos := c.deferLen()
	n := 0
	consumer.pel.ascend(start, func(id streamID, _ *struct{}) bool {
		if count != 0 && int64(n) >= count {
			return false
		}
		var e streamEntry
		if st.lookup(id, &e) {
			c.addStreamEntry(&e)
			if nack := group.pel.get(id); nack != nil {
				nack.deliveryTime = s.now
				nack.deliveryCount++
			}
		} else {
			c.addArrayLen(2)
			c.addStreamID(id)
			c.addNullArray()
		}
		n++
		return true
	})
	c.setDeferredArrayLen(pos, n)
}

// propagateXclaim logs a delivery as the idempotent XCLAIM Redis's
// streamPropagateXCLAIM emits.
func (s *Server) propagateXclaim(db *database, key []byte, group *streamCG, groupName, id []byte, nack *streamNACK) {
	consumer := ""
	if nack.consumer != nil {
		consumer = nack.consumer.name
	}
	s.alsoPropagate(db, []byte("XCLAIM"), key, groupName, []byte(consumer), []byte("0"),
		id, []byte("TIME"), strconv.AppendInt(nil, nack.deliveryTime, 10),
		[]byte("RETRYCOUNT"), strconv.AppendUint(nil, nack.deliveryCount, 10),
		[]byte("FORCE"), []byte("JUSTID"), []byte("LASTID"), formatStreamID(group.lastID))
}

// propagateStreamGroupID logs a group's new last ID and read counter, as Redis's
// streamPropagateGroupID.
func (s *Server) propagateStreamGroupID(db *database, key []byte, group *streamCG, groupName []byte) {
	s.alsoPropagate(db, []byte("XGROUP"), []byte("SETID"), key, groupName, formatStreamID(group.lastID),
		[]byte("ENTRIESREAD"), strconv.AppendInt(nil, group.entriesRead, 10))
}

// propagateStreamConsumerCreation logs a consumer created by a NOACK read, which
// no XCLAIM would create (Redis's streamPropagateConsumerCreation).
func (s *Server) propagateStreamConsumerCreation(db *database, key, groupName, consumer []byte) {
	s.alsoPropagate(db, []byte("XGROUP"), []byte("CREATECONSUMER"), key, groupName, consumer)
}

// streamWillChange precedes a change to a stream that a group command
// looked up for reading (as Redis does, which shows in the keyspace hit
// statistics): the write lookup is where the keyspace learns that a value is
// about to change.
func (s *Server) streamWillChange(db *database, key []byte) { s.lookupWriteDB(db, key, false) }

// createStreamConsumer adds a consumer to group with Redis's side effects: a
// dirty count and the "xgroup-createconsumer" event.
func (s *Server) createStreamConsumer(db *database, key []byte, group *streamCG, name []byte) *streamConsumer {
	cons := group.createConsumer(name, s.now)
	if cons != nil {
		s.dirty++
		s.notify(db, notifyStream, "xgroup-createconsumer", key)
		s.noteObjectChange(db, key)
	}
	return cons
}

// streamReadConsumer finds or creates the consumer of a group read, refreshing its
// seen time.
func (s *Server) streamReadConsumer(db *database, key []byte, group *streamCG, groupName, name []byte, noack bool) *streamConsumer {
	cons := group.lookupConsumer(name)
	if cons == nil {
		cons = s.createStreamConsumer(db, key, group, name)
		if noack {
			s.propagateStreamConsumerCreation(db, key, groupName, name)
		}
	}
	cons.seenTime = s.now
	return cons
}

func cmdXread(c *Client, args [][]byte) {
	s := c.srv
	xreadgroup := len(args[0]) == len("xreadgroup")
	if xreadgroup {
		// The reads propagate as XCLAIMs, never as themselves.
		defer c.propagateAs()
	}
	block := false
	var deadline, count int64
	streamsArg := 0
	var groupName, consumerName []byte
	noack := false
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		o := args[i]
		switch {
		case equalFold(o, "block") && more > 0:
			if c.fromScript() {
				c.addError("ERR " + string(args[0]) + " command is not allowed with BLOCK option from scripts")
				return
			}
			i++
			d, ok := c.parseTimeoutMillis(args[i])
			if !ok {
				return
			}
			block, deadline = true, d
		case equalFold(o, "count") && more > 0:
			i++
			v, ok := c.getInt(args[i])
			if !ok {
				return
			}
			count = max(v, 0)
		case equalFold(o, "streams") && more > 0:
			streamsArg = i + 1
			if (len(args)-streamsArg)%2 != 0 {
				c.addError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
				return
			}
			i = len(args)
		case equalFold(o, "group") && more >= 2:
			if !xreadgroup {
				c.addError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			groupName, consumerName = args[i+1], args[i+2]
			i += 2
		case equalFold(o, "noack"):
			if !xreadgroup {
				c.addError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			noack = true
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	if streamsArg == 0 {
		c.addError(ErrSyntax)
		return
	}
	if xreadgroup && groupName == nil {
		c.addError("ERR Missing GROUP option for XREADGROUP")
		return
	}

	// Resolve the IDs and the groups.
	n := (len(args) - streamsArg) / 2
	keys := args[streamsArg : streamsArg+n]
	ids := make([]streamID, n)
	var groups []*streamCG
	if groupName != nil {
		groups = make([]*streamCG, n)
	}
	for i := 0; i < n; i++ {
		key, arg := keys[i], args[streamsArg+n+i]
		st, ok := s.readStream(c, key)
		if !ok {
			return
		}
		if groupName != nil {
			var g *streamCG
			if st != nil {
				g = st.lookupGroup(groupName)
			}
			if g == nil {
				c.addError("NOGROUP No such key '" + streamCStr(key) + "' or consumer group '" + streamCStr(groupName) +
					"' in XREADGROUP with GROUP option")
				return
			}
			groups[i] = g
		}
		switch streamCStr(arg) {
		case "$":
			if xreadgroup {
				c.addError("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
				return
			}
			if st != nil {
				ids[i] = st.lastID
			}
			continue
		case ">":
			if !xreadgroup {
				c.addError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
				return
			}
			// The maximum ID stands for ">": the group's last ID, which
			// moves, is read when serving.
			ids[i] = streamMaxID
			continue
		}
		id, ok := c.getStreamID(arg, true, 0)
		if !ok {
			return
		}
		ids[i] = id
	}

	if groups != nil {
		for _, key := range keys {
			s.streamWillChange(c.db, key)
		}
	}

	// Serve synchronously what can be served.
	served := 0
	pos := 0
	for i := 0; i < n; i++ {
		key := keys[i]
		st, _ := s.readStream(c, key)
		if st == nil {
			continue
		}
		gt := ids[i]
		serve, history := false, false
		var consumer *streamConsumer
		if groups != nil {
			if gt != streamMaxID {
				serve, history = true, true
			} else if st.length > 0 && st.lastValidID().cmp(groups[i].lastID) > 0 {
				serve = true
				gt = groups[i].lastID
			}
		} else if st.length > 0 && st.lastValidID().cmp(gt) > 0 {
			serve = true
		}
		if !serve {
			continue
		}
		served++
		if served == 1 {
			pos = c.deferLen()
		}
		start, _ := gt.incr()
		if c.resp == 2 {
			c.addArrayLen(2)
		}
		c.addBulk(key)
		if groups != nil {
			// Redis 7.0 creates the consumer only when it is served.
			consumer = s.streamReadConsumer(c.db, key, groups[i], groupName, consumerName, noack)
		}
		switch {
		case history:
			s.addConsumerHistory(c, st, groups[i], consumer, start, count)
		case groups != nil:
			s.addStreamGroupRange(c, c.db, st, start, count, &streamGroupRead{
				group: groups[i], consumer: consumer, noack: noack, key: key, groupName: groupName})
		default:
			c.addStreamRange(st, start, streamMaxID, count, false)
		}
		if groups != nil {
			s.dirty++
			// Not a WATCH-visible change in Redis, but the PELs grew.
			s.noteObjectChange(c.db, key)
		}
	}
	if served > 0 {
		if c.resp == 2 {
			c.setDeferredArrayLen(pos, served)
		} else {
			c.setDeferredMapLen(pos, served)
		}
		return
	}
	if !block {
		c.addNullArray()
		return
	}

	// Block: "$" was resolved to the last ID above, so the waiter only sees
	// what arrives from now on.
	w := &xreadWaiter{keys: make([]string, n), ids: ids, count: count, noack: noack}
	if w.count == 0 {
		w.count = xreadBlockedDefaultCount
	}
	for i, k := range keys {
		w.keys[i] = string(k)
	}
	if groupName != nil {
		w.group = append([]byte(nil), groupName...)
		w.consumer = append([]byte(nil), consumerName...)
	}
	s.blockForKeys(c, keys, deadline, w.serve, func(c *Client) { c.addNullArray() })
}

// xreadWaiter is a client blocked in XREAD or XREADGROUP.
type xreadWaiter struct {
	keys  []string
	ids   []streamID // entries must be greater; the max ID stands for ">"
	count int64
	group []byte // nil for XREAD
	// consumer and noack are the XREADGROUP options.
	consumer []byte
	noack    bool
}

// streamServeOnlyMe marks, in the served client's cmd field, a call of a
// waiter's serve function made by serveStreamWaiters: serve that client
// only.
var streamServeOnlyMe = &Spec{Name: "xread", FullName: "xread"}

// serve is the waiter's serveFunc. Redis offers a stream that received data
// to every client blocked on it, in order, each served if the stream has
// what it waits for; the blocking layer stops at the first client it cannot
// serve (right for lists, where that means the list ran dry). So the first
// stream waiter offered the key also offers it to the stream waiters
// behind it.
func (w *xreadWaiter) serve(c *Client, key []byte) bool {
	s := c.srv
	walk := c.cmd != streamServeOnlyMe
	db := c.db
	served := w.serveOne(c, key)
	if walk {
		s.serveStreamWaiters(db, key, c)
	}
	return served
}

// serveStreamWaiters offers key to the clients blocked on it in XREAD or
// XREADGROUP after self, in the order they blocked.
func (s *Server) serveStreamWaiters(db *database, key []byte, self *Client) {
	waiting := db.blocking[string(key)]
	if len(waiting) <= 1 {
		return
	}
	list := append([]*Client(nil), waiting...)
	for _, y := range list {
		st := y.blocked
		if y == self || st == nil || st.db != db || y.closed {
			continue
		}
		if st.cmd == nil || (st.cmd.Name != "xread" && st.cmd.Name != "xreadgroup") {
			continue
		}
		prevDB, prevCmd := y.db, y.cmd
		y.db, y.cmd = st.db, streamServeOnlyMe
		served := st.serve(y, key)
		y.db, y.cmd = prevDB, prevCmd
		if served {
			if y.blocked == st {
				s.unblock(y)
			}
			st.cmd.Calls++
			s.finishUnblocked(y)
		}
	}
}

// serveOne serves c from key if the stream there has entries past the ID it
// waits for. A group read whose stream or group went away is released with
// an error.
func (w *xreadWaiter) serveOne(c *Client, key []byte) bool {
	s := c.srv
	db := c.db
	var st *stream
	if r := s.lookupWriteDB(db, key, false); r != 0 && db.kv.Type(r) == keyspace.TypeStream {
		st = db.kv.Object(r).(*stream)
	}
	if st == nil {
		if w.group != nil {
			c.addError("UNBLOCKED the stream key no longer exists")
			return true
		}
		return false
	}
	gt := streamMaxID
	for i, k := range w.keys {
		if k == string(key) {
			gt = w.ids[i]
			break
		}
	}
	var group *streamCG
	if w.group != nil {
		if group = st.lookupGroup(w.group); group == nil {
			c.addError("NOGROUP the consumer group this client was blocked on no longer exists")
			return true
		}
		gt = group.lastID
	}
	if st.lastID.cmp(gt) <= 0 {
		return false
	}
	start, _ := gt.incr()
	var consumer *streamConsumer
	if group != nil {
		consumer = s.streamReadConsumer(db, key, group, w.group, w.consumer, w.noack)
	}
	if c.resp == 2 {
		c.addArrayLen(1)
		c.addArrayLen(2)
	} else {
		c.addMapLen(1)
	}
	c.addBulk(key)
	if group != nil {
		s.addStreamGroupRange(c, db, st, start, w.count, &streamGroupRead{
			group: group, consumer: consumer, noack: w.noack, key: key, groupName: w.group})
		if r := db.kv.Lookup(key); r != 0 {
			s.measureObject(db, r)
		}
	} else {
		c.addStreamRange(st, start, streamMaxID, w.count, false)
	}
	return true
}

// signalDeletedStreams marks as ready the keys of db on which clients wait
// in XREADGROUP but which no longer hold a stream, so that they are
// released with "-UNBLOCKED the stream key no longer exists", as Redis's
// scanDatabaseForDeletedStreams does after FLUSHALL, FLUSHDB and SWAPDB.
// (A plain DEL or overwrite needs nothing: it signals the key itself.)
func (s *Server) signalDeletedStreams(db *database) {
	for key, waiting := range db.blocking {
		if r := db.kv.Lookup([]byte(key)); r != 0 && db.kv.Type(r) == keyspace.TypeStream {
			continue
		}
		for _, c := range waiting {
			if st := c.blocked; st != nil && st.cmd != nil && st.cmd.Name == "xreadgroup" {
				s.signalKeyAsReady(db, []byte(key))
				break
			}
		}
	}
}
