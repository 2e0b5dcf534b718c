package commands

import (
	"strings"

	"spinel/commands/glob"
)

var pubsubCommands = []cmdDef{
	{"subscribe", cmdSubscribe, FlagPubSubContext},
	{"unsubscribe", cmdUnsubscribe, FlagPubSubContext},
	{"psubscribe", cmdPsubscribe, FlagPubSubContext},
	{"punsubscribe", cmdPunsubscribe, FlagPubSubContext},
	{"ssubscribe", cmdSsubscribe, FlagPubSubContext},
	{"sunsubscribe", cmdSunsubscribe, FlagPubSubContext},
	{"publish", cmdPublish, FlagMayReplicate},
	{"spublish", cmdSpublish, FlagMayReplicate},
	{"pubsub", nil, 0},
	{"pubsub|channels", cmdPubsubChannels, 0},
	{"pubsub|numsub", cmdPubsubNumsub, 0},
	{"pubsub|numpat", cmdPubsubNumpat, 0},
	{"pubsub|shardchannels", cmdPubsubShardchannels, 0},
	{"pubsub|shardnumsub", cmdPubsubShardnumsub, 0},
	{"pubsub|help", cmdPubsubHelp, 0},
}

// pubsub is the server's subscription index. Subscribers of a channel are
// kept in subscription order, as Redis's lists, so delivery order is stable.
type pubsub struct {
	channels map[string][]*Client
	patterns map[string][]*Client
	shard    map[string][]*Client
}

func (p *pubsub) numChannels() int      { return len(p.channels) }
func (p *pubsub) numPatterns() int      { return len(p.patterns) }
func (p *pubsub) numShardChannels() int { return len(p.shard) }

// subKind is one of the three subscription spaces.
type subKind struct {
	sub, unsub, message string
	server              func(*pubsub) *map[string][]*Client
	client              func(*Client) *map[string]struct{}
}

var (
	kindChannel = &subKind{"subscribe", "unsubscribe", "message",
		func(p *pubsub) *map[string][]*Client { return &p.channels },
		func(c *Client) *map[string]struct{} { return &c.channels }}
	kindPattern = &subKind{"psubscribe", "punsubscribe", "pmessage",
		func(p *pubsub) *map[string][]*Client { return &p.patterns },
		func(c *Client) *map[string]struct{} { return &c.patterns }}
	kindShard = &subKind{"ssubscribe", "sunsubscribe", "smessage",
		func(p *pubsub) *map[string][]*Client { return &p.shard },
		func(c *Client) *map[string]struct{} { return &c.shardChannels }}
)

// subscriptionCount is what (P|S)SUBSCRIBE replies count: channels plus
// patterns, or shard channels alone.
func (c *Client) subscriptionCount(k *subKind) int {
	if k == kindShard {
		return len(c.shardChannels)
	}
	return len(c.channels) + len(c.patterns)
}

// inPubSubMode reports whether the client has any subscription (Redis's
// CLIENT_PUBSUB flag).
func (c *Client) inPubSubMode() bool {
	return len(c.channels)+len(c.patterns)+len(c.shardChannels) > 0
}

// addSubReply sends a subscribe/unsubscribe confirmation.
func (c *Client) addSubReply(kind string, name []byte, count int) {
	c.addPushLen(3)
	c.addBulkString(kind)
	if name == nil {
		c.addNull()
	} else {
		c.addBulk(name)
	}
	c.addInt(int64(count))
}

func (s *Server) subscribe(c *Client, k *subKind, name []byte) {
	cm := k.client(c)
	if *cm == nil {
		*cm = make(map[string]struct{})
	}
	key := string(name)
	if _, ok := (*cm)[key]; !ok {
		(*cm)[key] = struct{}{}
		sm := k.server(&s.pubsub)
		if *sm == nil {
			*sm = make(map[string][]*Client)
		}
		(*sm)[key] = append((*sm)[key], c)
	}
	c.addSubReply(k.sub, name, c.subscriptionCount(k))
}

