package commands

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// infoSections are INFO's sections in Redis's order. "default" holds the
// ones without the all/everything marks.
var infoSections = []struct {
	name    string
	title   string
	dflt    bool
	produce func(s *Server, b *strings.Builder)
}{
	{"server", "Server", true, (*Server).infoServer},
	{"clients", "Clients", true, (*Server).infoClients},
	{"memory", "Memory", true, (*Server).infoMemory},
	{"persistence", "Persistence", true, (*Server).infoPersistence},
	{"stats", "Stats", true, (*Server).infoStats},
	{"replication", "Replication", true, (*Server).infoReplication},
	{"cpu", "CPU", true, (*Server).infoCPU},
	{"modules", "Modules", true, func(*Server, *strings.Builder) {}},
	{"commandstats", "Commandstats", false, (*Server).infoCommandstats},
	{"errorstats", "Errorstats", true, (*Server).infoErrorstats},
	{"latencystats", "Latencystats", false, (*Server).infoLatencystats},
	{"cluster", "Cluster", true, func(_ *Server, b *strings.Builder) { b.WriteString("cluster_enabled:0\r\n") }},
	{"keyspace", "Keyspace", true, (*Server).infoKeyspace},
}

var serverCommands = []cmdDef{
	{"info", cmdInfo, 0},
	{"time", cmdTime, 0},
	{"lastsave", cmdLastsave, 0},
	{"shutdown", cmdShutdown, 0},
	{"config", nil, 0},
	{"config|get", cmdConfigGet, 0},
	{"config|set", cmdConfigSet, 0},
	{"config|resetstat", cmdConfigResetstat, 0},
	{"config|rewrite", cmdConfigRewrite, 0},
	{"config|help", cmdConfigHelp, 0},
}

// Info returns the INFO text for the given section names (lower-case), as
// the INFO command and tests use it.
func (s *Server) Info(names ...string) string {
	want := map[string]bool{}
	all, everything, dflt := false, false, len(names) == 0
	for _, n := range names {
		n = strings.ToLower(n)
		switch n {
		case "all":
			all = true
		case "everything":
			everything = true
		case "default":
			dflt = true
		default:
			want[n] = true
		}
	}
	var b strings.Builder
	for _, sec := range infoSections {
		if !(everything || want[sec.name] || (all && sec.name != "modules") || (dflt && sec.dflt)) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# ")
		b.WriteString(sec.title)
		b.WriteString("\r\n")
		sec.produce(s, &b)
	}
	return b.String()
}

func cmdInfo(c *Client, args [][]byte) {
	names := make([]string, 0, len(args)-1)
	for _, a := range args[1:] {
		names = append(names, string(a))
	}
	c.addVerbatim(c.srv.Info(names...))
}

