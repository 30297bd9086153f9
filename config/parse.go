package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// MaxFileSize bounds a cluster file. A file describing thousands of
// processes stays far below it; anything larger is a mistake.
const MaxFileSize = 1 << 20

// maxErrors bounds how many errors one file reports: past it, a broken
// file gets a count instead of more lines (and no more work spent finding
// line numbers).
const maxErrors = 100

// Load reads and parses the cluster file at path. See Parse.
func Load(path string) (*Cluster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses a cluster file; name is used in error messages (and kept in
// Cluster.Path). Every option of every process is resolved, then the whole
// cluster is validated. On failure the error joins (errors.Join) one
// *Error per problem, each naming the file, the line when known and the
// key, such as
//
//	cluster.toml:12: game.1.tick_rate: must be between 1 and 1000, got 0
//
// and no cluster is returned.
func Parse(name string, data []byte) (*Cluster, error) {
	if len(data) > MaxFileSize {
		return nil, errors.Join(&Error{File: name, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)})
	}
	p := &parser{file: name, lines: make(map[string]int)}
	c := p.parse(data)
	if err := p.result(); err != nil {
		return nil, err
	}
	c.Path = name
	return c, nil
}

// setting is one value written in the file, decoded once however many
// processes inherit it.
type setting struct {
	key  toml.Key
	prim toml.Primitive
	raw  any

	done bool
	ok   bool
	val  any
}

// layer is the settings of one section: [common], [game], [game.3]...,
// keyed by option name ("tick_rate", "kcp.mtu").
type layer map[string]*setting

// section is a parsed [kind] table: its own options and its numbered
// sections.
type section struct {
	key  toml.Key // nil when the file has no such table
	prim toml.Primitive
	opts layer
	ids  map[uint16]*idSection
}

type idSection struct {
	key  toml.Key
	prim toml.Primitive
	opts layer
}

// parser turns TOML into a Cluster and collects errors on the way.
type parser struct {
	file  string
	md    toml.MetaData
	errs  []*Error
	seen  map[string]bool
	more  int
	lines map[string]int // line of a key, memoised (finding one is O(file))

	// where each resolved process value came from: prov["game.2"]["tick_rate"]
	prov     map[string]map[string]*setting
	sections map[string]toml.Key       // "game.2" → its table's key
	prims    map[string]toml.Primitive // and its value, to find its line
}

func (p *parser) parse(data []byte) *Cluster {
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		p.syntax(err)
		return nil
	}
	p.md = md
	p.prov = make(map[string]map[string]*setting)
	p.sections = make(map[string]toml.Key)
	p.prims = make(map[string]toml.Primitive)

	var common layer
	kinds := map[string]*section{}
	for _, k := range sortedKeys(top) {
		key := toml.Key{k}
		switch k {
		case "common":
			common = p.options(key, top[k], names(commonSpecs))
			p.sections["common"], p.prims["common"] = key, top[k]
		case RoleDispatcher, RoleGame, RoleGate:
			kinds[k] = p.kind(key, top[k], kindNames(k))
		default:
			p.unknown(key, top[k], "", []string{"common", RoleDispatcher, RoleGame, RoleGate})
		}
	}

	c := &Cluster{Common: defaultCommon()}
	apply(p, &c.Common, commonSpecs, common, p.provOf("common"))
	c.Dispatchers = resolve(p, kinds[RoleDispatcher], RoleDispatcher, c.Common, common, dispatcherSpecs, defaultDispatcher,
		func(d *Dispatcher) *Process { return &d.Process })
	c.Games = resolve(p, kinds[RoleGame], RoleGame, c.Common, common, gameSpecs, defaultGame,
		func(g *Game) *Process { return &g.Process })
	c.Gates = resolve(p, kinds[RoleGate], RoleGate, c.Common, common, gateSpecs, defaultGate,
		func(g *Gate) *Process { return &g.Process })
	for k, s := range kinds {
		if s != nil && s.key != nil {
			p.sections[k], p.prims[k] = s.key, s.prim
		}
	}

	for _, e := range c.check(p.locate) {
		p.add(e)
	}
	return c
}

// kindNames is the option names a [kind] or [kind.N] section accepts.
func kindNames(kind string) []string {
	switch kind {
	case RoleDispatcher:
		return names(dispatcherSpecs)
	case RoleGame:
		return names(gameSpecs)
	}
	return names(gateSpecs)
}

func names[P any](ss []spec[P]) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.name
	}
	return out
}

// kind reads a [game]-style table: options that apply to every game, and
// the numbered [game.N] sections.
func (p *parser) kind(key toml.Key, prim toml.Primitive, allowed []string) *section {
	s := &section{key: key, prim: prim, ids: map[uint16]*idSection{}}
	m, ok := p.table(key, prim)
	if !ok {
		return s
	}
	opts := map[string]toml.Primitive{}
	for _, k := range sortedKeys(m) {
		if !looksNumeric(k) {
			opts[k] = m[k]
			continue
		}
		ckey := child(key, k)
		id, err := parseID(k)
		if err != nil {
			p.errAt(ckey, m[k], err.Error())
			continue
		}
		s.ids[id] = &idSection{key: ckey, prim: m[k], opts: p.options(ckey, m[k], allowed)}
	}
	s.opts = p.fields(key, opts, allowed)
	return s
}

