package snapshot

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"

	"github.com/fxamacker/cbor/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/ecsworld/ecsworld/ecs"
)

// ReadOptions bounds what a Reader accepts. The zero value is the default.
type ReadOptions struct {
	// MaxHeaderBytes bounds the CBOR header (DefaultMaxHeaderBytes if 0).
	MaxHeaderBytes int
	// MaxChunkBytes bounds a chunk, compressed and decompressed, and so
	// the largest entity record (DefaultMaxChunkBytes if 0).
	MaxChunkBytes int
}

// Restored is a snapshot read back.
type Restored struct {
	Header Header
	// World holds every entity of the snapshot with its ID, type, space,
	// position, movement, AOI radius, components, attributes and client
	// binding. Entities were created with CreateOptions.Restore: no hook
	// ran, and the world's per-tick lists record the space joins (see the
	// package doc for what the game does next). Nil from Verify.
	World *ecs.World
	// Timers are the snapshot's timers with absolute due ticks, sorted by
	// ID, for systems.Timers.Restore (which orders them by due tick).
	Timers []Timer
	// Warnings are what this binary could not keep: components it does
	// not register, fields its component types no longer have, timers
	// calling methods its types no longer have.
	Warnings []Warning
}

// Warning is something of the snapshot this binary drops.
type Warning struct {
	Component string // the component concerned, or ""
	Field     string // the field path within it, for a dropped field
	Method    string // "type.method" of timers whose method is gone
	Entities  int    // how many entities had it (for timers: how many timers)
}

// String says what is dropped and how much.
func (w Warning) String() string {
	switch {
	case w.Method != "":
		return fmt.Sprintf("%d timers call method %s, which no longer exists: they will fail when due", w.Entities, w.Method)
	case w.Field != "":
		return fmt.Sprintf("component %q field %s no longer exists: its values are dropped", w.Component, w.Field)
	}
	return fmt.Sprintf("component %q is not registered: dropped from %d entities", w.Component, w.Entities)
}

// Reader reads snapshots. It keeps its zstd decoder, CBOR decoders and
// buffers between chunks and snapshots, so its own memory is bounded by
// one chunk (ReadOptions.MaxChunkBytes), not by the world. A Reader is not
// safe for concurrent use.
type Reader struct {
	opts ReadOptions
	zdec *zstd.Decoder
	hdm  cbor.DecMode // header
	dm   cbor.DecMode // components
	comp []byte
	raw  []byte
	rec  record
}

// NewReader returns a Reader with opts.
func NewReader(opts ReadOptions) (*Reader, error) {
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.MaxChunkBytes <= 0 {
		opts.MaxChunkBytes = DefaultMaxChunkBytes
	}
	zdec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(uint64(opts.MaxChunkBytes)), zstd.WithDecoderMaxWindow(uint64(windowFor(opts.MaxChunkBytes))))
	if err != nil {
		return nil, fmt.Errorf("snapshot: zstd decoder: %w", err)
	}
	hdm, err := cbor.DecOptions{
		MaxNestedLevels:  maxHeaderNesting,
		MaxArrayElements: 1 << 16,
		MaxMapPairs:      1 << 16,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
	}.DecMode()
	if err != nil {
		return nil, fmt.Errorf("snapshot: cbor header decoder: %w", err)
	}
	dm, err := componentDecOptions().DecMode()
	if err != nil {
		return nil, fmt.Errorf("snapshot: cbor decoder: %w", err)
	}
	return &Reader{opts: opts, zdec: zdec, hdm: hdm, dm: dm}, nil
}

// componentDecOptions bound the decoding of components. A chunk is at
// most MaxChunkBytes, which bounds every length in it too.
func componentDecOptions() cbor.DecOptions {
	return cbor.DecOptions{
		MaxNestedLevels:  maxValueNesting,
		MaxArrayElements: 1 << 24,
		MaxMapPairs:      1 << 24,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
	}
}

// maxReserve bounds the entities of one type the reader prepares the new
// world for from the header's count, before the records confirm it
// (about 50 MB of tables at most).
const maxReserve = 1 << 20

// maxValueNesting bounds the nesting of a component value (and is what
// the record reader allows when it steps over one).
const maxValueNesting = 32

// ReadFile reads the snapshot at path into a new world made from reg and
// wopts (see Decode).
func (rd *Reader) ReadFile(path string, reg *ecs.Registry, wopts ecs.WorldOptions) (*Restored, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot: read: %w", err)
	}
	defer f.Close()
	return rd.Decode(bufio.NewReaderSize(f, 256<<10), reg, wopts)
}

// ReadFile reads a snapshot with a new Reader (see Reader.ReadFile).
func ReadFile(path string, reg *ecs.Registry, wopts ecs.WorldOptions, opts ReadOptions) (*Restored, error) {
	rd, err := NewReader(opts)
	if err != nil {
		return nil, err
	}
	return rd.ReadFile(path, reg, wopts)
}

// Decode reads a snapshot from src and restores it into a new world
// created with ecs.NewWorld(reg, wopts) (which freezes reg). The schema is
// checked against reg before any entity is made; every chunk is checked
// (length, checksum, decode limits) before its records are used; and the
// new world is returned only when the whole file, trailer included, was
// read and checked. On error nothing is returned and whatever was built
// is garbage; the only lasting effects are that reg is frozen (by
// NewWorld) and that wopts.IDs may have moved forward.
//
// Errors wrap ErrEmpty, ErrNotSnapshot, ErrTooNew, ErrTruncated or
// ErrCorrupt (as a *FormatError saying where), or ErrSchema (as a
// *SchemaError naming the component, field or type).
//
// If wopts.IDs is the same game's generator, it resumes after the
// snapshot's last ID (restoring an entity resumes it past that entity's
// ID, so a failed Decode may have moved it forward, never back).
func (rd *Reader) Decode(src io.Reader, reg *ecs.Registry, wopts ecs.WorldOptions) (*Restored, error) {
	if reg == nil {
		return nil, errors.New("snapshot: decode: nil registry")
	}
	return rd.decode(src, reg, &wopts)
}

// Verify reads and checks a whole snapshot without building a world:
// framing, checksums and every record. With reg it also checks the schema
// against reg and decodes every component value into its type; with a nil
// reg only the file itself is checked. The Restored has no World.
func (rd *Reader) Verify(src io.Reader, reg *ecs.Registry) (*Restored, error) {
	return rd.decode(src, reg, nil)
}

