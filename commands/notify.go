package commands

import (
	"strconv"

	"spinel/config"
)

// Keyspace event classes: the bits of notify-keyspace-events, declared once
// in the config package.
const (
	notifyKeyspace = config.NotifyKeyspace
	notifyKeyevent = config.NotifyKeyevent
	notifyGeneric  = config.NotifyGeneric
	notifyString   = config.NotifyString
	notifyList     = config.NotifyList
	notifySet      = config.NotifySet
	notifyHash     = config.NotifyHash
	notifyZset     = config.NotifyZset
	notifyExpired  = config.NotifyExpired
	notifyEvicted  = config.NotifyEvicted
	notifyStream   = config.NotifyStream
	notifyKeyMiss  = config.NotifyKeyMiss
	notifyNew      = config.NotifyNew
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

// keyCreated sends the "new" event of a key just added, as Redis's dbAdd.
func (s *Server) keyCreated(db *database, key []byte) {
	if s.notifyFlags&notifyNew != 0 {
		s.notify(db, notifyNew, "new", key)
	}
}

// applyConfig caches what the executor derives from options, and keeps it
// current through CONFIG SET.
func (s *Server) applyConfig() {
	apply := func(c *config.Config) error {
		s.notifyFlags = c.NotifyKeyspaceFlags
		s.lfu = s.lfuPolicy()
		return nil
	}
	_ = apply(s.cfg)
	s.cfg.OnApply("notify-keyspace-events", apply)
	s.cfg.OnApply("maxmemory-policy", apply)
	_ = s.applyAppendfsync(s.cfg)
	s.cfg.OnApply("appendfsync", s.applyAppendfsync)
	s.cfg.OnApply("appendonly", s.applyAppendonly)
}
