// Command bench measures Spinel against real Redis side by side: it starts
// both on free ports and runs redis-benchmark against each in alternation,
// several rounds, and prints the medians of requests/s, p50 and p99 with the
// Spinel/Redis ratio. Machines are shared and noisy: read the ratios, not the
// absolute numbers.
//
//	go run ./bench [-tests set,get] [-pipelines 1,16] [-n 200000] [-rounds 3]
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	testsFlag = flag.String("tests", "set,get,incr,ping_mbulk,mset", "redis-benchmark tests (-t)")
	pipes     = flag.String("pipelines", "1,16", "pipeline depths (-P)")
	requests  = flag.Int("n", 200000, "requests per run (-n)")
	clients   = flag.Int("c", 50, "parallel connections (-c)")
	rounds    = flag.Int("rounds", 3, "alternating rounds; medians are reported")
	spinelBin = flag.String("spinel", "", "spinel binary (default: build one)")
	extra     = flag.String("args", "", "extra arguments for both servers")
	mode      = flag.String("mode", "throughput", "throughput | memory | flood | gclatency | aofload | rewrite | eval")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	for _, tool := range []string{"redis-server", "redis-benchmark"} {
		if _, err := exec.LookPath(tool); err != nil {
			log.Fatalf("%s not found: run `make test` (or apt-get install redis-server redis-tools)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "spinel-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := *spinelBin
	if bin == "" {
		bin = filepath.Join(dir, "spinel")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			log.Fatalf("build spinel: %v", err)
		}
	}
	extraArgs := strings.Fields(*extra)
	switch *mode {
	case "memory":
		memoryMode(dir, bin, extraArgs)
		return
	case "flood":
		floodMode(dir, bin, extraArgs)
		return
	case "gclatency":
		gcLatencyMode(dir, bin, extraArgs)
		return
	case "aofload":
		aofLoadMode(dir, bin)
		return
	case "rewrite":
		rewriteMode(dir, bin)
		return
	case "eval":
		evalMode(dir, bin, extraArgs)
		return
	}
	spinel := start(dir, "spinel", bin, extraArgs)
	defer spinel.stop()
	redis := start(dir, "redis", "redis-server", append([]string{"--save", "", "--appendonly", "no"}, extraArgs...))
	defer redis.stop()

	fmt.Printf("redis-benchmark -c %d -n %d, %d rounds alternating, medians; ratio = Spinel/Redis (rps: higher is better, latency: lower is better)\n\n",
		*clients, *requests, *rounds)
	fmt.Printf("| %-12s | %2s | %12s | %12s | %5s | %7s | %7s | %7s | %7s |\n",
		"test", "P", "redis rps", "spinel rps", "ratio", "r p50", "s p50", "r p99", "s p99")
	fmt.Println("|--------------|----|--------------|--------------|-------|---------|---------|---------|---------|")
	for _, p := range strings.Split(*pipes, ",") {
		for _, test := range strings.Split(*testsFlag, ",") {
			var rs, ss []result
			for i := 0; i < *rounds; i++ {
				rs = append(rs, runBench(redis.port, test, p))
				ss = append(ss, runBench(spinel.port, test, p))
			}
			r, s := median(rs), median(ss)
			fmt.Printf("| %-12s | %2s | %12.0f | %12.0f | %5.2f | %7.3f | %7.3f | %7.3f | %7.3f |\n",
				test, p, r.rps, s.rps, s.rps/r.rps, r.p50, s.p50, r.p99, s.p99)
		}
	}
}

type server struct {
	cmd  *exec.Cmd
	port int
}

func start(dir, name, bin string, args []string) *server {
	port := freePort()
	full := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1"}, args...)
	if !hasArg(args, "--dir") {
		full = append(full, "--dir", dir)
	}
	cmd := exec.Command(bin, full...)
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		log.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		log.Fatalf("start %s: %v", name, err)
	}
	s := &server{cmd: cmd, port: port}
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	log.Fatalf("%s did not start", name)
	return nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type result struct{ rps, p50, p99 float64 }

// runBench runs one redis-benchmark test and parses its CSV line.
func runBench(port int, test, pipeline string) result {
	args := []string{"-p", strconv.Itoa(port), "-n", strconv.Itoa(*requests),
		"-c", strconv.Itoa(*clients), "-P", pipeline, "--csv"}
	switch test {
	case "xadd":
		// redis-benchmark 7.0 has no -t xadd (7.2 added it): the same
		// command as 7.2's test, given explicitly.
		args = append(args, "XADD", "mystream", "*", "myfield", "myvalue")
	case "lrange_100", "lrange_300", "lrange_600":
		args = append(args, "-t", test, "-r", "1000")
	default:
		args = append(args, "-t", test)
	}
	out, err := exec.Command("redis-benchmark", args...).Output()
	if err != nil {
		log.Fatalf("redis-benchmark %v: %v", args, err)
	}
	r := csv.NewReader(strings.NewReader(string(out)))
	var rows [][]string
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatalf("parse %q: %v", out, err)
		}
		rows = append(rows, row)
	}
	// Pick the row of this test: LRANGE runs print an LPUSH row first.
	row := -1
	for i, r := range rows[1:] {
		name := strings.ToLower(strings.Fields(r[0])[0])
		if strings.HasPrefix(strings.ToLower(strings.ReplaceAll(r[0], " ", "_")), strings.ToLower(test)) || name == strings.ToLower(test) {
			row = i + 1
		}
	}
	if row < 0 {
		row = len(rows) - 1
	}
	if len(rows[row]) < 7 {
		log.Fatalf("unexpected redis-benchmark output: %q", out)
	}
	f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	return result{rps: f(rows[row][1]), p50: f(rows[row][4]), p99: f(rows[row][6])}
}

func median(rs []result) result {
	pick := func(get func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return result{
		rps: pick(func(r result) float64 { return r.rps }),
		p50: pick(func(r result) float64 { return r.p50 }),
		p99: pick(func(r result) float64 { return r.p99 }),
	}
}

func hasArg(args []string, name string) bool {
	for _, a := range args {
		if a == name {
			return true
		}
	}
	return false
}

// startRedis starts real Redis with the bench's defaults plus args.
func startRedis(dir string, args []string) *server {
	return start(dir, "redis", "redis-server", append([]string{"--save", "", "--appendonly", "no"}, args...))
}
