package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// conn is a minimal pipelining RESP client for loading data.
type conn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dial(port int) *conn {
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		log.Fatal(err)
	}
	return &conn{c: c, r: bufio.NewReaderSize(c, 1<<20), w: bufio.NewWriterSize(c, 1<<20)}
}

func (c *conn) send(args ...string) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
}

// readReply reads one reply and returns its first line (bulk payloads are
// read fully).
func (c *conn) readReply() string {
	line, err := c.r.ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	line = strings.TrimRight(line, "\r\n")
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n >= 0 {
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(c.r, buf); err != nil {
				log.Fatal(err)
			}
			return string(buf[:n])
		}
	case '*':
		n, _ := strconv.Atoi(line[1:])
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, c.readReply())
		}
		return strings.Join(parts, " ")
	}
	return line
}

func (c *conn) do(args ...string) string {
	c.send(args...)
	if err := c.w.Flush(); err != nil {
		log.Fatal(err)
	}
	return c.readReply()
}

// load sends n commands built by mk in pipelined batches.
func (c *conn) load(n int, mk func(i int) []string) {
	const batch = 1000
	for i := 0; i < n; i += batch {
		end := min(i+batch, n)
		for j := i; j < end; j++ {
			c.send(mk(j)...)
		}
		if err := c.w.Flush(); err != nil {
			log.Fatal(err)
		}
		for j := i; j < end; j++ {
			if r := c.readReply(); strings.HasPrefix(r, "-") {
				log.Fatalf("command %d: %s", j, r)
			}
		}
	}
}

// rss reads a process's resident set size.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	pages, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return pages * int64(os.Getpagesize())
}

func infoField(c *conn, section, field string) int64 {
	for _, line := range strings.Split(c.do("INFO", section), "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// memoryMode measures RSS per key for 1,000,000 16-byte string values and
// for 1,000,000 hash fields, Spinel and Redis in the same run.
func memoryMode(dir, bin string, args []string) {
	const n = 1000000
	value := "0123456789abcdef"
	workloads := []struct {
		name string
		mk   func(i int) []string
	}{
		{"SET key:N <16 B>", func(i int) []string { return []string{"SET", "key:" + strconv.Itoa(i), value} }},
		{"HSET h field:N <16 B>", func(i int) []string { return []string{"HSET", "h", "field:" + strconv.Itoa(i), value} }},
		{"HSET h:N/1000 f:N <16 B>", func(i int) []string {
			return []string{"HSET", "h:" + strconv.Itoa(i/1000), "f:" + strconv.Itoa(i%1000), value}
		}},
	}
	fmt.Printf("Bytes of RSS per element, %d elements (ratio = Spinel/Redis, lower is better)\n\n", n)
	fmt.Println("| workload | redis B/elem | spinel B/elem | ratio | redis used_memory/elem | spinel used_memory/elem |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, w := range workloads {
		var res [2][2]float64
		for i, name := range []string{"redis", "spinel"} {
			var srv *server
			if name == "redis" {
				srv = startRedis(dir, args)
			} else {
				srv = start(dir, "spinel", bin, args)
			}
			c := dial(srv.port)
			before, used0 := rss(srv.cmd.Process.Pid), infoField(c, "memory", "used_memory")
			c.load(n, w.mk)
			time.Sleep(500 * time.Millisecond)
			after, used1 := rss(srv.cmd.Process.Pid), infoField(c, "memory", "used_memory")
			res[i] = [2]float64{float64(after-before) / n, float64(used1-used0) / n}
			srv.stop()
		}
		fmt.Printf("| %s | %.1f | %.1f | %.2f | %.1f | %.1f |\n", w.name, res[0][0], res[1][0], res[1][0]/res[0][0], res[0][1], res[1][1])
	}
}

// floodMode writes four times maxmemory of 1 KB values from 50 clients and
// samples RSS every 100 ms: peak RSS / maxmemory for each server.
func floodMode(dir, bin string, args []string) {
	const maxmemory = 256 << 20
	const valueSize = 1024
	n := 4 * maxmemory / valueSize
	mm := []string{"--maxmemory", strconv.Itoa(maxmemory), "--maxmemory-policy", "allkeys-lru"}
	fmt.Printf("Write flood: %d SETs of %d B (4x maxmemory %d MB), 50 clients, -P 16, RSS sampled every 100 ms\n\n", n, valueSize, maxmemory>>20)
	fmt.Println("| server | peak RSS MB | peak RSS / maxmemory | final used_memory / maxmemory | evicted_keys | rps |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, name := range []string{"redis", "spinel"} {
		var srv *server
		if name == "redis" {
			srv = startRedis(dir, append(mm, args...))
		} else {
			srv = start(dir, "spinel", bin, append(mm, args...))
		}
		var peak int64
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					peak = max(peak, rss(srv.cmd.Process.Pid))
				}
			}
		}()
		began := time.Now()
		out, err := exec.Command("redis-benchmark", "-p", strconv.Itoa(srv.port), "-t", "set", "-n", strconv.Itoa(n),
			"-r", "100000000", "-d", strconv.Itoa(valueSize), "-c", "50", "-P", "16", "-q").CombinedOutput()
		if err != nil {
			log.Fatalf("redis-benchmark: %v %s", err, out)
		}
		elapsed := time.Since(began)
		close(done)
		wg.Wait()
		peak = max(peak, rss(srv.cmd.Process.Pid))
		c := dial(srv.port)
		used := infoField(c, "memory", "used_memory")
		evicted := infoField(c, "stats", "evicted_keys")
		srv.stop()
		fmt.Printf("| %s | %d | %.2f | %.2f | %d | %.0f |\n", name, peak>>20, float64(peak)/maxmemory,
			float64(used)/maxmemory, evicted, float64(n)/elapsed.Seconds())
	}
}

