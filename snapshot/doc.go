// Package snapshot freezes a game's world into a compressed CBOR file and
// restores it, in the same or a newer binary, with the same EntityIDs.
//
// # What a snapshot holds
//
// A header (magic, format version, game id, tick, wall time, the IDGen's
// last ID, the timers' next ID, counts, and the schema: every registered
// component's name with the shape of its CBOR encoding and a fingerprint
// of it, every entity type's name, space flag, default AOI radius and
// declared components, and the game's own state beyond the world: its
// observer clients and the service names it won), then the body: zstd-compressed chunks of entity
// records, spaces first so that entities can enter them on restore. A
// record holds the EntityID, type, space, position and yaw, velocity,
// destination and speed, AOI radius (when not the type's default), the
// client binding (gate, ClientID), every component the entity has (the
// user's own included, encoded by fxamacker/cbor), every attribute, and
// the entity's timers with their remaining ticks. The layout is in
// format.go; records are plain CBOR maps with small integer keys that any
// CBOR decoder reads.
//
// Every part is checked: the preamble, header, each chunk head, each
// chunk's data and the trailer carry CRC32C checksums, and the trailer
// counts the chunks and records, so corruption is detected and located
// (a *FormatError names the section, the file offset and, inside a chunk,
// the record and entity).
//
// # Freezing
//
// At a tick boundary, after running OnFreeze on the entities, the game
// calls
//
//	st := &snapshot.State{GameID: id, Tick: sched.LastTick(), NextTimerID: uint64(timers.NextID())}
//	for _, t := range timers.All() {
//		st.Timers = append(st.Timers, snapshot.Timer{ID: uint64(t.ID), Entity: t.Entity,
//			Method: t.Method, Args: t.Args, Due: t.Due, Repeat: t.Repeat})
//	}
//	info, err := snapshot.WriteFile(path, world, st, snapshot.WriteOptions{})
//
// WriteFile is atomic: temporary file in the same directory, fsync,
// rename, fsync of the directory. An old snapshot at path is never
// damaged by a write that fails.
//
// # Restoring
//
// The new binary builds its registry as usual, then
//
//	r, err := snapshot.ReadFile(path, reg, ecs.WorldOptions{IDs: ecs.NewIDGen(id, nil), OnError: ...}, snapshot.ReadOptions{})
//	// log r.Warnings
//	sched.SetLastTick(r.Header.Tick)
//	timers.SetNow(r.Header.Tick)
//	err = timers.Restore(converted(r.Timers), systems.TimerID(r.Header.NextTimerID))
//	for _, s := range r.World.Spaces() { err = aoi.RebuildSilent(s) }
//	r.World.ResetTick() // the restore's joins are not news to anyone
//	// reattach clients (every bound entity has its binding), run OnRestored
//
// ReadFile builds a new world and returns it only when the whole file
// was read and checked, so a bad file restores nothing. Entities are made
// with ecs.CreateOptions.Restore: no hook runs. The reader's memory is
// bounded by one chunk (ReadOptions.MaxChunkBytes), the writer's by one
// chunk plus the largest entity; both reuse their encoders and buffers.
// (Beyond that, the writer walks the world in EntityID order, which costs
// World.Each's list of entity pointers, plus 32 bytes an entity to sort
// them when the world's creation order is not ID order, and groups
// timers through an index of 4 bytes per timer; the reader keeps the
// file's spaces in a list.) game.ReadSnapshot is ReadFile with the
// garbage collector paused for the read, as a game restores.
//
// Reader.Verify checks a file (and, given a registry, that it can be
// restored) without building a world: for a CLI to refuse a reload
// before it freezes anything.
//
// # One entity: EntityCodec
//
// EntityCodec writes and reads one entity in the same record format,
// self-describing (type and component names instead of header indices,
// and the type's components it lacks), for migration between games whose
// registries may differ. It has the same checks and limits.
//
// # Errors
//
// A file that cannot be read wraps one of ErrEmpty, ErrNotSnapshot,
// ErrTooNew, ErrTruncated, ErrCorrupt (each in a *FormatError saying
// where) or ErrSchema (in a *SchemaError naming the component, field or
// type, and both shapes).
//
// # Schema evolution
//
// A new binary may add components, add fields to a component (they keep
// their zero value), drop fields (Warnings names them) or drop a
// component (Warnings names it and counts the entities that had it), and
// add components to an entity type (restored entities get the zero
// value; a component the old type declared and an entity had removed
// stays removed). A field whose kind changed (an int that became a
// string, a list of strings that became a list of ints) is refused with
// ErrSchema before any entity is made, as is an entity type that is gone
// while the snapshot has entities of it. Integer widths and float widths
// may change (a value that no longer fits fails its record with
// ErrSchema); signed and unsigned are different kinds. An omitted AOI
// radius means the type's default in the binary that restores.
//
// # Speed
//
// Records and attributes are encoded and decoded by hand (see
// cborbuf.go): reflection-based CBOR costs several microseconds per
// record, the whole budget of a restore. Records of format version 2 are
// about a third smaller than version 1's (IDs as differences, spaces by
// index, attribute keys once per chunk as key sets), which is a third
// less to compress and parse. The entities of a key set share one
// ecs.AttrKeys in the restored world (100,000 entities with the same ten
// keys store them once), short strings are interned through a fixed-size
// table, attributes that are all scalars are checked and kept encoded
// until the game first uses them (ecs.AttrPacker; a quarter of the
// restore's time and a third of its new memory otherwise), and a writer
// copies still-encoded values as they are; the reader reserves the new world's tables from the
// header's counts (ecs.World.Reserve). A restore allocates the whole
// world: a game pauses the garbage collector for it (game.ReadSnapshot).
package snapshot
