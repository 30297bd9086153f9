package snapshot

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/ecsworld/ecsworld/ecs"
)

// State is what a snapshot saves besides the world itself: who wrote it,
// when, and the timers (which live in the systems package, not in ecs).
type State struct {
	GameID uint16    // the game's id
	Tick   uint64    // the last tick run (Scheduler.LastTick)
	Time   time.Time // wall time of the freeze; zero means now
	// Timers are every live timer (systems.Timers.All, converted). IDs
	// must be non-zero and unique, as systems.Timers makes them (Encode
	// checks zero IDs and an ID repeated on one entity; a reader refuses
	// any repeated ID). Each is saved with its entity. A timer whose entity is not in the world
	// is not saved (WriteInfo.DroppedTimers counts them).
	Timers      []Timer
	NextTimerID uint64 // systems.Timers.NextID
	// Observers and Services are the game's own state beyond its world
	// (Header.Observers, Header.Services), saved in the header as given.
	Observers []Observer
	Services  []Service
}

// WriteOptions tunes a Writer. The zero value is the default.
type WriteOptions struct {
	// ChunkBytes is the raw size at which a chunk is closed and
	// compressed (DefaultChunkBytes if 0). Larger chunks compress a
	// little better and cost that much more memory, at write and read.
	ChunkBytes int
	// Level is the zstd level; 0 means zstd.SpeedFastest, which at
	// these chunk sizes compresses records about as well as the default
	// level in half the time.
	Level zstd.EncoderLevel
}

// WriteInfo says what a write saved.
type WriteInfo struct {
	Entities, Spaces, Timers int
	DroppedTimers            int   // timers of entities not in the world
	Chunks                   int   // compressed chunks in the body
	Bytes                    int64 // file size
}

// Writer writes snapshots. It keeps its zstd encoder, CBOR encoder and
// buffers between records and between snapshots, so memory is bounded by a
// chunk plus the largest entity. A Writer is not safe for concurrent use;
// it reads the world, so it runs on the world's goroutine.
type Writer struct {
	opts  WriteOptions
	zenc  *zstd.Encoder
	cbuf  bytes.Buffer  // one component's CBOR
	cenc  *cbor.Encoder // writes into cbuf
	raw   []byte        // the open chunk's records
	comp  []byte        // the compressed chunk
	tbuf  []Timer       // the timers of the entity being written
	comps []compValue   // the components of the entity being written
	akeys []string      // the root attribute keys of the entity being written

	// The open chunk's state (version 2 records): the previous record's
	// ID, the key sets defined (by hash of their keys), and each type's
	// last key set.
	prevID   uint64
	sets     [][]string
	setsByH  map[uint64][]int32
	lastSet  []int32
	hseed    maphash.Seed
	spaceIdx map[ecs.EntityID]uint64 // the file's spaces, in file order
	// names: write type and component names instead of header indices
	// (EntityCodec's self-describing records).
	names bool
	// v1: write format version 1 (for the tests of reading it).
	v1 bool
	// flat: per component index, the codec of a flat component type.
	flat []*flatCodec
}

type compValue struct {
	idx int
	v   any
}

// NewWriter returns a Writer with opts.
func NewWriter(opts WriteOptions) (*Writer, error) {
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = DefaultChunkBytes
	}
	if opts.ChunkBytes > DefaultMaxChunkBytes/2 {
		return nil, fmt.Errorf("snapshot: chunk size %d above %d", opts.ChunkBytes, DefaultMaxChunkBytes/2)
	}
	if opts.Level == 0 {
		opts.Level = zstd.SpeedFastest
	}
	// No zstd checksum: every chunk carries a CRC32C of its compressed
	// bytes and its decompressed length, which the reader checks; the
	// frame's xxhash would cost a third of the compression time.
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(opts.Level), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(windowFor(opts.ChunkBytes)), zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("snapshot: zstd encoder: %w", err)
	}
	em, err := componentEncOptions().EncMode()
	if err != nil {
		return nil, fmt.Errorf("snapshot: cbor encoder: %w", err)
	}
	wr := &Writer{opts: opts, zenc: zenc}
	wr.cenc = em.NewEncoder(&wr.cbuf)
	return wr, nil
}

