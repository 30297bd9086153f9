package systems

import (
	"slices"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ring is a fixed window of recent durations with a running sum, so
// recording is O(1) and allocation-free; percentiles are computed on demand.
type ring struct {
	buf  []time.Duration
	pos  int // next write
	n    int // samples held (<= len(buf))
	sum  time.Duration
	last time.Duration
}

func newRing(size int) ring { return ring{buf: make([]time.Duration, size)} }

func (r *ring) add(d time.Duration) {
	if r.n == len(r.buf) {
		r.sum -= r.buf[r.pos]
	} else {
		r.n++
	}
	r.buf[r.pos] = d
	r.sum += d
	r.last = d
	r.pos++
	if r.pos == len(r.buf) {
		r.pos = 0
	}
}

// summary returns the last sample, the mean and the 99th percentile
// (nearest rank) of the window. scratch is reused and returned.
func (r *ring) summary(scratch []time.Duration) (last, mean, p99 time.Duration, _ []time.Duration) {
	if r.n == 0 {
		return 0, 0, 0, scratch
	}
	scratch = append(scratch[:0], r.buf[:r.n]...)
	slices.Sort(scratch)
	// Nearest rank: the smallest value with at least 99% of samples <= it.
	rank := (99*r.n + 99) / 100 // ceil(0.99 n)
	return r.last, r.sum / time.Duration(r.n), scratch[rank-1], scratch
}

// Sampling of repeated log lines: the first logFirst lines per message and
// second, then one in logThereafter.
const (
	logFirst      = 5
	logThereafter = 100
)

// sampled wraps log in a sampler so a failure repeated every tick (a bad
// timer, a client spamming a bad RPC) cannot flood the log. Nil gives a
// no-op logger.
func sampled(log *zap.Logger) *zap.Logger {
	if log == nil {
		return zap.NewNop()
	}
	return log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, time.Second, logFirst, logThereafter)
	}))
}
