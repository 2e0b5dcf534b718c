package main

import (
	"encoding/csv"
	"fmt"
	"log"
	"os/exec"
	"strconv"
	"strings"
)

// evalScript is the one-call script redis-benchmark sends with EVAL.
const evalScript = "return redis.call('incr', KEYS[1])"

// evalLibrary is the same call as a Redis 7 function, for FCALL.
const evalLibrary = "#!lua name=benchlib\nredis.register_function('bincr', function(keys, args) return redis.call('incr', keys[1]) end)"

// evalMode (-mode eval) measures scripting: EVAL of a one-call script,
// EVALSHA of the same script and FCALL of the same function, sent by
// redis-benchmark in its "command" form against Spinel and Redis in
// alternating rounds, at each pipeline depth, with the Spinel/Redis ratio
// of the medians.
func evalMode(dir, bin string, args []string) {
	spinel := start(dir, "spinel", bin, args)
	defer spinel.stop()
	redis := startRedis(dir, args)
	defer redis.stop()
	var sha string
	for _, srv := range []*server{spinel, redis} {
		c := dial(srv.port)
		sha = c.do("SCRIPT", "LOAD", evalScript)
		if r := c.do("FUNCTION", "LOAD", "REPLACE", evalLibrary); r != "benchlib" {
			log.Fatalf("FUNCTION LOAD on port %d: %q", srv.port, r)
		}
		_ = c.c.Close()
	}
	cases := []struct {
		name string
		cmd  []string
	}{
		{"eval", []string{"EVAL", evalScript, "1", "key"}},
		{"evalsha", []string{"EVALSHA", sha, "1", "key"}},
		{"fcall", []string{"FCALL", "bincr", "1", "key"}},
	}
	fmt.Printf("redis-benchmark -c %d -n %d, %d rounds alternating, medians; script: %s\n\n",
		*clients, *requests, *rounds, evalScript)
	fmt.Printf("| %-8s | %2s | %12s | %12s | %5s | %7s | %7s | %7s | %7s |\n",
		"command", "P", "redis rps", "spinel rps", "ratio", "r p50", "s p50", "r p99", "s p99")
	fmt.Println("|----------|----|--------------|--------------|-------|---------|---------|---------|---------|")
	for _, p := range strings.Split(*pipes, ",") {
		for _, tc := range cases {
			var rs, ss []result
			for i := 0; i < *rounds; i++ {
				rs = append(rs, runCommandBench(redis.port, p, tc.cmd))
				ss = append(ss, runCommandBench(spinel.port, p, tc.cmd))
			}
			r, s := median(rs), median(ss)
			fmt.Printf("| %-8s | %2s | %12.0f | %12.0f | %5.2f | %7.3f | %7.3f | %7.3f | %7.3f |\n",
				tc.name, p, r.rps, s.rps, s.rps/r.rps, r.p50, s.p50, r.p99, s.p99)
		}
	}
}

// runCommandBench runs redis-benchmark with an explicit command and parses
// its CSV line.
func runCommandBench(port int, pipeline string, cmd []string) result {
	args := append([]string{"-p", strconv.Itoa(port), "-n", strconv.Itoa(*requests),
		"-c", strconv.Itoa(*clients), "-P", pipeline, "--csv"}, cmd...)
	out, err := exec.Command("redis-benchmark", args...).Output()
	if err != nil {
		log.Fatalf("redis-benchmark %v: %v", args, err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
	if err != nil || len(rows) < 2 || len(rows[len(rows)-1]) < 7 {
		log.Fatalf("unexpected redis-benchmark output %q: %v", out, err)
	}
	row := rows[len(rows)-1]
	f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	return result{rps: f(row[1]), p50: f(row[4]), p99: f(row[6])}
}
