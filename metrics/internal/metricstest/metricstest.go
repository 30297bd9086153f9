// Package metricstest holds what the collectors' tests share: serving a
// registry and reading its page back, checking expected series, and
// running the client library's metric linter.
package metricstest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/ecsworld/ecsworld/metrics"
)

// Scrape serves r over HTTP on 127.0.0.1 port 0, reads the page back and
// stops the server.
func Scrape(t *testing.T, r *metrics.Registry) metrics.Families {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := r.Serve(ctx, "127.0.0.1:0", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := metrics.Scrape(ctx, nil, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := srv.Wait(); err != nil {
		t.Fatal(err)
	}
	return f
}

// Check reports an error unless the series of family name whose labels
// include labels (name, value pairs) exist and add up to want.
func Check(t *testing.T, f metrics.Families, name string, want float64, labels ...string) {
	t.Helper()
	if got, ok := f.Sum(name, labels...); !ok || got != want {
		t.Errorf("%s%v = %v (found %v), want %v", name, labels, got, ok, want)
	}
}

// Lint runs the client library's metric linter (names, units, help) over
// r's ecsworld_* metrics and reports each problem.
func Lint(t *testing.T, r *metrics.Registry) {
	t.Helper()
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, metrics.Namespace+"_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}
