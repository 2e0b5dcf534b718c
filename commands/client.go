package commands

import (
	"strconv"

	"spinel/config"
	"spinel/eventloop/resp"
)

// Conn is the network side of a client, implemented by the event loop. All
// methods are called on the executor goroutine.
type Conn interface {
	// Write sends b (or queues what the socket does not take at once). b may
	// be reused by the caller as soon as Write returns.
	Write(b []byte) error
	// Close closes the connection once pending output has been written.
	Close()
	// Wake schedules another pass over the client's buffered input, used when
	// a blocked client is released with pipelined commands still waiting.
	Wake()
	// OutboundBuffered returns the bytes written but not yet sent.
	OutboundBuffered() int
	RemoteAddr() string
	LocalAddr() string
	Fd() int
}

// Client is one connection's state in the executor.
type Client struct {
	srv  *Server
	conn Conn

	id    int64
	db    *database
	resp  int // protocol version, 2 or 3
	name  string
	lib   [2]string // CLIENT SETINFO lib-name, lib-ver
	authn bool      // authenticated
	user  *aclUser  // the ACL user; nil for internal clients (no checks)

	out []byte // replies not yet written

	argv    [][]byte // the command being executed
	cmd     *Spec    // the command being executed
	lastCmd *Spec

	created      int64 // unix ms
	lastActivity int64 // unix ms of the last command
	replyErr     bool  // the current command replied with an error

	closeAfterReply bool
	closed          bool
	pendingFlush    bool
	noEvict         bool
	noTouch         bool
	softLimitSince  int64 // unix ms the output first passed the soft limit
	killed          bool  // closing: drop further output
	monitor         bool  // receives MONITOR output
	paused          bool  // held by CLIENT PAUSE with a command unread
	syncOffset      int64 // output waits for the AOF to sync up to here
	lastWrite       int64 // AOF offset after this client's last write
	// CLIENT REPLY state.
	replyOff, replySkip, replySkipNext bool

	// Transaction state.
	multi        bool
	dirtyExec    bool // a command was rejected while queuing: EXEC aborts
	dirtyCAS     bool // a watched key changed: EXEC returns null
	inExec       bool
	denyBlocking bool // blocking commands must not block (inside EXEC)
	multiQueue   []queuedCommand
	multiMem     int64
	multiDenyOOM bool // a queued command may grow memory
	watched      []watchedKey

	// Subscriptions.
	channels, patterns, shardChannels map[string]struct{}

	// blocked is set while the client waits in a blocking command.
	blocked *blockState

	// Query-buffer bookkeeping, maintained by the event loop.
	ArgsBuf     [][]byte
	NeedLen     int
	QueryBufLen int
}

// ID returns the client id.
func (c *Client) ID() int64 { return c.id }

// CloseAfterReply reports whether the connection must be closed once its
// pending replies are written.
func (c *Client) CloseAfterReply() bool { return c.closeAfterReply }

// SetCloseAfterReply marks the connection to be closed after its replies.
func (c *Client) SetCloseAfterReply() { c.closeAfterReply = true }

// Pending returns the replies not yet written.
func (c *Client) Pending() []byte { return c.out }

// Flush writes the pending replies to the connection.
func (c *Client) Flush() {
	c.pendingFlush = false
	if len(c.out) > 0 && c.srv.holdForSync(c) {
		return
	}
	c.writeOut()
}

