package difftest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"spinel/eventloop/spineltest"
)

// newGoRedis returns a go-redis v9 client; protocol 3 makes it open with
// HELLO 3, as it does by default.
func newGoRedis(t *testing.T, addr string, protocol int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: protocol, DialTimeout: 5 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestGoRedisRoundTrip drives Spinel with the real go-redis v9 client in both
// protocols: typed results must come back as the client expects them.
func TestGoRedisRoundTrip(t *testing.T) {
	srv := spineltest.Start(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			c := newGoRedis(t, srv.Addr, proto)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(c.FlushAll(ctx).Err())
			if got := c.Ping(ctx).Val(); got != "PONG" {
				t.Fatalf("PING = %q", got)
			}
			must(c.Set(ctx, "k", "v", 0).Err())
			if got := c.Get(ctx, "k").Val(); got != "v" {
				t.Fatalf("GET = %q", got)
			}
			if _, err := c.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET missing: err = %v; want redis.Nil", err)
			}
			must(c.Set(ctx, "session", `{"user":1}`, time.Hour).Err())
			if ttl := c.TTL(ctx, "session").Val(); ttl < 59*time.Minute || ttl > time.Hour {
				t.Fatalf("TTL = %v", ttl)
			}
			if n := c.Incr(ctx, "counter").Val(); n != 1 {
				t.Fatalf("INCR = %d", n)
			}
			if f := c.IncrByFloat(ctx, "f", 1.5).Val(); f != 1.5 {
				t.Fatalf("INCRBYFLOAT = %v", f)
			}
			vals := c.MGet(ctx, "k", "missing", "counter").Val()
			if len(vals) != 3 || vals[0] != "v" || vals[1] != nil || vals[2] != "1" {
				t.Fatalf("MGET = %#v", vals)
			}
			if _, err := c.Incr(ctx, "k").Result(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
				t.Fatalf("INCR on string: %v", err)
			}
			info := c.Info(ctx, "server").Val()
			if len(info) == 0 {
				t.Fatal("empty INFO")
			}
			cfg := c.ConfigGet(ctx, "maxmemory").Val()
			if cfg["maxmemory"] != "0" {
				t.Fatalf("CONFIG GET = %v", cfg)
			}
			// A pipeline: replies for the whole batch come back in order.
			pipe := c.Pipeline()
			var cmds []*redis.IntCmd
			for i := 0; i < 100; i++ {
				cmds = append(cmds, pipe.Incr(ctx, "pipe"))
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for i, cmd := range cmds {
				if cmd.Val() != int64(i+1) {
					t.Fatalf("pipelined INCR %d = %d", i, cmd.Val())
				}
			}
			keys, cursor, err := c.Scan(ctx, 0, "*", 100).Result()
			if err != nil || cursor != 0 || len(keys) != 5 {
				t.Fatalf("SCAN = %v %d %v", keys, cursor, err)
			}
		})
	}
}

// TestGoRedisConcurrentClients runs many goroutines with their own
// connections against the single executor.
func TestGoRedisConcurrentClients(t *testing.T) {
	srv := spineltest.Start(t)
	ctx := context.Background()
	c := newGoRedis(t, srv.Addr, 3)
	const workers, each = 20, 200
	inParallel(t, workers, func(w int) error {
		for i := 0; i < each; i++ {
			if err := c.Incr(ctx, "shared").Err(); err != nil {
				return err
			}
			if err := c.Set(ctx, fmt.Sprintf("w%d", w), i, 0).Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if got := c.Get(ctx, "shared").Val(); got != fmt.Sprint(workers*each) {
		t.Fatalf("shared = %s; want %d", got, workers*each)
	}
}

// inParallel runs fn(0), ..., fn(n-1) on n goroutines and fails t with the
// errors they return.
func inParallel(t *testing.T, n int, fn func(w int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			if err := fn(w); err != nil {
				errs <- err
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
