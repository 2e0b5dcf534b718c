package commands

import (
	"math"
	"math/rand/v2"
	"strconv"

	"spinel/commands/glob"
)

// Helpers shared by the hash and set commands (and open to the other
// collection types): Redis's ranged integer parsing, random sampling, the
// SCAN family over a strTable, and a guard against replies that would
// exhaust memory.

// getRangeLongOrReply parses an integer in [lo, hi], as Redis's
// getRangeLongFromObjectOrReply. A non-empty msg (with its "ERR " prefix)
// replaces both of Redis's default errors.
func (c *Client) getRangeLongOrReply(b []byte, lo, hi int64, msg string) (int64, bool) {
	v, ok := parseInt(b)
	if !ok {
		if msg == "" {
			msg = ErrNotInteger
		}
		c.addError(msg)
		return 0, false
	}
	if v < lo || v > hi {
		if msg == "" {
			msg = "ERR value is out of range, value must between " +
				strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10)
		}
		c.addError(msg)
		return 0, false
	}
	return v, true
}

// getPositiveLongOrReply parses a non-negative integer, as Redis's
// getPositiveLongFromObjectOrReply: one message for every failure.
func (c *Client) getPositiveLongOrReply(b []byte, msg string) (int64, bool) {
	if msg == "" {
		msg = "ERR value is out of range, must be positive"
	}
	return c.getRangeLongOrReply(b, 0, math.MaxInt64, msg)
}

// randIntN returns a uniform random int in [0, n).
func randIntN(n int) int { return rand.IntN(n) }

// randomDistinct returns k distinct indexes drawn uniformly from [0, n),
// k < n, in random order.
func randomDistinct(n, k int) []int {
	if k*3 > n {
		// Many of them: shuffle a prefix of the identity permutation.
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		for i := 0; i < k; i++ {
			j := i + rand.IntN(n-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		return perm[:k]
	}
	// Few of them: Floyd's algorithm, O(k) whatever n.
	seen := make(map[int]struct{}, k)
	out := make([]int, 0, k)
	for j := n - k; j < n; j++ {
		t := rand.IntN(j + 1)
		if _, dup := seen[t]; dup {
			t = j
		}
		seen[t] = struct{}{}
		out = append(out, t)
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// maxReplyBytes bounds one reply built from a repeat count chosen by the
// client (HRANDFIELD/SRANDMEMBER with a huge negative count).
const maxReplyBytes = 1 << 30

// replyMark records where a reply starts, for replyTooLarge.
func (c *Client) replyMark() int { return len(c.out) }

// replyTooLarge drops a reply that grew past maxReplyBytes since mark and
// closes the client, as Redis frees a client over its output limits
// (CLIENT_CLOSE_ASAP), rather than exhaust the server's memory.
func (c *Client) replyTooLarge(mark int) bool {
	if len(c.out)-mark <= maxReplyBytes {
		return false
	}
	c.out = c.out[:mark]
	c.closeAfterReply = true
	c.srv.log.Warn("client closed: reply too large", "id", c.id, "cmd", c.cmd.FullName)
	return true
}

// addEmptyScan replies with a finished, empty SCAN page.
func (c *Client) addEmptyScan() { c.addRawString("*2\r\n$1\r\n0\r\n*0\r\n") }

func globMatch(pattern, s []byte) bool { return glob.Match(pattern, s, false) }

// scanTable replies with one HSCAN/SSCAN page of a hash table, as Redis's
// scanGenericCommand: buckets are visited until COUNT elements (fields and
// values both count) were collected, the table ends or COUNT*10 buckets
// were seen; MATCH filters afterwards.
func (c *Client) scanTable(t *strTable, cursor uint64, opts scanOptions, pairs bool) {
	var items []string // strings are immutable: safe to keep while replying
	maxIter := opts.count * 10
	for {
		cursor = t.Scan(cursor, func(e *tableEntry) {
			items = append(items, e.key())
			if pairs {
				items = append(items, e.val())
			}
		})
		if cursor == 0 || maxIter == 0 {
			break
		}
		maxIter--
		if int64(len(items)) >= opts.count {
			break
		}
	}
	step := 1
	if pairs {
		step = 2
	}
	c.addArrayLen(2)
	var buf [24]byte
	c.addBulk(formatUint(buf[:], cursor))
	pos := c.deferLen()
	n := 0
	for i := 0; i < len(items); i += step {
		if opts.pattern != nil && !globMatch(opts.pattern, strBytes(items[i])) {
			continue
		}
		for j := 0; j < step; j++ {
			c.addBulkString(items[i+j])
		}
		n += step
	}
	c.setDeferredArrayLen(pos, n)
}
