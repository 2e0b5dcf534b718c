package commands

import (
	"testing"
)

// BenchmarkEvalIncr measures EVAL of a one-call script through the gate
// (no network): the script cache lookup, the handoff to the script
// goroutine and back, the call and the reply conversion.
func BenchmarkEvalIncr(b *testing.B) {
	s := newTestServer(b)
	c := s.NewClient(&nullConn{})
	argv := [][]byte{[]byte("EVAL"), []byte("return redis.call('incr', KEYS[1])"), []byte("1"), []byte("key")}
	s.Execute(c, argv)
	c.out = c.out[:0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Execute(c, argv)
		c.out = c.out[:0]
	}
}
