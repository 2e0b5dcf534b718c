package difftest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"spinel/eventloop/servertest"
	"spinel/eventloop/spineltest"
)

// TestWatchIncrements is the optimistic-locking pattern of go-redis and
// redis-py: N goroutines each do WATCH/GET/MULTI/SET/EXEC increments and
// retry on conflict. The final value must equal the number of successful
// EXECs exactly, and conflicts must have happened (or the test proved
// nothing).
func TestWatchIncrements(t *testing.T) {
	srv := spineltest.Start(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 32})
	defer c.Close()
	const workers, each = 8, 1000
	var commits, conflicts atomic.Int64
	incr := func(tx *redis.Tx) error {
		n, err := tx.Get(ctx, "counter").Int()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "counter", n+1, time.Hour)
			return nil
		})
		return err
	}
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				err := c.Watch(ctx, incr, "counter")
				switch {
				case err == nil:
					commits.Add(1)
					done++
				case errors.Is(err, redis.TxFailedErr):
					conflicts.Add(1)
				default:
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "counter").Int64()
	if err != nil {
		t.Fatal(err)
	}
	if got != commits.Load() || got != workers*each {
		t.Fatalf("counter = %d, successful EXECs = %d, want both %d", got, commits.Load(), workers*each)
	}
	if conflicts.Load() == 0 {
		t.Fatal("no WATCH conflict happened: the test did not exercise optimistic locking")
	}
	t.Logf("%d commits, %d conflicts", commits.Load(), conflicts.Load())
	if ttl := c.TTL(ctx, "counter").Val(); ttl <= 0 {
		t.Fatalf("TTL after SETEX-style update = %v", ttl)
	}
}

// TestExecAtomic checks that no other client's command runs between the
// commands of an EXEC: a reader never sees the two keys out of step.
func TestExecAtomic(t *testing.T) {
	srv := spineltest.Start(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 8})
	defer c.Close()
	stop := make(chan struct{})
	var bad atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			vals, err := c.MGet(ctx, "a", "b").Result()
			if err != nil {
				return
			}
			if fmt.Sprint(vals[0]) != fmt.Sprint(vals[1]) {
				bad.Add(1)
			}
		}
	}()
	for i := 0; i < 2000; i++ {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "a", i, 0)
			p.Set(ctx, "b", i, 0)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("a reader saw a half-applied transaction %d times", bad.Load())
	}
}

// keyspaceEvents subscribes to every keyspace and keyevent channel of db 0
// with go-redis, runs cmds on a second connection and returns the messages
// received as "channel message" strings.
func keyspaceEvents(t *testing.T, addr string, cmds [][]any) []string {
	t.Helper()
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
	defer c.Close()
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "notify-keyspace-events", "KEA").Err(); err != nil {
		t.Fatal(err)
	}
	sub := c.PSubscribe(ctx, "__key*@0__:*")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		if cmd[0] == "SLEEP" {
			time.Sleep(20 * time.Millisecond) // let a PX 1 key expire
			continue
		}
		_ = c.Do(ctx, cmd...).Err()
	}
	c.Do(ctx, "PUBLISH", "__keyspace@0__:END", "end")
	var got []string
	ch := sub.Channel()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-ch:
			if m.Channel == "__keyspace@0__:END" {
				return got
			}
			got = append(got, m.Channel+" "+m.Payload)
		case <-timeout:
			t.Fatalf("no END marker; got %q", got)
		}
	}
}

// TestKeyspaceNotifications compares the events Spinel and Redis publish for
// a sample of commands of every type.
func TestKeyspaceNotifications(t *testing.T) {
	redisSrv := servertest.StartRedis(t)
	spinel := spineltest.Start(t)
	cmds := [][]any{
		{"SET", "s", "1"}, {"INCR", "s"}, {"INCRBYFLOAT", "s", "1.5"}, {"APPEND", "s", "x"},
		{"SETRANGE", "s", "0", "y"}, {"EXPIRE", "s", "100"}, {"PERSIST", "s"},
		{"RENAME", "s", "s2"}, {"COPY", "s2", "s3"}, {"MOVE", "s3", "1"}, {"DEL", "s2"},
		{"SET", "e", "1", "PX", "1"}, {"SLEEP"}, {"GET", "e"}, {"GETDEL", "nothing"}, {"MSET", "m1", "1", "m2", "2"},
		{"GETEX", "m1", "EX", "100"}, {"GETDEL", "m1"}, {"SET", "m2", "x", "KEEPTTL"},
	}
	typed := [][]any{
		{"HSET", "h", "f", "1", "g", "2"}, {"HINCRBY", "h", "f", "2"}, {"HDEL", "h", "f", "g"},
		{"LPUSH", "l", "a", "b"}, {"RPOP", "l"}, {"LSET", "l", "0", "z"}, {"LINSERT", "l", "BEFORE", "z", "y"},
		{"LTRIM", "l", "0", "0"}, {"LMOVE", "l", "l2", "LEFT", "RIGHT"},
		{"SADD", "st", "a", "b"}, {"SREM", "st", "a"}, {"SPOP", "st"}, {"SADD", "st2", "x"}, {"SINTERSTORE", "dst", "st2"},
		{"ZADD", "z", "1", "a", "2", "b"}, {"ZINCRBY", "z", "1", "a"}, {"ZREM", "z", "a"}, {"ZPOPMIN", "z"},
		{"XADD", "x", "1-1", "f", "v"}, {"XTRIM", "x", "MAXLEN", "0"}, {"XGROUP", "CREATE", "x", "g", "$"},
	}
	cmds = append(cmds, typed...)
	want := keyspaceEvents(t, redisSrv.Addr, cmds)
	got := keyspaceEvents(t, spinel.Addr, cmds)
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("events differ\n redis:  %q\n spinel: %q", want, got)
	}
	if len(want) < 20 {
		t.Fatalf("only %d events: the sample is too small to mean anything", len(want))
	}
}
