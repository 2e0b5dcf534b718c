// Package persistence is Spinel's append-only file, on disk exactly as Redis
// 7.0 keeps it (multi-part AOF): an AOF directory (appenddirname) holding a
// manifest (<appendfilename>.manifest), one base file with a snapshot of the
// dataset as RESP commands, and incr files with the commands written since.
// Real redis-server 7.0 loads what this package writes and the other way
// round. RDB-format bases (aof-use-rdb-preamble yes) are refused at load.
//
// # Ownership and goroutines
//
// The executor goroutine calls Append, Flush, SetPolicy, StartRewrite and
// Close, and the RewriteWriter methods; it holds no lock of its own for them.
// Behind the API:
//   - the writer goroutine owns the current incr file: it writes what Append
//     queued (handed over under a mutex, swapped as a whole buffer), fsyncs
//     it according to the policy, runs StartRewrite's file switch, retries
//     after errors and reports progress through Options.OnSynced;
//   - with FsyncEverysec, a short-lived goroutine runs each background fsync
//     (Redis's bio thread);
//   - during a rewrite, the rewrite goroutine writes the snapshot to a
//     temporary base file and installs it (see rewrite.go for the steps).
//
// # What the executor must do
//
//  1. Open, then Load (replaying through its own command path, with the
//     loading flag set), then start serving. After Open and after every
//     StartRewrite, emit SELECT before the next command, as every file is
//     replayed from db 0.
//  2. Append each propagated unit as it is produced (SELECT when the db
//     changes, absolute expiries, MULTI/EXEC around transactions); call
//     Flush once at the end of every event-loop batch.
//  3. With FsyncAlways, hold the replies of a batch until OnSynced reports an
//     offset >= the offset Append returned for the batch's last bytes
//     (OnSynced runs on the writer goroutine: post it to the event loop).
//     With the other policies replies may leave at once, as in Redis, or
//     wait for OnSynced (written to the OS, which survives a process crash).
//  4. Check WriteError before executing a write command and refuse it with
//     -MISCONF while it is not nil; it clears itself when the disk recovers.
//  5. For BGREWRITEAOF: call StartRewrite at the point where the snapshot
//     is taken, feed the snapshot to RewriteWriter.Write, then Finish (or
//     Abort on failure).
//  6. On SHUTDOWN/SIGTERM, Close.
//
// # Files
//
// Every byte of the incr stream has an offset (counted from 0 at Open);
// Append returns the offset after its bytes. Tests use MemFS, which loses on
// a simulated crash everything not fsynced (file bytes) or not synced into
// its directory (creations, renames), and ErrorFS, which fails writes and
// fsyncs on demand.
package persistence
