package difftest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// evictionWorkload fills a server with 1 KB values well past maxmemory while
// reading a hot set of keys between writes, and reports which keys survived.
type evictionOutcome struct {
	hotKept     float64 // fraction of the hot set still present
	noTTLKept   float64 // fraction of keys without TTL still present (volatile-*)
	shortTTL    float64 // fraction of short-TTL keys still present (volatile-ttl)
	longTTL     float64 // fraction of long-TTL keys still present
	evicted     int64
	usedOverMax float64 // used_memory / maxmemory at the end
	oomErrors   int
}

const (
	evictHot   = 100
	evictTotal = 6000
)

func runEvictionWorkload(t *testing.T, c *servertest.RawConn, policy string, maxmemory int64) evictionOutcome {
	t.Helper()
	c.Do("FLUSHALL")
	c.Do("CONFIG", "SET", "maxmemory-policy", policy)
	c.Do("CONFIG", "SET", "maxmemory", strconv.FormatInt(maxmemory, 10))
	c.Do("CONFIG", "SET", "maxmemory-samples", "5")
	c.Do("CONFIG", "RESETSTAT")
	val := strings.Repeat("v", 1024)
	var out evictionOutcome
	// The hot set exists first, without TTL.
	for i := 0; i < evictHot; i++ {
		c.Do("SET", fmt.Sprint("hot:", i), val)
	}
	// Writes go in pipelined batches of 100, each followed by reads of the
	// whole hot set, so the hot keys are always the most recently and most
	// frequently used.
	for start := 0; start < evictTotal; start += 100 {
		var batch [][]string
		for i := start; i < start+100; i++ {
			key := fmt.Sprint("cold:", i)
			switch i % 3 {
			case 0:
				batch = append(batch, []string{"SET", key, val}) // no TTL
			case 1:
				batch = append(batch, []string{"SET", key, val, "EX", "100"}) // short TTL
			default:
				batch = append(batch, []string{"SET", key, val, "EX", "100000"}) // long TTL
			}
		}
		for _, reply := range pipeline(c, batch) {
			if strings.HasPrefix(string(reply), "-OOM") {
				out.oomErrors++
			}
		}
		var reads [][]string
		for h := 0; h < evictHot; h++ {
			reads = append(reads, []string{"GET", fmt.Sprint("hot:", h)})
		}
		pipeline(c, reads)
		if strings.HasSuffix(policy, "-lru") {
			// The LRU clock ticks once a second: spread the writes over a
			// few seconds so recency means something.
			time.Sleep(40 * time.Millisecond)
		}
	}
	exists := func(prefix string, from, step, n int) float64 {
		var cmds [][]string
		for i := from; i < n; i += step {
			cmds = append(cmds, []string{"EXISTS", fmt.Sprint(prefix, i)})
		}
		kept := 0
		for _, reply := range pipeline(c, cmds) {
			if string(reply) == ":1\r\n" {
				kept++
			}
		}
		return float64(kept) / float64(len(cmds))
	}
	out.hotKept = exists("hot:", 0, 1, evictHot)
	out.noTTLKept = exists("cold:", 0, 3, evictTotal)
	out.shortTTL = exists("cold:", 1, 3, evictTotal)
	out.longTTL = exists("cold:", 2, 3, evictTotal)
	info := string(c.Do("INFO", "all"))
	out.evicted = infoInt(info, "evicted_keys")
	out.usedOverMax = float64(infoInt(info, "used_memory")) / float64(maxmemory)
	return out
}

// pipeline sends cmds at once and returns their replies.
func pipeline(c *servertest.RawConn, cmds [][]string) [][]byte {
	var raw []byte
	for _, cmd := range cmds {
		raw = servertest.AppendCommand(raw, cmd...)
	}
	c.Send(raw)
	out := make([][]byte, len(cmds))
	for i := range cmds {
		out[i] = c.ReadReply()
	}
	return out
}

func infoInt(info, field string) int64 {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// TestEvictionPolicies runs the same workload on Spinel and Redis under each
// policy, checks what each policy promises, and logs both sides' figures.
func TestEvictionPolicies(t *testing.T) {
	redisSrv := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	rc := servertest.Dial(t, redisSrv.Addr)
	sc := servertest.Dial(t, spinel.Addr)
	const maxmemory = 4 << 20 // plus each server's own baseline, below
	base := func(c *servertest.RawConn) int64 {
		c.Do("FLUSHALL")
		c.Do("CONFIG", "SET", "maxmemory", "0")
		return infoInt(string(c.Do("INFO", "memory")), "used_memory")
	}
	rBase, sBase := base(rc), base(sc)
	policies := []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "noeviction"}
	for _, p := range policies {
		t.Run(p, func(t *testing.T) {
			r := runEvictionWorkload(t, rc, p, rBase+maxmemory)
			s := runEvictionWorkload(t, sc, p, sBase+maxmemory)
			t.Logf("%-16s hot kept redis %.2f spinel %.2f | no-TTL kept %.2f/%.2f | short-TTL %.2f/%.2f | long-TTL %.2f/%.2f | evicted %d/%d | used/max %.2f/%.2f | OOM %d/%d",
				p, r.hotKept, s.hotKept, r.noTTLKept, s.noTTLKept, r.shortTTL, s.shortTTL, r.longTTL, s.longTTL,
				r.evicted, s.evicted, r.usedOverMax, s.usedOverMax, r.oomErrors, s.oomErrors)
			if s.usedOverMax > 1.05 {
				t.Errorf("used_memory ends at %.2fx maxmemory", s.usedOverMax)
			}
			switch {
			case p == "noeviction":
				if s.oomErrors == 0 || s.evicted != 0 {
					t.Errorf("noeviction: %d OOM errors, %d evicted; want errors and no eviction", s.oomErrors, s.evicted)
				}
				if got := string(sc.Do("GET", "hot:1")); !strings.HasPrefix(got, "$1024") {
					t.Errorf("noeviction: reads must keep working, got %q", got[:min(len(got), 20)])
				}
				if got := string(sc.Do("DEL", "hot:1")); got != ":1\r\n" {
					t.Errorf("noeviction: deletes must keep working, got %q", got)
				}
			default:
				if s.evicted == 0 {
					t.Errorf("nothing evicted")
				}
			}
			if strings.HasPrefix(p, "volatile-") && s.noTTLKept != 1 {
				t.Errorf("%s evicted keys without a TTL (kept %.2f)", p, s.noTTLKept)
			}
			if p == "volatile-ttl" && s.shortTTL > s.longTTL {
				t.Errorf("volatile-ttl kept more short-TTL keys (%.2f) than long ones (%.2f)", s.shortTTL, s.longTTL)
			}
			if p == "allkeys-lru" || p == "allkeys-lfu" {
				// The hot set is read constantly: the approximated LRU/LFU
				// must keep nearly all of it, as Redis does.
				if s.hotKept < min(0.9, r.hotKept-0.05) {
					t.Errorf("%s kept %.2f of the hot set (Redis %.2f)", p, s.hotKept, r.hotKept)
				}
			}
		})
	}
}
