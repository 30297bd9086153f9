package client

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/ecsworld/ecsworld/netproto"
)

// MaxAttrPath bounds the length of an attribute change's path. The server's
// trees are at most 16 levels deep (ecs.MaxAttrDepth); twice that leaves room
// and still keeps a hostile gate from growing a tree without bound in depth,
// which would make every snapshot copy deep recursion.
const MaxAttrPath = 32

// ErrAttrChange is wrapped by every error of ApplyAttrChanges.
var ErrAttrChange = errors.New("client: bad attribute change")

// ApplyAttrChanges applies changes, in order, to the attribute tree attrs
// (maps are map[string]any, lists []any, as the netproto codec decodes
// them). Values are stored as given, not copied: they must be owned by the
// caller (a freshly decoded message is).
//
// Semantics (netproto.AttrOp):
//   - AttrSet: sets the value at Path. Missing map keys on the way are created
//     as maps when the next path element is a key; a list index must name an
//     existing element.
//   - AttrDelete: removes the map key or list element (later elements shift
//     down) at Path. A map key that is already absent, at the end of the path
//     or on the way, is not an error: the server coalesces a tick's changes,
//     so a key set and deleted in one tick reaches the client as a lone
//     delete.
//   - AttrAppend: appends Value to the existing list at Path.
//
// A path is non-empty (Path[0] is a top-level key), at most MaxAttrPath long,
// and made of strings (map keys) and non-negative integers (list indexes).
// Application stops at the first change that cannot be applied, leaving the
// earlier ones applied, and returns an error wrapping ErrAttrChange that
// names the change's index.
func ApplyAttrChanges(attrs map[string]any, changes []netproto.AttrChange) error {
	if attrs == nil {
		return fmt.Errorf("%w: nil attribute map", ErrAttrChange)
	}
	for i := range changes {
		if err := applyChange(attrs, &changes[i]); err != nil {
			return fmt.Errorf("%w: change %d (op %d, path %v): %w", ErrAttrChange, i, changes[i].Op, truncPath(changes[i].Path), err)
		}
	}
	return nil
}

// truncPath keeps error messages short whatever the path length.
func truncPath(p []any) []any {
	if len(p) > 8 {
		return append(p[:8:8], "...")
	}
	return p
}

func applyChange(root map[string]any, c *netproto.AttrChange) error {
	switch c.Op {
	case netproto.AttrSet, netproto.AttrDelete, netproto.AttrAppend:
	default:
		return fmt.Errorf("unknown op %d", c.Op)
	}
	if len(c.Path) == 0 {
		return errors.New("empty path")
	}
	if len(c.Path) > MaxAttrPath {
		return fmt.Errorf("path of %d elements, at most %d", len(c.Path), MaxAttrPath)
	}
	for i, el := range c.Path {
		switch el.(type) {
		case string:
		default:
			if _, err := pathIndex(el); err != nil {
				return fmt.Errorf("path element %d: %w", i, err)
			}
		}
	}
	if _, ok := c.Path[0].(string); !ok {
		return errors.New("path must start with a top-level key")
	}
	_, err := applyAt(root, c.Path, c)
	return err
}

// pathIndex converts a list index of a decoded path (uint64 normally; int64
// and int accepted) to an int.
func pathIndex(el any) (int, error) {
	switch v := el.(type) {
	case uint64:
		if v > math.MaxInt32 {
			return 0, fmt.Errorf("list index %d out of range", v)
		}
		return int(v), nil
	case int64:
		if v < 0 || v > math.MaxInt32 {
			return 0, fmt.Errorf("list index %d out of range", v)
		}
		return int(v), nil
	case int:
		if v < 0 || v > math.MaxInt32 {
			return 0, fmt.Errorf("list index %d out of range", v)
		}
		return int(v), nil
	}
	return 0, fmt.Errorf("path element of type %T, want a string or a non-negative integer", el)
}

// errAbsent marks a missing map key met by a delete: nothing to do.
var errAbsent = errors.New("absent")

// applyAt applies c at path inside container node (a map or a list) and
// returns the node to store in its parent: a list that grows or shrinks is a
// new slice header.
func applyAt(node any, path []any, c *netproto.AttrChange) (any, error) {
	last := len(path) == 1
	switch n := node.(type) {
	case map[string]any:
		key, ok := path[0].(string)
		if !ok {
			return node, fmt.Errorf("list index %v used on a map", path[0])
		}
		if last {
			switch c.Op {
			case netproto.AttrSet:
				n[key] = c.Value
			case netproto.AttrDelete:
				delete(n, key)
			case netproto.AttrAppend:
				cur, present := n[key]
				l, ok := cur.([]any)
				if !ok {
					if !present {
						return node, fmt.Errorf("append to missing key %q", key)
					}
					return node, fmt.Errorf("append to key %q, which holds a %T, not a list", key, cur)
				}
				n[key] = append(l, c.Value)
			}
			return node, nil
		}
		child, ok := n[key]
		if !ok {
			switch {
			case c.Op == netproto.AttrDelete:
				return node, nil
			case c.Op == netproto.AttrSet:
				if _, isKey := path[1].(string); !isKey {
					return node, fmt.Errorf("key %q is missing and a list cannot be created to index", key)
				}
				child = map[string]any{}
			default:
				return node, fmt.Errorf("key %q is missing", key)
			}
		}
		nc, err := applyAt(child, path[1:], c)
		if err != nil {
			// A map created on the way is not stored: a failed set
			// leaves no trace.
			return node, err
		}
		n[key] = nc
		return node, nil
	case []any:
		i, err := pathIndex(path[0])
		if err != nil {
			return node, fmt.Errorf("key %v used on a list", path[0])
		}
		if i >= len(n) {
			return node, fmt.Errorf("list index %d out of range (length %d)", i, len(n))
		}
		if last {
			switch c.Op {
			case netproto.AttrSet:
				n[i] = c.Value
			case netproto.AttrDelete:
				copy(n[i:], n[i+1:])
				n[len(n)-1] = nil
				return n[:len(n)-1], nil
			case netproto.AttrAppend:
				l, ok := n[i].([]any)
				if !ok {
					return node, fmt.Errorf("append to element %d, which is not a list", i)
				}
				n[i] = append(l, c.Value)
			}
			return node, nil
		}
		nc, err := applyAt(n[i], path[1:], c)
		if err != nil {
			return node, err
		}
		n[i] = nc
		return node, nil
	}
	return node, fmt.Errorf("path goes through a %T, not a map or list", node)
}

// CopyAttrs returns a deep copy of an attribute tree, so a snapshot handed to
// a caller never aliases the live view.
func CopyAttrs(attrs map[string]any) map[string]any {
	if attrs == nil {
		return nil
	}
	out := make(map[string]any, len(attrs))
	for k, v := range attrs {
		out[k] = copyValue(v)
	}
	return out
}

// copyValue deep-copies the mutable parts of a decoded value.
func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return CopyAttrs(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	case []byte:
		return append([]byte(nil), x...)
	case *big.Int:
		return new(big.Int).Set(x)
	case big.Int:
		return *new(big.Int).Set(&x)
	}
	return v
}
