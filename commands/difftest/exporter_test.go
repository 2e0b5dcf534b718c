package difftest

import (
	"bufio"
	"context"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// scrape runs the real Prometheus redis_exporter (Debian's
// prometheus-redis-exporter, installed by make test) against addr and
// returns the metric families it exports and the value of its scrape error
// gauge.
func scrape(t *testing.T, addr string) (map[string]bool, string) {
	t.Helper()
	bin, err := exec.LookPath("prometheus-redis-exporter")
	if err != nil {
		t.Fatalf("prometheus-redis-exporter not installed: run `make test`, which installs it (%v)", err)
	}
	port := servertest.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-redis.addr", "redis://"+addr,
		"-web.listen-address", "127.0.0.1:"+strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/metrics"
	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Get(url); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("scraping %s: %v", url, err)
	}
	defer resp.Body.Close()
	families := map[string]bool{}
	scrapeErr := ""
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		families[name] = true
		if name == "redis_exporter_last_scrape_error" || name == "redis_up" {
			scrapeErr += line + "\n"
		}
	}
	return families, scrapeErr
}

// TestRedisExporter: every metric family the exporter exports for real
// Redis is exported for Spinel too, and the scrape has no error.
func TestRedisExporter(t *testing.T) {
	redisSrv := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	for _, addr := range []string{redisSrv.Addr, spinel.Addr} {
		c := servertest.Dial(t, addr)
		c.Do("SET", "k", "v", "EX", "100")
		c.Do("RPUSH", "l", "a")
		c.Do("GET", "k")
		c.Do("NOSUCHCOMMAND") // an error, for the errorstats families
		c.Do("INCR", "k")
	}
	want, _ := scrape(t, redisSrv.Addr)
	got, status := scrape(t, spinel.Addr)
	if !strings.Contains(status, "redis_up 1") || !strings.Contains(status, `redis_exporter_last_scrape_error{err=""} 0`) {
		t.Fatalf("scrape of Spinel failed:\n%s", status)
	}
	var missing []string
	for f := range want {
		if !got[f] {
			missing = append(missing, f)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("%d metric families exported for Redis are missing for Spinel: %v", len(missing), missing)
	}
	t.Logf("%d metric families, all present", len(want))
}
