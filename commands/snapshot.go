package commands

import (
	"strconv"

	"spinel/commands/keyspace"
)

// emitKey writes the commands that rebuild key r of db as it is now: the
// value (SET for strings, the collection's own Rewrite otherwise) and its
// absolute expiry (PEXPIREAT), as Redis's rewriteAppendOnlyFileRio does for
// one key. It serves AOF rewrite and DEBUG RELOAD.
func (s *Server) emitKey(db *database, r Ref, emit func(argv [][]byte)) {
	kv := db.kv
	key := kv.Key(r)
	if kv.Type(r) == keyspace.TypeString {
		emit([][]byte{setCmd, key, kv.Str(r)})
	} else {
		kv.Object(r).(Object).Rewrite(key, emit)
	}
	if at, ok := kv.ExpireAt(r); ok {
		var num [20]byte
		emit([][]byte{pexpireatCmd, key, strconv.AppendInt(num[:0], at, 10)})
	}
}