// options reads a table of options (with its subtables such as kcp).
func (p *parser) options(key toml.Key, prim toml.Primitive, allowed []string) layer {
	m, ok := p.table(key, prim)
	if !ok {
		return nil
	}
	return p.fields(key, m, allowed)
}

// fields sorts the keys of a table into a layer: known options, known
// subtables (whose keys become "sub.key"), and errors for the rest.
func (p *parser) fields(key toml.Key, m map[string]toml.Primitive, allowed []string) layer {
	l := layer{}
	for _, k := range sortedKeys(m) {
		ckey := child(key, k)
		if isSubtable(allowed, k) {
			sm, ok := p.table(ckey, m[k])
			if !ok {
				continue
			}
			for _, sk := range sortedKeys(sm) {
				p.leaf(l, child(ckey, sk), sm[sk], k+".", sk, allowed)
			}
			continue
		}
		p.leaf(l, ckey, m[k], "", k, allowed)
	}
	return l
}

// leaf records the value of option prefix+k, or reports an unknown key or
// a table where a value belongs.
func (p *parser) leaf(l layer, key toml.Key, prim toml.Primitive, prefix, k string, allowed []string) {
	name := prefix + k
	if !slices.Contains(allowed, name) {
		p.unknown(key, prim, prefix, allowed)
		return
	}
	if _, isTable := p.tryTable(prim); isTable {
		p.errAt(key, prim, "want a value, got a table")
		return
	}
	var raw any
	if err := p.md.PrimitiveDecode(prim, &raw); err != nil {
		p.errAt(key, prim, err.Error())
		return
	}
	l[name] = &setting{key: key, prim: prim, raw: raw}
}

// isSubtable says whether allowed has options of subtable sub, as
// "kcp.mtu" makes kcp a subtable.
func isSubtable(allowed []string, sub string) bool {
	for _, n := range allowed {
		if strings.HasPrefix(n, sub+".") {
			return true
		}
	}
	return false
}

// tryTable decodes prim as a table of primitives; a value that is not a
// table gives (nil, false). (The TOML library leaves the map nil rather
// than failing when the value is not a table.)
func (p *parser) tryTable(prim toml.Primitive) (map[string]toml.Primitive, bool) {
	var m map[string]toml.Primitive
	if err := p.md.PrimitiveDecode(prim, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// table is tryTable reporting an error when the value is not a table.
func (p *parser) table(key toml.Key, prim toml.Primitive) (map[string]toml.Primitive, bool) {
	m, ok := p.tryTable(prim)
	if !ok {
		var raw any
		_ = p.md.PrimitiveDecode(prim, &raw)
		p.errAt(key, prim, fmt.Sprintf("want a table ([%s]), got %s", key, describe(raw)))
	}
	return m, ok
}

// unknown reports a key the schema does not have, with a suggestion when
// a key of the same table is a near miss (a typo).
func (p *parser) unknown(key toml.Key, prim toml.Primitive, prefix string, allowed []string) {
	var cands []string
	for _, a := range allowed {
		rest, ok := strings.CutPrefix(a, prefix)
		if !ok {
			continue
		}
		if sub, _, found := strings.Cut(rest, "."); found {
			rest = sub
		}
		cands = append(cands, rest)
	}
	last := key[len(key)-1]
	msg := "unknown key"
	switch {
	case len(key) == 2 && key[0] == "common" && last == "metrics":
		msg += " here (metrics is an address per process: set it in [dispatcher.N], [game.N] or [gate.N])"
	case len(key) >= 2 && key[0] != "common" && (last == "secret" || last == "link"):
		msg += " here (only [common] sets it: every process of the cluster shares it)"
	default:
		if s := suggest(last, cands); s != "" {
			msg += " (did you mean " + s + "?)"
		}
	}
	p.errAt(key, prim, msg)
}

// resolve builds the processes of one kind, applying [common], [kind] and
// [kind.N] over the defaults in that order, so the most specific wins.
func resolve[P any](p *parser, s *section, role string, c Common, common layer, specs []spec[P],
	def func(Common, uint16) P, proc func(*P) *Process) []P {
	if s == nil {
		return nil
	}
	ids := make([]uint16, 0, len(s.ids))
	for id := range s.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]P, 0, len(ids))
	for _, id := range ids {
		is := s.ids[id]
		name := role + "." + strconv.Itoa(int(id))
		p.sections[name], p.prims[name] = is.key, is.prim
		prov := p.provOf(name)
		v := def(c, id)
		apply(p, &v, specs, common, prov)
		apply(p, &v, specs, s.opts, prov)
		apply(p, &v, specs, is.opts, prov)
		pr := proc(&v)
		pr.Secret, pr.Link = c.Secret, c.Link
		out = append(out, v)
	}
	return out
}

