package metrics

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := NewRegistry("gate", 1)
	if _, err := r.Serve(ctx, "", false, nil); err == nil {
		t.Error("Serve with no address succeeded")
	}
	if _, err := r.Serve(ctx, "127.0.0.1:99999", false, nil); err == nil {
		t.Error("Serve on a bad port succeeded")
	}
	sctx, stop := context.WithCancel(ctx)
	srv, err := r.Serve(sctx, "127.0.0.1:0", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/metrics": 200, "/debug/pprof/": 200, "/debug/pprof/cmdline": 200, "/": 404} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+srv.Addr()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	stop()
	if err := srv.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := Scrape(ctx, nil, srv.URL()); err == nil {
		t.Error("scrape of a stopped server succeeded")
	}
}

func TestParseText(t *testing.T) {
	f, err := ParseText(strings.NewReader("# TYPE a gauge\na{x=\"1\"} 2\na{x=\"2\"} 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := f.Sum("a"); !ok || v != 5 {
		t.Errorf("Sum(a) = %v %v", v, ok)
	}
	if v, ok := f.Sum("a", "x", "2"); !ok || v != 3 {
		t.Errorf("Sum(a, x=2) = %v %v", v, ok)
	}
	if _, ok := f.Sum("a", "x", "3"); ok {
		t.Error("Sum matched a label value no series has")
	}
	if _, ok := f.Sum("b"); ok {
		t.Error("Sum found a missing family")
	}
	for name, page := range map[string]string{
		"garbage":   "this is { not a page",
		"too large": "# " + strings.Repeat("x", MaxScrapeBytes+10) + "\n",
	} {
		if _, err := ParseText(strings.NewReader(page)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// TestRegister checks a registered collector's metrics carry the role and
// id labels, and that a second registration of it fails naming the
// process.
func TestRegister(t *testing.T) {
	r := NewRegistry("gate", 3)
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "things_total", Help: "Things."})
	c.Add(2)
	if err := r.Register(c); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(c); err == nil || !strings.Contains(err.Error(), "gate.3") {
		t.Errorf("second Register: %v, want an error naming gate.3", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := r.Serve(ctx, "127.0.0.1:0", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Scrape(ctx, nil, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := f.Sum("ecsworld_things_total", "role", "gate", "id", "3"); !ok || v != 2 {
		t.Errorf("ecsworld_things_total{role=gate,id=3} = %v (found %v), want 2", v, ok)
	}
	if f["go_goroutines"] == nil {
		t.Error("no Go runtime metrics")
	}
	cancel()
	if err := srv.Wait(); err != nil {
		t.Fatal(err)
	}
}
