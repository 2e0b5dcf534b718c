package commands

import (
	"strings"

	"spinel/commands/keyspace"
)

// ---------------------------------------------------------------------------
// Consumer group commands: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and
// XINFO, as Redis 7.0's t_stream.c.
// ---------------------------------------------------------------------------

// addStreamSubcommandSyntaxError replies as Redis's addReplySubcommandSyntaxError.
func (c *Client) addStreamSubcommandSyntaxError(args [][]byte) {
	c.addError("ERR unknown subcommand or wrong number of arguments for '" + string(cString(args[1], 128)) +
		"'. Try " + strings.ToUpper(streamCStr(args[0])) + " HELP.")
}

func cmdXgroup(c *Client, args [][]byte) {
	s := c.srv
	opt := args[1]
	argc := len(args)
	mkstream := false
	entriesRead := int64(invalidEntriesRead)
	var st *stream
	var group *streamCG
	var key, groupName []byte

	// Everything but HELP names a key and a group.
	if argc >= 4 {
		create, setid := equalFold(opt, "create"), equalFold(opt, "setid")
		for i := 5; i < argc; {
			switch {
			case create && equalFold(args[i], "mkstream"):
				mkstream = true
				i++
			case (create || setid) && equalFold(args[i], "entriesread") && i+1 < argc:
				v, ok := c.getInt(args[i+1])
				if !ok {
					return
				}
				if v < 0 && v != invalidEntriesRead {
					c.addError("ERR value for ENTRIESREAD must be positive or -1")
					return
				}
				entriesRead = v
				i += 2
			default:
				c.addStreamSubcommandSyntaxError(args)
				return
			}
		}
		key, groupName = args[2], args[3]
		var ok bool
		if st, ok = s.writeStream(c, key); !ok {
			return
		}
	}
	if argc >= 4 && !mkstream {
		if st == nil {
			c.addError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
			return
		}
		group = st.lookupGroup(groupName)
		if group == nil && (equalFold(opt, "setid") || equalFold(opt, "createconsumer") || equalFold(opt, "delconsumer")) {
			c.addError("NOGROUP No such consumer group '" + streamCStr(groupName) + "' for key name '" + streamCStr(key) + "'")
			return
		}
	}

	switch {
	case argc == 2 && equalFold(opt, "help"):
		c.addHelp("XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CREATE <key> <groupname> <id|$> [option]",
			"    Create a new consumer group. Options are:",
			"    * MKSTREAM",
			"      Create the empty stream if it does not exist.",
			"    * ENTRIESREAD entries_read",
			"      Set the group's entries_read counter (internal use).",
			"CREATECONSUMER <key> <groupname> <consumer>",
			"    Create a new consumer in the specified group.",
			"DELCONSUMER <key> <groupname> <consumer>",
			"    Remove the specified consumer.",
			"DESTROY <key> <groupname>",
			"    Remove the specified group.",
			"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
			"    Set the current group ID and entries_read counter.")
	case equalFold(opt, "create") && argc >= 5 && argc <= 8:
		var id streamID
		if streamCStr(args[4]) == "$" {
			if st != nil {
				id = st.lastID
			}
		} else {
			var ok bool
			if id, ok = c.getStreamID(args[4], true, 0); !ok {
				return
			}
		}
		if st == nil {
			st = newStream()
			s.addObject(c.db, key, keyspace.TypeStream, st)
			s.signalModifiedKey(c.db, key)
		}
		if st.createGroup(groupName, id, entriesRead) == nil {
			c.addError("BUSYGROUP Consumer Group name already exists")
			return
		}
		c.addOK()
		s.dirty++
		s.notify(c.db, notifyStream, "xgroup-create", key)
		s.noteObjectChange(c.db, key)
	case equalFold(opt, "setid") && (argc == 5 || argc == 7):
		var id streamID
		if streamCStr(args[4]) == "$" {
			id = st.lastID
		} else {
			var ok bool
			if id, ok = c.getStreamID(args[4], false, 0); !ok {
				return
			}
		}
		group.lastID = id
		group.entriesRead = entriesRead
		c.addOK()
		s.dirty++
		s.notify(c.db, notifyStream, "xgroup-setid", key)
	case equalFold(opt, "destroy") && argc == 4:
		if group == nil {
			c.addInt(0)
			return
		}
		st.destroyGroup(groupName)
		c.addInt(1)
		s.dirty++
		s.notify(c.db, notifyStream, "xgroup-destroy", key)
		s.noteObjectChange(c.db, key)
		// Clients blocked in XREADGROUP on the group get -NOGROUP.
		s.signalKeyAsReady(c.db, key)
	case equalFold(opt, "createconsumer") && argc == 5:
		if s.createStreamConsumer(c.db, key, group, args[4]) != nil {
			c.addInt(1)
		} else {
			c.addInt(0)
		}
	case equalFold(opt, "delconsumer") && argc == 5:
		pending := 0
		if cons := group.lookupConsumer(args[4]); cons != nil {
			pending = group.deleteConsumer(cons)
			s.dirty++
			s.notify(c.db, notifyStream, "xgroup-delconsumer", key)
			s.noteObjectChange(c.db, key)
		}
		c.addInt(int64(pending))
	default:
		c.addStreamSubcommandSyntaxError(args)
	}
}

