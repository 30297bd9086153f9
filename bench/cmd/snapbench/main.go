// Command snapbench measures snapshot freeze and restore: it builds a world
// of N entities (each with a position, an AOI radius, a small user
// component, ten attributes and a repeating timer, spread over one space
// per 10,000 entities), writes it with snapshot.WriteFile (fsync and rename
// included), as a freezing game does, reads it back into a new world with
// game.ReadSnapshot, the function a restoring game reads its snapshot with
// (snapshot.ReadFile with the garbage collector paused for the read: see
// its doc), and reports the write time, the read time, the file's bytes
// per entity and the process's peak RSS. It runs on one core
// (GOMAXPROCS(1)).
//
//	go run ./bench/cmd/snapbench [-n N] [-json] [-dir DIR]
//
// With -n it measures one world in this process; -json then prints one
// object with the keys entities, write_ms, read_ms, bytes_per_entity and
// peak_rss_mb. Without -n it runs 10k, 100k and 1M entities, each in a
// child process so that each size's peak RSS is its own.
//
// peak_rss_mb is VmHWM from /proc/self/status at the end of the run: the
// most the process ever held, which includes the source world and the
// restored world (both live at the end), not only the snapshot's buffers.
// The source world is dropped before the read (a restore runs in a new
// process), so the read is measured without it. A restore keeps scalar
// attributes encoded until their first use (ecs.PackedAttrs); the text
// output also shows what decoding all of them afterwards costs. The text output also shows the growth of the peak during the write and
// during the read alone (after resetting the peak through
// /proc/self/clear_refs where the kernel allows it).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/snapshot"
)

