package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/systems"
)

// GameSource is what the game collector reads: a *game.Game, or a fake in
// tests.
type GameSource interface {
	ID() uint16
	Stats() game.Stats
	InboxLen() (n, capacity int)
}

// gameCollector exports a game's Stats.
type gameCollector struct {
	src GameSource
	fs  families

	ticks, tickLast, tickMean, tickP99, samples     *family
	sysLast, sysMean, sysP99, sysErrors, sysPanics  *family
	rpc, timers                                     *family
	aoiSpaces, aoiMembers, aoiEvents, aoiGridErrors *family
	aoiParallel, aoiOverflow                        *family
	entities, spaces, clients, links, linksUp       *family
	traffic                                         traffic
	dropped, refused, backlogged                    *family
	batches, frames, positions, moves               *family
	callTimeouts, bootFailures, createFailures      *family
	migrations, migrateAborts, migrateFailures      *family
	hookPanics, dialErrors, queue, queueCap         *family
}

// NewGameCollector returns a collector of src's Stats.
func NewGameCollector(src GameSource) prometheus.Collector {
	c := &gameCollector{src: src}
	fs := &c.fs
	c.ticks = fs.counter("ticks_total", "Ticks run.")
	c.tickLast = fs.gauge("tick_last_seconds", "Time of the last whole tick.")
	c.tickMean = fs.gauge("tick_mean_seconds", "Mean time of a whole tick over the scheduler's recent window.")
	c.tickP99 = fs.gauge("tick_p99_seconds", "99th percentile of the whole tick's time over the scheduler's recent window.")
	c.samples = fs.gauge("tick_window_samples", "Ticks in the scheduler's recent window (what mean and p99 summarize).")
	c.sysLast = fs.gauge("system_last_seconds", "A system's time in the last tick.", "system", "stage")
	c.sysMean = fs.gauge("system_mean_seconds", "A system's mean time per tick over the recent window.", "system", "stage")
	c.sysP99 = fs.gauge("system_p99_seconds", "99th percentile of a system's time per tick over the recent window.", "system", "stage")
	c.sysErrors = fs.counter("system_errors_total", "Ticks in which a system failed (errors and panics).", "system", "stage")
	c.sysPanics = fs.counter("system_panics_total", "Ticks in which a system panicked.", "system", "stage")
	c.rpc = fs.counter("rpc_calls_total", "Calls dispatched to entity methods, by outcome.", "outcome")
	c.timers = fs.counter("timer_calls_total", "Timers fired, by outcome.", "outcome")
	c.aoiSpaces = fs.gauge("aoi_grids", "Spaces with an AOI grid.")
	c.aoiMembers = fs.gauge("aoi_members", "Entities in AOI grids.")
	c.aoiEvents = fs.counter("aoi_events_total", "AOI events produced.", "event")
	c.aoiGridErrors = fs.counter("aoi_grid_errors_total", "Spaces whose AOI grid could not be created.")
	c.aoiParallel = fs.counter("aoi_parallel_rounds_total", "AOI rounds in which several spaces ran in parallel.")
	c.aoiOverflow = fs.counter("aoi_rounds_overflowing_total", "AOI stages that hit their round limit with work left.")
	c.entities = fs.gauge("entities", "Entities in the world, as of the last tick.")
	c.spaces = fs.gauge("spaces", "Spaces in the world, as of the last tick.")
	c.clients = fs.gauge("clients", "Entities bound to a client, as of the last tick.")
	c.links = fs.gauge("dispatcher_links", "Dispatchers this process links to.")
	c.linksUp = fs.gauge("dispatcher_links_up", "Dispatcher links up (handshake done).")
	c.traffic = fs.traffic()
	c.dropped = fs.counter("dropped_messages_total", "Messages dropped, by reason.", "reason")
	c.refused = fs.counter("refused_messages_total", "Messages refused (decoded but not usable, or not allowed), by reason.", "reason")
	c.backlogged = fs.counter("backlogged_messages_total", "Messages kept while their dispatcher link was down, sent once it was back.")
	c.batches = fs.counter("gate_batches_total", "Batches sent to gates.")
	c.frames = fs.counter("client_frames_total", "Client frames encoded (each once, however many recipients).")
	c.positions = fs.counter("position_records_total", "Position records sent, per gate.")
	c.moves = fs.counter("client_moves_total", "Position updates from clients applied.")
	c.callTimeouts = fs.counter("call_timeouts_total", "Calls whose reply did not come in time.")
	c.bootFailures = fs.counter("boot_failures_total", "Client boot entities that could not be created.")
	c.createFailures = fs.counter("create_failures_total", "Remote entity creations that failed here.")
	c.migrations = fs.counter("migrations_total", "Entities migrated, by direction.", "direction")
	c.migrateAborts = fs.counter("migration_aborts_total", "Migrations cancelled here (the entity stayed).")
	c.migrateFailures = fs.counter("migration_failures_total", "Arriving entities that could not be restored.")
	c.hookPanics = fs.counter("hook_panics_total", "Panics of user hooks, contained.")
	c.dialErrors = fs.counter("dial_errors_total", "Failed dials to dispatchers.")
	c.queue = fs.gauge("queue_length", "Items waiting in a queue.", "queue")
	c.queueCap = fs.gauge("queue_capacity", "Capacity of a bounded queue.", "queue")
	return c
}