func cmdXack(c *Client, args [][]byte) {
	s := c.srv
	st, ok := s.readStream(c, args[1])
	if !ok {
		return
	}
	var group *streamCG
	if st != nil {
		group = st.lookupGroup(args[2])
	}
	if group == nil {
		c.addInt(0)
		return
	}
	// Parse every ID first: the command acks all or nothing.
	ids := make([]streamID, len(args)-3)
	for j := 3; j < len(args); j++ {
		if ids[j-3], ok = c.getStreamID(args[j], true, 0); !ok {
			return
		}
	}
	s.streamWillChange(c.db, args[1])
	acked := 0
	for _, id := range ids {
		if group.ack(id) {
			acked++
			s.dirty++
		}
	}
	if acked > 0 {
		s.noteObjectChange(c.db, args[1])
	}
	c.addInt(int64(acked))
}

func cmdXpending(c *Client, args [][]byte) {
	s := c.srv
	argc := len(args)
	justInfo := argc == 3
	key, groupName := args[1], args[2]
	var start, end streamID
	var count, minIdle int64
	var consumerName []byte

	if argc != 3 && (argc < 6 || argc > 9) {
		c.addError(ErrSyntax)
		return
	}
	if argc >= 6 {
		startIdx := 3
		if equalFold(args[3], "idle") {
			var ok bool
			if minIdle, ok = c.getInt(args[4]); !ok {
				return
			}
			if argc < 8 {
				c.addError(ErrSyntax)
				return
			}
			startIdx += 2
		}
		var ok bool
		if count, ok = c.getInt(args[startIdx+2]); !ok {
			return
		}
		count = max(count, 0)
		if start, ok = c.getStreamRangeStart(args[startIdx]); !ok {
			return
		}
		if end, ok = c.getStreamRangeEnd(args[startIdx+1]); !ok {
			return
		}
		if startIdx+3 < argc {
			consumerName = args[startIdx+3]
		}
	}

	st, ok := s.readStream(c, key)
	if !ok {
		return
	}
	var group *streamCG
	if st != nil {
		group = st.lookupGroup(groupName)
	}
	if group == nil {
		c.addError("NOGROUP No such key '" + streamCStr(key) + "' or consumer group '" + streamCStr(groupName) + "'")
		return
	}

	if justInfo {
		c.addArrayLen(4)
		c.addInt(int64(group.pel.len()))
		if group.pel.len() == 0 {
			c.addNull()
			c.addNull()
			c.addNullArray()
			return
		}
		first, _ := group.pel.first()
		last, _ := group.pel.last()
		c.addStreamID(first)
		c.addStreamID(last)
		pos := c.deferLen()
		n := 0
		for _, cons := range group.consumers {
			if cons.pel.len() == 0 {
				continue
			}
			c.addArrayLen(2)
			c.addBulkString(cons.name)
			c.addBulkInt(int64(cons.pel.len()))
			n++
		}
		c.setDeferredArrayLen(pos, n)
		return
	}

	var consumer *streamConsumer
	if consumerName != nil {
		if consumer = group.lookupConsumer(consumerName); consumer == nil {
			c.addEmptyArray()
			return
		}
	}
	now := s.now
	pos := c.deferLen()
	n := 0
	emit := func(id streamID, nack *streamNACK) bool {
		if count == 0 || id.cmp(end) > 0 {
			return false
		}
		if minIdle != 0 && now-nack.deliveryTime < minIdle {
			return true
		}
		n++
		count--
		c.addArrayLen(4)
		c.addStreamID(id)
		c.addBulkString(nack.consumer.name)
		c.addInt(max(now-nack.deliveryTime, 0))
		c.addInt(int64(nack.deliveryCount))
		return true
	}
	if consumer != nil {
		consumer.pel.ascend(start, func(id streamID, _ *struct{}) bool { return emit(id, group.pel.get(id)) })
	} else {
		group.pel.ascend(start, emit)
	}
	c.setDeferredArrayLen(pos, n)
}