// gcLatencyMode compares GET/SET p99 under load on a server holding
// 10,000 keys and on one holding 10,000,000 keys.
func gcLatencyMode(dir, bin string, args []string) {
	fmt.Println("GET/SET latency with a small and a large keyspace (redis-benchmark -c 50 -P 1, keys drawn from the loaded range)")
	fmt.Println()
	fmt.Println("| server | keys | test | rps | p50 ms | p99 ms |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, keys := range []int{10000, 10000000} {
		for _, name := range []string{"redis", "spinel"} {
			var srv *server
			if name == "redis" {
				srv = startRedis(dir, args)
			} else {
				srv = start(dir, "spinel", bin, args)
			}
			c := dial(srv.port)
			c.load(keys, func(i int) []string { return []string{"SET", fmt.Sprintf("key:%012d", i), "xxx"} })
			for _, test := range []string{"get", "set"} {
				out, err := exec.Command("redis-benchmark", "-p", strconv.Itoa(srv.port), "-t", test, "-n", "500000",
					"-r", strconv.Itoa(keys), "-c", "50", "--csv").Output()
				if err != nil {
					log.Fatal(err)
				}
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				f := strings.Split(strings.ReplaceAll(lines[len(lines)-1], "\"", ""), ",")
				fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", name, keys, test, f[1], f[4], f[6])
			}
			srv.stop()
		}
	}
}