func field(b *strings.Builder, k string, v any) {
	b.WriteString(k)
	b.WriteByte(':')
	switch x := v.(type) {
	case string:
		b.WriteString(x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', 2, 64))
	default:
		fmt.Fprint(b, x)
	}
	b.WriteString("\r\n")
}

func (s *Server) infoServer(b *strings.Builder) {
	var uts syscall.Utsname
	_ = syscall.Uname(&uts)
	osName := utsString(uts.Sysname[:]) + " " + utsString(uts.Release[:]) + " " + utsString(uts.Machine[:])
	exe, _ := os.Executable()
	uptime := int64(time.Since(s.started).Seconds())
	field(b, "redis_version", Version)
	field(b, "redis_git_sha1", "00000000")
	field(b, "redis_git_dirty", 0)
	field(b, "redis_build_id", "spinel")
	field(b, "redis_mode", "standalone")
	field(b, "os", osName)
	field(b, "arch_bits", strconv.Itoa(strconv.IntSize))
	field(b, "monotonic_clock", "POSIX clock_gettime")
	field(b, "multiplexing_api", "epoll")
	field(b, "atomicvar_api", "c11-builtin")
	field(b, "gcc_version", "0.0.0")
	field(b, "go_version", runtime.Version())
	field(b, "process_id", pid)
	field(b, "process_supervised", "no")
	field(b, "run_id", s.runID)
	field(b, "tcp_port", s.cfg.Port)
	field(b, "server_time_usec", time.Now().UnixMicro())
	field(b, "uptime_in_seconds", uptime)
	field(b, "uptime_in_days", uptime/86400)
	field(b, "hz", s.cfg.Hz)
	field(b, "configured_hz", s.cfg.Hz)
	field(b, "lru_clock", int64(s.lruClock))
	field(b, "executable", exe)
	field(b, "config_file", s.cfg.File)
	field(b, "io_threads_active", 0)
}

func utsString(a []int8) string {
	var b []byte
	for _, c := range a {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

func (s *Server) infoClients(b *strings.Builder) {
	blocked := 0
	var maxIn, maxOut int64
	for _, c := range s.clients {
		if c.isBlocked() {
			blocked++
		}
		maxIn = max(maxIn, int64(c.QueryBufLen))
		maxOut = max(maxOut, int64(c.conn.OutboundBuffered()))
	}
	field(b, "connected_clients", len(s.clients))
	field(b, "cluster_connections", 0)
	field(b, "maxclients", s.cfg.MaxClients)
	field(b, "client_recent_max_input_buffer", maxIn)
	field(b, "client_recent_max_output_buffer", maxOut)
	field(b, "blocked_clients", blocked)
	field(b, "tracking_clients", 0)
	field(b, "clients_in_timeout_table", blocked)
}

// humanBytes formats n as Redis's bytesToHuman.
func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1024*1024:
		return strconv.FormatFloat(f/1024, 'f', 2, 64) + "K"
	case n < 1024*1024*1024:
		return strconv.FormatFloat(f/(1024*1024), 'f', 2, 64) + "M"
	case n < 1024*1024*1024*1024:
		return strconv.FormatFloat(f/(1024*1024*1024), 'f', 2, 64) + "G"
	default:
		return strconv.FormatFloat(f/(1024*1024*1024*1024), 'f', 2, 64) + "T"
	}
}

func (s *Server) infoMemory(b *strings.Builder) {
	m := s.memoryStats()
	s.stats.peakMemory = max(s.stats.peakMemory, m.used)
	peak := s.stats.peakMemory
	field(b, "used_memory", m.used)
	field(b, "used_memory_human", humanBytes(m.used))
	field(b, "used_memory_rss", m.rss)
	field(b, "used_memory_rss_human", humanBytes(m.rss))
	field(b, "used_memory_peak", peak)
	field(b, "used_memory_peak_human", humanBytes(peak))
	field(b, "used_memory_peak_perc", fmt.Sprintf("%.2f%%", float64(m.used)*100/float64(max(peak, 1))))
	field(b, "used_memory_overhead", m.overhead)
	field(b, "used_memory_startup", m.startup)
	field(b, "used_memory_dataset", m.dataset)
	field(b, "used_memory_dataset_perc", fmt.Sprintf("%.2f%%", float64(m.dataset)*100/float64(max(m.used-m.startup, 1))))
	field(b, "allocator_allocated", m.heapAlloc)
	field(b, "allocator_active", m.heapInuse)
	field(b, "allocator_resident", m.heapSys)
	field(b, "total_system_memory", totalSystemMemory())
	field(b, "total_system_memory_human", humanBytes(totalSystemMemory()))
	s.infoScriptMemory(b)
	field(b, "maxmemory", s.cfg.Maxmemory)
	field(b, "maxmemory_human", humanBytes(s.cfg.Maxmemory))
	field(b, "maxmemory_policy", s.cfg.MaxmemoryPolicy)
	field(b, "allocator_frag_ratio", float64(m.heapInuse)/float64(max(m.heapAlloc, 1)))
	field(b, "allocator_frag_bytes", m.heapInuse-m.heapAlloc)
	field(b, "allocator_rss_ratio", float64(m.rss)/float64(max(m.heapInuse, 1)))
	field(b, "allocator_rss_bytes", m.rss-m.heapInuse)
	field(b, "rss_overhead_ratio", float64(m.rss)/float64(max(m.heapSys, 1)))
	field(b, "rss_overhead_bytes", m.rss-m.heapSys)
	field(b, "mem_fragmentation_ratio", float64(m.rss)/float64(max(m.used, 1)))
	field(b, "mem_fragmentation_bytes", m.rss-m.used)
	field(b, "mem_not_counted_for_evict", 0)
	field(b, "mem_replication_backlog", 0)
	field(b, "mem_total_replication_buffers", 0)
	field(b, "mem_clients_slaves", 0)
	field(b, "mem_clients_normal", m.clients)
	field(b, "mem_cluster_links", 0)
	field(b, "mem_aof_buffer", 0)
	field(b, "mem_allocator", "go-"+runtime.Version())
	field(b, "active_defrag_running", 0)
	field(b, "lazyfree_pending_objects", 0)
	field(b, "lazyfreed_objects", 0)
}

func (s *Server) infoPersistence(b *strings.Builder) {
	loading := 0
	if s.loading {
		loading = 1
	}
	field(b, "loading", loading)
	field(b, "async_loading", 0)
	if s.loading {
		perc := 0.0
		if s.loadingTotal > 0 {
			perc = float64(s.loadingDone) * 100 / float64(s.loadingTotal)
		}
		elapsed := time.Since(s.loadingStart).Seconds()
		eta := 1
		if s.loadingDone > 0 {
			eta = int(elapsed * float64(s.loadingTotal-s.loadingDone) / float64(s.loadingDone))
		}
		field(b, "loading_start_time", s.loadingStart.Unix())
		field(b, "loading_total_bytes", s.loadingTotal)
		field(b, "loading_rdb_used_mem", 0)
		field(b, "loading_loaded_bytes", s.loadingDone)
		field(b, "loading_loaded_perc", perc)
		field(b, "loading_eta_seconds", eta)
	}
	field(b, "current_cow_peak", 0)
	field(b, "current_cow_size", 0)
	field(b, "current_cow_size_age", 0)
	field(b, "current_fork_perc", "0.00")
	field(b, "current_save_keys_processed", 0)
	field(b, "current_save_keys_total", 0)
	field(b, "rdb_changes_since_last_save", s.dirty)
	field(b, "rdb_bgsave_in_progress", 0)
	field(b, "rdb_last_save_time", s.lastSave)
	field(b, "rdb_last_bgsave_status", "ok")
	field(b, "rdb_last_bgsave_time_sec", -1)
	field(b, "rdb_current_bgsave_time_sec", -1)
	field(b, "rdb_saves", 0)
	field(b, "rdb_last_cow_size", 0)
	field(b, "rdb_last_load_keys_expired", 0)
	field(b, "rdb_last_load_keys_loaded", 0)
	okErr := func(err error) string {
		if err != nil {
			return "err"
		}
		return "ok"
	}
	if s.aof == nil {
		field(b, "aof_enabled", 0)
		field(b, "aof_rewrite_in_progress", 0)
		field(b, "aof_rewrite_scheduled", 0)
		field(b, "aof_last_rewrite_time_sec", -1)
		field(b, "aof_current_rewrite_time_sec", -1)
		field(b, "aof_last_bgrewrite_status", "ok")
		field(b, "aof_rewrites", 0)
		field(b, "aof_rewrites_consecutive_failures", 0)
		field(b, "aof_last_write_status", "ok")
		field(b, "aof_last_cow_size", 0)
	} else {
		st := s.aof.Stats()
		inProgress := 0
		current := int64(-1)
		if st.RewriteInProgress || s.rewrite != nil {
			inProgress = 1
			current = int64(time.Since(st.RewriteStarted).Seconds())
		}
		last := int64(-1)
		if st.LastRewrite >= 0 {
			last = int64(st.LastRewrite.Seconds())
		}
		field(b, "aof_enabled", 1)
		field(b, "aof_rewrite_in_progress", inProgress)
		field(b, "aof_rewrite_scheduled", 0)
		field(b, "aof_last_rewrite_time_sec", last)
		field(b, "aof_current_rewrite_time_sec", current)
		field(b, "aof_last_bgrewrite_status", okErr(st.LastRewriteError))
		field(b, "aof_rewrites", st.Rewrites)
		field(b, "aof_rewrites_consecutive_failures", st.RewriteConsecutiveFailures)
		field(b, "aof_last_write_status", okErr(st.LastWriteError))
		field(b, "aof_last_cow_size", 0)
		field(b, "module_fork_in_progress", 0)
		field(b, "module_fork_last_cow_size", 0)
		field(b, "aof_current_size", st.CurrentSize)
		field(b, "aof_base_size", st.BaseSize)
		field(b, "aof_pending_rewrite", 0)
		field(b, "aof_buffer_length", st.BufferLength)
		pending := 0
		if st.PendingBioFsync {
			pending = 1
		}
		field(b, "aof_pending_bio_fsync", pending)
		field(b, "aof_delayed_fsync", st.DelayedFsync)
		return
	}
	field(b, "module_fork_in_progress", 0)
	field(b, "module_fork_last_cow_size", 0)
}

func (s *Server) infoStats(b *strings.Builder) {
	st := &s.stats
	stalePerc := 0.0
	field(b, "total_connections_received", st.numConnections)
	field(b, "total_commands_processed", st.numCommands)
	field(b, "instantaneous_ops_per_sec", average(st.opsSamples[:]))
	field(b, "total_net_input_bytes", st.netInput)
	field(b, "total_net_output_bytes", st.netOutput)
	field(b, "total_net_repl_input_bytes", 0)
	field(b, "total_net_repl_output_bytes", 0)
	field(b, "instantaneous_input_kbps", float64(average(st.inSamples[:]))/1024)
	field(b, "instantaneous_output_kbps", float64(average(st.outSamples[:]))/1024)
	field(b, "instantaneous_input_repl_kbps", "0.00")
	field(b, "instantaneous_output_repl_kbps", "0.00")
	field(b, "rejected_connections", st.rejectedConns)
	field(b, "sync_full", 0)
	field(b, "sync_partial_ok", 0)
	field(b, "sync_partial_err", 0)
	field(b, "expired_keys", st.expiredKeys)
	field(b, "expired_stale_perc", stalePerc)
	field(b, "expired_time_cap_reached_count", 0)
	field(b, "expire_cycle_cpu_milliseconds", st.expireCycleTime/1000)
	field(b, "evicted_keys", st.evictedKeys)
	field(b, "evicted_clients", st.evictedClients)
	field(b, "total_eviction_exceeded_time", 0)
	field(b, "current_eviction_exceeded_time", 0)
	field(b, "keyspace_hits", st.keyspaceHits)
	field(b, "keyspace_misses", st.keyspaceMisses)
	field(b, "pubsub_channels", s.pubsub.numChannels())
	field(b, "pubsub_patterns", s.pubsub.numPatterns())
	field(b, "pubsubshard_channels", s.pubsub.numShardChannels())
	field(b, "latest_fork_usec", 0)
	field(b, "total_forks", 0)
	field(b, "migrate_cached_sockets", 0)
	field(b, "slave_expires_tracked_keys", 0)
	field(b, "active_defrag_hits", 0)
	field(b, "active_defrag_misses", 0)
	field(b, "active_defrag_key_hits", 0)
	field(b, "active_defrag_key_misses", 0)
	field(b, "total_active_defrag_time", 0)
	field(b, "current_active_defrag_time", 0)
	field(b, "tracking_total_keys", 0)
	field(b, "tracking_total_items", 0)
	field(b, "tracking_total_prefixes", 0)
	field(b, "unexpected_error_replies", 0)
	field(b, "total_error_replies", st.totalErrors)
	field(b, "command_panics", st.panics)
	field(b, "dump_payload_sanitizations", 0)
	field(b, "total_reads_processed", st.reads)
	field(b, "total_writes_processed", st.writes)
	field(b, "io_threaded_reads_processed", 0)
	field(b, "io_threaded_writes_processed", 0)
}

func (s *Server) infoReplication(b *strings.Builder) {
	field(b, "role", "master")
	field(b, "connected_slaves", 0)
	field(b, "master_failover_state", "no-failover")
	field(b, "master_replid", s.runID)
	field(b, "master_replid2", strings.Repeat("0", 40))
	field(b, "master_repl_offset", 0)
	field(b, "second_repl_offset", -1)
	field(b, "repl_backlog_active", 0)
	field(b, "repl_backlog_size", 1048576)
	field(b, "repl_backlog_first_byte_offset", 0)
	field(b, "repl_backlog_histlen", 0)
}

func (s *Server) infoCPU(b *strings.Builder) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) string {
		return strconv.FormatFloat(float64(t.Sec)+float64(t.Usec)/1e6, 'f', 6, 64)
	}
	field(b, "used_cpu_sys", tv(ru.Stime))
	field(b, "used_cpu_user", tv(ru.Utime))
	field(b, "used_cpu_sys_children", "0.000000")
	field(b, "used_cpu_user_children", "0.000000")
	// The executor is one goroutine but not pinned to one thread: the
	// process figures are the closest honest "main thread" figures.
	field(b, "used_cpu_sys_main_thread", tv(ru.Stime))
	field(b, "used_cpu_user_main_thread", tv(ru.Utime))
}

