package ecs

import "fmt"

// AdoptMap makes a detached MapAttr of m without copying it: m must hold
// only stored attribute values (int64, float64, bool, string, []byte, and
// detached *MapAttr / *ListAttr, none twice), and belongs to the result
// from now on. It is for code that decodes attributes in bulk (a snapshot
// restore), where MapAttr.Set per key would check and copy every value
// once more. Errors: ErrAttrType, ErrAttrAttached, ErrAttrDepth; on error
// nothing is attached.
func AdoptMap(m map[string]any) (*MapAttr, error) {
	if m == nil {
		m = make(map[string]any)
	}
	a := &MapAttr{attrNode: attrNode{index: -1}, m: m}
	h := 0 // the height of the tallest child
	for k, v := range m {
		ch, err := adoptable(v)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		h = max(h, ch)
	}
	if h+1 > MaxAttrDepth {
		return nil, fmt.Errorf("%w: %d levels (max %d)", ErrAttrDepth, h+1, MaxAttrDepth)
	}
	if h == 0 {
		return a, nil // scalars only: nothing to attach
	}
	for k, v := range m {
		if isAttached(v) { // the same container under two keys
			for _, w := range m {
				if parentOf(w) == &a.attrNode {
					unsetChild(w)
				}
			}
			return nil, fmt.Errorf("key %q: %w: a container twice", k, ErrAttrAttached)
		}
		setChild(&a.attrNode, v, k, -1)
	}
	return a, nil
}

// AdoptList is AdoptMap for a list.
func AdoptList(l []any) (*ListAttr, error) {
	a := &ListAttr{attrNode: attrNode{index: -1}, l: l}
	h := 0
	for i, v := range l {
		ch, err := adoptable(v)
		if err != nil {
			return nil, fmt.Errorf("index %d: %w", i, err)
		}
		h = max(h, ch)
	}
	if h+1 > MaxAttrDepth {
		return nil, fmt.Errorf("%w: %d levels (max %d)", ErrAttrDepth, h+1, MaxAttrDepth)
	}
	for i, v := range l {
		if isAttached(v) {
			for _, w := range l[:i] {
				unsetChild(w)
			}
			return nil, fmt.Errorf("index %d: %w: a container twice", i, ErrAttrAttached)
		}
		setChild(&a.attrNode, v, "", i)
	}
	return a, nil
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

func isAttached(v any) bool {
	n := parentOf(v)
	return n != nil
}

// parentOf returns the parent of a container value (nil for scalars and
// detached containers).
func parentOf(v any) *attrNode {
	switch x := v.(type) {
	case *MapAttr:
		return x.parent
	case *ListAttr:
		return x.parent
	}
	return nil
}

// AdoptAttrs makes m e's root attributes in place of the current ones,
// without recording a change and without copying m: for rebuilding an
// entity created with CreateOptions.Restore (a snapshot restore), where
// CreateOptions.Attrs would check and copy every value once more. m must
// hold stored values as for AdoptMap and belongs to e from now on; the
// replaced root becomes a detached map.
// Errors: ErrNoEntity, and those of AdoptMap; on error e keeps its
// attributes.
func (e *Entity) AdoptAttrs(m map[string]any) error {
	if e == nil || e.destroyed {
		return fmt.Errorf("adopt attributes: %w", ErrNoEntity)
	}
	root, err := AdoptMap(m)
	if err != nil {
		return fmt.Errorf("adopt attributes of %s: %w", e, err)
	}
	t := e.attrs.tracker // the old root's tracker moves to the new root
	t.reset()
	e.attrs.tracker = nil // the old root is detached: it records nothing more
	root.tracker = t
	e.attrs = root
	return nil
}
