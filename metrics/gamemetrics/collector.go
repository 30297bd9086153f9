package gamemetrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecsworld/ecsworld/game"
	"github.com/ecsworld/ecsworld/metrics/internal/family"
	"github.com/ecsworld/ecsworld/systems"
)

// Source is what the game collector reads: a *game.Game, or a fake in
// tests.
type Source interface {
	ID() uint16
	Stats() game.Stats
	InboxLen() (n, capacity int)
}

// gameCollector exports a game's Stats.
type gameCollector struct {
	src Source
	fs  family.Set

	ticks, tickLast, tickMean, tickP99, samples     *family.Family
	sysLast, sysMean, sysP99, sysErrors, sysPanics  *family.Family
	rpc, timers                                     *family.Family
	aoiSpaces, aoiMembers, aoiEvents, aoiGridErrors *family.Family
	aoiParallel, aoiOverflow                        *family.Family
	entities, spaces, clients, links, linksUp       *family.Family
	traffic                                         family.Traffic
	dropped, refused, backlogged                    *family.Family
	batches, frames, positions, moves               *family.Family
	callTimeouts, bootFailures, createFailures      *family.Family
	migrations, migrateAborts, migrateFailures      *family.Family
	hookPanics, dialErrors, queue, queueCap         *family.Family
}

// NewCollector returns a collector of src's Stats.
func NewCollector(src Source) prometheus.Collector {
	c := &gameCollector{src: src}
	fs := &c.fs
	c.ticks = fs.Counter("ticks_total", "Ticks run.")
	c.tickLast = fs.Gauge("tick_last_seconds", "Time of the last whole tick.")
	c.tickMean = fs.Gauge("tick_mean_seconds", "Mean time of a whole tick over the scheduler's recent window.")
	c.tickP99 = fs.Gauge("tick_p99_seconds", "99th percentile of the whole tick's time over the scheduler's recent window.")
	c.samples = fs.Gauge("tick_window_samples", "Ticks in the scheduler's recent window (what mean and p99 summarize).")
	c.sysLast = fs.Gauge("system_last_seconds", "A system's time in the last tick.", "system", "stage")
	c.sysMean = fs.Gauge("system_mean_seconds", "A system's mean time per tick over the recent window.", "system", "stage")
	c.sysP99 = fs.Gauge("system_p99_seconds", "99th percentile of a system's time per tick over the recent window.", "system", "stage")
	c.sysErrors = fs.Counter("system_errors_total", "Ticks in which a system failed (errors and panics).", "system", "stage")
	c.sysPanics = fs.Counter("system_panics_total", "Ticks in which a system panicked.", "system", "stage")
	c.rpc = fs.Counter("rpc_calls_total", "Calls dispatched to entity methods, by outcome.", "outcome")
	c.timers = fs.Counter("timer_calls_total", "Timers fired, by outcome.", "outcome")
	c.aoiSpaces = fs.Gauge("aoi_grids", "Spaces with an AOI grid.")
	c.aoiMembers = fs.Gauge("aoi_members", "Entities in AOI grids.")
	c.aoiEvents = fs.Counter("aoi_events_total", "AOI events produced.", "event")
	c.aoiGridErrors = fs.Counter("aoi_grid_errors_total", "Spaces whose AOI grid could not be created.")
	c.aoiParallel = fs.Counter("aoi_parallel_rounds_total", "AOI rounds in which several spaces ran in parallel.")
	c.aoiOverflow = fs.Counter("aoi_rounds_overflowing_total", "AOI stages that hit their round limit with work left.")
	c.entities = fs.Gauge("entities", "Entities in the world, as of the last tick.")
	c.spaces = fs.Gauge("spaces", "Spaces in the world, as of the last tick.")
	c.clients = fs.Gauge("clients", "Entities bound to a client, as of the last tick.")
	c.links = fs.Gauge("dispatcher_links", "Dispatchers this process links to.")
	c.linksUp = fs.Gauge("dispatcher_links_up", "Dispatcher links up (handshake done).")
	c.traffic = fs.Traffic()
	c.dropped = fs.Counter("dropped_messages_total", "Messages dropped, by reason.", "reason")
	c.refused = fs.Counter("refused_messages_total", "Messages refused (decoded but not usable, or not allowed), by reason.", "reason")
	c.backlogged = fs.Counter("backlogged_messages_total", "Messages kept while their dispatcher link was down, sent once it was back.")
	c.batches = fs.Counter("gate_batches_total", "Batches sent to gates.")
	c.frames = fs.Counter("client_frames_total", "Client frames encoded (each once, however many recipients).")
	c.positions = fs.Counter("position_records_total", "Position records sent, per gate.")
	c.moves = fs.Counter("client_moves_total", "Position updates from clients applied.")
	c.callTimeouts = fs.Counter("call_timeouts_total", "Calls whose reply did not come in time.")
	c.bootFailures = fs.Counter("boot_failures_total", "Client boot entities that could not be created.")
	c.createFailures = fs.Counter("create_failures_total", "Remote entity creations that failed here.")
	c.migrations = fs.Counter("migrations_total", "Entities migrated, by direction.", "direction")
	c.migrateAborts = fs.Counter("migration_aborts_total", "Migrations cancelled here (the entity stayed).")
	c.migrateFailures = fs.Counter("migration_failures_total", "Arriving entities that could not be restored.")
	c.hookPanics = fs.Counter("hook_panics_total", "Panics of user hooks, contained.")
	c.dialErrors = fs.Counter("dial_errors_total", "Failed dials to dispatchers.")
	c.queue = fs.Gauge("queue_length", "Items waiting in a queue.", "queue")
	c.queueCap = fs.Gauge("queue_capacity", "Capacity of a bounded queue.", "queue")
	return c
}