func (s *Server) infoCommandstats(b *strings.Builder) {
	var visit func(list []*Spec)
	visit = func(list []*Spec) {
		for _, cmd := range list {
			if cmd.Subcommands != nil {
				visit(cmd.Subcommands)
				continue
			}
			if cmd.Calls == 0 && cmd.RejectedCalls == 0 && cmd.FailedCalls == 0 {
				continue
			}
			perCall := 0.0
			if cmd.Calls > 0 {
				perCall = float64(cmd.Usec) / float64(cmd.Calls)
			}
			fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
				cmd.FullName, cmd.Calls, cmd.Usec, perCall, cmd.RejectedCalls, cmd.FailedCalls)
		}
	}
	visit(s.table.sorted)
}

func (s *Server) infoLatencystats(b *strings.Builder) {
	var visit func(list []*Spec)
	visit = func(list []*Spec) {
		for _, cmd := range list {
			if cmd.Subcommands != nil {
				visit(cmd.Subcommands)
				continue
			}
			if cmd.hist == nil || cmd.hist.total == 0 {
				continue
			}
			fmt.Fprintf(b, "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,p99.9=%.3f\r\n", cmd.FullName,
				float64(cmd.hist.percentile(50))/1000, float64(cmd.hist.percentile(99))/1000,
				float64(cmd.hist.percentile(99.9))/1000)
		}
	}
	visit(s.table.sorted)
}

