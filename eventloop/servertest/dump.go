package servertest

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"testing"
)

// Dump returns a canonical picture of a server's whole dataset: for every
// key of every database, its type, its value in a form that does not depend
// on the server's internal order (sets and hashes sorted), and whether it
// has a TTL (its absolute expiry time, which AOF replay keeps exactly). Use it to compare two servers or one
// server before and after a restart.
func Dump(t testing.TB, c *RawConn) map[string]string {
	t.Helper()
	out := map[string]string{}
	for db := 0; db < 16; db++ {
		if r := c.Do("SELECT", strconv.Itoa(db)); !bytes.HasPrefix(r, []byte("+OK")) {
			break
		}
		cursor := "0"
		for {
			reply := c.Do("SCAN", cursor, "COUNT", "1000")
			parts := flatten(reply)
			if len(parts) < 1 {
				t.Fatalf("servertest: bad SCAN reply %q", reply)
			}
			cursor = parts[0]
			for _, key := range parts[1:] {
				out[fmt.Sprintf("%d:%s", db, key)] = dumpKey(t, c, key)
			}
			if cursor == "0" {
				break
			}
		}
	}
	c.Do("SELECT", "0")
	return out
}

func dumpKey(t testing.TB, c *RawConn, key string) string {
	typ := string(bytes.TrimSpace(bytes.TrimPrefix(c.Do("TYPE", key), []byte("+"))))
	var val []string
	switch typ {
	case "string":
		val = flatten(c.Do("GET", key))
	case "list":
		val = flatten(c.Do("LRANGE", key, "0", "-1"))
	case "set":
		val = flatten(c.Do("SMEMBERS", key))
		sort.Strings(val)
	case "hash":
		flat := flatten(c.Do("HGETALL", key))
		var pairs []string
		for i := 0; i+1 < len(flat); i += 2 {
			pairs = append(pairs, flat[i]+"="+flat[i+1])
		}
		sort.Strings(pairs)
		val = pairs
	case "zset":
		val = flatten(c.Do("ZRANGE", key, "0", "-1", "WITHSCORES"))
	case "stream":
		val = flatten(c.Do("XRANGE", key, "-", "+"))
		val = append(val, "groups:")
		val = append(val, flatten(c.Do("XINFO", "GROUPS", key))...)
	default:
		t.Fatalf("servertest: key %q has type %q", key, typ)
	}
	// The absolute expiry time survives restarts and AOF replays exactly.
	at := string(bytes.Trim(c.Do("PEXPIRETIME", key), ":\r\n"))
	return fmt.Sprintf("%s %q expireat=%s", typ, val, at)
}

// flatten turns a reply into its scalar elements, depth first; nested
// aggregates are flattened too.
func flatten(reply []byte) []string {
	var out []string
	var walk func(b []byte) []byte
	walk = func(b []byte) []byte {
		if len(b) == 0 {
			return b
		}
		end := bytes.Index(b, []byte("\r\n"))
		if end < 0 {
			return nil
		}
		head := string(b[1:end])
		rest := b[end+2:]
		switch b[0] {
		case '*', '~', '>':
			n, _ := strconv.Atoi(head)
			for i := 0; i < n; i++ {
				rest = walk(rest)
			}
			return rest
		case '%':
			n, _ := strconv.Atoi(head)
			for i := 0; i < 2*n; i++ {
				rest = walk(rest)
			}
			return rest
		case '$':
			n, _ := strconv.Atoi(head)
			if n < 0 {
				out = append(out, "(nil)")
				return rest
			}
			out = append(out, string(rest[:n]))
			return rest[n+2:]
		default:
			out = append(out, head)
			return rest
		}
	}
	walk(reply)
	return out
}
