package ecs

import (
	"fmt"
	"slices"
	"strings"
)

// Registry is a game's schema: its components and entity types by name.
// Build it at start-up, then create the World from it; NewWorld freezes the
// registry, so later registrations fail with ErrFrozen and the world's
// schema cannot change under it. Registration is not safe for concurrent
// use; a frozen registry may be read from any goroutine.
type Registry struct {
	comps  map[string]Component
	types  map[string]*EntityType
	frozen bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{comps: map[string]Component{}, types: map[string]*EntityType{}}
}

// RegisterComponent adds c under c.Name(). Registering the same descriptor
// again is a no-op; another descriptor under the same name is an error
// (even of the same Go type: donburi would store them apart, and a
// snapshot naming the component would be ambiguous).
func (r *Registry) RegisterComponent(c Component) error {
	if r.frozen {
		return fmt.Errorf("%w: component %q", ErrFrozen, nameOf(c))
	}
	return r.addComponent(c)
}

func (r *Registry) addComponent(c Component) error {
	if c == nil {
		return fmt.Errorf("%w: nil component", ErrBadType)
	}
	if old, ok := r.comps[c.Name()]; ok {
		return conflict(old, c)
	}
	r.comps[c.Name()] = c
	return nil
}

// conflict says whether c may be registered where old already is.
func conflict(old, c Component) error {
	switch {
	case old == c:
		return nil
	case old.Type() != c.Type():
		return fmt.Errorf("%w: component %q is %v, not %v", ErrDuplicate, c.Name(), old.Type(), c.Type())
	default:
		return fmt.Errorf("%w: component %q declared twice (two NewComponent calls)", ErrDuplicate, c.Name())
	}
}

// RegisterType checks and seals t and adds it with its components. A type
// name registered before is an error, as is any mistake collected while t
// was built; on error nothing is registered.
func (r *Registry) RegisterType(t *EntityType) error {
	if t == nil {
		return fmt.Errorf("%w: nil entity type", ErrBadType)
	}
	if r.frozen {
		return fmt.Errorf("%w: entity type %q", ErrFrozen, t.name)
	}
	if _, ok := r.types[t.name]; ok {
		return fmt.Errorf("%w: entity type %q", ErrDuplicate, t.name)
	}
	// Check every component first so a failure registers nothing.
	for _, c := range t.comps {
		if old, ok := r.comps[c.Name()]; ok {
			if err := conflict(old, c); err != nil {
				return fmt.Errorf("entity type %q: %w", t.name, err)
			}
		}
	}
	if err := t.seal(); err != nil {
		return err
	}
	for _, c := range t.comps {
		r.comps[c.Name()] = c
	}
	r.types[t.name] = t
	return nil
}

// Component returns the component registered as name.
func (r *Registry) Component(name string) (Component, bool) {
	c, ok := r.comps[name]
	return c, ok
}

// Components returns every registered component, sorted by name.
func (r *Registry) Components() []Component {
	cs := make([]Component, 0, len(r.comps))
	for _, c := range r.comps {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b Component) int { return strings.Compare(a.Name(), b.Name()) })
	return cs
}

// Type returns the entity type registered as name.
func (r *Registry) Type(name string) (*EntityType, bool) {
	t, ok := r.types[name]
	return t, ok
}

// Types returns every registered entity type, sorted by name.
func (r *Registry) Types() []*EntityType {
	ts := make([]*EntityType, 0, len(r.types))
	for _, t := range r.types {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *EntityType) int { return strings.Compare(a.name, b.name) })
	return ts
}

// Frozen reports whether a world was created from the registry.
func (r *Registry) Frozen() bool { return r.frozen }

func nameOf(c Component) string {
	if c == nil {
		return "<nil>"
	}
	return c.Name()
}