// apply sets the values of layer l that specs know into dst, recording
// where each came from.
func apply[P any](p *parser, dst *P, specs []spec[P], l layer, prov map[string]*setting) {
	for _, s := range specs {
		st := l[s.name]
		if st == nil {
			continue
		}
		if !st.done {
			// Decode and check once, even if every process overrides this
			// value: a bad value is a mistake wherever it is written. A
			// value of the right type is applied even when out of range,
			// so the checks that compare two options see what the file
			// says (the range error is reported once).
			st.done = true
			v, err := s.dec(st.raw)
			if err != nil {
				p.errAt(st.key, st.prim, err.Error())
			} else {
				if msg := s.check(v); msg != "" {
					p.errAt(st.key, st.prim, msg)
				}
				st.ok, st.val = true, v
			}
		}
		if st.ok {
			s.set(dst, st.val)
			prov[s.name] = st
		}
	}
}

func (p *parser) provOf(name string) map[string]*setting {
	m := p.prov[name]
	if m == nil {
		m = map[string]*setting{}
		p.prov[name] = m
	}
	return m
}

// locate says where the value of option opt of section sec ("game.2",
// "common", "gate") came from: the key where the file set it, or the
// section's own key and line when it is a default.
func (p *parser) locate(sec, opt string) (string, int, bool) {
	if opt != "" {
		if st := p.prov[sec][opt]; st != nil {
			return st.key.String(), p.line(st.key, st.prim), true
		}
	}
	key := sec
	if opt != "" {
		key += "." + opt
	}
	if k, ok := p.sections[sec]; ok {
		return key, p.line(k, p.prims[sec]), false
	}
	return key, 0, false
}

// probe is decoded into to learn a key's line: the TOML library has no
// public way to ask for a key's position, but every error it returns from
// a decoding Unmarshaler is a ParseError carrying the position of the key
// being decoded.
type probe struct{}

var errProbe = errors.New("probe")

// UnmarshalTOML always fails (see probe).
func (probe) UnmarshalTOML(any) error { return errProbe }

// line is the line of key in the file, 0 when the parser does not know it.
// A table that exists only through its subtables or dotted keys ([a.b]
// makes a) has no line of its own: it gets its first child's.
func (p *parser) line(key toml.Key, prim toml.Primitive) int {
	ks := key.String()
	if n, ok := p.lines[ks]; ok {
		return n
	}
	n := 0
	var pe toml.ParseError
	if err := p.md.PrimitiveDecode(prim, probe{}); errors.As(err, &pe) {
		n = pe.Position.Line
	}
	if n == 0 && len(key) < 4 { // deep enough for gate.1.kcp.mtu
		if m, ok := p.tryTable(prim); ok {
			for k, cp := range m {
				if cn := p.line(child(key, k), cp); cn > 0 && (n == 0 || cn < n) {
					n = cn
				}
			}
		}
	}
	p.lines[ks] = n
	return n
}

// errAt records an error about key.
func (p *parser) errAt(key toml.Key, prim toml.Primitive, msg string) {
	if len(p.errs) >= maxErrors {
		p.more++
		return
	}
	p.add(&Error{Line: p.line(key, prim), Key: key.String(), Msg: msg})
}

// add records e once: a bad value that many processes inherit is one
// mistake in the file.
func (p *parser) add(e *Error) {
	e.File = p.file
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	s := e.Error()
	if p.seen[s] {
		return
	}
	p.seen[s] = true
	if len(p.errs) >= maxErrors {
		p.more++
		return
	}
	p.errs = append(p.errs, e)
}

// syntax turns an error of the TOML parser into ours.
func (p *parser) syntax(err error) {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		p.add(&Error{Line: pe.Position.Line, Msg: "TOML syntax: " + pe.Message})
		return
	}
	p.add(&Error{Msg: "TOML: " + err.Error()})
}

// result joins the errors, in file order.
func (p *parser) result() error {
	if len(p.errs) == 0 {
		return nil
	}
	sortErrors(p.errs)
	errs := make([]error, 0, len(p.errs)+1)
	for _, e := range p.errs {
		errs = append(errs, e)
	}
	if p.more > 0 {
		errs = append(errs, &Error{File: p.file, Msg: fmt.Sprintf("and %d more errors", p.more)})
	}
	return errors.Join(errs...)
}

func child(key toml.Key, k string) toml.Key {
	return append(slices.Clip(key), k)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// looksNumeric: a key meant as a process id ("3", "-1", "007"), as
// opposed to an option name.
func looksNumeric(k string) bool {
	k = strings.TrimPrefix(k, "-")
	if k == "" {
		return false
	}
	for _, r := range k {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// parseID reads the N of [game.N].
func parseID(k string) (uint16, error) {
	n, err := strconv.Atoi(k)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("id must be between 1 and 65535, got %s", k)
	}
	if strconv.Itoa(n) != k {
		return 0, fmt.Errorf("id must be written without leading zeros: %d", n)
	}
	return uint16(n), nil
}

// suggest is the candidate closest to s, when it is close enough to be a
// typo of it.
func suggest(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(strings.ToLower(s), c); d < bestD && d <= max(1, len(c)/3) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, bounded in cost by the short
// key names it compares.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
