package commands

import "spinel/eventloop/resp"

// ---------------------------------------------------------------------------
// Propagation: the write stream the AOF records, as Redis's
// alsoPropagate/propagatePendingCommands.
//
// 1) A command that changed the dataset (s.dirty moved) is recorded after it
//    ran, as its argv or as the form it chose with c.propagateAs (relative
//    expiries become absolute PXAT/PEXPIREAT, SPOP becomes SREM, ...).
// 2) Side effects recorded while it ran come first, in order: keys found
//    expired during its lookups (DEL), extra commands (alsoPropagate).
// 3) After the command (after EXEC for a transaction) the collected ops form
//    one execution unit: more than one op is wrapped in MULTI/EXEC, so a crash
//    never replays half of it.
// 4) Each op is preceded by SELECT when its database differs from the last
//    one written to the stream.
// Deletions outside any command (active expiry, eviction) are units of
// their own.
// ---------------------------------------------------------------------------

// AOFSink receives the propagated write stream as RESP bytes.
type AOFSink interface {
	// Append queues b and returns the stream offset after it.
	Append(b []byte) int64
}

type propOp struct {
	db   int
	argv [][]byte // owned copies
}

type propagation struct {
	sink     AOFSink
	ops      []propOp
	inCall   int      // > 0 while a command handler runs
	override [][]byte // what the running command propagates instead of argv
	replaced bool     // override is set (possibly to nothing)
	db       int      // the database the stream last SELECTed; -1 at start
	buf      []byte
	offset   int64 // stream offset after the last Append
}

// SetAOF connects the write stream to sink (nil: no persistence).
func (s *Server) SetAOF(sink AOFSink) {
	s.prop.sink = sink
	s.prop.db = -1
}

// AOFOffset is the stream offset after the last propagated write: replies
// produced now describe a state that is durable once the AOF has synced up
// to here.
func (s *Server) AOFOffset() int64 { return s.prop.offset }

func copyArgv(argv [][]byte) [][]byte {
	n := 0
	for _, a := range argv {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(argv))
	for i, a := range argv {
		start := len(buf)
		buf = append(buf, a...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// propagateOverride replaces the running command's propagated form; outside
// a command (a blocked client being served) it records the op directly.
func (s *Server) propagateOverride(c *Client, argv [][]byte) {
	if s.prop.sink == nil || s.loading {
		return
	}
	if s.prop.inCall == 0 {
		if len(argv) > 0 {
			s.prop.ops = append(s.prop.ops, propOp{db: c.db.id, argv: copyArgv(argv)})
		}
		return
	}
	s.prop.replaced = true
	s.prop.override = nil
	if len(argv) > 0 {
		s.prop.override = copyArgv(argv)
	}
}

// propagateExtra records an extra op in the current unit.
func (s *Server) propagateExtra(db *database, argv [][]byte) {
	if s.prop.sink == nil || s.loading {
		return
	}
	s.prop.ops = append(s.prop.ops, propOp{db: db.id, argv: copyArgv(argv)})
}

var delCmd = []byte("DEL")

// propagateDel records the deletion of an expired or evicted key.
func (s *Server) propagateDel(db *database, key []byte) {
	if s.prop.sink == nil || s.loading {
		return
	}
	s.prop.ops = append(s.prop.ops, propOp{db: db.id, argv: copyArgv([][]byte{delCmd, key})})
	if s.prop.inCall == 0 && s.execDepth == 0 {
		s.flushPropagation()
	}
}

// beginPropagation is called before a handler runs.
func (s *Server) beginPropagation() {
	s.prop.inCall++
	s.prop.replaced = false
	s.prop.override = nil
}

// endPropagation records the command that just ran if it changed the
// dataset.
func (s *Server) endPropagation(c *Client, cmd *Spec, argv [][]byte, changed bool) {
	s.prop.inCall--
	if s.prop.sink == nil || s.loading || !changed || cmd.Flags&FlagTxControl != 0 {
		s.prop.replaced = false
		return
	}
	if s.prop.replaced {
		if s.prop.override != nil {
			s.prop.ops = append(s.prop.ops, propOp{db: c.db.id, argv: s.prop.override})
		}
	} else {
		s.prop.ops = append(s.prop.ops, propOp{db: c.db.id, argv: copyArgv(argv)})
	}
	s.prop.replaced = false
	s.prop.override = nil
}

var (
	multiCmd = [][]byte{[]byte("MULTI")}
	execCmd  = [][]byte{[]byte("EXEC")}
)

// flushPropagation writes the collected ops as one execution unit.
func (s *Server) flushPropagation() {
	p := &s.prop
	if len(p.ops) == 0 || p.sink == nil {
		p.ops = p.ops[:0]
		return
	}
	b := p.buf[:0]
	wrap := len(p.ops) > 1
	if wrap {
		b = s.appendOp(b, p.ops[0].db, multiCmd)
	}
	for _, op := range p.ops {
		b = s.appendOp(b, op.db, op.argv)
	}
	if wrap {
		b = s.appendOp(b, p.db, execCmd)
	}
	clear(p.ops)
	p.ops = p.ops[:0]
	p.offset = p.sink.Append(b)
	if cap(b) > 1<<20 {
		b = nil
	}
	p.buf = b
}

// appendOp encodes one command, preceded by SELECT when the database changes.
func (s *Server) appendOp(b []byte, db int, argv [][]byte) []byte {
	if db != s.prop.db {
		var num [20]byte
		b = resp.AppendArrayLen(b, 2)
		b = resp.AppendBulkString(b, "SELECT")
		b = resp.AppendBulk(b, formatInt(num[:], int64(db)))
		s.prop.db = db
	}
	b = resp.AppendArrayLen(b, len(argv))
	for _, a := range argv {
		b = resp.AppendBulk(b, a)
	}
	return b
}
