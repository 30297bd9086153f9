package snapshot

import (
	"errors"
	"fmt"

	"github.com/ecsworld/ecsworld/ecs"
)

// EntityCodec encodes one entity at a time in the record format of the
// snapshot body, naming its type and components instead of indexing a
// file's schema, so that the receiving registry may differ: it is for
// moving an entity to another game (migration). It shares the snapshot's
// encoder and decoder, and so their limits and checks: position and
// movement, AOI radius, client binding, every component, every attribute
// and the entity's timers with their remaining ticks.
//
// An EntityCodec is not safe for concurrent use; it belongs to the game's
// tick goroutine like the world.
type EntityCodec struct {
	reg   *ecs.Registry
	wr    *Writer
	comps []ecs.Component
	tmpl  decoder // the registry's schema resolved once
}

// NewEntityCodec returns a codec for the entities of worlds made from reg.
func NewEntityCodec(reg *ecs.Registry) (*EntityCodec, error) {
	if reg == nil {
		return nil, errors.New("snapshot: entity codec: nil registry")
	}
	wr, err := NewWriter(WriteOptions{})
	if err != nil {
		return nil, err
	}
	wr.names = true
	rd, err := NewReader(ReadOptions{})
	if err != nil {
		return nil, err
	}
	comps, h := schemaOf(reg)
	c := &EntityCodec{reg: reg, wr: wr, comps: comps}
	wr.flat = flatCodecs(comps)
	c.tmpl = decoder{rd: rd, h: h, names: true, standalone: true,
		typeByName: make(map[string]int, len(h.Types)), compByName: make(map[string]int, len(h.Components))}
	for i, t := range h.Types {
		c.tmpl.typeByName[t.Name] = i
	}
	for i, cs := range h.Components {
		c.tmpl.compByName[cs.Name] = i
	}
	c.tmpl.rootKeys = make([]*ecs.AttrKeys, len(h.Types))
	c.tmpl.out = &Restored{}
	if err := c.tmpl.resolve(reg); err != nil {
		return nil, err // cannot happen: the schema is reg's own
	}
	c.tmpl.out = nil
	// The sender's type may declare other components than ours: records
	// list what the entity lost (keyRemoved); every other component of
	// our type it does not carry gets its zero value.
	for _, had := range c.tmpl.had {
		clear(had)
	}
	return c, nil
}

// Marshal appends the record of e to dst. timers are e's timers (others
// are ignored), saved with their remaining ticks counted from tick.
func (c *EntityCodec) Marshal(dst []byte, e *ecs.Entity, timers []Timer, tick uint64) ([]byte, error) {
	if e == nil || e.Destroyed() {
		return dst, fmt.Errorf("snapshot: marshal entity: %w", ecs.ErrNoEntity)
	}
	if e.World().Registry() != c.reg {
		return dst, fmt.Errorf("snapshot: marshal %s: %w (not the codec's registry)", e, ecs.ErrWrongWorld)
	}
	mine := timers[:0:0]
	for _, t := range timers {
		if t.Entity == e.ID() {
			mine = append(mine, t)
		}
	}
	b, err := c.wr.appendEntity(dst, e, 0, c.comps, mine, tick)
	if err != nil {
		return dst, fmt.Errorf("snapshot: marshal %s: %w", e, err)
	}
	return b, nil
}

// Unmarshal creates the entity encoded in b in w (a world of the codec's
// registry), with the ID it had, outside any space and without running
// hooks (ecs.CreateOptions.Restore): the caller enters it into its space
// and binds its client as it sees fit. Timers come back with Due counted
// from tick and the sender's IDs (add them again, with new IDs).
// Warnings name the components this registry does not know (dropped).
//
// Errors wrap ErrCorrupt (malformed bytes, with the place) or ErrSchema
// (a type this registry lacks, a component value that does not fit); on
// error nothing is created.
func (c *EntityCodec) Unmarshal(b []byte, w *ecs.World, tick uint64) (*ecs.Entity, []Timer, []Warning, error) {
	if w == nil || w.Registry() != c.reg {
		return nil, nil, nil, fmt.Errorf("snapshot: unmarshal entity: %w (not the codec's registry)", ecs.ErrWrongWorld)
	}
	d := c.tmpl
	d.w = w
	d.h.Tick = tick
	d.out = &Restored{}
	d.section = "entity"
	r := cborReader{b: b}
	err := d.record(&r)
	if err == nil && r.off != len(b) {
		err = r.fail("%d bytes after the record", len(b)-r.off)
	}
	if err != nil {
		if e := d.rd.rec.created; e != nil {
			w.Remove(e) // half made: take it out again, without hooks
		}
		return nil, nil, nil, d.locate(err, 0)
	}
	e, _ := w.Entity(d.rd.rec.id)
	var warns []Warning
	for _, name := range d.unknown {
		warns = append(warns, Warning{Component: name, Entities: 1})
	}
	for m, n := range d.gone {
		warns = append(warns, Warning{Method: m, Entities: n})
	}
	return e, d.out.Timers, warns, nil
}
