// Command aoibench prints the AOI benchmark table: for each workload and
// implementation, ns per move, moves per second, enter+leave events per move
// and allocations per move. It runs on one core (GOMAXPROCS(1)) so the
// numbers are per core and the garbage collector does not steal a second
// one.
//
//	go run ./bench/cmd/aoibench [-json] [-workload W3] [-impl ecsworld] [-budget 2s]
//
// Method: insert all entities, run warm-up ticks (not measured: up to
// bench.AOIWarmTicks while they fit in five times the budget), then measure
// full ticks (every entity moves once per tick, in id order) until the row's
// time budget is spent; when a single tick would blow the budget (brute force
// on big workloads), a partial tick of fewer moves is measured instead.
// Allocations are the runtime.MemStats Mallocs delta over the measured moves.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/ecsworld/ecsworld/bench"
)

func main() {
	jsonOut := flag.Bool("json", false, "print one JSON object per row")
	workload := flag.String("workload", "", "only this workload (W1..W5)")
	impl := flag.String("impl", "", "only this implementation (ecsworld, xzlist, bruteforce)")
	budget := flag.Duration("budget", 2*time.Second, "measuring time per row (approximate)")
	flag.Parse()
	runtime.GOMAXPROCS(1)

	var rows []bench.AOIResult
	found := false
	for _, w := range bench.AOIWorkloads {
		if *workload != "" && !strings.EqualFold(*workload, w.Name) {
			continue
		}
		for _, im := range bench.AOIImpls {
			if *impl != "" && *impl != im.Name {
				continue
			}
			found = true
			r := bench.AOIRun(w, im, *budget)
			rows = append(rows, r)
			if *jsonOut {
				b, err := json.Marshal(r)
				if err != nil {
					fmt.Fprintln(os.Stderr, "aoibench:", err)
					os.Exit(1)
				}
				fmt.Println(string(b))
			} else {
				fmt.Fprintln(os.Stderr, r)
			}
		}
	}
	if !found {
		fmt.Fprintf(os.Stderr, "aoibench: no row matches -workload %q -impl %q\n", *workload, *impl)
		os.Exit(2)
	}
	if !*jsonOut {
		fmt.Print(bench.AOITable(rows))
	}
}
