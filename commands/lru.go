package commands

import (
	"math/rand/v2"
	"strings"

	"spinel/commands/keyspace"
)

// ---------------------------------------------------------------------------
// Access clocks for eviction, as Redis keeps them in robj.lru (24 bits):
// under LRU policies the last access time in seconds; under LFU policies the
// last decrement time in minutes (high 16 bits) and a logarithmic access
// counter (low 8 bits).
// ---------------------------------------------------------------------------

const (
	lruClockResolution = 1000 // ms per LRU clock tick
	lfuInitVal         = 5
)

// lfuPolicy reports whether the eviction policy is one of the LFU ones.
func (s *Server) lfuPolicy() bool { return strings.HasSuffix(s.cfg.MaxmemoryPolicy, "-lfu") }

// sharedIntegersAllowed mirrors Redis: small integers are shared objects
// unless a maxmemory LRU/LFU policy needs per-object access clocks.
func (s *Server) sharedIntegersAllowed() bool {
	p := s.cfg.MaxmemoryPolicy
	return s.cfg.Maxmemory == 0 || !(strings.HasSuffix(p, "-lru") || strings.HasSuffix(p, "-lfu"))
}

// idleTime estimates the milliseconds since r was last accessed.
func (s *Server) idleTime(db *database, r Ref) int64 {
	clock := s.lruClock
	lru := db.kv.LRU(r)
	if clock >= lru {
		return int64(clock-lru) * lruClockResolution
	}
	return int64(clock+(keyspace.LRUMask-lru)) * lruClockResolution
}

// lfuTimeMinutes is the 16-bit minute clock of the LFU data.
func (s *Server) lfuTimeMinutes() uint32 { return uint32(s.now/1000/60) & 0xffff }

// lfuElapsed is the minutes since ldt, wrapping as Redis's LFUTimeElapsed.
func (s *Server) lfuElapsed(ldt uint32) uint32 {
	now := s.lfuTimeMinutes()
	if now >= ldt {
		return now - ldt
	}
	return 65535 - ldt + now
}

// lfuDecrAndReturn returns r's access counter decayed by the time elapsed,
// without storing it.
func (s *Server) lfuDecrAndReturn(db *database, r Ref) uint32 {
	v := db.kv.LRU(r)
	ldt, counter := v>>8, v&0xff
	var periods uint32
	if s.cfg.LFUDecayTime > 0 {
		periods = s.lfuElapsed(ldt) / uint32(s.cfg.LFUDecayTime)
	}
	if periods > counter {
		return 0
	}
	return counter - periods
}

// lfuLogIncr increments a logarithmic counter: the more it holds, the less
// likely it grows (Redis's LFULogIncr).
func (s *Server) lfuLogIncr(counter uint32) uint32 {
	if counter == 255 {
		return 255
	}
	baseval := float64(counter) - lfuInitVal
	if baseval < 0 {
		baseval = 0
	}
	p := 1.0 / (baseval*float64(s.cfg.LFULogFactor) + 1)
	if rand.Float64() < p {
		counter++
	}
	return counter
}