// unsubscribe removes one subscription; it reports whether there was one.
func (s *Server) unsubscribe(c *Client, k *subKind, name string, notify bool) bool {
	cm := k.client(c)
	_, had := (*cm)[name]
	if had {
		delete(*cm, name)
		sm := k.server(&s.pubsub)
		list := (*sm)[name]
		for i, other := range list {
			if other == c {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(*sm, name)
		} else {
			(*sm)[name] = list
		}
	}
	if notify {
		c.addSubReply(k.unsub, []byte(name), c.subscriptionCount(k))
	}
	return had
}

// unsubscribeAllKind drops every subscription of one kind, replying for each
// (or once with a null name when there were none) if notify is set.
func (s *Server) unsubscribeAllKind(c *Client, k *subKind, notify bool) {
	cm := *k.client(c)
	if len(cm) == 0 {
		if notify {
			c.addSubReply(k.unsub, nil, c.subscriptionCount(k))
		}
		return
	}
	names := make([]string, 0, len(cm))
	for name := range cm {
		names = append(names, name)
	}
	for _, name := range names {
		s.unsubscribe(c, k, name, notify)
	}
}

// unsubscribeAll drops every subscription of c (RESET, disconnect).
func (s *Server) unsubscribeAll(c *Client, notify bool) {
	s.unsubscribeAllKind(c, kindChannel, notify && len(c.channels) > 0)
	s.unsubscribeAllKind(c, kindShard, notify && len(c.shardChannels) > 0)
	s.unsubscribeAllKind(c, kindPattern, notify && len(c.patterns) > 0)
}

func subscribeGeneric(c *Client, args [][]byte, k *subKind) {
	// A client that must get one reply per command (inside a script)
	// cannot subscribe; MULTI is exempt for backward compatibility, as in
	// Redis.
	if c.denyBlocking && !c.multi {
		c.addError("ERR " + strings.ToUpper(k.sub) + " isn't allowed for a DENY BLOCKING client")
		return
	}
	for _, name := range args[1:] {
		c.srv.subscribe(c, k, name)
	}
}

func unsubscribeGeneric(c *Client, args [][]byte, k *subKind) {
	if len(args) == 1 {
		c.srv.unsubscribeAllKind(c, k, true)
		return
	}
	for _, name := range args[1:] {
		c.srv.unsubscribe(c, k, string(name), true)
	}
}

func cmdSubscribe(c *Client, args [][]byte)    { subscribeGeneric(c, args, kindChannel) }
func cmdPsubscribe(c *Client, args [][]byte)   { subscribeGeneric(c, args, kindPattern) }
func cmdSsubscribe(c *Client, args [][]byte)   { subscribeGeneric(c, args, kindShard) }
func cmdUnsubscribe(c *Client, args [][]byte)  { unsubscribeGeneric(c, args, kindChannel) }
func cmdPunsubscribe(c *Client, args [][]byte) { unsubscribeGeneric(c, args, kindPattern) }
func cmdSunsubscribe(c *Client, args [][]byte) { unsubscribeGeneric(c, args, kindShard) }

// publish delivers message to the subscribers of channel and of matching
// patterns and returns how many received it.
func (s *Server) publish(channel, message []byte) int {
	n := 0
	for _, c := range s.pubsub.channels[string(channel)] {
		c.addPushLen(3)
		c.addBulkString("message")
		c.addBulk(channel)
		c.addBulk(message)
		c.markPending()
		n++
	}
	for pattern, clients := range s.pubsub.patterns {
		if !glob.MatchString(pattern, string(channel), false) {
			continue
		}
		for _, c := range clients {
			c.addPushLen(4)
			c.addBulkString("pmessage")
			c.addBulkString(pattern)
			c.addBulk(channel)
			c.addBulk(message)
			c.markPending()
			n++
		}
	}
	return n
}

func cmdPublish(c *Client, args [][]byte) {
	c.addInt(int64(c.srv.publish(args[1], args[2])))
}

func cmdSpublish(c *Client, args [][]byte) {
	n := 0
	for _, sub := range c.srv.pubsub.shard[string(args[1])] {
		sub.addPushLen(3)
		sub.addBulkString("smessage")
		sub.addBulk(args[1])
		sub.addBulk(args[2])
		sub.markPending()
		n++
	}
	c.addInt(int64(n))
}

func channelList(c *Client, m map[string][]*Client, pattern []byte) {
	pos := c.deferLen()
	n := 0
	for name := range m {
		if pattern == nil || glob.Match(pattern, []byte(name), false) {
			c.addBulkString(name)
			n++
		}
	}
	c.setDeferredArrayLen(pos, n)
}

func cmdPubsubChannels(c *Client, args [][]byte) {
	var pattern []byte
	if len(args) > 2 {
		pattern = args[2]
	}
	channelList(c, c.srv.pubsub.channels, pattern)
}

func cmdPubsubShardchannels(c *Client, args [][]byte) {
	var pattern []byte
	if len(args) > 2 {
		pattern = args[2]
	}
	channelList(c, c.srv.pubsub.shard, pattern)
}

func numsub(c *Client, m map[string][]*Client, names [][]byte) {
	c.addMapLen(len(names))
	for _, name := range names {
		c.addBulk(name)
		c.addInt(int64(len(m[string(name)])))
	}
}

func cmdPubsubNumsub(c *Client, args [][]byte) { numsub(c, c.srv.pubsub.channels, args[2:]) }
func cmdPubsubShardnumsub(c *Client, args [][]byte) {
	numsub(c, c.srv.pubsub.shard, args[2:])
}

func cmdPubsubNumpat(c *Client, args [][]byte) { c.addInt(int64(len(c.srv.pubsub.patterns))) }

func cmdPubsubHelp(c *Client, args [][]byte) {
	c.addHelp("PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	)
}
