package commands

import "math/bits"

// latencyHistogram records command durations in nanoseconds with the bucket
// layout of an HdrHistogram of 2 significant figures (the one Redis keeps per
// command): each power of two is split in 128 linear sub-buckets, so a value
// is known to within 1%, and percentiles print like Redis's (1000 ns is
// reported as 1.003 us).
type latencyHistogram struct {
	counts [histExponents][histSubBuckets]uint32
	total  int64
	max    int64
}

const (
	histSubBits    = 7
	histSubBuckets = 1 << histSubBits // 128
	histExponents  = 64 - histSubBits
)

// bucketOf returns the exponent and sub-bucket of v.
func bucketOf(v int64) (int, int) {
	if v < 2*histSubBuckets {
		return 0, int(v) >> 1 & (histSubBuckets - 1) // tiny values: exponent 0 covers [0, 256)
	}
	shift := bits.Len64(uint64(v)) - histSubBits - 1
	return shift, int(v >> uint(shift) & (histSubBuckets - 1))
}

// highestEquivalent is the largest value that falls in the same bucket, as
// hdr_value_at_percentile reports.
func highestEquivalent(exp, sub int) int64 {
	if exp == 0 {
		return int64(sub<<1) + 1
	}
	lo := int64(histSubBuckets+sub) << uint(exp)
	return lo + (int64(1) << uint(exp)) - 1
}

func (h *latencyHistogram) record(ns int64) {
	if ns < 1 {
		ns = 1
	}
	e, s := bucketOf(ns)
	h.counts[e][s]++
	h.total++
	h.max = max(h.max, ns)
}

// percentile returns the value at percentile p (0..100) in nanoseconds.
func (h *latencyHistogram) percentile(p float64) int64 {
	if h.total == 0 {
		return 0
	}
	want := int64(p/100*float64(h.total) + 0.5)
	want = max(want, 1)
	var seen int64
	for e := 0; e < histExponents; e++ {
		for s := 0; s < histSubBuckets; s++ {
			seen += int64(h.counts[e][s])
			if seen >= want {
				return highestEquivalent(e, s)
			}
		}
	}
	return h.max
}

// powerOfTwoBuckets returns the cumulative counts at 1, 2, 4, ... us (the
// steps of Redis's logarithmic HdrHistogram iterator, starting at 1024 ns),
// up to the step that covers every value, as LATENCY HISTOGRAM reports them.
func (h *latencyHistogram) powerOfTwoBuckets() (keys, cumulative []int64) {
	step := int64(1024)
	stepTop := func() int64 { e, s := bucketOf(step); return highestEquivalent(e, s) }
	var seen int64
	for e := 0; e < histExponents; e++ {
		for s := 0; s < histSubBuckets; s++ {
			n := int64(h.counts[e][s])
			if n == 0 {
				continue
			}
			for highestEquivalent(e, s) > stepTop() {
				keys = append(keys, stepTop()/1000)
				cumulative = append(cumulative, seen)
				step *= 2
			}
			seen += n
		}
	}
	keys = append(keys, stepTop()/1000)
	cumulative = append(cumulative, seen)
	return keys, cumulative
}
