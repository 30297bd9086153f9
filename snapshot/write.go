package snapshot

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	pairs [][]attrPair  // attribute pairs, one slice per nesting level
	tbuf  []Timer       // the timers of the entity being written
	// lastKeys are the sorted root keys of the last entity written.
	lastKeys []string
	comps    []compValue // the components of the entity being written
	// names: write type and component names instead of header indices
	// (EntityCodec's self-describing records).
	names bool
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
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(opts.Level), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(windowFor(opts.ChunkBytes)))
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
	wr.raw = wr.raw[:0] // a failed Encode may have left a chunk behind
	wr.lastKeys = wr.lastKeys[:0]
	defer wr.release()
	comps, h := schemaOf(w.Registry())
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
	slices.SortFunc(order, func(a, b int32) int {
		ta, tb := &timers[a], &timers[b]
		if c := cmp.Compare(ta.Entity, tb.Entity); c != 0 {
			return c
		}
		return cmp.Compare(ta.ID, tb.ID)
	})
	timersOf := func(id ecs.EntityID) []Timer {
		i, _ := slices.BinarySearchFunc(order, id, func(x int32, id ecs.EntityID) int { return cmp.Compare(timers[x].Entity, id) })
		wr.tbuf = wr.tbuf[:0]
		for ; i < len(order) && timers[order[i]].Entity == id; i++ {
			wr.tbuf = append(wr.tbuf, timers[order[i]])
		}
		return wr.tbuf
	}

	spaces := w.Spaces()
	ecs.NewQuery().Each(w, func(e *ecs.Entity) { h.Types[typeIdx[e.Type()]].Entities++ })
	for i, t := range timers {
		if t.ID == 0 {
			return nil, fmt.Errorf("snapshot: timer %s on %s: ID 0", t.Method, t.Entity)
		}
		if i > 0 && timers[order[i]].Entity == timers[order[i-1]].Entity && timers[order[i]].ID == timers[order[i-1]].ID {
			return nil, fmt.Errorf("snapshot: timer %d on %s twice", timers[order[i]].ID, timers[order[i]].Entity)
		}
		if _, ok := w.Entity(t.Entity); ok {
			info.Timers++
		}
	}
	info.DroppedTimers = len(timers) - info.Timers
	info.Spaces = len(spaces)
	info.Entities = w.Len()

	h.Version = Version
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
	h.Entities = uint64(info.Entities)
	h.Spaces = uint64(info.Spaces)
	h.Timers = uint64(info.Timers)

	hb, err := cbor.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("snapshot: header: %w", err)
	}
	var pre [preambleLen]byte
	putPreamble(pre[:], Version, uint32(len(hb)))
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
	clear(wr.lastKeys)
	wr.lastKeys = wr.lastKeys[:0]
	for _, p := range wr.pairs {
		clear(p[:cap(p)])
	}
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
	return nil
}

// entity appends e's record to the open chunk, closing the chunk when it
// is full. A record that fails to encode leaves the chunk as it was.
func (bw *bodyWriter) entity(e *ecs.Entity, typ int, comps []ecs.Component, timers []Timer, tick uint64) error {
	wr := bw.wr
	start := len(wr.raw)
	b, err := wr.appendEntity(wr.raw, e, typ, comps, timers, tick)
	if err != nil {
		wr.raw = wr.raw[:start]
		return err
	}
	if len(b)-start > DefaultMaxChunkBytes/2 {
		wr.raw = b[:start]
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
	b = appendHead(b, majUint, uint64(e.ID()))
	b = appendHead(b, majUint, keyType)
	if wr.names {
		b = appendText(b, t.Name())
	} else {
		b = appendHead(b, majUint, uint64(typ))
	}
	if present[keySpace] {
		b = appendHead(b, majUint, keySpace)
		b = appendHead(b, majUint, uint64(space.ID()))
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
		if b, err = wr.appendMap(b, attrs, 0); err != nil {
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
// equal bytes, and zstd sees the same key sequence again and again).
// Entities of a game mostly have the same root keys: when an entity has
// exactly the keys of the previous one, their sorted order is reused
// instead of sorting again.
func (wr *Writer) appendMap(b []byte, m *ecs.MapAttr, level int) ([]byte, error) {
	if level == 0 && m.Len() == len(wr.lastKeys) && len(wr.lastKeys) > 0 {
		same := true
		for _, k := range wr.lastKeys {
			if !m.Has(k) {
				same = false
				break
			}
		}
		if same {
			b = appendHead(b, majMap, uint64(len(wr.lastKeys)))
			for _, k := range wr.lastKeys {
				v, _ := m.Get(k)
				b = appendText(b, k)
				var err error
				if b, err = wr.appendAttr(b, v, 1); err != nil {
					return b, fmt.Errorf("attribute %q: %w", k, err)
				}
			}
			return b, nil
		}
	}
	for level >= len(wr.pairs) {
		wr.pairs = append(wr.pairs, nil)
	}
	pairs := wr.pairs[level][:0]
	m.Range(func(k string, v any) bool {
		pairs = append(pairs, attrPair{k, v})
		return true
	})
	slices.SortFunc(pairs, func(a, b attrPair) int { return strings.Compare(a.k, b.k) })
	wr.pairs[level] = pairs
	if level == 0 {
		wr.lastKeys = wr.lastKeys[:0]
		for _, p := range pairs {
			wr.lastKeys = append(wr.lastKeys, p.k)
		}
	}
	b = appendHead(b, majMap, uint64(len(pairs)))
	for i := range pairs {
		p := &wr.pairs[level][i]
		b = appendText(b, p.k)
		var err error
		if b, err = wr.appendAttr(b, p.v, level+1); err != nil {
			return b, fmt.Errorf("attribute %q: %w", p.k, err)
		}
	}
	clear(pairs) // keep no values alive between snapshots
	return b, nil
}

type attrPair struct {
	k string
	v any
}

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