// decoder is the state of one Decode.
type decoder struct {
	rd  *Reader
	src io.Reader
	off int64 // file offset of the next byte of src
	h   Header
	out *Restored

	w        *ecs.World // nil: verify only
	packer   ecs.AttrPacker
	comps    []ecs.Component
	types    []*ecs.EntityType
	holders  []any           // per component index: a reused *T for the type's own components
	held     []reflect.Value // beside holders: the T each points to
	heldPtrs [][]any         // for a flat holder: its fields' pointers (flatCodec.fieldPtrs)
	flat     []*flatCodec    // per component index: the codec of a flat component type
	had      [][]bool
	dropped  []int // per component index: entities whose value was dropped
	byType   []uint64
	spaces   uint64
	gone     map[string]int // "type.method" → timers
	strs     internTable
	nums     []boxedNum      // numbers' shared boxes (see numValue), made on first use
	rootKeys []*ecs.AttrKeys // per type index: the last root key set seen
	keys     [][]string      // attribute map scratch, per level
	vals     [][]any
	args     map[string][]byte
	// lastTimer: the method and arguments of the previous timer read.
	lastTimer Timer
	// timersOutOfOrder: a timer's ID was not above the previous one's
	// (finish then sorts and looks for repeats).
	timersOutOfOrder bool
	valSlab          []any // see takeVals
	// lastMethod: the type and method of the last timer checked in apply.
	lastMethodType *ecs.EntityType
	lastMethod     string

	// Version 2 records: the previous record's ID in the chunk, the
	// chunk's key sets and the previous chunk's, and the spaces so far.
	v2             bool
	prevID         uint64
	sets, lastSets []*ecs.AttrKeys
	spaceIDs       []ecs.EntityID
	spaceEnts      []*ecs.Entity
	// Intern misses per key of each key set (see textValue), and the
	// last set looked up.
	missBySet   map[*ecs.AttrKeys][]uint8
	lastMissSet *ecs.AttrKeys
	lastMiss    []uint8

	// names: records name their type and components (EntityCodec);
	// standalone: one record, not in a file (no space, no counts).
	names, standalone bool
	typeByName        map[string]int
	compByName        map[string]int
	unknown           []string // component names not registered (names mode)

	seq     uint32
	records uint64
	bodyCRC uint32
	section string
}

func (d *decoder) ferr(kind error, detail string, cause error) *FormatError {
	return &FormatError{Kind: kind, Section: d.section, Offset: d.off, Record: -1, Detail: detail, Err: cause}
}

// readFull reads len(p) bytes; running out is ErrTruncated.
func (d *decoder) readFull(p []byte, what string) error {
	n, err := io.ReadFull(d.src, p)
	d.off += int64(n)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return d.ferr(ErrTruncated, fmt.Sprintf("file ends %d bytes into the %d of %s", n, len(p), what), nil)
	}
	return d.ferr(ErrTruncated, "reading "+what, err) // an I/O error: the rest cannot be had
}