// windowFor is the zstd window for chunks of n bytes: a power of two that
// covers the chunk, so a chunk compresses as one piece.
func windowFor(n int) int {
	w := zstd.MinWindowSize
	for w < n && w < zstd.MaxWindowSize {
		w <<= 1
	}
	return w
}

// componentEncOptions is how components are encoded: the shortest exact
// floats, sorted map keys (a snapshot of the same world is the same
// bytes), times as RFC 3339 text (no tags, which the reader would refuse
// in attributes anyway).
func componentEncOptions() cbor.EncOptions {
	return cbor.EncOptions{
		Sort:          cbor.SortCoreDeterministic,
		ShortestFloat: cbor.ShortestFloat16,
		Time:          cbor.TimeRFC3339Nano,
		IndefLength:   cbor.IndefLengthForbidden,
	}
}

// WriteFile writes the snapshot of w and st to path atomically: into a
// temporary file in the same directory, synced, renamed over path, and the
// directory synced. Until the rename an existing file at path is
// untouched; on error the temporary file is removed and path is as it was.
func (wr *Writer) WriteFile(path string, w *ecs.World, st *State) (*WriteInfo, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("snapshot: write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) (*WriteInfo, error) {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("snapshot: write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	info, err := wr.Encode(bw, w, st)
	if err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("snapshot: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("snapshot: write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		// The file is complete and in place; only its durability across a
		// power cut is in doubt.
		return info, fmt.Errorf("snapshot: write %s: sync directory: %w", path, err)
	}
	return info, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteFile writes a snapshot with a new Writer (see Writer.WriteFile).
func WriteFile(path string, w *ecs.World, st *State, opts WriteOptions) (*WriteInfo, error) {
	wr, err := NewWriter(opts)
	if err != nil {
		return nil, err
	}
	return wr.WriteFile(path, w, st)
}

// schemaOf builds the header's schema from a registry.
func schemaOf(reg *ecs.Registry) (comps []ecs.Component, h Header) {
	comps = reg.Components()
	cidx := make(map[string]uint32, len(comps))
	for i, c := range comps {
		s := ShapeOf(c.Type())
		h.Components = append(h.Components, ComponentSchema{Name: c.Name(), Fingerprint: s.Fingerprint(), Shape: s})
		cidx[c.Name()] = uint32(i)
	}
	for _, t := range reg.Types() {
		ts := TypeSchema{Name: t.Name(), Space: t.IsSpace(), AOIRadius: t.AOIRadius()}
		for _, c := range t.Components() {
			ts.Components = append(ts.Components, cidx[c.Name()])
		}
		slices.Sort(ts.Components)
		h.Types = append(h.Types, ts)
	}
	return comps, h
}

// Encode writes the snapshot of w and st to dst: spaces first (so that
// entities can enter them on restore), then every other entity, in
// EntityID order. It fails, having written part of a file, if a
// component does not encode or an attribute holds a value that is not an
// attribute value; WriteFile never leaves such a part behind.
func (wr *Writer) Encode(dst io.Writer, w *ecs.World, st *State) (*WriteInfo, error) {
	if w == nil || st == nil {
		return nil, errors.New("snapshot: nil world or state")
	}
	if bad := checkGameState(st.Observers, st.Services); bad != "" {
		return nil, fmt.Errorf("snapshot: state: %s", bad)
	}
	wr.raw = wr.raw[:0] // a failed Encode may have left a chunk behind
	defer wr.release()
	comps, h := schemaOf(w.Registry())
	wr.flat = flatCodecs(comps)
	typeIdx := make(map[*ecs.EntityType]int, len(h.Types))
	for i, ts := range h.Types {
		t, _ := w.Registry().Type(ts.Name)
		typeIdx[t] = i
	}
	cw := &countWriter{w: dst}
	info := &WriteInfo{}

	// Timers are grouped by entity through a sorted index (4 bytes a
	// timer) rather than a sorted copy of them.
	timers := st.Timers
	if len(timers) > math.MaxInt32 {
		return nil, fmt.Errorf("snapshot: %d timers", len(timers))
	}
	order := make([]int32, len(timers))
	for i := range order {
		order[i] = int32(i)
	}
	byEntity := func(a, b int32) int {
		ta, tb := &timers[a], &timers[b]
		if c := cmp.Compare(ta.Entity, tb.Entity); c != 0 {
			return c
		}
		return cmp.Compare(ta.ID, tb.ID)
	}
	if !slices.IsSortedFunc(order, byEntity) { // timers made per entity often are
		slices.SortFunc(order, byEntity)
	}
	// The entities are walked in ID order (spaces first), so a cursor
	// finds each one's timers; a space, or an entity before the cursor,
	// is looked up.
	next := 0
	timersOf := func(id ecs.EntityID) []Timer {
		i := next
		if i >= len(order) || timers[order[i]].Entity > id || (i > 0 && timers[order[i-1]].Entity >= id) {
			i, _ = slices.BinarySearchFunc(order, id, func(x int32, id ecs.EntityID) int { return cmp.Compare(timers[x].Entity, id) })
		}
		for i < len(order) && timers[order[i]].Entity < id {
			i++
		}
		wr.tbuf = wr.tbuf[:0]
		for ; i < len(order) && timers[order[i]].Entity == id; i++ {
			wr.tbuf = append(wr.tbuf, timers[order[i]])
		}
		next = i
		return wr.tbuf
	}

	spaces := w.Spaces()
	wr.spaceIdx = make(map[ecs.EntityID]uint64, len(spaces))
	for i, s := range spaces {
		wr.spaceIdx[s.ID()] = uint64(i)
	}
	wr.lastSet = make([]int32, len(h.Types))
	wr.resetChunk()
	for t, i := range typeIdx {
		h.Types[i].Entities = uint64(w.Count(t))
	}
	for i, t := range timers {
		if t.ID == 0 {
			return nil, fmt.Errorf("snapshot: timer %s on %s: ID 0", t.Method, t.Entity)
		}
		if i > 0 && timers[order[i]].Entity == timers[order[i-1]].Entity && timers[order[i]].ID == timers[order[i-1]].ID {
			return nil, fmt.Errorf("snapshot: timer %d on %s twice", timers[order[i]].ID, timers[order[i]].Entity)
		}
	}
	// The timers whose entity exists, for the header: a merge of the
	// timers in entity order with the entities in ID order (a lookup per
	// timer missed the cache every time).
	if len(order) > 0 {
		j := 0
		w.Each(func(e *ecs.Entity) bool {
			id := e.ID()
			for j < len(order) && timers[order[j]].Entity < id {
				j++
			}
			for j < len(order) && timers[order[j]].Entity == id {
				info.Timers++
				j++
			}
			return j < len(order)
		})
	}
	info.DroppedTimers = len(timers) - info.Timers
	info.Spaces = len(spaces)
	info.Entities = w.Len()

	h.Version = Version
	if wr.v1 {
		h.Version = 1
	}
	h.GameID = st.GameID
	h.Tick = st.Tick
	wall := st.Time
	if wall.IsZero() {
		wall = time.Now()
	}
	h.UnixNano = wall.UnixNano()
	if ids := w.IDs(); ids != nil {
		h.LastID = ids.Last()
	}
	h.NextTimerID = st.NextTimerID
	h.Observers = st.Observers
	h.Services = st.Services
	h.Entities = uint64(info.Entities)
	h.Spaces = uint64(info.Spaces)
	h.Timers = uint64(info.Timers)

	hb, err := cbor.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("snapshot: header: %w", err)
	}
	var pre [preambleLen]byte
	putPreamble(pre[:], h.Version, uint32(len(hb)))
	hb = append(hb, 0, 0, 0, 0)
	putU32(hb[len(hb)-4:], crc(hb[:len(hb)-4]))
	if _, err := cw.Write(pre[:]); err != nil {
		return nil, fmt.Errorf("snapshot: write: %w", err)
	}
	if _, err := cw.Write(hb); err != nil {
		return nil, fmt.Errorf("snapshot: write: %w", err)
	}

	bw := bodyWriter{wr: wr, dst: cw}
	bw.bodyCRC = crc(nil)
	var werr error
	write := func(e *ecs.Entity) bool {
		if werr = bw.entity(e, typeIdx[e.Type()], comps, timersOf(e.ID()), st.Tick); werr != nil {
			werr = fmt.Errorf("snapshot: entity %s: %w", e, werr)
			return false
		}
		return true
	}
	for _, s := range spaces {
		if !write(s) {
			return nil, werr
		}
	}
	w.Each(func(e *ecs.Entity) bool { return e.IsSpace() || write(e) })
	if werr != nil {
		return nil, werr
	}
	if err := bw.flush(); err != nil {
		return nil, err
	}
	var tr [trailerLen]byte
	putTrailer(tr[:], bw.seq, bw.records, bw.bodyCRC)
	if _, err := cw.Write(tr[:]); err != nil {
		return nil, fmt.Errorf("snapshot: write: %w", err)
	}
	info.Chunks = int(bw.seq)
	info.Bytes = cw.n
	return info, nil
}

// release drops the references the scratch buffers hold into the world,
// so a Writer kept for the next snapshot does not keep values alive.
func (wr *Writer) release() {
	clear(wr.tbuf)
	wr.tbuf = wr.tbuf[:0]
	clear(wr.comps)
	wr.comps = wr.comps[:0]
	clear(wr.akeys)
	wr.akeys = wr.akeys[:0]
	wr.resetChunk()
	wr.spaceIdx = nil
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// bodyWriter fills chunks with records and writes them out.
type bodyWriter struct {
	wr      *Writer
	dst     io.Writer
	seq     uint32 // chunks written
	inChunk uint32 // records in the open chunk
	records uint64
	bodyCRC uint32
}

func (bw *bodyWriter) flush() error {
	wr := bw.wr
	if bw.inChunk == 0 {
		return nil
	}
	wr.comp = wr.zenc.EncodeAll(wr.raw, wr.comp[:0])
	h := chunkHead{seq: bw.seq, records: bw.inChunk, rawLen: uint32(len(wr.raw)), compLen: uint32(len(wr.comp)), dataCRC: crc(wr.comp)}
	var hb [chunkHeadLen]byte
	h.put(hb[:])
	if _, err := bw.dst.Write(hb[:]); err != nil {
		return fmt.Errorf("snapshot: write: %w", err)
	}
	if _, err := bw.dst.Write(wr.comp); err != nil {
		return fmt.Errorf("snapshot: write: %w", err)
	}
	var cb [4]byte
	putU32(cb[:], h.dataCRC)
	bw.bodyCRC = crc32Update(bw.bodyCRC, cb[:])
	bw.seq++
	bw.inChunk = 0
	wr.raw = wr.raw[:0]
	wr.resetChunk()
	return nil
}

// resetChunk forgets the open chunk's state: each chunk is read on its
// own.
func (wr *Writer) resetChunk() {
	wr.prevID = 0
	for _, ks := range wr.sets {
		clear(ks)
	}
	wr.sets = wr.sets[:0]
	if wr.setsByH == nil {
		wr.setsByH = make(map[uint64][]int32)
		wr.hseed = maphash.MakeSeed()
	}
	clear(wr.setsByH)
	for i := range wr.lastSet {
		wr.lastSet[i] = -1
	}
}

// entity appends e's record to the open chunk, closing the chunk when it
// is full. A record that fails to encode leaves the chunk as it was.
func (bw *bodyWriter) entity(e *ecs.Entity, typ int, comps []ecs.Component, timers []Timer, tick uint64) error {
	wr := bw.wr
	start := len(wr.raw)
	prevID, nSets := wr.prevID, len(wr.sets)
	b, err := wr.appendEntity(wr.raw, e, typ, comps, timers, tick)
	if err != nil {
		wr.raw = wr.raw[:start]
		wr.prevID = prevID
		wr.dropSets(nSets)
		return err
	}
	if len(b)-start > DefaultMaxChunkBytes/2 {
		wr.raw = b[:start]
		wr.prevID = prevID
		wr.dropSets(nSets)
		return fmt.Errorf("record of %d bytes above the limit of %d", len(b)-start, DefaultMaxChunkBytes/2)
	}
	wr.raw = b
	bw.inChunk++
	bw.records++
	if len(wr.raw) >= wr.opts.ChunkBytes {
		return bw.flush()
	}
	return nil
}

// dropSets forgets the key sets defined after the first n (by a record
// that failed).
func (wr *Writer) dropSets(n int) {
	if len(wr.sets) == n {
		return
	}
	for _, ks := range wr.sets[n:] {
		h := wr.hashKeys(ks)
		idx := slices.DeleteFunc(wr.setsByH[h], func(i int32) bool { return int(i) >= n })
		if len(idx) == 0 {
			delete(wr.setsByH, h)
		} else {
			wr.setsByH[h] = idx
		}
	}
	for i := range wr.lastSet {
		if int(wr.lastSet[i]) >= n {
			wr.lastSet[i] = -1
		}
	}
	wr.sets = wr.sets[:n]
}

func (wr *Writer) hashKeys(keys []string) uint64 {
	var h maphash.Hash
	h.SetSeed(wr.hseed)
	for _, k := range keys {
		h.WriteString(k)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// keySet returns the number of the chunk's key set equal to keys, and
// whether this record defines it; -1 when the chunk has no room for
// another set (the attributes are then written as a map).
func (wr *Writer) keySet(typ int, keys []string) (int, bool) {
	if i := wr.lastSet[typ]; i >= 0 && slices.Equal(wr.sets[i], keys) {
		return int(i), false
	}
	h := wr.hashKeys(keys)
	for _, i := range wr.setsByH[h] {
		if slices.Equal(wr.sets[i], keys) {
			wr.lastSet[typ] = i
			return int(i), false
		}
	}
	if len(wr.sets) >= maxKeySets {
		return -1, false
	}
	i := int32(len(wr.sets))
	wr.sets = append(wr.sets, slices.Clone(keys))
	wr.setsByH[h] = append(wr.setsByH[h], i)
	wr.lastSet[typ] = i
	return int(i), true
}

func appendVec(b []byte, v ecs.Vec3) []byte {
	b = append(b, majArray<<5|3)
	b = appendFloat32(b, v.X)
	b = appendFloat32(b, v.Y)
	return appendFloat32(b, v.Z)
}

// appendEntity appends the record of e (see the key constants).
func (wr *Writer) appendEntity(b []byte, e *ecs.Entity, typ int, comps []ecs.Component, timers []Timer, tick uint64) ([]byte, error) {
	wr.comps = wr.comps[:0]
	for i, c := range comps {
		if v, ok := c.GetAny(e); ok {
			wr.comps = append(wr.comps, compValue{i, v})
		}
	}
	t := e.Type()
	space := e.Space()
	dest, hasDest := e.Destination()
	client := e.Client()
	attrs := e.Attrs()
	var removed []string
	if wr.names {
		for _, c := range t.Components() {
			if _, ok := c.GetAny(e); !ok {
				removed = append(removed, c.Name())
			}
		}
	}
	n := 3 // id, type, pos
	var zero ecs.Vec3
	present := [maxRecordKey + 1]bool{
		keySpace:   space != nil,
		keyYaw:     e.Yaw() != 0,
		keyAOI:     e.AOIRadius() != t.AOIRadius(),
		keyVel:     e.Velocity() != zero,
		keyDest:    hasDest,
		keySpeed:   hasDest,
		keyGate:    client.Bound(),
		keyClient:  client.Bound(),
		keyComps:   len(wr.comps) > 0,
		keyAttrs:   attrs.Len() > 0,
		keyTimers:  len(timers) > 0,
		keyRemoved: len(removed) > 0,
	}
	for _, p := range present {
		if p {
			n++
		}
	}
	b = appendHead(b, majMap, uint64(n))
	b = appendHead(b, majUint, keyID)
	if wr.names || wr.v1 {
		b = appendHead(b, majUint, uint64(e.ID()))
	} else {
		b = appendInt(b, int64(uint64(e.ID())-wr.prevID))
		wr.prevID = uint64(e.ID())
	}
	b = appendHead(b, majUint, keyType)
	if wr.names {
		b = appendText(b, t.Name())
	} else {
		b = appendHead(b, majUint, uint64(typ))
	}
	if present[keySpace] {
		b = appendHead(b, majUint, keySpace)
		if wr.names || wr.v1 {
			b = appendHead(b, majUint, uint64(space.ID()))
		} else {
			i, ok := wr.spaceIdx[space.ID()]
			if !ok {
				return b, fmt.Errorf("in space %s, which is not in the world", space)
			}
			b = appendHead(b, majUint, i)
		}
	}
	b = appendHead(b, majUint, keyPos)
	b = appendVec(b, e.Pos())
	if present[keyYaw] {
		b = appendHead(b, majUint, keyYaw)
		b = appendFloat32(b, e.Yaw())
	}
	if present[keyAOI] {
		b = appendHead(b, majUint, keyAOI)
		b = appendFloat32(b, e.AOIRadius())
	}
	if present[keyVel] {
		b = appendHead(b, majUint, keyVel)
		b = appendVec(b, e.Velocity())
	}
	if hasDest {
		b = appendHead(b, majUint, keyDest)
		b = appendVec(b, dest)
		b = appendHead(b, majUint, keySpeed)
		b = appendFloat32(b, e.MoveSpeed())
	}
	if client.Bound() {
		b = appendHead(b, majUint, keyGate)
		b = appendHead(b, majUint, uint64(client.Gate))
		b = appendHead(b, majUint, keyClient)
		b = appendHead(b, majUint, uint64(client.Client))
	}
	if len(wr.comps) > 0 {
		b = appendHead(b, majUint, keyComps)
		b = appendHead(b, majMap, uint64(len(wr.comps)))
		for _, cv := range wr.comps {
			if wr.names {
				b = appendText(b, comps[cv.idx].Name())
			} else {
				b = appendHead(b, majUint, uint64(cv.idx))
			}
			if cv.idx < len(wr.flat) && wr.flat[cv.idx] != nil {
				b = wr.flat[cv.idx].appendFlat(b, cv.v)
				continue
			}
			wr.cbuf.Reset()
			if err := wr.cenc.Encode(cv.v); err != nil {
				return b, fmt.Errorf("component %s: %w", comps[cv.idx].Name(), err)
			}
			b = append(b, wr.cbuf.Bytes()...)
		}
	}
	if present[keyAttrs] {
		b = appendHead(b, majUint, keyAttrs)
		var err error
		if b, err = wr.appendRootAttrs(b, typ, attrs); err != nil {
			return b, err
		}
	}
	if len(timers) > 0 {
		b = appendHead(b, majUint, keyTimers)
		b = appendHead(b, majArray, uint64(len(timers)))
		for _, tm := range timers {
			after := uint64(1)
			if tm.Due > tick {
				after = tm.Due - tick
			}
			b = append(b, majArray<<5|5)
			b = appendHead(b, majUint, tm.ID)
			b = appendText(b, tm.Method)
			b = appendBytes(b, tm.Args)
			b = appendHead(b, majUint, after)
			b = appendHead(b, majUint, tm.Repeat)
		}
	}
	if len(removed) > 0 {
		b = appendHead(b, majUint, keyRemoved)
		b = appendHead(b, majArray, uint64(len(removed)))
		for _, name := range removed {
			b = appendText(b, name)
		}
	}
	return b, nil
}

// appendMap appends an attribute map, keys sorted (so equal worlds give
// equal bytes, and zstd sees the same key sequence again and again). A
// small MapAttr is kept sorted, so this is a straight walk.
func (wr *Writer) appendMap(b []byte, m *ecs.MapAttr, level int) ([]byte, error) {
	b = appendHead(b, majMap, uint64(m.Len()))
	var err error
	m.SortedRange(func(k string, v any) bool {
		b = appendText(b, k)
		if b, err = wr.appendAttr(b, v, level+1); err != nil {
			err = fmt.Errorf("attribute %q: %w", k, err)
			return false
		}
		return true
	})
	return b, err
}

// appendRootAttrs appends an entity's attributes: as [key set,
// values...] (see format.go), or as a map for self-describing records,
// large maps and a chunk out of key sets.
func (wr *Writer) appendRootAttrs(b []byte, typ int, m *ecs.MapAttr) ([]byte, error) {
	if wr.names || wr.v1 || m.Len() > maxSetKeys {
		return wr.appendMap(b, m, 0)
	}
	if p, ok := m.Packed(); ok {
		// Values restored and not used since: copied as they were read.
		wr.akeys = wr.akeys[:0]
		for i := range p.Len() {
			wr.akeys = append(wr.akeys, p.Key(i))
		}
		set, define := wr.keySet(typ, wr.akeys)
		if set >= 0 {
			return append(appendSetHead(b, set, define, wr.akeys), p.Encoded()...), nil
		}
	}
	keys, vals, ok := m.Sorted()
	if !ok { // not kept in order (m.Len() said it is small: cannot happen)
		return wr.appendMap(b, m, 0)
	}
	set, define := wr.keySet(typ, keys)
	if set < 0 {
		return wr.appendMap(b, m, 0)
	}
	b = appendSetHead(b, set, define, keys)
	var err error
	for i, v := range vals {
		if b, err = wr.appendAttr(b, v, 1); err != nil {
			return b, fmt.Errorf("attribute %q: %w", keys[i], err)
		}
	}
	return b, nil
}

// appendSetHead appends the head of root attributes in the form [key set,
// values...]: the array's head and the key set, defined here or named.
func appendSetHead(b []byte, set int, define bool, keys []string) []byte {
	b = appendHead(b, majArray, uint64(1+len(keys)))
	if !define {
		return appendHead(b, majUint, uint64(set))
	}
	b = appendHead(b, majArray, uint64(len(keys)))
	for _, k := range keys {
		b = appendText(b, k)
	}
	return b
}

// maxSetKeys is the most keys a key set has (ecs.AttrKeys' limit).
const maxSetKeys = 32

func (wr *Writer) appendAttr(b []byte, v any, level int) ([]byte, error) {
	switch x := v.(type) {
	case int64:
		return appendInt(b, x), nil
	case float64:
		return appendFloat64(b, x), nil
	case string:
		return appendText(b, x), nil
	case bool:
		return appendBool(b, x), nil
	case []byte:
		return appendBytes(b, x), nil
	case *ecs.MapAttr:
		return wr.appendMap(b, x, level)
	case *ecs.ListAttr:
		b = appendHead(b, majArray, uint64(x.Len()))
		for i := range x.Len() {
			ev, _ := x.Get(i)
			var err error
			if b, err = wr.appendAttr(b, ev, level+1); err != nil {
				return b, fmt.Errorf("index %d: %w", i, err)
			}
		}
		return b, nil
	}
	return b, fmt.Errorf("%w: %T", ecs.ErrAttrType, v)
}
