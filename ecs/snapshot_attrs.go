package ecs

import (
	"fmt"
	"slices"
)

// Bulk construction of attributes, for code that decodes them by the
// thousand (a snapshot restore): MapAttr.Set per key would check, copy and
// record every value once more, and a plain map for CreateOptions.Attrs
// would be copied again. Values must already be in stored form: int64,
// float64, bool, string, []byte, or a detached *MapAttr / *ListAttr (each
// container once); the containers are attached to the new parent.

// NewMapAttrOf returns a detached map of keys[i] → vals[i]. The slices
// are not kept. Errors: ErrAttrType, ErrAttrAttached, ErrAttrDepth, and
// ErrDuplicate for a key given twice; on error no container is attached.
func NewMapAttrOf(keys []string, vals []any) (*MapAttr, error) {
	m := &MapAttr{attrNode: attrNode{index: -1}}
	if err := fill(m, keys, vals); err != nil {
		return nil, err
	}
	return m, nil
}

// NewListAttrOf returns a detached list of vals, which it keeps (the
// caller must not use the slice afterwards). Errors as NewMapAttrOf.
func NewListAttrOf(vals []any) (*ListAttr, error) {
	h, err := checkValues(vals)
	if err != nil {
		return nil, err
	}
	l := &ListAttr{attrNode: attrNode{index: -1}, l: vals}
	if h+1 > MaxAttrDepth {
		return nil, fmt.Errorf("%w: %d levels (max %d)", ErrAttrDepth, h+1, MaxAttrDepth)
	}
	if h > 0 {
		for i, v := range vals {
			setChild(&l.attrNode, v, "", i)
		}
	}
	return l, nil
}

// AdoptAttrs makes keys[i] → vals[i] e's root attributes in place of the
// current ones, without recording a change (pending changes are
// forgotten): for rebuilding an entity created with
// CreateOptions.Restore. The root map keeps its identity (e.Attrs() is
// the same *MapAttr); containers it held are detached. Errors:
// ErrNoEntity, and those of NewMapAttrOf; on error e keeps its
// attributes.
func (e *Entity) AdoptAttrs(keys []string, vals []any) error {
	return e.adopt(func(root *MapAttr) error { return fill(root, keys, vals) })
}

// adopt replaces e's root attributes by what set puts in the (emptied)
// root, restoring the old contents if set fails.
func (e *Entity) adopt(set func(root *MapAttr) error) error {
	if e == nil || e.destroyed {
		return fmt.Errorf("adopt attributes: %w", ErrNoEntity)
	}
	// The root keeps its identity (a freshly created entity's root is
	// empty); only its contents are replaced.
	root := &e.root
	if root.length() == 0 && len(e.track.changes) == 0 {
		// Nothing to detach, forget or put back (set leaves root as it
		// was on error): the case of every restored entity.
		if err := set(root); err != nil {
			return fmt.Errorf("adopt attributes of %s: %w", e, err)
		}
		return nil
	}
	old := *root
	if root.packed == "" { // packed values are scalars: no children
		root.each(func(_ string, v any) bool { unsetChild(v); return true })
	}
	root.keys, root.vals, root.big, root.shared, root.packed = nil, nil, nil, false, ""
	if err := set(root); err != nil {
		root.keys, root.vals, root.big, root.shared, root.packed = old.keys, old.vals, old.big, old.shared, old.packed
		if root.packed == "" {
			root.each(func(k string, v any) bool { setChild(&root.attrNode, v, k, -1); return true })
		}
		return fmt.Errorf("adopt attributes of %s: %w", e, err)
	}
	e.track.reset()
	return nil
}

// fill sets m's contents to keys[i] → vals[i] (m is a root, level 1, or
// detached); on error m is unchanged. The slices are copied.
func fill(m *MapAttr, keys []string, vals []any) error {
	if len(keys) != len(vals) {
		return fmt.Errorf("%w: %d keys for %d values", ErrAttrType, len(keys), len(vals))
	}
	h, err := checkValues(vals)
	if err != nil {
		return err
	}
	if h+1 > MaxAttrDepth {
		return fmt.Errorf("%w: %d levels (max %d)", ErrAttrDepth, h+1, MaxAttrDepth)
	}
	ks, vs := slices.Clone(keys), slices.Clone(vals)
	if sortPairs(ks, vs) {
		return fmt.Errorf("%w: attribute key given twice", ErrDuplicate)
	}
	m.setSorted(ks, vs, false)
	if h > 0 {
		for i, k := range ks {
			setChild(&m.attrNode, vs[i], k, -1)
		}
	}
	return nil
}

// checkValues checks that every value is in stored form and every
// container detached and given once; it returns the height of the
// tallest container (0 for scalars only).
func checkValues(vals []any) (int, error) {
	h := 0
	containers := 0
	for i, v := range vals {
		switch v.(type) {
		case int64, float64, bool, string, []byte: // the common case, inline
			continue
		}
		ch, err := adoptable(v)
		if err != nil {
			return 0, fmt.Errorf("value %d: %w", i, err)
		}
		if ch > 0 {
			containers++
		}
		h = max(h, ch)
	}
	if containers > 1 { // the same container twice would get two parents
		seen := make(map[any]bool, containers)
		for _, v := range vals {
			switch v.(type) {
			case *MapAttr, *ListAttr:
				if seen[v] {
					return 0, fmt.Errorf("%w: a container given twice", ErrAttrAttached)
				}
				seen[v] = true
			}
		}
	}
	return h, nil
}

// adoptable checks that v is a stored value and returns its height (0
// for a scalar); a container must be detached (the caller claims it).
func adoptable(v any) (int, error) {
	switch x := v.(type) {
	case int64, float64, bool, string, []byte:
		return 0, nil
	case *MapAttr:
		if x == nil {
			return 0, fmt.Errorf("%w: nil *MapAttr", ErrAttrType)
		}
		if x.attached() {
			return 0, ErrAttrAttached
		}
		return x.height(), nil
	case *ListAttr:
		if x == nil {
			return 0, fmt.Errorf("%w: nil *ListAttr", ErrAttrType)
		}
		if x.attached() {
			return 0, ErrAttrAttached
		}
		return x.height(), nil
	}
	return 0, fmt.Errorf("%w: %T", ErrAttrType, v)
}
