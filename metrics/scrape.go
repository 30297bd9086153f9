package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// MaxScrapeBytes bounds a scraped page: a process's page is tens of
// kilobytes, and whatever answers on a metrics address is not trusted.
const MaxScrapeBytes = 8 << 20

// Families is a scraped page, by metric name.
type Families map[string]*dto.MetricFamily

// Scrape reads a /metrics page in the text format (what `ecsworld status`
// and tests use). url is the page's full URL.
func Scrape(ctx context.Context, client *http.Client, url string) (Families, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics: scrape: %w", err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics: scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: scrape %s: %s", url, resp.Status)
	}
	body := io.LimitReader(resp.Body, MaxScrapeBytes+1)
	return ParseText(body)
}

// ParseText reads the text exposition format, bounded by MaxScrapeBytes.
func ParseText(r io.Reader) (Families, error) {
	lr := &io.LimitedReader{R: r, N: MaxScrapeBytes + 1}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(lr)
	if lr.N <= 0 {
		return nil, errors.New("metrics: page larger than MaxScrapeBytes")
	}
	if err != nil {
		return nil, fmt.Errorf("metrics: parse: %w", err)
	}
	return Families(fams), nil
}

// Sum adds the values of every series of a counter, gauge or untyped
// family whose labels include match (name, value pairs). ok is false when
// no series matched.
func (f Families) Sum(name string, match ...string) (sum float64, ok bool) {
	mf := f[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, match) {
			continue
		}
		switch {
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		default:
			continue
		}
		ok = true
	}
	return sum, ok
}

func hasLabels(m *dto.Metric, match []string) bool {
	for i := 0; i+1 < len(match); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == match[i] && lp.GetValue() == match[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