// Describe implements prometheus.Collector.
func (c *gameCollector) Describe(ch chan<- *prometheus.Desc) { c.fs.describe(ch) }

// Collect implements prometheus.Collector: one Stats call per scrape.
func (c *gameCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	sc := &s.Scheduler
	c.ticks.emit(ch, float64(s.Tick))
	c.tickLast.emit(ch, sc.TickLast.Seconds())
	c.tickMean.emit(ch, sc.TickMean.Seconds())
	c.tickP99.emit(ch, sc.TickP99.Seconds())
	c.samples.emit(ch, float64(sc.Samples))
	seen := make(map[[2]string]bool, len(sc.Systems))
	for _, sys := range sc.Systems {
		lv := [2]string{sys.Name, sys.Stage.String()}
		if seen[lv] {
			continue // two user systems of one name: one series (the first)
		}
		seen[lv] = true
		c.sysLast.emit(ch, sys.Last.Seconds(), lv[:]...)
		c.sysMean.emit(ch, sys.Mean.Seconds(), lv[:]...)
		c.sysP99.emit(ch, sys.P99.Seconds(), lv[:]...)
		c.sysErrors.emit(ch, float64(sys.Errors), lv[:]...)
		c.sysPanics.emit(ch, float64(sys.Panics), lv[:]...)
	}
	emitRPC(ch, c.rpc, s.RPC)
	emitRPC(ch, c.timers, s.Timers)
	c.aoiSpaces.emit(ch, float64(s.AOI.Spaces))
	c.aoiMembers.emit(ch, float64(s.AOI.Members))
	c.aoiEvents.emit(ch, float64(s.AOI.Enters), "enter")
	c.aoiEvents.emit(ch, float64(s.AOI.Leaves), "leave")
	c.aoiGridErrors.emit(ch, float64(s.AOI.GridErrors))
	c.aoiParallel.emit(ch, float64(s.AOI.ParallelRounds))
	c.aoiOverflow.emit(ch, float64(s.AOI.RoundsOverflowing))
	c.entities.emit(ch, float64(s.Entities))
	c.spaces.emit(ch, float64(s.Spaces))
	c.clients.emit(ch, float64(s.Clients))
	c.links.emit(ch, float64(s.Dispatchers))
	c.linksUp.emit(ch, float64(s.Connected))
	emitTraffic(ch, c.traffic, "dispatcher", "in", s.In, typeName)
	emitTraffic(ch, c.traffic, "dispatcher", "out", s.Out, typeName)
	c.dropped.emit(ch, float64(s.Dropped), "not_sent")
	c.dropped.emit(ch, float64(s.BadMessages), "bad_message")
	c.dropped.emit(ch, float64(s.BadFrames), "bad_frame")
	c.dropped.emit(ch, float64(s.BadPositions), "bad_position")
	c.refused.emit(ch, float64(s.Refused), "unusable")
	c.backlogged.emit(ch, float64(s.Backlogged))
	c.batches.emit(ch, float64(s.BatchesOut))
	c.frames.emit(ch, float64(s.FramesOut))
	c.positions.emit(ch, float64(s.PositionsOut))
	c.moves.emit(ch, float64(s.ClientMoves))
	c.callTimeouts.emit(ch, float64(s.CallTimeouts))
	c.bootFailures.emit(ch, float64(s.BootFailures))
	c.createFailures.emit(ch, float64(s.CreateFailures))
	c.migrations.emit(ch, float64(s.MigratedOut), "out")
	c.migrations.emit(ch, float64(s.MigratedIn), "in")
	c.migrateAborts.emit(ch, float64(s.MigrateAborts))
	c.migrateFailures.emit(ch, float64(s.MigrateFailures))
	c.hookPanics.emit(ch, float64(s.HookPanics))
	c.dialErrors.emit(ch, float64(s.DialErrors))
	n, capacity := c.src.InboxLen()
	c.queue.emit(ch, float64(n), "inbox")
	c.queueCap.emit(ch, float64(capacity), "inbox")
}

func emitRPC(ch chan<- prometheus.Metric, f *family, s systems.RPCStats) {
	f.emit(ch, float64(s.OK), "ok")
	f.emit(ch, float64(s.NoEntity), "no_entity")
	f.emit(ch, float64(s.NoMethod), "no_method")
	f.emit(ch, float64(s.Denied), "denied")
	f.emit(ch, float64(s.BadArgs), "bad_args")
	f.emit(ch, float64(s.Panics), "panic")
	f.emit(ch, float64(s.Errors), "error")
}

// ForGame is the registry of game g: its collector and the swap
// histograms (Registry.Swap).
func ForGame(g GameSource) (*Registry, error) {
	r := NewRegistry(config.RoleGame, g.ID())
	if err := r.Register(NewGameCollector(g)); err != nil {
		return nil, err
	}
	r.Swap = newSwap()
	if err := r.Swap.register(r); err != nil {
		return nil, err
	}
	return r, nil
}