// Describe implements prometheus.Collector.
func (c *gameCollector) Describe(ch chan<- *prometheus.Desc) { c.fs.Describe(ch) }

// Collect implements prometheus.Collector: one Stats call per scrape.
func (c *gameCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	sc := &s.Scheduler
	c.ticks.Emit(ch, float64(s.Tick))
	c.tickLast.Emit(ch, sc.TickLast.Seconds())
	c.tickMean.Emit(ch, sc.TickMean.Seconds())
	c.tickP99.Emit(ch, sc.TickP99.Seconds())
	c.samples.Emit(ch, float64(sc.Samples))
	seen := make(map[[2]string]bool, len(sc.Systems))
	for _, sys := range sc.Systems {
		lv := [2]string{sys.Name, sys.Stage.String()}
		if seen[lv] {
			continue // two user systems of one name: one series (the first)
		}
		seen[lv] = true
		c.sysLast.Emit(ch, sys.Last.Seconds(), lv[:]...)
		c.sysMean.Emit(ch, sys.Mean.Seconds(), lv[:]...)
		c.sysP99.Emit(ch, sys.P99.Seconds(), lv[:]...)
		c.sysErrors.Emit(ch, float64(sys.Errors), lv[:]...)
		c.sysPanics.Emit(ch, float64(sys.Panics), lv[:]...)
	}
	emitRPC(ch, c.rpc, s.RPC)
	emitRPC(ch, c.timers, s.Timers)
	c.aoiSpaces.Emit(ch, float64(s.AOI.Spaces))
	c.aoiMembers.Emit(ch, float64(s.AOI.Members))
	c.aoiEvents.Emit(ch, float64(s.AOI.Enters), "enter")
	c.aoiEvents.Emit(ch, float64(s.AOI.Leaves), "leave")
	c.aoiGridErrors.Emit(ch, float64(s.AOI.GridErrors))
	c.aoiParallel.Emit(ch, float64(s.AOI.ParallelRounds))
	c.aoiOverflow.Emit(ch, float64(s.AOI.RoundsOverflowing))
	c.entities.Emit(ch, float64(s.Entities))
	c.spaces.Emit(ch, float64(s.Spaces))
	c.clients.Emit(ch, float64(s.Clients))
	c.links.Emit(ch, float64(s.Dispatchers))
	c.linksUp.Emit(ch, float64(s.Connected))
	family.EmitTraffic(ch, c.traffic, "dispatcher", "in", s.In, family.TypeName)
	family.EmitTraffic(ch, c.traffic, "dispatcher", "out", s.Out, family.TypeName)
	c.dropped.Emit(ch, float64(s.Dropped), "not_sent")
	c.dropped.Emit(ch, float64(s.BadMessages), "bad_message")
	c.dropped.Emit(ch, float64(s.BadFrames), "bad_frame")
	c.dropped.Emit(ch, float64(s.BadPositions), "bad_position")
	c.refused.Emit(ch, float64(s.Refused), "unusable")
	c.backlogged.Emit(ch, float64(s.Backlogged))
	c.batches.Emit(ch, float64(s.BatchesOut))
	c.frames.Emit(ch, float64(s.FramesOut))
	c.positions.Emit(ch, float64(s.PositionsOut))
	c.moves.Emit(ch, float64(s.ClientMoves))
	c.callTimeouts.Emit(ch, float64(s.CallTimeouts))
	c.bootFailures.Emit(ch, float64(s.BootFailures))
	c.createFailures.Emit(ch, float64(s.CreateFailures))
	c.migrations.Emit(ch, float64(s.MigratedOut), "out")
	c.migrations.Emit(ch, float64(s.MigratedIn), "in")
	c.migrateAborts.Emit(ch, float64(s.MigrateAborts))
	c.migrateFailures.Emit(ch, float64(s.MigrateFailures))
	c.hookPanics.Emit(ch, float64(s.HookPanics))
	c.dialErrors.Emit(ch, float64(s.DialErrors))
	n, capacity := c.src.InboxLen()
	c.queue.Emit(ch, float64(n), "inbox")
	c.queueCap.Emit(ch, float64(capacity), "inbox")
}

func emitRPC(ch chan<- prometheus.Metric, f *family.Family, s systems.RPCStats) {
	f.Emit(ch, float64(s.OK), "ok")
	f.Emit(ch, float64(s.NoEntity), "no_entity")
	f.Emit(ch, float64(s.NoMethod), "no_method")
	f.Emit(ch, float64(s.Denied), "denied")
	f.Emit(ch, float64(s.BadArgs), "bad_args")
	f.Emit(ch, float64(s.Panics), "panic")
	f.Emit(ch, float64(s.Errors), "error")
}
