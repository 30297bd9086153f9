package dispatcher

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// sampler rate-limits repetitive log lines (undeliverable messages, bad
// input) per key: the first line of a key in each period is written, with
// the number of lines suppressed since the previous one. Counters carry the
// exact numbers; logs only need to say it is happening and give an example.
type sampler struct {
	log    *zap.Logger
	period time.Duration

	mu   sync.Mutex
	keys map[string]*sampleKey
}

type sampleKey struct {
	last       time.Time
	suppressed int
}

func newSampler(log *zap.Logger, period time.Duration) *sampler {
	return &sampler{log: log, period: period, keys: make(map[string]*sampleKey)}
}

// Log writes msg at lvl unless a line with the same key was written less
// than a period ago. Keys are a small fixed set (reasons, message types).
func (s *sampler) Log(lvl zapcore.Level, key, msg string, fields ...zap.Field) {
	if !s.log.Core().Enabled(lvl) {
		return
	}
	now := time.Now()
	s.mu.Lock()
	k := s.keys[key]
	if k == nil {
		k = new(sampleKey)
		s.keys[key] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < s.period {
		k.suppressed++
		s.mu.Unlock()
		return
	}
	suppressed := k.suppressed
	k.last, k.suppressed = now, 0
	s.mu.Unlock()
	if suppressed > 0 {
		fields = append(fields, zap.Int("suppressed", suppressed))
	}
	if ce := s.log.Check(lvl, msg); ce != nil {
		ce.Write(fields...)
	}
}