// Result is one measured size; its JSON form is the -json output.
type Result struct {
	Entities       int     `json:"entities"`
	WriteMS        float64 `json:"write_ms"`
	ReadMS         float64 `json:"read_ms"`
	BytesPerEntity float64 `json:"bytes_per_entity"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
}

// extra is what only the text output shows.
type extra struct {
	buildMS                     float64
	writeCPU, readCPU           float64 // CPU ms of the process during each phase
	writeSys, readSys           float64 // of which system time (page faults, I/O)
	readFaults                  int64   // minor page faults during the read
	writeGrowthMB, readGrowthMB float64 // peak RSS growth during each phase; -1 if unknown
	fileBytes                   int64
	// firstUseMS is the time, after the read, of the first use of every
	// entity's attributes: a restore keeps scalar attributes packed and
	// decodes each entity's on its first use (ecs.PackedAttrs).
	firstUseMS float64
}

func main() {
	n := flag.Int("n", 0, "entities (0: run 10k, 100k and 1M, each in a child process)")
	jsonOut := flag.Bool("json", false, "print JSON")
	dir := flag.String("dir", "", "directory for the snapshot file (default: a temporary directory)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the write and the read to this file")
	flag.StringVar(&memProfile, "memprofile", "", "write a heap profile taken after the read to this file")
	flag.StringVar(&profilePhase, "profile", "both", "what -cpuprofile covers: both, write or read")
	lvl := flag.Int("level", 0, "zstd level (1 fastest .. 4 best; 0 the snapshot default)")
	flag.Parse()
	if memProfile != "" {
		runtime.MemProfileRate = 512
	}
	level = zstd.EncoderLevel(*lvl)
	runtime.GOMAXPROCS(1)
	if *n < 0 {
		fail(errors.New("-n must be positive"))
	}
	if *n == 0 {
		if err := runAll(*jsonOut, *dir); err != nil {
			fail(err)
		}
		return
	}
	r, x, err := run(*n, *dir, *cpuProfile)
	if err != nil {
		fail(err)
	}
	if *jsonOut {
		b, err := json.Marshal(r)
		if err != nil {
			fail(err)
		}
		fmt.Println(string(b))
		return
	}
	printText(r, x)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "snapbench:", err)
	os.Exit(1)
}

func printText(r Result, x extra) {
	growth := func(v float64) string {
		if v < 0 {
			return "?"
		}
		return fmt.Sprintf("%.1f", v)
	}
	fmt.Printf("%9d entities  write %8.1f ms (CPU %.1f, sys %.1f)  read %8.1f ms (CPU %.1f, sys %.1f, %d faults)  %6.1f bytes/entity  peak RSS %7.1f MB  (build %.0f ms; peak growth: write %s MB, read %s MB; file %d bytes; then first use of every attribute %.1f ms)\n",
		r.Entities, r.WriteMS, x.writeCPU, x.writeSys, r.ReadMS, x.readCPU, x.readSys, x.readFaults, r.BytesPerEntity, r.PeakRSSMB, x.buildMS, growth(x.writeGrowthMB), growth(x.readGrowthMB), x.fileBytes, x.firstUseMS)
}

// runAll runs each size in a child process with -json.
func runAll(jsonOut bool, dir string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		args := []string{"-json", "-n", strconv.Itoa(n)}
		if dir != "" {
			args = append(args, "-dir", dir)
		}
		var out bytes.Buffer
		cmd := exec.Command(exe, args...)
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%d entities: %w", n, err)
		}
		if jsonOut {
			fmt.Print(out.String())
			continue
		}
		var r Result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			return fmt.Errorf("%d entities: %w", n, err)
		}
		fmt.Printf("%9d entities  write %8.1f ms  read %8.1f ms  %6.1f bytes/entity  peak RSS %7.1f MB\n",
			r.Entities, r.WriteMS, r.ReadMS, r.BytesPerEntity, r.PeakRSSMB)
	}
	return nil
}

// Stats is the small user component every entity has.
type Stats struct {
	HP    int32 `cbor:"1,keyasint"`
	MaxHP int32 `cbor:"2,keyasint"`
	Level uint8 `cbor:"3,keyasint"`
}

// schema declares the benchmark's registry.
func schema() (*ecs.Registry, error) {
	stats := ecs.NewComponent[Stats]("stats")
	reg := ecs.NewRegistry()
	if err := reg.RegisterType(ecs.NewEntityType("zone").Space()); err != nil {
		return nil, err
	}
	npc := ecs.NewEntityType("npc").With(stats).AOI(50).
		Attr("name", ecs.AttrAllClients|ecs.AttrPersistent).
		Attr("level", ecs.AttrAllClients|ecs.AttrPersistent).
		Method(ecs.Method1("Regen", ecs.ServerOnly, func(e *ecs.Entity, _ ecs.Caller, hp int) error {
			return nil
		}))
	if err := reg.RegisterType(npc); err != nil {
		return nil, err
	}
	return reg, nil
}

var (
	guilds  = []string{"", "knights", "rangers", "merchants", "nightwatch"}
	classes = []string{"warrior", "mage", "rogue", "priest"}
)

// build makes the world of n entities and their timers.
func build(n int) (*ecs.World, []snapshot.Timer, uint64, error) {
	reg, err := schema()
	if err != nil {
		return nil, nil, 0, err
	}
	w := ecs.NewWorld(reg, ecs.WorldOptions{IDs: ecs.NewIDGen(1, nil)})
	rng := rand.New(rand.NewPCG(1, 2))
	nSpaces := max(1, n/10_000)
	spaces := make([]*ecs.Entity, nSpaces)
	for i := range spaces {
		if spaces[i], err = w.Create("zone", ecs.CreateOptions{}); err != nil {
			return nil, nil, 0, err
		}
	}
	const tick = 100_000
	args, err := ecs.EncodeArgs(5)
	if err != nil {
		return nil, nil, 0, err
	}
	timers := make([]snapshot.Timer, 0, n)
	for i := range n {
		level := 1 + rng.IntN(60)
		hp := int32(50 + rng.IntN(500))
		e, err := w.Create("npc", ecs.CreateOptions{
			Space: spaces[i%nSpaces],
			Pos:   ecs.Vec3{X: rng.Float32()*2000 - 1000, Y: 0, Z: rng.Float32()*2000 - 1000},
			Yaw:   rng.Float32() * 2 * math.Pi,
			Attrs: map[string]any{
				"name":  "npc-" + strconv.Itoa(i),
				"level": level,
				"gold":  rng.IntN(100_000),
				"hp":    int(hp) - rng.IntN(50),
				"mp":    rng.IntN(200),
				"exp":   rng.IntN(1_000_000),
				"guild": guilds[rng.IntN(len(guilds))],
				"class": classes[rng.IntN(len(classes))],
				"alive": rng.IntN(10) != 0,
				"speed": 3.5,
			},
			Components: []any{Stats{HP: hp, MaxHP: hp + 50, Level: uint8(level)}},
		})
		if err != nil {
			return nil, nil, 0, err
		}
		timers = append(timers, snapshot.Timer{ID: uint64(i + 1), Entity: e.ID(), Method: "Regen", Args: args,
			Due: tick + 1 + uint64(rng.IntN(50)), Repeat: 50})
	}
	w.ResetTick()
	return w, timers, tick, nil
}

// profileHz is the CPU profile's sampling rate: pprof's default 100 Hz
// gives 20 samples for a 200 ms read.
const profileHz = 1000

var (
	level        zstd.EncoderLevel
	profilePhase string
	memProfile   string
)

func run(n int, dir, cpuProfile string) (Result, extra, error) {
	var x extra
	t0 := time.Now()
	w, timers, tick, err := build(n)
	if err != nil {
		return Result{}, x, fmt.Errorf("build: %w", err)
	}
	x.buildMS = ms(time.Since(t0))
	if dir == "" {
		d, err := os.MkdirTemp("", "snapbench-*")
		if err != nil {
			return Result{}, x, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	path := filepath.Join(dir, "world.snap")
	defer os.Remove(path)
	var f *os.File
	if cpuProfile != "" {
		if f, err = os.Create(cpuProfile); err != nil {
			return Result{}, x, err
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	startProfile := func(phase string) error {
		if f == nil || (profilePhase != "both" && profilePhase != phase) {
			return nil
		}
		runtime.SetCPUProfileRate(profileHz) // before Start: pprof keeps it (and says so on stderr)
		return pprof.StartCPUProfile(f)
	}
	runtime.GC()
	before := resetPeak()
	if err := startProfile("write"); err != nil { // after the collections: they are not the write's
		return Result{}, x, err
	}
	st := &snapshot.State{GameID: 1, Tick: tick, Timers: timers, NextTimerID: uint64(n + 1)}
	t0, c0, s0, _ := time.Now(), cpuMS(), sysMS(), faults()
	info, err := snapshot.WriteFile(path, w, st, snapshot.WriteOptions{Level: level})
	if err != nil {
		return Result{}, x, fmt.Errorf("write: %w", err)
	}
	writeMS := ms(time.Since(t0))
	x.writeCPU, x.writeSys = cpuMS()-c0, sysMS()-s0
	x.writeGrowthMB = growth(before)
	x.fileBytes = info.Bytes
	if profilePhase == "write" {
		pprof.StopCPUProfile()
	}

	// The restore runs in a new process in production: drop the source
	// world so the garbage collector does not scan it during the read.
	reg, want, wantTimers := w.Registry(), w.Len(), len(timers)
	w, timers, st = nil, nil, nil
	runtime.GC()
	before = resetPeak()
	if err := startProfile("read"); err != nil {
		return Result{}, x, err
	}
	t0, c0, s0, f0 := time.Now(), cpuMS(), sysMS(), faults()
	r, err := game.ReadSnapshot(path, reg, ecs.WorldOptions{IDs: ecs.NewIDGen(1, nil)})
	if err != nil {
		return Result{}, x, fmt.Errorf("read: %w", err)
	}
	readMS := ms(time.Since(t0))
	x.readCPU, x.readSys, x.readFaults = cpuMS()-c0, sysMS()-s0, faults()-f0
	if f != nil {
		pprof.StopCPUProfile()
	}
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return Result{}, x, err
		}
	}
	x.readGrowthMB = growth(before)
	// The first collection after a restore marks the whole new world,
	// packed or not: it is not the attributes' cost.
	runtime.GC()
	t0 = time.Now()
	r.World.Each(func(e *ecs.Entity) bool {
		e.Attrs().Range(func(string, any) bool { return true })
		return true
	})
	x.firstUseMS = ms(time.Since(t0))
	if r.World.Len() != want || len(r.Timers) != wantTimers {
		return Result{}, x, fmt.Errorf("restored %d entities and %d timers, want %d and %d", r.World.Len(), len(r.Timers), want, wantTimers)
	}
	peak, err := vmHWM()
	if err != nil {
		return Result{}, x, err
	}
	return Result{
		Entities: n, WriteMS: round1(writeMS), ReadMS: round1(readMS),
		BytesPerEntity: round1(float64(info.Bytes) / float64(n)), PeakRSSMB: round1(peak),
	}, x, nil
}

// cpuMS is the CPU time (user and system) the process used so far, in ms.
// On a shared machine it says what the wall times would be on an idle core.
func cpuMS() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// sysMS is the system CPU time the process used so far, in ms: in a
// restore mostly the kernel's first touch of the new world's pages.
func sysMS() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Stime.Nano()) / 1e6
}

// faults is the number of minor page faults of the process so far.
func faults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// vmHWM returns the process's peak resident set in MB.
func vmHWM() (float64, error) { return statusMB("VmHWM:") }

func statusMB(key string) (float64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/self/status %s: %w", key, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/self/status has no %s", key)
}

// resetPeak returns the resident set now after asking the kernel to reset
// the peak to it; -1 if the peak cannot be reset (then the growth is
// unknown).
func resetPeak() float64 {
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return -1
	}
	rss, err := statusMB("VmRSS:")
	if err != nil {
		return -1
	}
	return rss
}

func growth(before float64) float64 {
	if before < 0 {
		return -1
	}
	peak, err := vmHWM()
	if err != nil {
		return -1
	}
	return round1(peak - before)
}

// writeHeapProfile writes the heap profile (what was allocated and what is
// in use) to path.
func writeHeapProfile(path string) error {
	runtime.GC() // the profile holds what the last collection saw
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
