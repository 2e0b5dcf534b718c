package commands

import "testing"

func TestLatencyHistogram(t *testing.T) {
	var h latencyHistogram
	for i := 0; i < 99; i++ {
		h.record(1000) // 1 us
	}
	h.record(30000) // 30 us
	for _, tc := range []struct {
		p    float64
		want int64
	}{{50, 1003}, {99, 1003}, {100, 30079}} {
		if got := h.percentile(tc.p); got != tc.want {
			t.Errorf("p%v = %d; want %d", tc.p, got, tc.want)
		}
	}
	keys, cum := h.powerOfTwoBuckets()
	wantKeys := []int64{1, 2, 4, 8, 16, 33} // as Redis prints them
	wantCum := []int64{99, 99, 99, 99, 99, 100}
	if len(keys) != len(wantKeys) {
		t.Fatalf("keys %v cum %v; want %v %v", keys, cum, wantKeys, wantCum)
	}
	for i := range keys {
		if keys[i] != wantKeys[i] || cum[i] != wantCum[i] {
			t.Fatalf("keys %v cum %v; want %v %v", keys, cum, wantKeys, wantCum)
		}
	}
}
