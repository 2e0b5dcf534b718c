package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"spinel/eventloop/servertest"
)

// writers runs n clients that each INCR their own counter as fast as they
// can until stop closes, and records for each the last value acknowledged
// and when.
type ackLog struct {
	mu    sync.Mutex
	acked map[int]int64
	when  map[int][]ackAt
}

type ackAt struct {
	v  int64
	at time.Time
}

func runWriters(t *testing.T, addr string, n int, stop <-chan struct{}) *ackLog {
	log := &ackLog{acked: map[int]int64{}, when: map[int][]ackAt{}}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			c := dial(t, addr)
			defer c.c.Close()
			key := "counter:" + strconv.Itoa(id)
			for {
				select {
				case <-stop:
					return
				default:
				}
				reply, err := c.do("INCR", key)
				if err != nil || !strings.HasPrefix(reply, ":") {
					return // the server died under us
				}
				v, _ := strconv.ParseInt(reply[1:], 10, 64)
				log.mu.Lock()
				log.acked[id] = v
				log.when[id] = append(log.when[id], ackAt{v, time.Now()})
				log.mu.Unlock()
			}
		}(i)
	}
	go func() { <-stop; wg.Wait() }()
	return log
}

// TestKill9Always: under appendfsync always, every acknowledged write
// survives SIGKILL in the middle of a write stream.
func TestKill9Always(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "", "--appendonly", "yes", "--appendfsync", "always")
	stop := make(chan struct{})
	acks := runWriters(t, p.addr, 20, stop)
	time.Sleep(1500 * time.Millisecond)
	p.kill() // while the writers are still writing
	close(stop)
	time.Sleep(100 * time.Millisecond)
	q := start(t, dir, "", "--appendonly", "yes")
	acks.mu.Lock()
	defer acks.mu.Unlock()
	total := int64(0)
	for id, v := range acks.acked {
		reply, err := rawDo(q.addr, "GET", "counter:"+strconv.Itoa(id))
		if err != nil {
			t.Fatal(err)
		}
		got := parseBulkInt(reply)
		if got < v {
			t.Errorf("client %d: %d acknowledged, %d after restart: acknowledged writes lost", id, v, got)
		}
		if got > v+1 {
			t.Errorf("client %d: %d after restart but only %d sent", id, got, v+1)
		}
		total += v
	}
	if total < 100 {
		t.Fatalf("only %d writes acknowledged before the kill: the test proved nothing", total)
	}
	t.Logf("%d acknowledged writes, none lost", total)
}

// TestKill9Everysec: under appendfsync everysec, what is lost is at most
// the last two seconds of writes.
func TestKill9Everysec(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "", "--appendonly", "yes", "--appendfsync", "everysec")
	stop := make(chan struct{})
	acks := runWriters(t, p.addr, 10, stop)
	time.Sleep(3 * time.Second)
	killedAt := time.Now()
	p.kill()
	close(stop)
	time.Sleep(100 * time.Millisecond)
	q := start(t, dir, "", "--appendonly", "yes")
	acks.mu.Lock()
	defer acks.mu.Unlock()
	for id, hist := range acks.when {
		reply, _ := rawDo(q.addr, "GET", "counter:"+strconv.Itoa(id))
		got := parseBulkInt(reply)
		// Every value acknowledged more than 2 s before the kill is there.
		for i := len(hist) - 1; i >= 0; i-- {
			if killedAt.Sub(hist[i].at) > 2*time.Second {
				if got < hist[i].v {
					t.Errorf("client %d: value %d acknowledged %v before the kill is lost (got %d)",
						id, hist[i].v, killedAt.Sub(hist[i].at), got)
				}
				break
			}
		}
	}
}

func parseBulkInt(reply string) int64 {
	lines := strings.Split(reply, "\r\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "$") || lines[0] == "$-1" {
		return 0
	}
	v, _ := strconv.ParseInt(lines[1], 10, 64)
	return v
}

