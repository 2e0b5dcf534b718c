// Package resp implements the Redis serialization protocol (RESP2 and RESP3)
// as pure functions over byte slices: it does no I/O and imports nothing from
// the network layer.
//
// Parsing is zero-copy: the arguments returned by ParseCommand alias the input
// buffer and stay valid only as long as the caller keeps that buffer intact. A
// caller that stores an argument beyond that must copy it.
//
// Writing is done with append functions (AppendBulk, AppendArrayLen, ...) over
// a caller-owned buffer, in the style of strconv.AppendInt: no reply objects,
// no reflection, no fmt.
package resp