// streamClaimEntry gives the pending entry id to consumer (XCLAIM, XAUTOCLAIM).
func streamClaimEntry(group *streamCG, id streamID, nack *streamNACK, consumer *streamConsumer) {
	if nack.consumer != consumer {
		if nack.consumer != nil {
			nack.consumer.pel.remove(id)
		}
		consumer.pel.insert(id, struct{}{})
		nack.consumer = consumer
	}
}

func cmdXclaim(c *Client, args [][]byte) {
	s := c.srv
	key, groupName := args[1], args[2]
	st, ok := s.readStream(c, key)
	if !ok {
		return
	}
	var group *streamCG
	if st != nil {
		group = st.lookupGroup(groupName)
	}
	if group == nil {
		c.addError("NOGROUP No such key '" + streamCStr(key) + "' or consumer group '" + streamCStr(groupName) + "'")
		return
	}
	minIdle, ok := parseInt(args[4])
	if !ok {
		c.addError("ERR Invalid min-idle-time argument for XCLAIM")
		return
	}
	minIdle = max(minIdle, 0)

	// The IDs come first; the first argument that is not an ID starts the
	// options.
	j := 5
	var ids []streamID
	for ; j < len(args); j++ {
		id, _, ok := parseStreamID(args[j], streamIDMode{strict: true})
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	now := s.now
	retryCount := int64(-1)
	deliveryTime := int64(-1)
	force, justID := false, false
	var lastID streamID
	for ; j < len(args); j++ {
		more := len(args) - 1 - j
		opt := args[j]
		switch {
		case equalFold(opt, "force"):
			force = true
		case equalFold(opt, "justid"):
			justID = true
		case equalFold(opt, "idle") && more > 0:
			j++
			v, ok := parseInt(args[j])
			if !ok {
				c.addError("ERR Invalid IDLE option argument for XCLAIM")
				return
			}
			deliveryTime = now - v
		case equalFold(opt, "time") && more > 0:
			j++
			v, ok := parseInt(args[j])
			if !ok {
				c.addError("ERR Invalid TIME option argument for XCLAIM")
				return
			}
			deliveryTime = v
		case equalFold(opt, "retrycount") && more > 0:
			j++
			v, ok := parseInt(args[j])
			if !ok {
				c.addError("ERR Invalid RETRYCOUNT option argument for XCLAIM")
				return
			}
			retryCount = v
		case equalFold(opt, "lastid") && more > 0:
			j++
			if lastID, ok = c.getStreamID(args[j], true, 0); !ok {
				return
			}
		default:
			c.addError("ERR Unrecognized XCLAIM option '" + streamCStr(opt) + "'")
			return
		}
	}
	defer c.propagateAs()
	s.streamWillChange(c.db, key)
	propagateLastID := false
	if lastID.cmp(group.lastID) > 0 {
		group.lastID = lastID
		propagateLastID = true
	}
	if deliveryTime != -1 {
		// A bogus time (in the future, negative) means now: clients compute
		// it from their own clocks.
		if deliveryTime < 0 || deliveryTime > now {
			deliveryTime = now
		}
	} else {
		deliveryTime = now
	}

	var consumer *streamConsumer
	pos := c.deferLen()
	n := 0
	for i, id := range ids {
		nack := group.pel.get(id)
		var e streamEntry
		if !st.lookup(id, &e) {
			// The entry is gone: drop it from the PEL too.
			if nack != nil {
				s.propagateXclaim(c.db, key, group, groupName, args[5+i], nack)
				propagateLastID = false
				s.dirty++
				group.ack(id)
			}
			continue
		}
		if force && nack == nil {
			group.pel.insert(id, streamNACK{deliveryTime: now, deliveryCount: 1})
			nack = group.pel.get(id)
		}
		if nack == nil {
			continue
		}
		if nack.consumer != nil && minIdle != 0 && now-nack.deliveryTime < minIdle {
			continue
		}
		if consumer == nil {
			consumer = s.streamClaimConsumer(c.db, key, group, args[3])
		}
		streamClaimEntry(group, id, nack, consumer)
		nack.deliveryTime = deliveryTime
		if retryCount >= 0 {
			nack.deliveryCount = uint64(retryCount)
		} else if !justID {
			nack.deliveryCount++
		}
		if justID {
			c.addStreamID(id)
		} else {
			c.addStreamEntry(&e)
		}
		n++
		s.propagateXclaim(c.db, key, group, groupName, args[5+i], nack)
		propagateLastID = false
		s.dirty++
	}
	if propagateLastID {
		s.propagateStreamGroupID(c.db, key, group, groupName)
		s.dirty++
	}
	s.noteObjectChange(c.db, key)
	c.setDeferredArrayLen(pos, n)
}

// streamClaimConsumer finds (refreshing its seen time) or creates the consumer
// that claims entries.
func (s *Server) streamClaimConsumer(db *database, key []byte, group *streamCG, name []byte) *streamConsumer {
	cons := group.lookupConsumer(name)
	if cons == nil {
		return s.createStreamConsumer(db, key, group, name)
	}
	cons.seenTime = s.now
	return cons
}

// xautoclaimAttemptsFactor bounds the PEL entries XAUTOCLAIM looks at to
// ten per entry it may claim.
const xautoclaimAttemptsFactor = 10

func cmdXautoclaim(c *Client, args [][]byte) {
	s := c.srv
	key, groupName := args[1], args[2]
	minIdle, ok := parseInt(args[4])
	if !ok {
		c.addError("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	start, ok := c.getStreamRangeStart(args[5])
	if !ok {
		return
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case equalFold(args[j], "count") && more > 0:
			const maxCount = (1<<63 - 1) / 16 // LONG_MAX / sizeof(streamID)
			v, ok := parseInt(args[j+1])
			if !ok || v < 1 || v > maxCount {
				c.addError("ERR COUNT must be > 0")
				return
			}
			count = v
			j++
		case equalFold(args[j], "justid"):
			justID = true
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	st, ok := s.readStream(c, key)
	if !ok {
		return
	}
	var group *streamCG
	if st != nil {
		group = st.lookupGroup(groupName)
	}
	if group == nil {
		c.addError("NOGROUP No such key '" + streamCStr(key) + "' or consumer group '" + streamCStr(groupName) + "'")
		return
	}
	defer c.propagateAs()
	s.streamWillChange(c.db, key)

	var consumer *streamConsumer
	var deleted []streamID
	attempts := count * xautoclaimAttemptsFactor
	now := s.now
	c.addArrayLen(3)
	mark := len(c.out)
	n := 0
	// cur is where the PEL iteration resumes (Redis's raxNext from the
	// iterator); atEnd is set once it ran off the end.
	cur := start
	atEnd := false
	for attempts > 0 && count > 0 && !atEnd {
		attempts--
		id, nack, found := group.pel.ceil(cur)
		if !found {
			atEnd = true
			break
		}
		var e streamEntry
		if !st.lookup(id, &e) {
			// The entry is gone: drop it from the PEL and report it.
			s.propagateXclaim(c.db, key, group, groupName, formatStreamID(id), nack)
			s.dirty++
			group.ack(id)
			deleted = append(deleted, id)
			count--
			cur = id // its successor is next
			continue
		}
		if next, ok := id.incr(); ok {
			cur = next
		} else {
			atEnd = true
		}
		if minIdle != 0 && now-nack.deliveryTime < minIdle {
			continue
		}
		if consumer == nil {
			consumer = s.streamClaimConsumer(c.db, key, group, args[3])
		}
		streamClaimEntry(group, id, nack, consumer)
		nack.deliveryTime = now
		if justID {
			c.addStreamID(id)
		} else {
			nack.deliveryCount++
			c.addStreamEntry(&e)
		}
		n++
		count--
		s.propagateXclaim(c.db, key, group, groupName, formatStreamID(id), nack)
		s.dirty++
	}
	// The reply starts with the cursor: the next pending entry, or 0-0 at
	// the end of the PEL. It is known only now, so the entries written so
	// far move behind it.
	var cursor streamID
	if !atEnd {
		if id, _, found := group.pel.ceil(cur); found {
			cursor = id
		}
	}
	entries := append([]byte(nil), c.out[mark:]...)
	c.out = c.out[:mark]
	c.addStreamID(cursor)
	c.addArrayLen(n)
	c.out = append(c.out, entries...)
	c.addArrayLen(len(deleted))
	for _, id := range deleted {
		c.addStreamID(id)
	}
	s.noteObjectChange(c.db, key)
}

// ---------------------------------------------------------------------------
// XINFO.
// ---------------------------------------------------------------------------

func cmdXinfo(c *Client, args [][]byte) {
	s := c.srv
	opt := args[1]
	if equalFold(opt, "help") {
		c.addHelp("XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CONSUMERS <key> <groupname>",
			"    Show consumers of <groupname>.",
			"GROUPS <key>",
			"    Show the stream consumer groups.",
			"STREAM <key> [FULL [COUNT <count>]",
			"    Show information about the stream.")
		return
	}
	key := args[2]
	st, ok := s.readStream(c, key)
	if !ok {
		return
	}
	if st == nil {
		c.addError(ErrNoSuchKey)
		return
	}
	switch {
	case equalFold(opt, "consumers") && len(args) == 4:
		group := st.lookupGroup(args[3])
		if group == nil {
			c.addError("NOGROUP No such consumer group '" + streamCStr(args[3]) + "' for key name '" + streamCStr(key) + "'")
			return
		}
		c.addArrayLen(len(group.consumers))
		for _, cons := range group.consumers {
			c.addMapLen(3)
			c.addBulkString("name")
			c.addBulkString(cons.name)
			c.addBulkString("pending")
			c.addInt(int64(cons.pel.len()))
			c.addBulkString("idle")
			c.addInt(max(s.now-cons.seenTime, 0))
		}
	case equalFold(opt, "groups") && len(args) == 3:
		c.addArrayLen(len(st.groups))
		for _, g := range st.groups {
			c.addMapLen(6)
			c.addBulkString("name")
			c.addBulkString(g.name)
			c.addBulkString("consumers")
			c.addInt(int64(len(g.consumers)))
			c.addBulkString("pending")
			c.addInt(int64(g.pel.len()))
			c.addBulkString("last-delivered-id")
			c.addStreamID(g.lastID)
			c.addStreamGroupCounters(st, g)
		}
	case equalFold(opt, "stream"):
		c.xinfoStream(args, st)
	default:
		c.addStreamSubcommandSyntaxError(args)
	}
}

// addStreamGroupCounters replies with a group's entries-read and lag fields.
func (c *Client) addStreamGroupCounters(st *stream, g *streamCG) {
	c.addBulkString("entries-read")
	if g.entriesRead != invalidEntriesRead {
		c.addInt(g.entriesRead)
	} else {
		c.addNull()
	}
	c.addBulkString("lag")
	if lag, ok := st.groupLag(g); ok {
		c.addInt(lag)
	} else {
		c.addNull()
	}
}

// xinfoStream is XINFO STREAM <key> [FULL [COUNT <count>]].
func (c *Client) xinfoStream(args [][]byte, st *stream) {
	full := true
	count := int64(10)
	opts := args[3:]
	if len(opts) == 0 {
		full = false
	} else {
		if len(opts) != 1 && len(opts) != 3 || !equalFold(opts[0], "full") {
			c.addStreamSubcommandSyntaxError(args)
			return
		}
		if len(opts) == 3 {
			if !equalFold(opts[1], "count") {
				c.addStreamSubcommandSyntaxError(args)
				return
			}
			v, ok := c.getInt(opts[2])
			if !ok {
				return
			}
			count = v
			if count < 0 {
				count = 10
			}
		}
	}
	if full {
		c.addMapLen(9)
	} else {
		c.addMapLen(10)
	}
	c.addBulkString("length")
	c.addInt(int64(st.length))
	c.addBulkString("radix-tree-keys")
	c.addInt(int64(len(st.nodes)))
	c.addBulkString("radix-tree-nodes")
	c.addInt(st.radixTreeNodes())
	c.addBulkString("last-generated-id")
	c.addStreamID(st.lastID)
	c.addBulkString("max-deleted-entry-id")
	c.addStreamID(st.maxDeletedID)
	c.addBulkString("entries-added")
	c.addInt(int64(st.entriesAdded))
	c.addBulkString("recorded-first-entry-id")
	c.addStreamID(st.firstID)
	if !full {
		c.addBulkString("groups")
		c.addInt(int64(len(st.groups)))
		c.addBulkString("first-entry")
		if c.addStreamRangeRaw(st, streamMinID, streamMaxID, 1, false) == 0 {
			c.addNull()
		}
		c.addBulkString("last-entry")
		if c.addStreamRangeRaw(st, streamMinID, streamMaxID, 1, true) == 0 {
			c.addNull()
		}
		return
	}
	c.addBulkString("entries")
	c.addStreamRange(st, streamMinID, streamMaxID, count, false)
	c.addBulkString("groups")
	c.addArrayLen(len(st.groups))
	for _, g := range st.groups {
		c.addMapLen(7)
		c.addBulkString("name")
		c.addBulkString(g.name)
		c.addBulkString("last-delivered-id")
		c.addStreamID(g.lastID)
		c.addStreamGroupCounters(st, g)
		c.addBulkString("pel-count")
		c.addInt(int64(g.pel.len()))
		c.addBulkString("pending")
		pos := c.deferLen()
		n := 0
		g.pel.ascend(streamMinID, func(id streamID, nack *streamNACK) bool {
			if count != 0 && int64(n) >= count {
				return false
			}
			c.addArrayLen(4)
			c.addStreamID(id)
			c.addBulkString(nack.consumer.name)
			c.addInt(nack.deliveryTime)
			c.addInt(int64(nack.deliveryCount))
			n++
			return true
		})
		c.setDeferredArrayLen(pos, n)
		c.addBulkString("consumers")
		c.addArrayLen(len(g.consumers))
		for _, cons := range g.consumers {
			c.addMapLen(4)
			c.addBulkString("name")
			c.addBulkString(cons.name)
			c.addBulkString("seen-time")
			c.addInt(cons.seenTime)
			c.addBulkString("pel-count")
			c.addInt(int64(cons.pel.len()))
			c.addBulkString("pending")
			pos := c.deferLen()
			n := 0
			cons.pel.ascend(streamMinID, func(id streamID, _ *struct{}) bool {
				if count != 0 && int64(n) >= count {
					return false
				}
				nack := g.pel.get(id)
				c.addArrayLen(3)
				c.addStreamID(id)
				c.addInt(nack.deliveryTime)
				c.addInt(int64(nack.deliveryCount))
				n++
				return true
			})
			c.setDeferredArrayLen(pos, n)
		}
	}
}