func (rd *Reader) decode(src io.Reader, reg *ecs.Registry, wopts *ecs.WorldOptions) (*Restored, error) {
	d := &decoder{rd: rd, src: src, out: &Restored{}}
	if err := d.preambleAndHeader(); err != nil {
		return nil, err
	}
	d.out.Header = d.h
	d.rootKeys = make([]*ecs.AttrKeys, len(d.h.Types))
	d.v2 = d.h.Version >= 2
	d.out.Timers = make([]Timer, 0, min(d.h.Timers, maxReserve)) // the header may lie; grow past that
	if reg != nil {
		if err := d.resolve(reg); err != nil {
			return nil, err
		}
		if wopts != nil {
			d.w = ecs.NewWorld(reg, *wopts)
			// The world's tables grow once and donburi makes entities in
			// batches. The header's counts are checked only at the end, so
			// what a lying header can make the reader reserve is bounded.
			for i, t := range d.types {
				if t != nil {
					d.w.Reserve(t, int(min(d.h.Types[i].Entities, maxReserve)))
				}
			}
			defer d.w.Unreserve()
		}
	}
	if err := d.body(); err != nil {
		return nil, err
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if d.w != nil {
		if ids := d.w.IDs(); ids != nil && ids.Node() == d.h.GameID {
			ids.Resume(d.h.LastID)
		}
	}
	d.out.World = d.w
	return d.out, nil
}

func (d *decoder) preambleAndHeader() error {
	d.section = "preamble"
	var pre [preambleLen]byte
	n, err := io.ReadFull(d.src, pre[:])
	d.off = int64(n)
	if n == 0 && errors.Is(err, io.EOF) {
		return d.ferr(ErrEmpty, "no bytes", nil)
	}
	if m := min(n, len(Magic)); string(pre[:m]) != Magic[:m] {
		return d.ferr(ErrNotSnapshot, fmt.Sprintf("starts with %q, want %q", pre[:m], Magic), nil)
	}
	if err != nil {
		return d.ferr(ErrTruncated, fmt.Sprintf("file ends %d bytes into the %d-byte preamble", n, preambleLen), nil)
	}
	if got, want := binary.BigEndian.Uint32(pre[16:]), crc(pre[:16]); got != want {
		return d.ferr(ErrCorrupt, fmt.Sprintf("preamble checksum %08x, computed %08x", got, want), nil)
	}
	d.h.Version = binary.BigEndian.Uint16(pre[8:])
	switch {
	case d.h.Version > Version || binary.BigEndian.Uint16(pre[10:]) != 0:
		return d.ferr(ErrTooNew, fmt.Sprintf("format version %d (flags %#x); this binary reads up to %d", d.h.Version, binary.BigEndian.Uint16(pre[10:]), Version), nil)
	case d.h.Version == 0:
		return d.ferr(ErrCorrupt, "format version 0", nil)
	}
	hlen := binary.BigEndian.Uint32(pre[12:])
	d.section = "header"
	if uint64(hlen) > uint64(d.rd.opts.MaxHeaderBytes) {
		return d.ferr(ErrCorrupt, fmt.Sprintf("header of %d bytes above the limit of %d", hlen, d.rd.opts.MaxHeaderBytes), nil)
	}
	hb := make([]byte, int(hlen)+4)
	if err := d.readFull(hb, "header"); err != nil {
		return err
	}
	d.off -= int64(len(hb))
	body := hb[:hlen]
	if got, want := binary.BigEndian.Uint32(hb[hlen:]), crc(body); got != want {
		return d.ferr(ErrCorrupt, fmt.Sprintf("header checksum %08x, computed %08x", got, want), nil)
	}
	v := d.h.Version
	if err := d.rd.hdm.Unmarshal(body, &d.h); err != nil {
		return d.ferr(ErrCorrupt, "header does not decode", err)
	}
	d.h.Version = v
	if err := d.checkHeader(); err != nil {
		return err
	}
	d.off += int64(len(hb))
	return nil
}

// checkHeader checks the header's own consistency.
func (d *decoder) checkHeader() error {
	h := &d.h
	names := make(map[string]bool, len(h.Components))
	for i, c := range h.Components {
		if c.Shape == nil || c.Shape.Fingerprint() != c.Fingerprint {
			return d.ferr(ErrCorrupt, fmt.Sprintf("component %d %q: shape does not match its fingerprint", i, c.Name), nil)
		}
		if names[c.Name] {
			return d.ferr(ErrCorrupt, fmt.Sprintf("component %q listed twice", c.Name), nil)
		}
		names[c.Name] = true
	}
	clear(names)
	var total, spaces uint64
	for _, t := range h.Types {
		if names[t.Name] {
			return d.ferr(ErrCorrupt, fmt.Sprintf("entity type %q listed twice", t.Name), nil)
		}
		names[t.Name] = true
		for _, ci := range t.Components {
			if int(ci) >= len(h.Components) {
				return d.ferr(ErrCorrupt, fmt.Sprintf("entity type %q: component index %d of %d", t.Name, ci, len(h.Components)), nil)
			}
		}
		if total+t.Entities < total {
			return d.ferr(ErrCorrupt, "entity counts overflow", nil)
		}
		total += t.Entities
		if t.Space {
			spaces += t.Entities
		}
	}
	d.byType = make([]uint64, len(h.Types))
	if total != h.Entities || spaces != h.Spaces {
		return d.ferr(ErrCorrupt, fmt.Sprintf("%d entities and %d spaces, but the types count %d and %d", h.Entities, h.Spaces, total, spaces), nil)
	}
	if bad := checkGameState(h.Observers, h.Services); bad != "" {
		return d.ferr(ErrCorrupt, bad, nil)
	}
	return nil
}

// checkGameState describes what is wrong with a header's observers and
// services ("" if nothing): the writer refuses to save such a state and
// the reader to restore it.
func checkGameState(obs []Observer, svcs []Service) string {
	for i, o := range obs {
		if o.Gate == 0 || o.Client == 0 {
			return fmt.Sprintf("observer %d: gate %d, client %d (neither may be 0)", i, o.Gate, o.Client)
		}
	}
	names := make(map[string]bool, len(svcs))
	for i, sv := range svcs {
		switch {
		case sv.Name == "" || len(sv.Name) > MaxServiceName:
			return fmt.Sprintf("service %d: name of %d bytes (1 to %d)", i, len(sv.Name), MaxServiceName)
		case sv.Entity == 0:
			return fmt.Sprintf("service %q: entity 0", sv.Name)
		case names[sv.Name]:
			return fmt.Sprintf("service %q listed twice", sv.Name)
		}
		names[sv.Name] = true
	}
	return ""
}

// resolve maps the file's schema onto reg, refusing what cannot be
// restored before any entity is made.
func (d *decoder) resolve(reg *ecs.Registry) error {
	h := &d.h
	d.comps = make([]ecs.Component, len(h.Components))
	d.holders = make([]any, len(h.Components))
	d.held = make([]reflect.Value, len(h.Components))
	d.heldPtrs = make([][]any, len(h.Components))
	d.dropped = make([]int, len(h.Components))
	for i, cs := range h.Components {
		c, ok := reg.Component(cs.Name)
		if !ok {
			continue // dropped; warned about with its count at the end
		}
		cur := ShapeOf(c.Type())
		if cur.Fingerprint() != cs.Fingerprint {
			var fields []string
			if err := compatible(cs.Shape, cur, "", &fields); err != nil {
				err.Component = cs.Name
				return err
			}
			for _, f := range fields {
				d.out.Warnings = append(d.out.Warnings, Warning{Component: cs.Name, Field: f})
			}
		}
		d.comps[i] = c
	}
	d.flat = flatCodecs(d.comps)
	d.types = make([]*ecs.EntityType, len(h.Types))
	d.had = make([][]bool, len(h.Types))
	for i, ts := range h.Types {
		t, ok := reg.Type(ts.Name)
		if !ok {
			if ts.Entities > 0 {
				return &SchemaError{Type: ts.Name, Detail: fmt.Sprintf("not registered, and the snapshot has %d entities of it", ts.Entities)}
			}
			continue
		}
		if t.IsSpace() != ts.Space && ts.Entities > 0 {
			return &SchemaError{Type: ts.Name, Old: spaceWord(ts.Space), New: spaceWord(t.IsSpace())}
		}
		d.types[i] = t
		// had[i][j]: the file's type declared the j-th of t's components.
		d.had[i] = make([]bool, len(t.Components()))
		for j, c := range t.Components() {
			for _, ci := range ts.Components {
				if h.Components[ci].Name == c.Name() {
					d.had[i][j] = true
				}
			}
			for ci := range h.Components {
				if d.comps[ci] == c {
					d.holders[ci] = c.New()
					d.held[ci] = reflect.ValueOf(d.holders[ci]).Elem()
				}
			}
		}
	}
	return nil
}

func spaceWord(space bool) string {
	if space {
		return "a space type"
	}
	return "not a space type"
}

// body reads the chunks and the trailer.
func (d *decoder) body() error {
	var tag [4]byte
	for {
		d.section = fmt.Sprintf("chunk %d", d.seq)
		start := d.off
		if err := d.readFull(tag[:], "chunk head or trailer"); err != nil {
			return err
		}
		switch string(tag[:]) {
		case trailerMagic:
			d.section = "trailer"
			return d.trailer(start)
		case chunkMagic:
		default:
			d.off = start
			return d.ferr(ErrCorrupt, fmt.Sprintf("found %q where a chunk head or the trailer should be", tag[:]), nil)
		}
		if err := d.chunk(start); err != nil {
			return err
		}
	}
}

func (d *decoder) chunk(start int64) error {
	var hb [chunkHeadLen]byte
	copy(hb[:], chunkMagic)
	if err := d.readFull(hb[4:], "chunk head"); err != nil {
		return err
	}
	d.off = start
	if got, want := binary.BigEndian.Uint32(hb[24:]), crc(hb[:24]); got != want {
		return d.ferr(ErrCorrupt, fmt.Sprintf("chunk head checksum %08x, computed %08x", got, want), nil)
	}
	var ch chunkHead
	ch.get(hb[:])
	limit := uint64(d.rd.opts.MaxChunkBytes)
	switch {
	case ch.seq != d.seq:
		return d.ferr(ErrCorrupt, fmt.Sprintf("chunk number %d where %d should be", ch.seq, d.seq), nil)
	case ch.records == 0 || uint64(ch.records) > uint64(ch.rawLen):
		return d.ferr(ErrCorrupt, fmt.Sprintf("%d records in %d bytes", ch.records, ch.rawLen), nil)
	case uint64(ch.rawLen) > limit || uint64(ch.compLen) > limit:
		return d.ferr(ErrCorrupt, fmt.Sprintf("chunk of %d bytes (%d compressed) above the limit of %d", ch.rawLen, ch.compLen, limit), nil)
	case d.records+uint64(ch.records) > d.h.Entities:
		return d.ferr(ErrCorrupt, fmt.Sprintf("more records than the %d entities of the header", d.h.Entities), nil)
	}
	d.off += chunkHeadLen
	rd := d.rd
	rd.comp = slices.Grow(rd.comp[:0], int(ch.compLen))[:ch.compLen]
	if err := d.readFull(rd.comp, "chunk data"); err != nil {
		return err
	}
	d.off -= int64(ch.compLen)
	if got := crc(rd.comp); got != ch.dataCRC {
		return d.ferr(ErrCorrupt, fmt.Sprintf("chunk data checksum %08x, computed %08x (records %d to %d)", ch.dataCRC, got, d.records, d.records+uint64(ch.records)-1), nil)
	}
	var err error
	rd.raw, err = rd.zdec.DecodeAll(rd.comp, slices.Grow(rd.raw[:0], int(ch.rawLen))[:0])
	if err != nil {
		return d.ferr(ErrCorrupt, "chunk does not decompress", err)
	}
	if len(rd.raw) != int(ch.rawLen) {
		return d.ferr(ErrCorrupt, fmt.Sprintf("chunk decompresses to %d bytes, its head says %d", len(rd.raw), ch.rawLen), nil)
	}
	var crcb [4]byte
	putU32(crcb[:], ch.dataCRC)
	d.bodyCRC = crc32Update(d.bodyCRC, crcb[:])
	d.prevID = 0 // each chunk is read on its own
	d.lastSets, d.sets = d.sets, d.lastSets[:0]
	r := cborReader{b: rd.raw}
	for range ch.records {
		if err := d.record(&r); err != nil {
			return d.locate(err, int64(d.records))
		}
		d.records++
	}
	if r.off != len(r.b) {
		return d.ferr(ErrCorrupt, fmt.Sprintf("%d bytes after the chunk's %d records", len(r.b)-r.off, ch.records), nil)
	}
	d.off += int64(ch.compLen)
	d.seq++
	return nil
}

// locate turns an error of record i into a *FormatError saying where (a
// *SchemaError is returned as it is: it names what is wrong by itself).
func (d *decoder) locate(err error, i int64) error {
	var se *SchemaError
	if errors.As(err, &se) {
		return err
	}
	fe := d.ferr(ErrCorrupt, "", err)
	var ut *cbor.UnmarshalTypeError
	if errors.As(err, &ut) {
		fe.Kind = ErrSchema // a value that no longer fits its field
	}
	fe.Record, fe.Entity = i, uint64(d.rd.rec.id)
	return fe
}

func (d *decoder) trailer(start int64) error {
	var tb [trailerLen]byte
	copy(tb[:], trailerMagic)
	if err := d.readFull(tb[4:], "trailer"); err != nil {
		return err
	}
	d.off = start
	if got, want := binary.BigEndian.Uint32(tb[20:]), crc(tb[:20]); got != want {
		return d.ferr(ErrCorrupt, fmt.Sprintf("trailer checksum %08x, computed %08x", got, want), nil)
	}
	chunks, records, bodyCRC := binary.BigEndian.Uint32(tb[4:]), binary.BigEndian.Uint64(tb[8:]), binary.BigEndian.Uint32(tb[16:])
	switch {
	case chunks != d.seq || records != d.records:
		return d.ferr(ErrCorrupt, fmt.Sprintf("trailer counts %d chunks and %d records, the file has %d and %d", chunks, records, d.seq, d.records), nil)
	case records != d.h.Entities:
		// A cut file has no valid trailer: this one was written wrong.
		return d.ferr(ErrCorrupt, fmt.Sprintf("%d records, the header announces %d", records, d.h.Entities), nil)
	case bodyCRC != d.bodyCRC:
		return d.ferr(ErrCorrupt, fmt.Sprintf("body checksum %08x, computed %08x", bodyCRC, d.bodyCRC), nil)
	}
	d.off += trailerLen
	var one [1]byte
	if n, _ := io.ReadFull(d.src, one[:]); n != 0 {
		return d.ferr(ErrCorrupt, "bytes after the trailer", nil)
	}
	return nil
}

// finish checks the totals and builds the warnings.
func (d *decoder) finish() error {
	d.section = "trailer"
	if d.spaces != d.h.Spaces || uint64(len(d.out.Timers)) != d.h.Timers {
		return d.ferr(ErrCorrupt, fmt.Sprintf("%d spaces and %d timers, the header announces %d and %d", d.spaces, len(d.out.Timers), d.h.Spaces, d.h.Timers), nil)
	}
	for i, n := range d.byType {
		if n != d.h.Types[i].Entities {
			return d.ferr(ErrCorrupt, fmt.Sprintf("%d entities of type %q, the header announces %d", n, d.h.Types[i].Name, d.h.Types[i].Entities), nil)
		}
	}
	for i, n := range d.dropped {
		if n > 0 {
			d.out.Warnings = append(d.out.Warnings, Warning{Component: d.h.Components[i].Name, Entities: n})
		}
	}
	for _, m := range slices.Sorted(maps.Keys(d.gone)) {
		d.out.Warnings = append(d.out.Warnings, Warning{Method: m, Entities: d.gone[m]})
	}
	ts := d.out.Timers
	if !d.timersOutOfOrder {
		return nil // strictly increasing IDs: sorted, no repeats
	}
	slices.SortFunc(ts, func(a, b Timer) int { return cmp.Compare(a.ID, b.ID) })
	for i := 1; i < len(ts); i++ {
		if ts[i].ID == ts[i-1].ID {
			return d.ferr(ErrCorrupt, fmt.Sprintf("timer id %d on entities %s and %s", ts[i].ID, ts[i-1].Entity, ts[i].Entity), nil)
		}
	}
	return nil
}

// record is the scratch of one entity record, reused.
type record struct {
	id              ecs.EntityID
	typ             int
	space           ecs.EntityID
	spaceIdx        int // version 2: the index of space
	pos, vel, dest  ecs.Vec3
	yaw, aoi, speed float32
	hasAOI, hasDest bool
	gate            uint16
	client          uint64
	comps           []rawComp
	// Root attributes: attrShared (a key set shared with other records)
	// or attrKeys (the decoder's scratch), and attrVals, which the entity
	// keeps.
	attrShared *ecs.AttrKeys
	attrKeys   []string
	attrVals   []any
	attrPacked ecs.PackedAttrs // instead of attrVals: scalars kept encoded
	packed     bool
	hasAttrs   bool
	own        []any
	extra      []rawComp
	seen       [maxRecordKey + 1]bool
	created    *ecs.Entity // the entity made from the record, once made
	removed    []string    // keyRemoved
	nTime      int
}

type rawComp struct {
	idx     int
	raw     []byte
	v       any
	decoded bool // v is the type's own holder, decoded from raw already
}

func (rec *record) reset() {
	comps, own, extra, removed := rec.comps[:0], rec.own[:0], rec.extra[:0], rec.removed[:0]
	*rec = record{comps: comps, own: own, extra: extra, removed: removed}
}

func (d *decoder) record(r *cborReader) error {
	rec := &d.rd.rec
	rec.reset()
	n, err := r.expect(majMap)
	if err != nil {
		return err
	}
	last := -1
	for range n {
		k, err := r.uint()
		if err != nil {
			return err
		}
		if k > math.MaxInt32 || int(k) <= last {
			return r.fail("record key %d after %d", k, last)
		}
		last = int(k)
		if k > maxRecordKey {
			if _, err := r.skip(maxValueNesting); err != nil { // a later format's optional field
				return err
			}
			continue
		}
		rec.seen[k] = true
		if err := d.field(r, rec, int(k)); err != nil {
			return err
		}
	}
	if !rec.seen[keyID] || !rec.seen[keyType] || !rec.seen[keyPos] {
		return r.fail("record without id, type or position")
	}
	if rec.seen[keyDest] != rec.seen[keySpeed] || rec.seen[keyGate] != rec.seen[keyClient] {
		return r.fail("destination without speed or gate without client")
	}
	return d.apply(rec)
}

func (d *decoder) vec(r *cborReader) (v ecs.Vec3, err error) {
	n, err := r.expect(majArray)
	if err != nil {
		return v, err
	}
	if n != 3 {
		return v, r.fail("vector of %d elements", n)
	}
	if v.X, err = r.float32(); err != nil {
		return v, err
	}
	if v.Y, err = r.float32(); err != nil {
		return v, err
	}
	v.Z, err = r.float32()
	return v, err
}

func (d *decoder) field(r *cborReader, rec *record, k int) error {
	var err error
	var u uint64
	switch k {
	case keyID:
		if d.v2 { // the difference from the chunk's previous record's ID
			var delta int64
			if delta, err = r.int(); err == nil {
				u = d.prevID + uint64(delta)
			}
		} else {
			u, err = r.uint()
		}
		if err == nil {
			rec.id = ecs.EntityID(u)
			d.prevID = u
			if !rec.id.Valid() {
				return r.fail("invalid entity id %s", rec.id)
			}
		}
	case keyType:
		if d.names {
			name, err := r.raw(majText)
			if err != nil {
				return err
			}
			i, ok := d.typeByName[string(name)]
			if !ok {
				return &SchemaError{Type: string(name), Detail: "not registered"}
			}
			rec.typ = i
			return nil
		}
		if u, err = r.uint(); err == nil {
			if u >= uint64(len(d.h.Types)) {
				return r.fail("type index %d of %d", u, len(d.h.Types))
			}
			rec.typ = int(u)
		}
	case keySpace:
		if u, err = r.uint(); err == nil {
			if d.v2 { // the space's index among the file's spaces
				if u >= uint64(len(d.spaceIDs)) {
					return r.fail("space index %d of the %d spaces before", u, len(d.spaceIDs))
				}
				rec.spaceIdx = int(u)
				u = uint64(d.spaceIDs[u])
			}
			rec.space = ecs.EntityID(u)
		}
	case keyPos:
		rec.pos, err = d.vec(r)
	case keyYaw:
		rec.yaw, err = r.float32()
	case keyAOI:
		rec.aoi, err = r.float32()
		rec.hasAOI = true
	case keyVel:
		rec.vel, err = d.vec(r)
	case keyDest:
		rec.dest, err = d.vec(r)
		rec.hasDest = true
	case keySpeed:
		rec.speed, err = r.float32()
	case keyGate:
		if u, err = r.uint(); err == nil {
			if u > math.MaxUint16 {
				return r.fail("gate %d", u)
			}
			rec.gate = uint16(u)
		}
	case keyClient:
		if u, err = r.uint(); err == nil {
			if u == 0 {
				return r.fail("client id 0")
			}
			rec.client = u
		}
	case keyComps:
		return d.components(r, rec)
	case keyAttrs:
		return d.rootAttrs(r, rec)
	case keyTimers:
		return d.timers(r, rec)
	case keyRemoved:
		n, err := r.expect(majArray)
		if err != nil {
			return err
		}
		for range n {
			p, err := r.raw(majText)
			if err != nil {
				return err
			}
			name, _ := d.intern(p)
			rec.removed = append(rec.removed, name)
		}
	}
	return err
}

func (d *decoder) components(r *cborReader, rec *record) error {
	n, err := r.expect(majMap)
	if err != nil {
		return err
	}
	if d.names {
		return d.namedComponents(r, rec, n)
	}
	last := -1
	for range n {
		k, err := r.uint()
		if err != nil {
			return err
		}
		if k >= uint64(len(d.h.Components)) || int(k) <= last {
			return r.fail("component index %d (after %d) of %d", k, last, len(d.h.Components))
		}
		last = int(k)
		// A flat component of the record's type is decoded in this pass
		// into its holder (apply takes it from there); anything else is
		// kept raw and decoded by apply.
		start := r.off
		if d.ownFlat(rec, int(k)) {
			if d.flat[k].decodeFrom(r, d.heldPtrs[k]) {
				rec.comps = append(rec.comps, rawComp{idx: int(k), raw: r.b[start:r.off], v: d.holders[k], decoded: true})
				continue
			}
			d.held[k].SetZero() // half set
			r.off = start
		}
		raw, err := r.skip(maxValueNesting)
		if err != nil {
			return fmt.Errorf("component %q: %w", d.h.Components[k].Name, err)
		}
		rec.comps = append(rec.comps, rawComp{idx: int(k), raw: raw})
	}
	return nil
}

// ownFlat reports whether component index k is flat and one of the
// record's type (read before its components), and if so zeroes its
// holder.
func (d *decoder) ownFlat(rec *record, k int) bool {
	if d.comps == nil || !rec.seen[keyType] || d.comps[k] == nil || d.flat[k] == nil || d.holders[k] == nil {
		return false
	}
	if !slices.Contains(d.types[rec.typ].Components(), d.comps[k]) {
		return false
	}
	d.held[k].SetZero()
	if d.heldPtrs[k] == nil {
		d.heldPtrs[k] = d.flat[k].fieldPtrs(d.held[k])
	}
	return true
}

// namedComponents reads the components of a self-describing record,
// keyed by name in increasing order.
func (d *decoder) namedComponents(r *cborReader, rec *record, n int) error {
	last := ""
	for i := range n {
		kp, err := r.raw(majText)
		if err != nil {
			return err
		}
		if i > 0 && string(kp) <= last {
			return r.fail("component %q after %q", kp, last)
		}
		last = string(kp)
		raw, err := r.skip(maxValueNesting)
		if err != nil {
			return fmt.Errorf("component %q: %w", last, err)
		}
		idx, ok := d.compByName[last]
		if !ok {
			d.unknown = append(d.unknown, last)
			continue
		}
		rec.comps = append(rec.comps, rawComp{idx: idx, raw: raw})
	}
	return nil
}

func (d *decoder) rootAttrs(r *cborReader, rec *record) error {
	if len(d.keys) < 2 {
		d.keys = append(d.keys, nil, nil)
		d.vals = append(d.vals, nil, nil)
	}
	if d.v2 && r.off < len(r.b) && r.b[r.off]>>5 == majArray {
		return d.setAttrs(r, rec)
	}
	n, err := r.expect(majMap)
	if err != nil {
		return err
	}
	if n > (len(r.b)-r.off)/2 {
		return r.fail("map of %d pairs beyond the bytes left", n)
	}
	// Entities of a type mostly have the same root keys: the previous
	// record's key set of the same type is shared when the keys match.
	var shared *ecs.AttrKeys
	if rec.seen[keyType] && rec.typ < len(d.rootKeys) {
		shared = d.rootKeys[rec.typ]
	}
	same := shared != nil && shared.Len() == n
	keys := d.keys[1][:0]
	vals := make([]any, n) // the entity keeps it
	for i := range n {
		kp, err := r.raw(majText)
		if err != nil {
			return err
		}
		var k string
		if same {
			if k = shared.Key(i); string(kp) != k {
				same = false
				for j := range i {
					keys = append(keys, shared.Key(j))
				}
			}
		}
		if !same {
			k, _ = d.intern(kp)
			keys = append(keys, k)
		}
		v, err := d.attrValue(r, 1)
		if err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
		vals[i] = v
	}
	d.keys[1] = keys
	if !same && rec.seen[keyType] && rec.typ < len(d.rootKeys) {
		// A new key set: keep it for the next records if it can be shared
		// (sorted, no repeats, small); AdoptAttrs sorts and checks others.
		if ks, err := ecs.NewAttrKeys(keys); err == nil {
			d.rootKeys[rec.typ], shared, same = ks, ks, true
		}
	}
	if same {
		rec.attrShared = shared
	} else {
		rec.attrKeys = keys
	}
	rec.attrVals, rec.hasAttrs = vals, true
	return nil
}

// setAttrs reads root attributes in the form [key set, values...] (see
// format.go).
func (d *decoder) setAttrs(r *cborReader, rec *record) error {
	n, err := r.expect(majArray)
	if err != nil {
		return err
	}
	if n == 0 {
		return r.fail("attributes without a key set")
	}
	maj, _, arg, err := r.head()
	if err != nil {
		return err
	}
	var ks *ecs.AttrKeys
	switch maj {
	case majUint:
		if arg >= uint64(len(d.sets)) {
			return r.fail("key set %d of the %d the chunk defined", arg, len(d.sets))
		}
		ks = d.sets[arg]
	case majArray:
		if len(d.sets) >= maxKeySets {
			return r.fail("more than %d key sets in a chunk", maxKeySets)
		}
		m, err := r.length(arg)
		if err != nil {
			return err
		}
		keys := d.keys[1][:0]
		for range m {
			kp, err := r.raw(majText)
			if err != nil {
				return err
			}
			k, _ := d.intern(kp)
			keys = append(keys, k)
		}
		d.keys[1] = keys
		// The chunks of a file mostly define the same sets in the same
		// order: share the previous chunk's.
		if i := len(d.sets); i < len(d.lastSets) && sameKeys(d.lastSets[i], keys) {
			ks = d.lastSets[i]
		} else if ks, err = ecs.NewAttrKeys(keys); err != nil {
			return r.fail("key set: %v", err)
		}
		d.sets = append(d.sets, ks)
	default:
		return r.fail("key set of major type %d", maj)
	}
	if n-1 != ks.Len() {
		return r.fail("%d attribute values for %d keys", n-1, ks.Len())
	}
	// Scalars stay encoded until the game uses them (ecs.PackedAttrs):
	// checked here, decoded on first use. A verify or a record on its
	// own (a migration) decodes them now.
	if d.w != nil && !d.standalone {
		if p, n, ok := d.packer.Pack(ks, r.b[r.off:]); ok {
			r.off += n
			rec.attrShared, rec.attrPacked, rec.packed, rec.hasAttrs = ks, p, true, true
			return nil
		}
	}
	vals := d.takeVals(ks.Len()) // the entity keeps it
	for i := range vals {
		if r.off >= len(r.b) {
			return fmt.Errorf("key %q: %w", ks.Key(i), r.fail("unexpected end"))
		}
		// Small integers and booleans, which Go boxes without allocating,
		// are read here.
		switch c := r.b[r.off]; {
		case c < 24: // an unsigned integer in the head's byte
			vals[i] = int64(c)
			r.off++
			continue
		case c == 24 && r.off+1 < len(r.b) && r.b[r.off+1] >= 24: // in the next byte (the shortest form)
			vals[i] = int64(r.b[r.off+1])
			r.off += 2
			continue
		case c == 0xf4 || c == 0xf5:
			vals[i] = c == 0xf5
			r.off++
			continue
		}
		// A key whose text values keep missing the intern table (a unique
		// name) stops being interned: the lookup would only cost.
		if r.b[r.off]>>5 == majText {
			miss := d.misses(ks, i)
			if vals[i], err = d.textValue(r, *miss < maxMisses, miss); err != nil {
				return fmt.Errorf("key %q: %w", ks.Key(i), err)
			}
			continue
		}
		// Numbers too: a key whose values repeat (a level, a speed) shares
		// their boxes, one that keeps missing (a unique amount) stops
		// looking.
		if isNumber(r.b[r.off]) {
			miss := d.misses(ks, i)
			if vals[i], err = d.numValue(r, *miss < maxMisses, miss); err != nil {
				return fmt.Errorf("key %q: %w", ks.Key(i), err)
			}
			continue
		}
		if vals[i], err = d.attrValue(r, 1); err != nil {
			return fmt.Errorf("key %q: %w", ks.Key(i), err)
		}
	}
	rec.attrShared, rec.attrVals, rec.hasAttrs = ks, vals, true
	return nil
}

// takeVals returns a slice of n values for an entity's attributes, cut
// from a larger block: one allocation for many entities. Each slice's
// capacity is its length, so a map that grows reallocates instead of
// writing into its neighbour's values. (A block stays in memory while one
// of its entities keeps its slice.)
func (d *decoder) takeVals(n int) []any {
	if n > valBlock/4 || d.standalone { // a standalone record is one entity
		return make([]any, n)
	}
	if len(d.valSlab)+n > cap(d.valSlab) {
		d.valSlab = make([]any, 0, valBlock)
	}
	i := len(d.valSlab)
	d.valSlab = d.valSlab[:i+n]
	return d.valSlab[i : i+n : i+n]
}

const valBlock = 4096

// maxMisses is how many times in a row a key's text value may miss the
// intern table before the key's values are no longer interned.
const maxMisses = 32

// misses returns the miss counter of key i of key set ks.
func (d *decoder) misses(ks *ecs.AttrKeys, i int) *uint8 {
	if d.lastMissSet != ks {
		m, ok := d.missBySet[ks]
		if !ok {
			if d.missBySet == nil {
				d.missBySet = make(map[*ecs.AttrKeys][]uint8)
			}
			m = make([]uint8, ks.Len())
			d.missBySet[ks] = m
		}
		d.lastMissSet, d.lastMiss = ks, m
	}
	return &d.lastMiss[i]
}

// textValue reads a text attribute value, interned if intern is set; a
// lookup that misses counts in *miss, a hit resets it.
func (d *decoder) textValue(r *cborReader, intern bool, miss *uint8) (any, error) {
	p, err := r.raw(majText)
	if err != nil {
		return nil, err
	}
	if !intern || len(p) > maxInternLen {
		return string(p), nil
	}
	_, v, hit := d.internHit(p)
	if hit {
		*miss = 0
	} else if *miss < maxMisses {
		*miss++
	}
	return v, nil
}

// isNumber reports whether c starts an integer or a float.
func isNumber(c byte) bool { return c>>5 <= majNeg || (c >= 0xf9 && c <= 0xfb) }

// boxedNum is a slot of the decoder's table of boxed numbers.
type boxedNum struct {
	bits uint64 // the integer's argument or the float's bits
	kind uint8  // 1 an unsigned integer, 2 a negative one, 3 a float
	v    any
}

const numSlots = 1 << 10 // a power of two

// numValue reads an integer or float attribute value (the next item is
// one, see isNumber). With share set, the value is boxed once for the
// snapshot (an attribute value is immutable, so entities may share the
// box; Go allocates a box for every number from 256 on): a table of
// boxes is looked up, and a miss counts in *miss, a hit resets it.
func (d *decoder) numValue(r *cborReader, share bool, miss *uint8) (any, error) {
	maj, info, arg, err := r.head()
	if err != nil {
		return nil, err
	}
	var kind uint8
	switch maj {
	case majUint:
		if arg > math.MaxInt64 {
			return nil, r.fail("integer %d overflows int64", arg)
		}
		if arg < 256 || !share { // Go boxes 0..255 without allocating
			return int64(arg), nil
		}
		kind = 1
	case majNeg:
		if arg > math.MaxInt64 {
			return nil, r.fail("integer -1-%d overflows int64", arg)
		}
		if !share {
			return ^int64(arg), nil
		}
		kind = 2
	default:
		f, err := r.floatOf(maj, info, arg)
		if err != nil || !share {
			return f, err
		}
		kind, arg = 3, math.Float64bits(f)
	}
	if d.nums == nil {
		d.nums = make([]boxedNum, numSlots)
	}
	e := &d.nums[((arg^uint64(kind)<<61)*0x9e3779b97f4a7c15)>>54&(numSlots-1)]
	if e.v != nil && e.bits == arg && e.kind == kind {
		*miss = 0
		return e.v, nil
	}
	var v any
	switch kind {
	case 1:
		v = int64(arg)
	case 2:
		v = ^int64(arg)
	default:
		v = math.Float64frombits(arg)
	}
	*e = boxedNum{bits: arg, kind: kind, v: v}
	if *miss < maxMisses {
		*miss++
	}
	return v, nil
}

func sameKeys(ks *ecs.AttrKeys, keys []string) bool {
	if ks.Len() != len(keys) {
		return false
	}
	for i, k := range keys {
		if ks.Key(i) != k {
			return false
		}
	}
	return true
}

// attrValue reads an attribute value that sits in a container at level
// (the root map is level 1).
func (d *decoder) attrValue(r *cborReader, level int) (any, error) {
	maj, info, arg, err := r.head()
	if err != nil {
		return nil, err
	}
	switch maj {
	case majUint:
		if arg > math.MaxInt64 {
			return nil, r.fail("integer %d overflows int64", arg)
		}
		return int64(arg), nil
	case majNeg:
		if arg > math.MaxInt64 {
			return nil, r.fail("integer -1-%d overflows int64", arg)
		}
		return ^int64(arg), nil
	case majBytes, majText:
		n, err := r.length(arg)
		if err != nil {
			return nil, err
		}
		p := r.b[r.off : r.off+n]
		r.off += n
		if maj == majText {
			_, v := d.intern(p)
			return v, nil
		}
		return bytes.Clone(p), nil
	case majArray, majMap:
		return d.attrContainer(r, maj, arg, level+1)
	case majSimple:
		switch info {
		case 20:
			return false, nil
		case 21:
			return true, nil
		case 25, 26, 27:
			return r.floatOf(maj, info, arg)
		}
		return nil, r.fail("simple value %d is not an attribute value", arg)
	}
	return nil, r.fail("tag %d in attributes", arg)
}

// attrContainer reads the elements of a map or list at level whose head
// (maj, arg) was read.
func (d *decoder) attrContainer(r *cborReader, maj byte, arg uint64, level int) (any, error) {
	if level > ecs.MaxAttrDepth {
		return nil, r.fail("attributes nested deeper than %d", ecs.MaxAttrDepth)
	}
	n, err := r.length(arg)
	if err != nil {
		return nil, err
	}
	if maj == majArray {
		l := make([]any, n)
		for i := range n {
			v, err := d.attrValue(r, level)
			if err != nil {
				return nil, fmt.Errorf("index %d: %w", i, err)
			}
			l[i] = v
		}
		a, err := ecs.NewListAttrOf(l)
		if err != nil {
			return nil, r.fail("list: %v", err)
		}
		return a, nil
	}
	keys, vals, err := d.attrMap(r, n, level)
	if err != nil {
		return nil, err
	}
	a, err := ecs.NewMapAttrOf(keys, vals)
	clear(vals)
	if err != nil {
		return nil, r.fail("map: %v", err)
	}
	return a, nil
}

// attrMap reads the n pairs of a nested attribute map at level (2 or
// more; rootAttrs reads the root) into the level's scratch slices (valid
// until the next map at that level).
func (d *decoder) attrMap(r *cborReader, n, level int) ([]string, []any, error) {
	if n > (len(r.b)-r.off)/2 {
		return nil, nil, r.fail("map of %d pairs beyond the bytes left", n)
	}
	for level >= len(d.keys) {
		d.keys = append(d.keys, nil)
		d.vals = append(d.vals, nil)
	}
	keys, vals := d.keys[level][:0], d.vals[level][:0]
	for range n {
		kp, err := r.raw(majText)
		if err != nil {
			return nil, nil, err
		}
		k, _ := d.intern(kp)
		v, err := d.attrValue(r, level)
		if err != nil {
			return nil, nil, fmt.Errorf("key %q: %w", k, err)
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	d.keys[level], d.vals[level] = keys, vals
	return keys, vals, nil
}

// intern returns p as a string, and boxed as an any, sharing one copy of
// each short string (attribute keys, enum-like values, timer methods)
// across the snapshot: it saves two allocations per key and per such
// value of every entity. The table is a fixed-size cache (a string that
// does not repeat, such as a unique name, costs a hash and replaces a
// slot), so it never grows with the snapshot.
func (d *decoder) intern(p []byte) (string, any) {
	s, v, _ := d.internHit(p)
	return s, v
}

// internHit is intern, saying whether p was in the table.
func (d *decoder) internHit(p []byte) (string, any, bool) {
	if len(p) > maxInternLen {
		s := string(p)
		return s, s, false
	}
	t := &d.strs
	if t.slots == nil {
		n := internSlots
		if d.standalone {
			n = 64 // one record
		}
		t.seed = maphash.MakeSeed()
		t.slots = make([]interned, n)
	}
	e := &t.slots[maphash.Bytes(t.seed, p)&uint64(len(t.slots)-1)]
	if e.v != nil && e.s == string(p) {
		return e.s, e.v, true
	}
	s := string(p)
	*e = interned{s, s}
	return e.s, e.v, false
}

// internTable is intern's cache: a direct-mapped table of strings.
type internTable struct {
	seed  maphash.Seed
	slots []interned
}

type interned struct {
	s string
	v any
}

const internSlots = 1 << 12 // a power of two

// internBytes is intern for timer arguments, which are shared read-only.
func (d *decoder) internBytes(p []byte) []byte {
	if len(p) > maxInternLen {
		return bytes.Clone(p)
	}
	if b, ok := d.args[string(p)]; ok {
		return b
	}
	b := bytes.Clone(p)
	if len(d.args) < maxInterned {
		if d.args == nil {
			d.args = make(map[string][]byte)
		}
		d.args[string(b)] = b
	}
	return b
}

const (
	maxInternLen = 32
	maxInterned  = 1 << 14 // timer arguments kept by internBytes
)

func (d *decoder) timers(r *cborReader, rec *record) error {
	n, err := r.expect(majArray)
	if err != nil {
		return err
	}
	for range n {
		m, err := r.expect(majArray)
		if err != nil {
			return err
		}
		if m != 5 {
			return r.fail("timer of %d fields", m)
		}
		t := Timer{Entity: rec.id}
		if t.ID, err = r.uint(); err != nil {
			return err
		}
		if t.ID == 0 {
			return r.fail("timer id 0")
		}
		mp, err := r.raw(majText)
		if err != nil {
			return err
		}
		// Timers mostly repeat the previous one's method and arguments.
		if string(mp) == d.lastTimer.Method && d.lastTimer.Method != "" {
			t.Method = d.lastTimer.Method
		} else {
			t.Method, _ = d.intern(mp)
		}
		args, err := r.raw(majBytes)
		if err != nil {
			return err
		}
		if len(args) > 0 {
			if bytes.Equal(args, d.lastTimer.Args) {
				t.Args = d.lastTimer.Args
			} else {
				t.Args = d.internBytes(args)
			}
		}
		d.lastTimer.Method, d.lastTimer.Args = t.Method, t.Args
		after, err := r.uint()
		if err != nil {
			return err
		}
		t.Due = d.h.Tick + after
		if t.Due < d.h.Tick {
			t.Due = math.MaxUint64 // "never", as systems.Timers saturates
		}
		if t.Repeat, err = r.uint(); err != nil {
			return err
		}
		if n := len(d.out.Timers); n > 0 && t.ID <= d.out.Timers[n-1].ID {
			d.timersOutOfOrder = true
		}
		d.out.Timers = append(d.out.Timers, t)
		rec.nTime++
	}
	return nil
}

// apply checks the record against what is restored so far and, unless
// verifying without a world, creates the entity.
func (d *decoder) apply(rec *record) error {
	ts := &d.h.Types[rec.typ]
	// A standalone record (EntityCodec) is one entity on its own: it
	// enters a space of the receiver's choosing, and there are no file
	// totals to keep.
	if ts.Space && !d.standalone {
		if rec.seen[keySpace] {
			return fmt.Errorf("space %s is in space %s", rec.id, rec.space)
		}
		if d.records != d.spaces {
			return fmt.Errorf("space %s after other entities", rec.id)
		}
		d.spaces++
		d.spaceIDs = append(d.spaceIDs, rec.id)
	}
	if !d.standalone {
		d.byType[rec.typ]++
		if d.byType[rec.typ] > ts.Entities {
			return fmt.Errorf("more entities of type %q than the %d of the header", ts.Name, ts.Entities)
		}
	}
	if d.comps == nil {
		return nil // no registry: the file alone is checked
	}
	t := d.types[rec.typ]
	for i := len(d.out.Timers) - rec.nTime; i < len(d.out.Timers); i++ {
		m := d.out.Timers[i].Method
		if t == d.lastMethodType && m == d.lastMethod {
			continue // checked for the previous timer
		}
		if _, ok := t.LookupMethod(m); ok {
			d.lastMethodType, d.lastMethod = t, m
		} else {
			if d.gone == nil {
				d.gone = make(map[string]int)
			}
			d.gone[t.Name()+"."+d.out.Timers[i].Method]++
		}
	}
	for _, rc := range rec.comps {
		c := d.comps[rc.idx]
		if c == nil {
			d.dropped[rc.idx]++
			continue
		}
		if rc.decoded {
			rec.own = append(rec.own, rc.v)
			continue
		}
		v := d.holders[rc.idx]
		own := v != nil && slices.Contains(t.Components(), c)
		if own {
			reflect.ValueOf(v).Elem().SetZero()
		} else {
			v = c.New()
		}
		if f := d.flat[rc.idx]; f == nil || !f.decodeFlat(rc.raw, v) {
			if f != nil {
				reflect.ValueOf(v).Elem().SetZero() // half set by decodeFlat
			}
			if err := d.rd.dm.Unmarshal(rc.raw, v); err != nil {
				return fmt.Errorf("component %q: %w", c.Name(), err)
			}
		}
		if own {
			rec.own = append(rec.own, v)
		} else {
			rec.extra = append(rec.extra, rawComp{idx: rc.idx, v: v})
		}
	}
	if d.w == nil {
		return nil
	}
	var space *ecs.Entity
	if rec.seen[keySpace] && !d.standalone {
		var s *ecs.Entity
		ok := false
		if d.v2 {
			s, ok = d.spaceEnts[rec.spaceIdx], true
		} else {
			s, ok = d.w.Entity(rec.space)
		}
		if !ok || !s.IsSpace() {
			return fmt.Errorf("entity %s in space %s, which is not restored before it", rec.id, rec.space)
		}
		space = s
	}
	opts := ecs.CreateOptions{ID: rec.id, Pos: rec.pos, Yaw: rec.yaw, Space: space, Components: rec.own, Restore: true}
	if rec.client != 0 {
		opts.Client = ecs.ClientBinding{Gate: rec.gate, Client: ecs.ClientID(rec.client)}
	}
	e, err := d.w.Create(t.Name(), opts)
	if err != nil {
		return err
	}
	rec.created = e
	if ts.Space && !d.standalone {
		d.spaceEnts = append(d.spaceEnts, e)
	}
	if rec.hasAttrs {
		var err error
		switch {
		case rec.packed:
			err = e.AdoptPackedAttrs(rec.attrPacked)
		case rec.attrShared != nil:
			err = e.AdoptAttrsWith(rec.attrShared, rec.attrVals)
		default:
			err = e.AdoptAttrs(rec.attrKeys, rec.attrVals)
		}
		rec.attrVals = nil
		if err != nil {
			return err
		}
	}
	for _, x := range rec.extra {
		if err := d.comps[x.idx].SetAny(e, x.v); err != nil {
			return err
		}
	}
	// A component the file's type declared and the record lacks was
	// removed from the entity; one the file's type did not declare is new
	// in this binary and keeps its zero value.
	for j, c := range t.Components() {
		if (d.had[rec.typ][j] && !slices.ContainsFunc(rec.comps, func(rc rawComp) bool { return d.comps[rc.idx] == c })) ||
			(len(rec.removed) > 0 && slices.Contains(rec.removed, c.Name())) {
			e.RemoveComponent(c)
		}
	}
	if rec.vel != (ecs.Vec3{}) {
		e.SetVelocity(rec.vel)
	}
	if rec.hasDest {
		e.SetDestination(rec.dest, rec.speed)
	}
	if rec.hasAOI {
		e.SetAOIRadius(rec.aoi)
	}
	return nil
}
