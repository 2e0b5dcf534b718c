// Package commands is Spinel's command executor: the command table, the gate
// every command passes through (lookup, arity, authentication, transactions,
// memory and loading checks, statistics, panic recovery), the keyspace access
// rules (lazy expiry, LRU/LFU bookkeeping, watched keys) and the commands
// themselves, one file per data type.
//
// Single-owner rule: the executor goroutine — the event loop's goroutine —
// owns the keyspace, every Client and every Server field. There is no mutex
// and no sync.Map in this package. Work done elsewhere (AOF fsync, rewrite)
// comes back to the executor through the event loop, never through a lock.
//
// Handlers have the signature func(c *Client, args [][]byte) and append their
// reply to c.out with the add* methods. args alias the client's input buffer
// and are valid only during the call: a handler that keeps bytes must copy.
package commands
