package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

var observeCommands = []cmdDef{
	{"slowlog", nil, 0},
	{"slowlog|get", cmdSlowlogGet, 0},
	{"slowlog|len", cmdSlowlogLen, 0},
	{"slowlog|reset", cmdSlowlogReset, 0},
	{"slowlog|help", cmdSlowlogHelp, 0},
	{"latency", nil, 0},
	{"latency|latest", cmdLatencyLatest, 0},
	{"latency|history", cmdLatencyHistory, 0},
	{"latency|reset", cmdLatencyReset, 0},
	{"latency|histogram", cmdLatencyHistogram, 0},
	{"latency|doctor", cmdLatencyDoctor, 0},
	{"latency|graph", cmdLatencyGraph, 0},
	{"latency|help", cmdLatencyHelp, 0},
	{"monitor", cmdMonitor, 0},
}

// observeCommand feeds the slow log, the latency monitor, the per-command
// latency histogram and MONITOR clients with a command that just ran, as
// Redis's call() does.
func (s *Server) observeCommand(c *Client, cmd *Spec, argv [][]byte, ns int64) {
	if cmd.hist == nil {
		cmd.hist = new(latencyHistogram)
	}
	cmd.hist.record(ns)
	us := ns / 1000
	if th := s.cfg.SlowlogLogSlowerThan; th >= 0 && us >= th && cmd.Flags&FlagSkipSlowlog == 0 {
		s.slowlogAdd(c, cmd, argv, us)
	}
	if th := s.cfg.LatencyMonitorThreshold; th > 0 && us/1000 >= th {
		event := "command"
		if cmd.Flags&FlagFast != 0 {
			event = "fast-command"
		}
		s.latencyAdd(event, us/1000)
	}
	if len(s.monitors) > 0 && cmd.Flags&(FlagSkipMonitor|FlagAdmin) == 0 {
		s.feedMonitors(c, cmd, argv)
	}
}

// ---- SLOWLOG ----

const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
)

type slowlogEntry struct {
	id       int64
	time     int64
	duration int64
	argv     []string
	peer     string
	name     string
}

// redacted reports whether argument i of cmd must not be logged (passwords).
func redacted(cmd *Spec, argv [][]byte, i int) bool {
	switch cmd.FullName {
	case "auth":
		return i >= 1
	case "hello":
		for j := 2; j < len(argv); j++ {
			if equalFold(argv[j], "auth") && (i == j+1 || i == j+2) {
				return true
			}
		}
	case "acl|setuser":
		return i >= 2
	case "config|set":
		return i >= 3 && i%2 == 1 && (equalFold(argv[i-1], "requirepass") || equalFold(argv[i-1], "masterauth"))
	}
	return false
}

func (s *Server) slowlogAdd(c *Client, cmd *Spec, argv [][]byte, us int64) {
	n := min(len(argv), slowlogMaxArgc)
	e := slowlogEntry{id: s.slowlogNextID, time: s.now / 1000, duration: us,
		peer: c.conn.RemoteAddr(), name: c.name}
	s.slowlogNextID++
	for i := 0; i < n; i++ {
		switch {
		case n == slowlogMaxArgc && i == n-1 && len(argv) > slowlogMaxArgc:
			e.argv = append(e.argv, fmt.Sprintf("... (%d more arguments)", len(argv)-slowlogMaxArgc+1))
		case redacted(cmd, argv, i):
			e.argv = append(e.argv, "(redacted)")
		case len(argv[i]) > slowlogMaxString:
			e.argv = append(e.argv, fmt.Sprintf("%s... (%d more bytes)", argv[i][:slowlogMaxString], len(argv[i])-slowlogMaxString))
		default:
			e.argv = append(e.argv, string(argv[i]))
		}
	}
	s.slowlog = append([]slowlogEntry{e}, s.slowlog...)
	if max := s.cfg.SlowlogMaxLen; len(s.slowlog) > max {
		s.slowlog = s.slowlog[:max]
	}
}

