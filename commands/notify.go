package commands

import "strconv"

// Keyspace event classes, the bits of notify-keyspace-events (Redis's
// NOTIFY_* in server.h).
const (
	notifyKeyspace = 1 << 0  // K
	notifyKeyevent = 1 << 1  // E
	notifyGeneric  = 1 << 2  // g
	notifyString   = 1 << 3  // $
	notifyList     = 1 << 4  // l
	notifySet      = 1 << 5  // s
	notifyHash     = 1 << 6  // h
	notifyZset     = 1 << 7  // z
	notifyExpired  = 1 << 8  // x
	notifyEvicted  = 1 << 9  // e
	notifyStream   = 1 << 10 // t
	notifyKeyMiss  = 1 << 11 // m
	notifyLoaded   = 1 << 12 // module only
	notifyModule   = 1 << 13 // d
	notifyNew      = 1 << 14 // n
)

// notify publishes a keyspace event, as Redis's notifyKeyspaceEvent: on
// __keyspace@<db>__:<key> with the event as message and on
// __keyevent@<db>__:<event> with the key as message, for the classes
// enabled by notify-keyspace-events.
func (s *Server) notify(db *database, class int, event string, key []byte) {
	flags := s.notifyFlags
	if flags&class == 0 || flags&(notifyKeyspace|notifyKeyevent) == 0 {
		return
	}
	if s.pubsub.numChannels() == 0 && s.pubsub.numPatterns() == 0 {
		return
	}
	var buf [64]byte
	dbid := strconv.AppendInt(buf[:0], int64(db.id), 10)
	if flags&notifyKeyspace != 0 {
		ch := make([]byte, 0, 16+len(dbid)+len(key))
		ch = append(ch, "__keyspace@"...)
		ch = append(ch, dbid...)
		ch = append(ch, "__:"...)
		ch = append(ch, key...)
		s.publish(ch, []byte(event))
	}
	if flags&notifyKeyevent != 0 {
		ch := make([]byte, 0, 16+len(dbid)+len(event))
		ch = append(ch, "__keyevent@"...)
		ch = append(ch, dbid...)
		ch = append(ch, "__:"...)
		ch = append(ch, event...)
		s.publish(ch, key)
	}
}
