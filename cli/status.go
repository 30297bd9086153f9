package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ecsworld/ecsworld/cli/proc"
	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/metrics"
)

// scrapeTimeout bounds one process's metrics read by status.
const scrapeTimeout = 3 * time.Second

func statusVerb() Verb {
	return Verb{
		Name:    "status",
		Usage:   "status [-run RUNDIR]",
		Summary: "show each process: pid, state, uptime, entities, clients, tick time p99",
		Help: `
Status prints a table of the processes of the cluster started in RUNDIR
(default ./run): pid, state (running, exited), uptime, and, read from each
process's metrics endpoint, the entities (a game's world; a dispatcher's
routes), the clients (a gate's connections; a game's bound entities) and
the 99th percentile of a game's tick time over its recent window. "-" is a
figure the process does not have; "?" one that could not be read (set a
metrics address for it in the cluster file). It exits 1 if any process is
not running.`,
		Flags: func(fs *flag.FlagSet) func(context.Context, *App, []string) error {
			run := fs.String("run", defaultRun, "run directory of the cluster")
			return func(ctx context.Context, a *App, args []string) error {
				if len(args) != 0 {
					return usageErr("status takes no arguments, got %q", args)
				}
				r, ps, err := openRun(*run)
				if err != nil {
					return err
				}
				return status(ctx, a, r, ps)
			}
		},
	}
}

// row is one line of the status table.
type row struct {
	p                                      process
	state, uptime, entities, clients, tick string
	note                                   string // why figures are missing
}

func status(ctx context.Context, a *App, r runDir, ps []process) error {
	rows := make([]row, len(ps))
	client := &http.Client{Timeout: scrapeTimeout}
	var wg sync.WaitGroup
	for i, p := range ps {
		rows[i] = row{p: p, state: "exited", uptime: "-", entities: "-", clients: "-", tick: "-"}
		if !alive(p) {
			continue
		}
		rows[i].state = "running"
		rows[i].uptime = time.Since(p.Started).Truncate(time.Second).String()
		wg.Go(func() { rows[i].fill(ctx, client, readAddrs(r, p.Name)[proc.AddrMetrics]) })
	}
	wg.Wait()
	tw := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tPID\tSTATE\tUPTIME\tENTITIES\tCLIENTS\tTICK P99")
	down := 0
	for _, rw := range rows {
		if rw.state != "running" {
			down++
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", rw.p.Name, rw.p.PID, rw.state, rw.uptime, rw.entities, rw.clients, rw.tick)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, rw := range rows {
		if rw.note != "" {
			fmt.Fprintf(a.Stderr, "%s: %s\n", rw.p.Name, rw.note)
		}
	}
	if down > 0 {
		return fmt.Errorf("%d of %d processes not running: their logs are in %s (restart with stop, then start)", down, len(rows), r.path("logs"))
	}
	return nil
}

// fill reads the figures of the row's process from its metrics page.
func (rw *row) fill(ctx context.Context, client *http.Client, addr string) {
	unknown := func() {
		switch rw.p.Role {
		case config.RoleGame:
			rw.entities, rw.clients, rw.tick = "?", "?", "?"
		case config.RoleGate:
			rw.clients = "?"
		case config.RoleDispatcher:
			rw.entities = "?"
		}
	}
	if addr == "" {
		unknown()
		rw.note = "no metrics address: set metrics in its section of the cluster file"
		return
	}
	f, err := metrics.Scrape(ctx, client, "http://"+addr+"/metrics")
	if err != nil {
		unknown()
		rw.note = err.Error()
		return
	}
	num := func(name string) string {
		v, ok := f.Sum(name)
		if !ok {
			return "?"
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	switch rw.p.Role {
	case config.RoleGame:
		rw.entities, rw.clients = num("ecsworld_entities"), num("ecsworld_clients")
		if v, ok := f.Sum("ecsworld_tick_p99_seconds"); ok {
			rw.tick = time.Duration(v * float64(time.Second)).Round(time.Microsecond).String()
		} else {
			rw.tick = "?"
		}
	case config.RoleGate:
		rw.clients = num("ecsworld_clients")
	case config.RoleDispatcher:
		rw.entities = num("ecsworld_routes")
	}
}