func cmdSlowlogGet(c *Client, args [][]byte) {
	count := int64(10)
	if len(args) == 3 {
		v, ok := parseInt(args[2])
		if !ok || v < -1 {
			c.addError("ERR count should be greater than or equal to -1")
			return
		}
		count = v
		if v == -1 {
			count = int64(len(c.srv.slowlog))
		}
	}
	list := c.srv.slowlog
	if int64(len(list)) > count {
		list = list[:count]
	}
	c.addArrayLen(len(list))
	for _, e := range list {
		c.addArrayLen(6)
		c.addInt(e.id)
		c.addInt(e.time)
		c.addInt(e.duration)
		c.addArrayLen(len(e.argv))
		for _, a := range e.argv {
			c.addBulkString(a)
		}
		c.addBulkString(e.peer)
		c.addBulkString(e.name)
	}
}

func cmdSlowlogLen(c *Client, args [][]byte) { c.addInt(int64(len(c.srv.slowlog))) }

func cmdSlowlogReset(c *Client, args [][]byte) {
	c.srv.slowlog = nil
	c.addOK()
}

func cmdSlowlogHelp(c *Client, args [][]byte) {
	c.addHelp("SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	)
}

// ---- LATENCY ----

const latencyHistoryLen = 160

type latencySample struct{ time, ms int64 }

type latencyEvent struct {
	samples []latencySample // ring, oldest first after wrap handling
	max     int64
}

// latencyAdd records a latency spike of an event class, one sample per
// second at most (the highest wins), as Redis's latencyAddSample.
func (s *Server) latencyAdd(event string, ms int64) {
	if s.latency == nil {
		s.latency = make(map[string]*latencyEvent)
	}
	ev := s.latency[event]
	if ev == nil {
		ev = &latencyEvent{}
		s.latency[event] = ev
	}
	now := s.now / 1000
	ev.max = max(ev.max, ms)
	if n := len(ev.samples); n > 0 && ev.samples[n-1].time == now {
		ev.samples[n-1].ms = max(ev.samples[n-1].ms, ms)
		return
	}
	ev.samples = append(ev.samples, latencySample{now, ms})
	if len(ev.samples) > latencyHistoryLen {
		ev.samples = ev.samples[1:]
	}
}

// LatencyAdd lets other parts of the server (the AOF) record latency events.
func (s *Server) LatencyAdd(event string, d time.Duration) {
	if th := s.cfg.LatencyMonitorThreshold; th > 0 && d.Milliseconds() >= th {
		s.latencyAdd(event, d.Milliseconds())
	}
}

func (s *Server) latencyEvents() []string {
	names := make([]string, 0, len(s.latency))
	for name := range s.latency {
		names = append(names, name)
	}
	sortStrings(names)
	return names
}

func cmdLatencyLatest(c *Client, args [][]byte) {
	s := c.srv
	names := s.latencyEvents()
	c.addArrayLen(len(names))
	for _, name := range names {
		ev := s.latency[name]
		last := ev.samples[len(ev.samples)-1]
		c.addArrayLen(4)
		c.addBulkString(name)
		c.addInt(last.time)
		c.addInt(last.ms)
		c.addInt(ev.max)
	}
}

func cmdLatencyHistory(c *Client, args [][]byte) {
	ev := c.srv.latency[string(args[2])]
	if ev == nil {
		c.addEmptyArray()
		return
	}
	c.addArrayLen(len(ev.samples))
	for _, smp := range ev.samples {
		c.addArrayLen(2)
		c.addInt(smp.time)
		c.addInt(smp.ms)
	}
}

func cmdLatencyReset(c *Client, args [][]byte) {
	s := c.srv
	if len(args) == 2 {
		n := len(s.latency)
		s.latency = nil
		c.addInt(int64(n))
		return
	}
	n := 0
	for _, a := range args[2:] {
		if _, ok := s.latency[string(a)]; ok {
			delete(s.latency, string(a))
			n++
		}
	}
	c.addInt(int64(n))
}

func cmdLatencyHistogram(c *Client, args [][]byte) {
	s := c.srv
	var specs []*Spec
	if len(args) == 2 {
		var visit func(list []*Spec)
		visit = func(list []*Spec) {
			for _, cmd := range list {
				if cmd.Subcommands != nil {
					visit(cmd.Subcommands)
				} else if cmd.hist != nil && cmd.hist.total > 0 {
					specs = append(specs, cmd)
				}
			}
		}
		visit(s.table.sorted)
	} else {
		for _, a := range args[2:] {
			name := strings.ToLower(string(a))
			var cmd *Spec
			if top, sub, ok := strings.Cut(name, "|"); ok {
				if t := s.table.byName[top]; t != nil {
					cmd = t.subByName[sub]
				}
			} else {
				cmd = s.table.byName[name]
			}
			if cmd != nil && cmd.hist != nil && cmd.hist.total > 0 {
				specs = append(specs, cmd)
			}
		}
	}
	c.addMapLen(len(specs))
	for _, cmd := range specs {
		c.addBulkString(cmd.FullName)
		c.addMapLen(2)
		c.addBulkString("calls")
		c.addInt(cmd.hist.total)
		c.addBulkString("histogram_usec")
		keys, cum := cmd.hist.powerOfTwoBuckets()
		c.addMapLen(len(keys))
		for i := range keys {
			c.addInt(keys[i])
			c.addInt(cum[i])
		}
	}
}

func cmdLatencyDoctor(c *Client, args [][]byte) {
	s := c.srv
	if s.cfg.LatencyMonitorThreshold == 0 {
		c.addVerbatim("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
		return
	}
	if len(s.latency) == 0 {
		c.addVerbatim("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
		return
	}
	var b strings.Builder
	b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
	for i, name := range s.latencyEvents() {
		ev := s.latency[name]
		var sum int64
		for _, smp := range ev.samples {
			sum += smp.ms
		}
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation 0ms, period %d sec). Worst all time event %dms.\n",
			i+1, name, len(ev.samples), sum/int64(len(ev.samples)), 0, ev.max)
	}
	b.WriteString("\nI have a few advices for you:\n\n- Check your slow log (SLOWLOG GET) for commands that take long, and consider splitting big values.\n")
	c.addVerbatim(b.String())
}

func cmdLatencyGraph(c *Client, args [][]byte) {
	ev := c.srv.latency[string(args[2])]
	if ev == nil {
		c.addError("ERR No samples available for event '" + string(args[2]) + "'")
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", args[2], ev.max, minSample(ev), ev.max)
	b.WriteString(strings.Repeat("-", 80) + "\n")
	for _, smp := range ev.samples {
		bar := int(smp.ms * 20 / max(ev.max, 1))
		fmt.Fprintf(&b, "%s %s %dms\n", time.Unix(smp.time, 0).UTC().Format("15:04:05"), strings.Repeat("#", max(bar, 1)), smp.ms)
	}
	c.addVerbatim(b.String())
}

func minSample(ev *latencyEvent) int64 {
	m := ev.max
	for _, smp := range ev.samples {
		m = min(m, smp.ms)
	}
	return m
}

func cmdLatencyHelp(c *Client, args [][]byte) {
	c.addHelp("LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	)
}

// ---- MONITOR ----

func cmdMonitor(c *Client, args [][]byte) {
	if c.monitor {
		return
	}
	c.monitor = true
	c.srv.monitors = append(c.srv.monitors, c)
	c.addOK()
}

// feedMonitors sends a command to MONITOR clients in Redis's format:
// +<unix time>.<us> [<db> <addr>] "arg" "arg"
func (s *Server) feedMonitors(c *Client, cmd *Spec, argv [][]byte) {
	now := time.Now()
	var b []byte
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	b = append(b, fmt.Sprintf("%06d", now.Nanosecond()/1000)...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.db.id), 10)
	b = append(b, ' ')
	b = append(b, c.conn.RemoteAddr()...)
	b = append(b, ']')
	for i, a := range argv {
		b = append(b, ' ')
		if redacted(cmd, argv, i) {
			b = append(b, "\"(redacted)\""...)
			continue
		}
		b = appendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	for _, m := range s.monitors {
		if m == c {
			continue
		}
		m.out = append(m.out, b...)
		m.markPending()
	}
}

// appendRepr quotes a as Redis's sdscatrepr: printable bytes as they are,
// \\ \" \n \r \t \a \b escaped, others as \xHH.
func appendRepr(b, a []byte) []byte {
	b = append(b, '"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				b = append(b, fmt.Sprintf("\\x%02x", ch)...)
			}
		}
	}
	return append(b, '"')
}

// removeMonitor forgets a disconnecting MONITOR client.
func (s *Server) removeMonitor(c *Client) {
	for i, m := range s.monitors {
		if m == c {
			s.monitors = append(s.monitors[:i], s.monitors[i+1:]...)
			return
		}
	}
}