// fill writes a mixed dataset through pipelines.
func fill(t *testing.T, addr string, n int) {
	c := servertest.Dial(t, addr)
	defer c.Close()
	var raw []byte
	for i := 0; i < n; i++ {
		k := strconv.Itoa(i)
		switch i % 6 {
		case 0:
			raw = servertest.AppendCommand(raw, "SET", "s:"+k, "value-"+k)
		case 1:
			raw = servertest.AppendCommand(raw, "RPUSH", "l:"+strconv.Itoa(i%100), k)
		case 2:
			raw = servertest.AppendCommand(raw, "HSET", "h:"+strconv.Itoa(i%100), "f"+k, k)
		case 3:
			raw = servertest.AppendCommand(raw, "SADD", "set:"+strconv.Itoa(i%100), k)
		case 4:
			raw = servertest.AppendCommand(raw, "ZADD", "z:"+strconv.Itoa(i%100), k, "m"+k)
		default:
			raw = servertest.AppendCommand(raw, "SET", "e:"+k, k, "EX", "100000")
		}
		if i%1000 == 999 || i == n-1 {
			c.Send(raw)
			for j := 0; j <= i%1000; j++ {
				c.ReadReply()
			}
			raw = raw[:0]
		}
	}
	c.Do("XADD", "stream", "1-1", "a", "b")
	c.Do("XGROUP", "CREATE", "stream", "g", "0")
}

// TestKill9DuringRewrite: a crash at any moment of a rewrite leaves a
// directory that loads to the data acknowledged before it.
func TestKill9DuringRewrite(t *testing.T) {
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 30 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			dir := t.TempDir()
			p := start(t, dir, "", "--appendonly", "yes", "--appendfsync", "always")
			fill(t, p.addr, 60000)
			c := servertest.Dial(t, p.addr)
			c.Do("BGREWRITEAOF")
			// Writes during the rewrite land in the new incremental file.
			for i := 0; i < 100; i++ {
				c.Do("INCR", "during")
			}
			want := servertest.Dump(t, c)
			time.Sleep(delay)
			p.kill()
			q := start(t, dir, "", "--appendonly", "yes")
			got := servertest.Dump(t, servertest.Dial(t, q.addr))
			compareDumps(t, want, got)
		})
	}
}

