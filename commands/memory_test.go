package commands

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
)

// liveHeap returns the heap's live bytes after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestUsedMemoryCalibration checks that used_memory tracks what the dataset
// really costs in the Go heap: for each kind of data, the growth of
// used_memory is within 25% of the growth of the live heap.
func TestUsedMemoryCalibration(t *testing.T) {
	cases := []struct {
		name string
		fill func(s *Server, c *Client)
	}{
		{"strings", func(s *Server, c *Client) {
			for i := 0; i < 100000; i++ {
				run(s, c, "SET", fmt.Sprint("key:", i), "0123456789abcdef")
			}
		}},
		{"strings-with-ttl", func(s *Server, c *Client) {
			for i := 0; i < 100000; i++ {
				run(s, c, "SET", fmt.Sprint("key:", i), "0123456789abcdef", "EX", "1000")
			}
		}},
		{"big-strings", func(s *Server, c *Client) {
			v := string(make([]byte, 4000))
			for i := 0; i < 5000; i++ {
				run(s, c, "SET", fmt.Sprint("key:", i), v)
			}
		}},
		{"hashes", func(s *Server, c *Client) {
			for i := 0; i < 200; i++ {
				for f := 0; f < 500; f++ {
					run(s, c, "HSET", fmt.Sprint("h:", i), fmt.Sprint("field:", f), "value-of-the-field")
				}
			}
		}},
		{"small-hashes", func(s *Server, c *Client) {
			for i := 0; i < 20000; i++ {
				run(s, c, "HSET", fmt.Sprint("h:", i), "a", "1", "b", "2", "c", "3")
			}
		}},
		{"lists", func(s *Server, c *Client) {
			for i := 0; i < 100; i++ {
				for e := 0; e < 1000; e++ {
					run(s, c, "RPUSH", fmt.Sprint("l:", i), fmt.Sprint("element-", e))
				}
			}
		}},
		{"sets", func(s *Server, c *Client) {
			for i := 0; i < 100; i++ {
				for e := 0; e < 1000; e++ {
					run(s, c, "SADD", fmt.Sprint("s:", i), fmt.Sprint("member-", e))
				}
			}
		}},
		{"zsets", func(s *Server, c *Client) {
			for i := 0; i < 100; i++ {
				for e := 0; e < 1000; e++ {
					run(s, c, "ZADD", fmt.Sprint("z:", i), fmt.Sprint(e), fmt.Sprint("member-", e))
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t)
			c := s.NewClient(&nullConn{})
			heap0, used0 := liveHeap(), s.usedMemory()
			tc.fill(s, c)
			heap1, used1 := liveHeap(), s.usedMemory()
			dHeap, dUsed := heap1-heap0, used1-used0
			ratio := float64(dUsed) / float64(dHeap)
			t.Logf("heap grew %d, used_memory grew %d: ratio %.2f", dHeap, dUsed, ratio)
			if ratio < 0.75 || ratio > 1.25 {
				t.Errorf("used_memory growth is %.2fx the heap growth; want within 25%%", ratio)
			}
			runtime.KeepAlive(s)
		})
	}
}