// aofLoadMode writes the same AOF for both servers (1,000,000 SETs and
// 100,000 RPUSH/HSET/SADD/ZADD) and times how long each takes to load it.
func aofLoadMode(dir, bin string) {
	const n = 1000000
	aofDir := filepath.Join(dir, "aof-src")
	if err := os.MkdirAll(filepath.Join(aofDir, "appendonlydir"), 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(filepath.Join(aofDir, "appendonlydir", "appendonly.aof.1.incr.aof"))
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	cmd := func(args ...string) {
		fmt.Fprintf(w, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	cmd("SELECT", "0")
	for i := 0; i < n; i++ {
		cmd("SET", "key:"+strconv.Itoa(i), "0123456789abcdef")
		if i%10 == 0 {
			cmd("RPUSH", "list:"+strconv.Itoa(i%1000), strconv.Itoa(i))
			cmd("HSET", "hash:"+strconv.Itoa(i%1000), "f"+strconv.Itoa(i), "v")
			cmd("SADD", "set:"+strconv.Itoa(i%1000), strconv.Itoa(i))
			cmd("ZADD", "zset:"+strconv.Itoa(i%1000), strconv.Itoa(i), "m"+strconv.Itoa(i))
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	f.Close()
	manifest := "file appendonly.aof.1.incr.aof seq 1 type i\n"
	if err := os.WriteFile(filepath.Join(aofDir, "appendonlydir", "appendonly.aof.manifest"), []byte(manifest), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("| server | load seconds | keys |")
	fmt.Println("|---|---|---|")
	var secs []float64
	for _, name := range []string{"redis", "spinel"} {
		d := filepath.Join(dir, "aof-"+name)
		if err := exec.Command("cp", "-r", aofDir, d).Run(); err != nil {
			log.Fatal(err)
		}
		args := []string{"--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--dir", d}
		began := time.Now()
		var srv *server
		if name == "redis" {
			srv = start(d, "redis", "redis-server", append([]string{"--save", ""}, args...))
		} else {
			srv = start(d, "spinel", bin, args)
		}
		c := dial(srv.port)
		for infoField(c, "persistence", "loading") != 0 {
			time.Sleep(5 * time.Millisecond)
		}
		el := time.Since(began).Seconds()
		secs = append(secs, el)
		fmt.Printf("| %s | %.2f | %s |\n", name, el, c.do("DBSIZE"))
		srv.stop()
	}
	fmt.Printf("\nratio spinel/redis load time: %.2f (lower is better)\n", secs[1]/secs[0])
}

// rewriteMode measures what an AOF rewrite costs the executor: on a
// 1,000,000-key dataset under GET/SET load, the longest PING round trip
// (executor stall) and the p99 latency with and without a rewrite running,
// and the RSS growth during it.
func rewriteMode(dir, bin string) {
	const keys = 1000000
	aofArg := "yes"
	if os.Getenv("BENCH_NOAOF") != "" {
		aofArg = "no"
	}
	srv := start(filepath.Join(dir), "spinel", bin, []string{"--appendonly", aofArg, "--appendfsync", "everysec"})
	defer srv.stop()
	c := dial(srv.port)
	c.load(keys, func(i int) []string { return []string{"SET", fmt.Sprintf("key:%07d", i), "0123456789abcdef"} })
	time.Sleep(time.Second)
	measure := func(rewrite bool) (p99 string, maxPing time.Duration, peakRSS int64, rewriteSecs float64) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // probe: one PING every millisecond, keep the slowest
			defer wg.Done()
			pc := dial(srv.port)
			for iter := 0; ; iter++ {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				pc.do("PING")
				if d := time.Since(t0); d > maxPing {
					maxPing = d
					if d > 50*time.Millisecond && os.Getenv("BENCH_DEBUG") != "" {
						log.Printf("slow PING %v at %v (probe iteration %d)", d, t0.Format("15:04:05.000"), iter)
					}
				}
				peakRSS = max(peakRSS, rss(srv.cmd.Process.Pid))
				time.Sleep(time.Millisecond)
			}
		}()
		var began time.Time
		if rewrite {
			began = time.Now()
			c.do("BGREWRITEAOF")
		}
		out, err := exec.Command("redis-benchmark", "-p", strconv.Itoa(srv.port), "-t", "get,set", "-n", "400000",
			"-r", strconv.Itoa(keys), "-c", "50", "--csv").Output()
		if err != nil {
			log.Fatal(err)
		}
		if rewrite {
			for infoField(c, "persistence", "aof_rewrite_in_progress") != 0 {
				time.Sleep(10 * time.Millisecond)
			}
			rewriteSecs = time.Since(began).Seconds()
		}
		close(stop)
		wg.Wait()
		var p99s []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
			f := strings.Split(strings.ReplaceAll(line, "\"", ""), ",")
			p99s = append(p99s, f[0]+" "+f[6])
		}
		return strings.Join(p99s, ", "), maxPing, peakRSS, rewriteSecs
	}
	base := rss(srv.cmd.Process.Pid)
	p99a, pingA, rssA, _ := measure(false)
	p99b, pingB, rssB, secs := measure(true)
	fmt.Printf("AOF rewrite of %d keys under redis-benchmark GET/SET load (-c 50)\n\n", keys)
	fmt.Println("| | p99 ms (GET, SET) | longest PING | peak RSS MB |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| without rewrite | %s | %v | %d |\n", p99a, pingA.Round(time.Microsecond), rssA>>20)
	fmt.Printf("| during rewrite (%.1fs) | %s | %v | %d |\n", secs, p99b, pingB.Round(time.Microsecond), rssB>>20)
	fmt.Printf("\nRSS before the runs: %d MB; extra during rewrite: %.0f%% of it\n", base>>20, float64(rssB-max(rssA, base))*100/float64(base))
}
