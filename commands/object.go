package commands

import "strconv"

// Object is the value of a non-string key (hash, list, set, sorted set,
// stream). Strings live directly in the keyspace arena.
type Object interface {
	// Encoding is the name OBJECT ENCODING reports.
	Encoding() string
	// Copy returns a deep copy, for COPY.
	Copy() Object
}

// formatUint formats v into buf.
func formatUint(buf []byte, v uint64) []byte { return strconv.AppendUint(buf[:0], v, 10) }