// writeOut writes the pending replies now, whatever the AOF state: for
// output already cleared by a sync.
func (c *Client) writeOut() {
	if len(c.out) == 0 || c.closed || c.killed {
		c.out = c.out[:0]
		return
	}
	c.srv.stats.netOutput += int64(len(c.out))
	c.srv.stats.writes++
	_ = c.conn.Write(c.out)
	if cap(c.out) > maxIdleOutBuf {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	c.checkOutputLimit()
}

// checkOutputLimit enforces client-output-buffer-limit on what the socket
// has not taken yet, as Redis's checkClientOutputBufferLimits: over the hard
// limit, or over the soft limit for longer than its seconds, the client is
// closed, so a slow reader cannot grow the server's memory without bound.
func (c *Client) checkOutputLimit() {
	pending := int64(c.conn.OutboundBuffered())
	lim := c.outputLimit()
	if pending == 0 || (lim.Hard == 0 && lim.Soft == 0) {
		c.softLimitSince = 0
		return
	}
	over := lim.Hard > 0 && pending >= lim.Hard
	if !over && lim.Soft > 0 && pending >= lim.Soft {
		if c.softLimitSince == 0 {
			c.softLimitSince = c.srv.now
		} else if c.srv.now-c.softLimitSince >= int64(lim.SoftSeconds)*1000 {
			over = true
		}
	} else if !over {
		c.softLimitSince = 0
	}
	if over {
		c.closeForOutputLimit(pending)
	}
}

// outputLimit is the client-output-buffer-limit of c's class.
func (c *Client) outputLimit() config.OutputBufferLimit {
	class := config.ClientNormal
	if c.inPubSubMode() {
		class = config.ClientPubSub
	}
	return c.srv.cfg.ClientOutputBufferLimit[class]
}

func (c *Client) closeForOutputLimit(pending int64) {
	c.srv.log.Warn("Client closed for overcoming of output buffer limits.",
		"id", c.id, "addr", c.conn.RemoteAddr(), "omem", pending)
	c.srv.stats.outputLimitClosed++
	c.killed = true
	c.out = nil
	c.conn.Close()
}

// OutputOverLimit checks the hard client-output-buffer-limit in the middle
// of a pipelined batch, as Redis does on every reply it queues: a client
// asking for hundreds of large values in one read is closed before the
// server builds all of them. It reports whether the client was closed.
func (c *Client) OutputOverLimit() bool {
	if len(c.out) < maxIdleOutBuf || c.killed {
		return c.killed
	}
	lim := c.outputLimit()
	if lim.Hard == 0 {
		return false
	}
	pending := int64(len(c.out)) + int64(c.conn.OutboundBuffered())
	if pending < lim.Hard {
		return false
	}
	c.closeForOutputLimit(pending)
	return true
}

// maxIdleOutBuf is the largest reply buffer a client keeps between batches.
const maxIdleOutBuf = 64 << 10

// markPending queues c for a flush at the end of the current event: used when
// one client's command produces output for another (pub/sub, unblocking).
func (c *Client) markPending() {
	if !c.pendingFlush && !c.closed {
		c.pendingFlush = true
		c.srv.pending = append(c.srv.pending, c)
	}
}

// ---------------------------------------------------------------------------
// Replies. Each add* method appends one RESP value in the client's protocol
// version, as Redis's addReply* functions do.
// ---------------------------------------------------------------------------

func (c *Client) addRawString(s string) { c.out = append(c.out, s...) }
func (c *Client) addOK()                { c.out = append(c.out, "+OK\r\n"...) }
func (c *Client) addSimple(s string)    { c.out = resp.AppendSimple(c.out, s) }
func (c *Client) addInt(n int64)        { c.out = resp.AppendInt(c.out, n) }
func (c *Client) addBulk(b []byte)      { c.out = resp.AppendBulk(c.out, b) }
func (c *Client) addBulkString(s string) {
	c.out = resp.AppendBulkString(c.out, s)
}
func (c *Client) addBulkInt(n int64) { c.out = resp.AppendBulkInt(c.out, n) }
func (c *Client) addArrayLen(n int)  { c.out = resp.AppendArrayLen(c.out, n) }
func (c *Client) addEmptyArray()     { c.out = append(c.out, "*0\r\n"...) }
func (c *Client) addBulkFloat(f float64) {
	var tmp [32]byte
	c.out = resp.AppendBulk(c.out, resp.AppendFloat(tmp[:0], f))
}

// addError replies with an error; msg starts with its code ("ERR ...").
// Errors are counted per code for INFO errorstats.
func (c *Client) addError(msg string) {
	c.out = resp.AppendError(c.out, msg)
	c.replyErr = true
	c.srv.countError(msg)
}

// addErrorArity replies with Redis's wrong-number-of-arguments error.
func (c *Client) addErrorArity(fullName string) {
	c.addError("ERR wrong number of arguments for '" + fullName + "' command")
}

// addNull replies with a null bulk string ($-1 in RESP2, _ in RESP3).
func (c *Client) addNull() {
	if c.resp == 2 {
		c.out = resp.AppendNullBulk(c.out)
	} else {
		c.out = resp.AppendNull(c.out)
	}
}

// addNullArray replies with a null array (*-1 in RESP2, _ in RESP3).
func (c *Client) addNullArray() {
	if c.resp == 2 {
		c.out = resp.AppendNullArray(c.out)
	} else {
		c.out = resp.AppendNull(c.out)
	}
}

// addMapLen starts a map of n pairs (a flat array of 2n in RESP2).
func (c *Client) addMapLen(n int) {
	if c.resp == 2 {
		c.out = resp.AppendArrayLen(c.out, 2*n)
	} else {
		c.out = resp.AppendMapLen(c.out, n)
	}
}

// addSetLen starts a set of n elements (an array in RESP2).
func (c *Client) addSetLen(n int) {
	if c.resp == 2 {
		c.out = resp.AppendArrayLen(c.out, n)
	} else {
		c.out = resp.AppendSetLen(c.out, n)
	}
}

// addPushLen starts a push message of n elements (an array in RESP2).
func (c *Client) addPushLen(n int) {
	if c.resp == 2 {
		c.out = resp.AppendArrayLen(c.out, n)
	} else {
		c.out = resp.AppendPushLen(c.out, n)
	}
}

// addDouble replies with a double (a bulk string in RESP2).
func (c *Client) addDouble(f float64) {
	if c.resp == 2 {
		c.addBulkFloat(f)
	} else {
		c.out = resp.AppendDouble(c.out, f)
	}
}

// addVerbatim replies with a verbatim text string (a bulk string in RESP2).
func (c *Client) addVerbatim(s string) {
	if c.resp == 2 {
		c.addBulkString(s)
		return
	}
	c.out = resp.AppendVerbatim(c.out, "txt", []byte(s))
}

// deferLen reserves the place of an aggregate header whose length is not yet
// known; setDeferred* fills it in.
func (c *Client) deferLen() int { return len(c.out) }

// setDeferredArrayLen writes an array header of n at pos.
func (c *Client) setDeferredArrayLen(pos, n int) { c.setDeferred(pos, '*', n) }

// setDeferredMapLen writes a map header of n pairs at pos.
func (c *Client) setDeferredMapLen(pos, n int) {
	if c.resp == 2 {
		c.setDeferred(pos, '*', 2*n)
	} else {
		c.setDeferred(pos, '%', n)
	}
}

// setDeferredSetLen writes a set header of n at pos.
func (c *Client) setDeferredSetLen(pos, n int) {
	if c.resp == 2 {
		c.setDeferred(pos, '*', n)
	} else {
		c.setDeferred(pos, '~', n)
	}
}

func (c *Client) setDeferred(pos int, prefix byte, n int) {
	var hdr [24]byte
	h := append(hdr[:0], prefix)
	h = strconv.AppendInt(h, int64(n), 10)
	h = append(h, '\r', '\n')
	c.out = append(c.out, h...) // grow by len(h)
	copy(c.out[pos+len(h):], c.out[pos:len(c.out)-len(h)])
	copy(c.out[pos:], h)
}

// Blocked reports whether the client waits in a blocking command; the event
// loop then leaves its further input unread until it is released.
func (c *Client) Blocked() bool { return c.blocked != nil || c.paused }

// ReplyError queues an error reply from the network layer (protocol errors).
func (c *Client) ReplyError(msg string) { c.addError(msg) }
