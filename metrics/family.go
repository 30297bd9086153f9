package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecsworld/ecsworld/netproto"
)

// family is one metric name with its type and variable labels: the
// collectors emit constant metrics of it at scrape time.
type family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

// families collects the families a collector declares, for Describe.
type families []*family

func (fs *families) counter(name, help string, labels ...string) *family {
	return fs.add(name, help, prometheus.CounterValue, labels)
}

func (fs *families) gauge(name, help string, labels ...string) *family {
	return fs.add(name, help, prometheus.GaugeValue, labels)
}

func (fs *families) add(name, help string, typ prometheus.ValueType, labels []string) *family {
	f := &family{desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil), typ: typ}
	*fs = append(*fs, f)
	return f
}

func (fs families) describe(ch chan<- *prometheus.Desc) {
	for _, f := range fs {
		ch <- f.desc
	}
}

// emit sends one sample. Label values come from names a game chose (system
// names); one that Prometheus refuses becomes an invalid metric, reported
// by the scrape, instead of a panic.
func (f *family) emit(ch chan<- prometheus.Metric, v float64, labelValues ...string) {
	m, err := prometheus.NewConstMetric(f.desc, f.typ, v, labelValues...)
	if err != nil {
		m = prometheus.NewInvalidMetric(f.desc, err)
	}
	ch <- m
}

// emitReasons sends one sample per reason of a counter map.
func (f *family) emitReasons(ch chan<- prometheus.Metric, m map[string]uint64, prefix ...string) {
	for reason, n := range m {
		f.emit(ch, float64(n), append(prefix, reason)...)
	}
}

// traffic is the pair of families every process counts its messages in,
// by link kind, direction and message type.
type traffic struct{ messages, bytes *family }

func (fs *families) traffic() traffic {
	return traffic{
		messages: fs.counter("messages_total", "Messages by link kind, direction and type.", "link", "direction", "type"),
		bytes:    fs.counter("message_bytes_total", "Bytes of messages (frame headers included) by link kind, direction and type.", "link", "direction", "type"),
	}
}

// emitTraffic emits one direction of a link kind's traffic by message type;
// name labels a type.
func emitTraffic[K comparable](ch chan<- prometheus.Metric, t traffic, link, dir string,
	m map[K]netproto.Traffic, name func(K) string) {
	for k, tr := range m {
		t.messages.emit(ch, float64(tr.Msgs), link, dir, name(k))
		t.bytes.emit(ch, float64(tr.Bytes), link, dir, name(k))
	}
}
