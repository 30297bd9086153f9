// Package family is what the process collectors (gamemetrics, gatemetrics,
// dispatchermetrics) share to declare their metric families and emit
// constant metrics of them at scrape time. It is internal: the metric
// names and labels are the collectors' contract, not this helper's.
package family

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecsworld/ecsworld/metrics"
	"github.com/ecsworld/ecsworld/netproto"
)

// Family is one metric name with its type and variable labels.
type Family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

// Set collects the families a collector declares, for Describe.
type Set []*Family

// Counter declares a counter named metrics.Namespace_name.
func (s *Set) Counter(name, help string, labels ...string) *Family {
	return s.add(name, help, prometheus.CounterValue, labels)
}

// Gauge declares a gauge named metrics.Namespace_name.
func (s *Set) Gauge(name, help string, labels ...string) *Family {
	return s.add(name, help, prometheus.GaugeValue, labels)
}

func (s *Set) add(name, help string, typ prometheus.ValueType, labels []string) *Family {
	f := &Family{desc: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "", name), help, labels, nil), typ: typ}
	*s = append(*s, f)
	return f
}

// Describe sends every family's description: a collector's Describe.
func (s Set) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range s {
		ch <- f.desc
	}
}

// Emit sends one sample. Label values come from names a game chose (system
// names); one that Prometheus refuses becomes an invalid metric, reported
// by the scrape, instead of a panic.
func (f *Family) Emit(ch chan<- prometheus.Metric, v float64, labelValues ...string) {
	m, err := prometheus.NewConstMetric(f.desc, f.typ, v, labelValues...)
	if err != nil {
		m = prometheus.NewInvalidMetric(f.desc, err)
	}
	ch <- m
}

// EmitReasons sends one sample per reason of a counter map, the reason
// being the last label (after prefix).
func (f *Family) EmitReasons(ch chan<- prometheus.Metric, m map[string]uint64, prefix ...string) {
	for reason, n := range m {
		f.Emit(ch, float64(n), append(prefix, reason)...)
	}
}

// Traffic is the pair of families every process counts its messages in,
// by link kind, direction and message type.
type Traffic struct{ messages, bytes *Family }

// Traffic declares the messages and bytes families.
func (s *Set) Traffic() Traffic {
	return Traffic{
		messages: s.Counter("messages_total", "Messages by link kind, direction and type.", "link", "direction", "type"),
		bytes:    s.Counter("message_bytes_total", "Bytes of messages (frame headers included) by link kind, direction and type.", "link", "direction", "type"),
	}
}

// EmitTraffic emits one direction of a link kind's traffic by message type;
// name labels a type.
func EmitTraffic[K comparable](ch chan<- prometheus.Metric, t Traffic, link, dir string,
	m map[K]netproto.Traffic, name func(K) string) {
	for k, tr := range m {
		t.messages.Emit(ch, float64(tr.Msgs), link, dir, name(k))
		t.bytes.Emit(ch, float64(tr.Bytes), link, dir, name(k))
	}
}

// TypeName labels a message type; type 0 stands for the types outside the
// catalogue that the gate and the game count together.
func TypeName(t netproto.MsgType) string {
	if t == 0 {
		return "unknown"
	}
	return t.String()
}
