package commands

import (
	"bytes"
	"os"
	"runtime/metrics"
	"sort"
	"strconv"
	"syscall"
)

// memStats is what INFO memory reports.
type memStats struct {
	used      int64 // bytes the process holds for data, clients and itself
	rss       int64
	overhead  int64
	startup   int64
	dataset   int64
	clients   int64
	heapAlloc int64
	heapInuse int64
	heapSys   int64
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/total:bytes"},
}

// memoryStats reads the Go runtime's heap figures (without stopping the
// world) and the process RSS.
func (s *Server) memoryStats() memStats {
	metrics.Read(memSamples)
	var m memStats
	m.heapAlloc = int64(memSamples[0].Value.Uint64())
	m.heapInuse = m.heapAlloc + int64(memSamples[1].Value.Uint64())
	m.heapSys = int64(memSamples[2].Value.Uint64())
	m.used = s.usedMemory()
	m.rss = processRSS()
	m.startup = s.baseMemory
	m.clients = s.clientsMemory
	var keyIndex int64
	for _, db := range s.dbs {
		keyIndex += int64(db.kv.Len())*28 + int64(db.kv.ExpiresLen())*24
	}
	m.overhead = m.startup + m.clients + keyIndex
	m.dataset = max(m.used-m.overhead, 0)
	return m
}

// heapObjectBytes is the Go heap's live-and-unswept object bytes.
func heapObjectBytes() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// processRSS reads the resident set size from /proc.
func processRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return pages * int64(os.Getpagesize())
}

func totalSystemMemory() int64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func sortStrings(s []string) { sort.Strings(s) }