func compareDumps(t *testing.T, want, got map[string]string) {
	t.Helper()
	bad := 0
	for k, v := range want {
		if got[k] != v {
			bad++
			if bad <= 5 {
				t.Errorf("key %s: want %s, got %s", k, trunc(v), trunc(got[k]))
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			bad++
			if bad <= 5 {
				t.Errorf("unexpected key %s", k)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d keys differ (of %d)", bad, len(want))
	}
}

func trunc(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// TestTruncatedTail: a half-written last command is cut off with a warning
// naming the file and offset, and loading goes on; with
// aof-load-truncated no, start-up stops instead.
func TestTruncatedTail(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "", "--appendonly", "yes")
	c := servertest.Dial(t, p.addr)
	c.Do("SET", "a", "1")
	c.Do("SET", "b", strings.Repeat("x", 1000))
	p.stop(t)
	incr := lastIncr(t, dir)
	st, _ := os.Stat(incr)
	if err := os.Truncate(incr, st.Size()-500); err != nil {
		t.Fatal(err)
	}
	q := start(t, dir, "", "--appendonly", "yes")
	if r, _ := rawDo(q.addr, "GET", "a"); r != "$1\r\n1\r\n" {
		t.Fatalf("a = %q after loading a truncated AOF", r)
	}
	if r, _ := rawDo(q.addr, "EXISTS", "b"); r != ":0\r\n" {
		t.Fatalf("the truncated command was applied: %q", r)
	}
	if !strings.Contains(q.log.String(), "truncated") || !strings.Contains(q.log.String(), "incr.aof") {
		t.Fatalf("no warning naming the file:\n%s", q.log.String())
	}
	q.stop(t)

	// Truncate again and refuse it this time.
	st, _ = os.Stat(incr)
	_ = os.Truncate(incr, st.Size()-3)
	r := startFails(t, dir, "--appendonly", "yes", "--aof-load-truncated", "no")
	if !strings.Contains(r, "incr.aof") {
		t.Fatalf("the error does not name the file:\n%s", r)
	}
}

// startFails runs spinel expecting it to stop during start-up, and returns
// its output.
func startFails(t *testing.T, dir string, args ...string) string {
	t.Helper()
	port := servertest.FreePort(t)
	cmd := execCommand(spinelBin, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("spinel started although it should not:\n%s", out)
	}
	return string(out)
}

// TestCorruptedMiddle: corruption before the tail stops start-up with an
// error naming the file and the offset; nothing is silently dropped.
func TestCorruptedMiddle(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "", "--appendonly", "yes")
	c := servertest.Dial(t, p.addr)
	for i := 0; i < 100; i++ {
		c.Do("SET", fmt.Sprint("k", i), "v")
	}
	p.stop(t)
	incr := lastIncr(t, dir)
	data, _ := os.ReadFile(incr)
	mid := len(data) / 2
	for data[mid] != '*' {
		mid++
	}
	data[mid] = '!'
	if err := os.WriteFile(incr, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := startFails(t, dir, "--appendonly", "yes")
	if !strings.Contains(out, "incr.aof") || !strings.Contains(out, strconv.Itoa(mid)) {
		t.Fatalf("the error does not name the file and offset %d:\n%s", mid, out)
	}
}

// TestDiskFull: when the AOF cannot be written (file size limit reached),
// the write that failed is not acknowledged until it is on disk, other
// writes are refused with -MISCONF, reads go on, and once the disk takes data
// again everything resumes; nothing acknowledged is lost.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	// 200 KB of file size allowed (bash counts 1024-byte blocks).
	p := start(t, dir, "ulimit -S -f 200", "--appendonly", "yes", "--appendfsync", "always")
	writer := dial(t, p.addr)
	acked := 0
	pending := make(chan string, 1)
	for i := 0; ; i++ {
		if i == 10000 {
			t.Fatal("the file size limit was never hit")
		}
		if _, err := writer.c.Write(servertest.AppendCommand(nil, "SET", fmt.Sprint("key:", i), strings.Repeat("v", 100))); err != nil {
			t.Fatal(err)
		}
		_ = writer.c.SetReadDeadline(time.Now().Add(2 * time.Second))
		line, err := writer.r.ReadString('\n')
		if err != nil {
			// No reply: this write could not be made durable. It stays
			// unacknowledged until the disk recovers.
			go func() {
				_ = writer.c.SetReadDeadline(time.Now().Add(30 * time.Second))
				l, _ := writer.r.ReadString('\n')
				pending <- strings.TrimSpace(l)
			}()
			break
		}
		if strings.TrimSpace(line) != "+OK" {
			t.Fatalf("unexpected reply %q", line)
		}
		acked++
	}
	other := dial(t, p.addr)
	if r, _ := other.do("SET", "x", "1"); !strings.HasPrefix(r, "-MISCONF Errors writing to the AOF file:") {
		t.Fatalf("write while the disk is full: %q", r)
	}
	if r, _ := other.do("GET", "key:0"); !strings.HasPrefix(r, "$100") {
		t.Fatalf("reads fail while the disk is full: %q", r)
	}
	if r, _ := other.do("INFO", "persistence"); r == "" {
		t.Fatal("INFO failed")
	}
	// The disk recovers: lift the limit on the running process.
	if out, err := execCommand("prlimit", "--pid", strconv.Itoa(p.cmd.Process.Pid), "--fsize=unlimited").CombinedOutput(); err != nil {
		t.Fatalf("prlimit: %v %s", err, out)
	}
	if r := <-pending; r != "+OK" {
		t.Fatalf("the held write got %q after the disk recovered", r)
	}
	acked++
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := other.do("SET", "after", "1")
		if r == "+OK" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes still refused after the disk recovered: %q", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.kill()
	q := start(t, dir, "", "--appendonly", "yes")
	for i := 0; i < acked; i++ {
		if r, _ := rawDo(q.addr, "EXISTS", fmt.Sprint("key:", i)); r != ":1\r\n" {
			t.Fatalf("acknowledged key:%d lost (%d acknowledged)", i, acked)
		}
	}
	if r, _ := rawDo(q.addr, "GET", "after"); r != "$1\r\n1\r\n" {
		t.Fatalf("write after recovery lost: %q", r)
	}
}

// TestRandomWorkloadRestart: a random workload over every data type, then a
// clean restart and a crash restart, must give the same dataset.
func TestRandomWorkloadRestart(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir, "", "--appendonly", "yes", "--appendfsync", "always")
	c := servertest.Dial(t, p.addr)
	r := rand.New(rand.NewPCG(42, 7))
	workload(t, c, r, 5000)
	c.Do("BGREWRITEAOF")
	workload(t, c, r, 3000)
	want := servertest.Dump(t, c)
	p.stop(t)
	q := start(t, dir, "", "--appendonly", "yes", "--appendfsync", "always")
	compareDumps(t, want, servertest.Dump(t, servertest.Dial(t, q.addr)))
	qc := servertest.Dial(t, q.addr)
	workload(t, qc, r, 2000)
	want = servertest.Dump(t, qc)
	q.kill()
	z := start(t, dir, "", "--appendonly", "yes")
	compareDumps(t, want, servertest.Dump(t, servertest.Dial(t, z.addr)))
}

// workload sends n random commands of every type over a small key space.
func workload(t *testing.T, c *servertest.RawConn, r *rand.Rand, n int) {
	key := func(p string) string { return p + strconv.Itoa(r.IntN(20)) }
	num := func() string { return strconv.Itoa(r.IntN(100)) }
	for i := 0; i < n; i++ {
		var args []string
		switch r.IntN(22) {
		case 0:
			args = []string{"SET", key("s"), num()}
		case 1:
			args = []string{"INCRBY", key("s"), num()}
		case 2:
			args = []string{"APPEND", key("s"), "x"}
		case 3:
			args = []string{"SET", key("s"), num(), "EX", "100000"}
		case 4:
			args = []string{"LPUSH", key("l"), num(), num()}
		case 5:
			args = []string{"RPOP", key("l")}
		case 6:
			args = []string{"LSET", key("l"), "0", num()}
		case 7:
			args = []string{"HSET", key("h"), num(), num()}
		case 8:
			args = []string{"HDEL", key("h"), num()}
		case 9:
			args = []string{"HINCRBYFLOAT", key("h"), num(), "1.5"}
		case 10:
			args = []string{"SADD", key("set"), num(), "m" + num()}
		case 11:
			args = []string{"SPOP", key("set")}
		case 12:
			args = []string{"ZADD", key("z"), num(), "m" + num()}
		case 13:
			args = []string{"ZINCRBY", key("z"), "2.5", "m" + num()}
		case 14:
			args = []string{"ZPOPMIN", key("z")}
		case 15:
			args = []string{"XADD", key("x"), "*", "f", num()}
		case 16:
			args = []string{"XTRIM", key("x"), "MAXLEN", "5"}
		case 17:
			args = []string{"DEL", key("s")}
		case 18:
			args = []string{"EXPIRE", key("h"), "100000"}
		case 19:
			args = []string{"RENAME", key("l"), key("l")}
		case 20:
			args = []string{"SELECT", strconv.Itoa(r.IntN(3))}
		default:
			args = []string{"INCRBYFLOAT", key("f"), "0.1"}
		}
		c.Do(args...)
	}
	c.Do("SELECT", "0")
}
