package persistence

import (
	"strconv"
	"testing"
)

// BenchmarkLoad measures replay throughput (parsing and buffering, with an
// apply that does nothing) over a base of SETs of 32-byte values.
func BenchmarkLoad(b *testing.B) {
	var file []byte
	val := string(make([]byte, 32))
	for i := 0; len(file) < 32<<20; i++ {
		file = append(file, cmd("SET", "key:"+strconv.Itoa(i), val)...)
	}
	m := memAOFDir(b, "file "+b1+" seq 1 type b\nfile "+i1+" seq 1 type i\n", map[string][]byte{b1: file, i1: nil})
	a := mustOpen(b, memOpts(m))
	defer a.Close()
	apply := func([][]byte) error { return nil }
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := a.Load(apply, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppend measures the executor's side of Append and Flush.
func BenchmarkAppend(b *testing.B) {
	a := mustOpen(b, Options{Dir: b.TempDir(), Log: quietLog(), Fsync: FsyncEverysec})
	defer a.Close()
	c := cmd("SET", "key:000000001", string(make([]byte, 32)))
	b.SetBytes(int64(len(c)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a.Append(c)
		if i%16 == 0 {
			a.Flush()
		}
	}
}
