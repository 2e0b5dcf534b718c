package commands

import (
	"fmt"
	"runtime/debug"
	"strings"
)

var memoryCommands = []cmdDef{
	{"memory", nil, 0},
	{"memory|usage", cmdMemoryUsage, 0},
	{"memory|stats", cmdMemoryStats, 0},
	{"memory|doctor", cmdMemoryDoctor, 0},
	{"memory|purge", cmdMemoryPurge, 0},
	{"memory|malloc-stats", cmdMemoryMallocStats, 0},
	{"memory|help", cmdMemoryHelp, 0},
}

// cmdMemoryUsage estimates the bytes a key and its value take: its entry in
// the keyspace, its name and string value in the arena, its expiry record,
// and a collection's own measure. SAMPLES is accepted as in Redis; Spinel's
// collection sizes are kept exactly, so no sampling is needed.
func cmdMemoryUsage(c *Client, args [][]byte) {
	for j := 3; j < len(args); j++ {
		if equalFold(args[j], "samples") && j+1 < len(args) {
			if _, ok := c.getInt(args[j+1]); !ok {
				return
			}
			j++
			continue
		}
		c.addError(ErrSyntax)
		return
	}
	r := c.srv.objectLookup(c, args[2])
	if r == 0 {
		c.addNull()
		return
	}
	c.addInt(c.db.kv.KeyMemory(r))
}

func cmdMemoryStats(c *Client, args [][]byte) {
	s := c.srv
	m := s.memoryStats()
	s.stats.peakMemory = max(s.stats.peakMemory, m.used)
	var keys int64
	type dbStat struct {
		id               int
		main, expireSize int64
	}
	var dbs []dbStat
	for _, db := range s.dbs {
		n := int64(db.kv.Len())
		if n == 0 {
			continue
		}
		keys += n
		dbs = append(dbs, dbStat{db.id, n * 28, int64(db.kv.ExpiresLen()) * 24})
	}
	perKey := int64(0)
	if keys > 0 {
		perKey = (m.used - m.startup) / keys
	}
	pct := func(a, b int64) float64 { return float64(a) * 100 / float64(max(b, 1)) }
	c.addMapLen(25 + len(dbs))
	kv := func(k string) { c.addBulkString(k) }
	kv("peak.allocated")
	c.addInt(s.stats.peakMemory)
	kv("total.allocated")
	c.addInt(m.used)
	kv("startup.allocated")
	c.addInt(m.startup)
	kv("replication.backlog")
	c.addInt(0)
	kv("clients.slaves")
	c.addInt(0)
	kv("clients.normal")
	c.addInt(m.clients)
	kv("cluster.links")
	c.addInt(0)
	kv("aof.buffer")
	c.addInt(0)
	st := s.scriptingStats()
	kv("lua.caches")
	c.addInt(st.scriptsEval)
	kv("functions.caches")
	c.addInt(st.functions)
	for _, d := range dbs {
		kv(fmt.Sprintf("db.%d", d.id))
		c.addMapLen(2)
		kv("overhead.hashtable.main")
		c.addInt(d.main)
		kv("overhead.hashtable.expires")
		c.addInt(d.expireSize)
	}
	kv("overhead.total")
	c.addInt(m.overhead)
	kv("keys.count")
	c.addInt(keys)
	kv("keys.bytes-per-key")
	c.addInt(perKey)
	kv("dataset.bytes")
	c.addInt(m.dataset)
	kv("dataset.percentage")
	c.addDouble(pct(m.dataset, m.used-m.startup))
	kv("peak.percentage")
	c.addDouble(pct(m.used, s.stats.peakMemory))
	kv("allocator.allocated")
	c.addInt(m.heapAlloc)
	kv("allocator.active")
	c.addInt(m.heapInuse)
	kv("allocator.resident")
	c.addInt(m.heapSys)
	kv("allocator-fragmentation.ratio")
	c.addDouble(float64(m.heapInuse) / float64(max(m.heapAlloc, 1)))
	kv("allocator-fragmentation.bytes")
	c.addInt(m.heapInuse - m.heapAlloc)
	kv("rss-overhead.ratio")
	c.addDouble(float64(m.rss) / float64(max(m.heapSys, 1)))
	kv("rss-overhead.bytes")
	c.addInt(m.rss - m.heapSys)
	kv("fragmentation")
	c.addDouble(float64(m.rss) / float64(max(m.used, 1)))
	kv("fragmentation.bytes")
	c.addInt(m.rss - m.used)
}

func cmdMemoryDoctor(c *Client, args [][]byte) {
	s := c.srv
	m := s.memoryStats()
	var report string
	switch {
	case m.used < 5<<20:
		report = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting."
	default:
		var issues []string
		if s.stats.peakMemory > 0 && float64(m.used) < float64(s.stats.peakMemory)*0.5 {
			issues = append(issues, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
		}
		if float64(m.rss) > float64(m.used)*1.4 && m.rss-m.used > 10<<20 {
			issues = append(issues, fmt.Sprintf(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to the Go garbage collector holding freed memory until its next cycle (ratio %.2f).\n\n", float64(m.rss)/float64(m.used)))
		}
		if len(issues) == 0 {
			report = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."
		} else {
			report = "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + strings.Join(issues, "") +
				"I'm here to keep you safe, Sam. I want to help you.\n"
		}
	}
	c.addVerbatim(report)
}

func cmdMemoryPurge(c *Client, args [][]byte) {
	debug.FreeOSMemory()
	c.addOK()
}

func cmdMemoryMallocStats(c *Client, args [][]byte) {
	c.addVerbatim("Stats not supported for the current allocator")
}

func cmdMemoryHelp(c *Client, args [][]byte) {
	c.addHelp("MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
	)
}
