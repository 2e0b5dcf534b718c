package e2e

import (
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"spinel/eventloop/servertest"
)

// TestSpinelAOFLoadsInRedis: a directory written by Spinel (after a rewrite
// and more writes) loads in real redis-server to the same dataset.
func TestSpinelAOFLoadsInRedis(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "", "--appendonly", "yes")
	c := servertest.Dial(t, p.addr)
	r := rand.New(rand.NewPCG(3, 4))
	workload(t, c, r, 3000)
	c.Do("BGREWRITEAOF")
	workload(t, c, r, 2000)
	want := servertest.Dump(t, c)
	p.stop(t)
	redis := servertest.StartRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--dir", dir)
	got := servertest.Dump(t, servertest.Dial(t, redis.Addr))
	compareDumps(t, want, got)
}

// TestRedisAOFLoadsInSpinel: a directory written by real Redis with
// aof-use-rdb-preamble no loads in Spinel to the same dataset.
func TestRedisAOFLoadsInSpinel(t *testing.T) {
	redis := servertest.StartRedis(t, "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
	c := servertest.Dial(t, redis.Addr)
	r := rand.New(rand.NewPCG(5, 6))
	workload(t, c, r, 3000)
	c.Do("BGREWRITEAOF")
	waitRewrite(t, c)
	workload(t, c, r, 2000)
	want := servertest.Dump(t, c)
	redis.Stop() // SIGTERM: Redis flushes and fsyncs the AOF
	c.Close()
	waitExit(t, redis.Addr)
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-r", redis.Dir+"/appendonlydir", dir+"/").CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	p := start(t, dir, "", "--appendonly", "yes")
	compareDumps(t, want, servertest.Dump(t, servertest.Dial(t, p.addr)))
}

func waitRewrite(t *testing.T, c *servertest.RawConn) {
	for i := 0; i < 500; i++ {
		info := string(c.Do("INFO", "persistence"))
		if !contains(info, "aof_rewrite_in_progress:1") && !contains(info, "aof_rewrite_scheduled:1") {
			return
		}
		sleepMs(10)
	}
	t.Fatal("rewrite did not finish")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func sleepMs(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }

// waitExit waits until nothing listens on addr any more.
func waitExit(t *testing.T, addr string) {
	for i := 0; i < 500; i++ {
		if _, err := rawDo(addr, "PING"); err != nil {
			return
		}
		sleepMs(10)
	}
	t.Fatal("redis-server did not exit")
}
