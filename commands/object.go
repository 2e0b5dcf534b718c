package commands

import "strconv"

// Object is the value of a non-string key (hash, list, set, sorted set,
// stream). Strings live directly in the keyspace arena.
type Object interface {
	// Encoding is the name OBJECT ENCODING reports ("listpack",
	// "hashtable", "intset", "quicklist", "skiplist", "stream").
	Encoding() string
	// Copy returns a deep copy, for COPY.
	Copy() Object
	// Len is the number of elements (fields, members, entries).
	Len() int
	// MemoryUsage estimates the bytes the value holds in the Go heap, for
	// MEMORY USAGE and memory accounting.
	MemoryUsage() int64
	// Rewrite emits the commands that rebuild the value under key, for AOF
	// rewrite, as Redis's rewrite*Object: at most 64 elements per command
	// (AOF_REWRITE_ITEMS_PER_CMD), e.g. RPUSH key e1 ... e64. The argv slices
	// are only valid during the call.
	Rewrite(key []byte, emit func(argv [][]byte))
}

// formatUint formats v into buf.
func formatUint(buf []byte, v uint64) []byte { return strconv.AppendUint(buf[:0], v, 10) }