func (s *Server) infoErrorstats(b *strings.Builder) {
	codes := make([]string, 0, len(s.stats.errorCodes))
	for code := range s.stats.errorCodes {
		codes = append(codes, code)
	}
	sortStrings(codes)
	for _, code := range codes {
		fmt.Fprintf(b, "errorstat_%s:count=%d\r\n", code, s.stats.errorCodes[code])
	}
}

func (s *Server) infoKeyspace(b *strings.Builder) {
	for _, db := range s.dbs {
		keys := db.kv.Len()
		if keys == 0 {
			continue
		}
		fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=%d\r\n", db.id, keys, db.kv.ExpiresLen(), s.avgTTL(db))
	}
}

// avgTTL estimates the average TTL of db's volatile keys from a sample.
func (s *Server) avgTTL(db *database) int64 {
	var sum, n int64
	db.kv.SampleExpires(64, func(_ Ref, at int64) bool {
		if at > s.now {
			sum += at - s.now
			n++
		}
		return true
	})
	if n == 0 {
		return 0
	}
	return sum / n
}

func cmdTime(c *Client, args [][]byte) {
	now := time.Now()
	c.addArrayLen(2)
	c.addBulkString(strconv.FormatInt(now.Unix(), 10))
	c.addBulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

func cmdLastsave(c *Client, args [][]byte) { c.addInt(c.srv.lastSave) }

func cmdShutdown(c *Client, args [][]byte) {
	s := c.srv
	var nosave, save, now, force, abort bool
	for _, a := range args[1:] {
		switch {
		case equalFold(a, "nosave"):
			nosave = true
		case equalFold(a, "save"):
			save = true
		case equalFold(a, "now"):
			now = true
		case equalFold(a, "force"):
			force = true
		case equalFold(a, "abort"):
			abort = true
		default:
			c.addError(ErrSyntax)
			return
		}
	}
	if (abort && (nosave || save || now || force)) || (nosave && save) {
		c.addError(ErrSyntax)
		return
	}
	if abort {
		c.addError("ERR No shutdown in progress.")
		return
	}
	if !now && c.denyBlocking {
		c.addError("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client")
		return
	}
	// While a script runs too long only SHUTDOWN NOSAVE may stop the
	// server (SHUTDOWN itself is allow-busy so that it gets here).
	if !nosave && s.scriptBusy() {
		c.addError(s.busyError())
		return
	}
	s.log.Info("User requested shutdown...")
	s.shutdownAsap = true
	if s.Hooks.Shutdown != nil {
		s.Hooks.Shutdown()
	}
}
