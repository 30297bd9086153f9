package ecs

import (
	"fmt"
	"math"
	"strings"

	"github.com/x448/float16"
)

// Packed attributes. A restore rebuilds a hundred thousand entities whose
// attributes the game will mostly not read for a long while: decoding
// every value into a boxed Go value up front is a quarter of the
// restore's time and a third of its new memory. So a root map whose
// values are all scalars can keep them in their encoded form, the CBOR
// items the snapshot stores, checked when packed and decoded on the
// map's first use (any read or write of a value). The key set is shared
// as for AdoptAttrsWith, so Len, Has and Keys never decode. A writer may
// copy still-packed values as they are (MapAttr.Packed).

// PackedAttrs are a root map's values in encoded form: one CBOR scalar
// per key of a shared key set, in key order. Only AttrPacker makes a
// non-empty one, so its values are always well-formed; they are held in a
// string, so nobody can change them after they were checked.
type PackedAttrs struct {
	keys []string // an AttrKeys' slice, read-only
	enc  string
}

// Len returns the number of keys (and values).
func (p PackedAttrs) Len() int { return len(p.keys) }

// Key returns the i-th key, in increasing order.
func (p PackedAttrs) Key(i int) string { return p.keys[i] }

// Encoded returns the values, one CBOR item per key in key order.
func (p PackedAttrs) Encoded() string { return p.enc }

// AttrPacker packs attribute values read by the thousand, copying them
// into blocks it allocates (a block stays in memory while one of its
// entities is still packed or holds a text value decoded from it). The
// zero value is ready to use; it is not safe for concurrent use.
type AttrPacker struct {
	// The block being filled. A strings.Builder only ever appends, so
	// the strings cut from it never change.
	block *strings.Builder
}

// packBlock is the size of an AttrPacker's blocks; values longer than an
// eighth of it get their own allocation.
const packBlock = 64 << 10

// Pack checks that b starts with keys.Len() attribute values that are
// scalars (integers that fit int64, floats, booleans, text and byte
// strings, in definite-length CBOR) and returns them packed, with the
// number of bytes they take. It returns false, and packs nothing, if b
// holds anything else (a map or list, a tag, a malformed or truncated
// item): the caller then decodes the values itself, and reports what is
// wrong.
func (pk *AttrPacker) Pack(keys *AttrKeys, b []byte) (PackedAttrs, int, bool) {
	if keys == nil || keys.Len() == 0 {
		return PackedAttrs{}, 0, false
	}
	n, ok := scanPacked(b, keys.Len(), nil)
	if !ok {
		return PackedAttrs{}, 0, false
	}
	var enc string
	if n > packBlock/8 {
		enc = string(b[:n])
	} else {
		if pk.block == nil || pk.block.Len()+n > pk.block.Cap() {
			pk.block = new(strings.Builder)
			pk.block.Grow(packBlock)
		}
		i := pk.block.Len()
		pk.block.Write(b[:n])
		enc = pk.block.String()[i:]
	}
	return PackedAttrs{keys: keys.keys, enc: enc}, n, true
}

// scanPacked walks count scalar values at the start of b and returns the
// bytes they take; with out (len count) it also decodes them into out
// (text values are cut from b, without a copy, when b is a string).
// Packing checks with the very walk that decodes later, so a packed map
// always decodes.
func scanPacked[T string | []byte](b T, count int, out []any) (int, bool) {
	off := 0
	for i := range count {
		if off >= len(b) {
			return 0, false
		}
		maj, info, arg, size := cborHead(b[off:])
		if size == 0 { // cut short, reserved, or an indefinite length
			return 0, false
		}
		off += size
		switch maj {
		case 0, 1: // unsigned, negative
			if arg > math.MaxInt64 {
				return 0, false
			}
			if out != nil {
				if maj == 0 {
					out[i] = int64(arg)
				} else {
					out[i] = ^int64(arg)
				}
			}
		case 2, 3: // bytes, text
			if arg > uint64(len(b)-off) {
				return 0, false
			}
			if out != nil {
				p := b[off : off+int(arg)]
				if maj == 3 {
					out[i] = string(p)
				} else {
					out[i] = []byte(p)
				}
			}
			off += int(arg)
		case 7:
			switch info {
			case 20, 21, 25, 26, 27: // false, true, floats
			default: // null, undefined, other simple values
				return 0, false
			}
			if out != nil {
				out[i] = simpleValue(info, arg)
			}
		default: // arrays, maps and tags are decoded by the caller
			return 0, false
		}
	}
	return off, true
}

// simpleValue is the value of a CBOR boolean or float (major type 7, the
// additional information info, the argument arg) that scanPacked took.
func simpleValue(info byte, arg uint64) any {
	switch info {
	case 20:
		return false
	case 21:
		return true
	case 25:
		return float64(float16.Frombits(uint16(arg)).Float32())
	case 26:
		return float64(math.Float32frombits(uint32(arg)))
	}
	return math.Float64frombits(arg)
}

// AdoptPackedAttrs makes p e's root attributes, as AdoptAttrsWith does
// for decoded values: without recording a change, forgetting pending
// changes; the values are decoded on the map's first use. Errors:
// ErrNoEntity.
func (e *Entity) AdoptPackedAttrs(p PackedAttrs) error {
	return e.adopt(func(root *MapAttr) error {
		root.setSorted(p.keys, nil, true)
		root.packed = p.enc
		return nil
	})
}

// Packed returns m's values if they are still in the encoded form an
// AttrPacker made (no value of m has been used since), so that a writer
// can copy them as they are.
func (m *MapAttr) Packed() (PackedAttrs, bool) {
	if m == nil || m.packed == "" {
		return PackedAttrs{}, false
	}
	return PackedAttrs{keys: m.keys, enc: m.packed}, true
}

// unpack decodes m's packed values, on the first use of any of them.
func (m *MapAttr) unpack() {
	vals := make([]any, len(m.keys))
	if _, ok := scanPacked(m.packed, len(vals), vals); !ok {
		// Pack checked these very bytes, which cannot have changed, with
		// the same walk; should it happen anyway, the map cannot hold
		// half its values: it is emptied, loudly, rather than panic.
		m.keys, m.vals, m.shared, m.packed = nil, nil, false, ""
		if m.owner != nil {
			m.owner.w.report(fmt.Errorf("%w: packed attributes of %s do not decode; they are dropped", ErrAttrType, m.owner))
		}
		return
	}
	m.vals, m.packed = vals, ""
}
