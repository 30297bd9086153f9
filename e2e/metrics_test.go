package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsworld/ecsworld/metrics"
)

// troubleFamilies are the metric families every series of which counts
// something going wrong (with exceptions in troubleExempt).
var troubleFamilies = []string{
	"ecsworld_dropped_messages_total", "ecsworld_refused_messages_total",
	"ecsworld_client_disconnects_total", "ecsworld_handshakes_rejected_total",
	"ecsworld_error_replies_total", "ecsworld_wrong_shard_total", "ecsworld_queue_alerts_total",
	"ecsworld_call_timeouts_total", "ecsworld_boot_failures_total", "ecsworld_create_failures_total",
	"ecsworld_migration_aborts_total", "ecsworld_migration_failures_total", "ecsworld_hook_panics_total",
	"ecsworld_system_errors_total", "ecsworld_system_panics_total", "ecsworld_aoi_grid_errors_total",
	"ecsworld_rpc_calls_total", "ecsworld_timer_calls_total", "ecsworld_dial_errors_total",
}

// troubleExempt are series of those families that are not trouble.
func troubleExempt(family, labels string) bool {
	switch family {
	case "ecsworld_client_disconnects_total":
		return labels == "reason=normal" // a client that says goodbye
	case "ecsworld_rpc_calls_total", "ecsworld_timer_calls_total":
		return labels == "outcome=ok"
	}
	return false
}

// troubleKey names one series: "gate-1 ecsworld_refused_messages_total{reason=call_not_owner}".
func troubleKey(p *proc, family, labels string) string {
	return fmt.Sprintf("%s %s{%s}", p.name, family, labels)
}

// trouble scrapes every process with a metrics address (killed ones are
// skipped) and returns the non-zero trouble series by key.
func (c *cluster) trouble(ctx context.Context) map[string]float64 {
	c.t.Helper()
	out := map[string]float64{}
	c.mu.Lock()
	procs := slices.Clone(c.procs)
	c.mu.Unlock()
	for _, p := range procs {
		addr := c.metrics[p]
		if addr == "" || p.exited() {
			continue
		}
		fams, err := metrics.Scrape(ctx, nil, "http://"+addr+"/metrics")
		if err != nil {
			c.t.Fatalf("scrape %s: %v", p.name, err)
		}
		for _, name := range troubleFamilies {
			mf := fams[name]
			if mf == nil {
				continue
			}
			for _, m := range mf.GetMetric() {
				var ls []string
				for _, lp := range m.GetLabel() {
					if n := lp.GetName(); n != "role" && n != "id" {
						ls = append(ls, n+"="+lp.GetValue())
					}
				}
				labels := strings.Join(ls, ",")
				v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
				if v != 0 && !troubleExempt(name, labels) {
					out[troubleKey(p, name, labels)] += v
				}
			}
		}
	}
	return out
}

// Special values of a checkTrouble want.
const (
	atLeastOne = -1 // the series must have moved
	mayMove    = -2 // the series may move (a race the test allows)
)

// checkTrouble fails the test unless the trouble series are exactly want
// (what the test provoked; nil: nothing may have gone wrong), with the
// special values atLeastOne and mayMove.
func (c *cluster) checkTrouble(ctx context.Context, want map[string]float64) {
	c.t.Helper()
	got := c.trouble(ctx)
	for k, v := range got {
		w, ok := want[k]
		switch {
		case !ok:
			c.t.Errorf("counter moved: %s = %v", k, v)
		case w >= 0 && w != v:
			c.t.Errorf("counter %s = %v, want %v", k, v, w)
		}
	}
	for k, w := range want {
		if _, ok := got[k]; !ok && w != 0 && w != mayMove {
			c.t.Errorf("counter %s did not move, want %v", k, w)
		}
	}
}

// leftClients allows, on every gate, the drops of messages for clients
// that have just left (a game's batch or reply crossing the goodbye).
func (c *cluster) leftClients(want map[string]float64) map[string]float64 {
	if want == nil {
		want = map[string]float64{}
	}
	for _, g := range c.gates {
		want[troubleKey(g, "ecsworld_dropped_messages_total", "reason=unknown_client")] = mayMove
	}
	return want
}

// disconnects returns gate p's client disconnections by reason.
func (c *cluster) disconnects(ctx context.Context, p *proc) map[string]float64 {
	c.t.Helper()
	fams, err := metrics.Scrape(ctx, nil, "http://"+c.metrics[p]+"/metrics")
	if err != nil {
		c.t.Fatalf("scrape %s: %v", p.name, err)
	}
	out := map[string]float64{}
	if mf := fams["ecsworld_client_disconnects_total"]; mf != nil {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "reason" {
					out[lp.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
