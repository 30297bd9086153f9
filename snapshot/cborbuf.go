package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The entity records are plain CBOR (RFC 8949, definite lengths only) and
// any CBOR decoder reads them, but they are written and read here by hand:
// fxamacker/cbor's reflection costs several microseconds per record, which
// is the whole budget of a restore. Components, whose types only the game
// knows, still go through fxamacker/cbor.

// CBOR major types.
const (
	majUint   = 0
	majNeg    = 1
	majBytes  = 2
	majText   = 3
	majArray  = 4
	majMap    = 5
	majTag    = 6
	majSimple = 7
)

// appendHead appends a CBOR head of major type maj and argument n in its
// shortest form.
func appendHead(b []byte, maj byte, n uint64) []byte {
	m := maj << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return append(b, m|25, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return appendHead(b, majUint, uint64(v))
	}
	return appendHead(b, majNeg, uint64(^v))
}

func appendText(b []byte, s string) []byte {
	b = appendHead(b, majText, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	b = appendHead(b, majBytes, uint64(len(p)))
	return append(b, p...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xf5)
	}
	return append(b, 0xf4)
}

// appendFloat32 writes f as a half float when that is exact, else single.
func appendFloat32(b []byte, f float32) []byte {
	if h, ok := f16From32(f); ok {
		return append(b, 0xf9, byte(h>>8), byte(h))
	}
	u := math.Float32bits(f)
	return append(b, 0xfa, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

// appendFloat64 writes f in the shortest of half, single and double that
// keeps it exact.
func appendFloat64(b []byte, f float64) []byte {
	if f32 := float32(f); float64(f32) == f || f != f {
		return appendFloat32(b, f32)
	}
	u := math.Float64bits(f)
	return append(b, 0xfb, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32), byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

// f16From32 converts f to IEEE 754 half precision if that is exact. NaNs
// become the canonical quiet NaN.
func f16From32(f float32) (uint16, bool) {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	exp := int(u >> 23 & 0xff)
	mant := u & 0x7fffff
	switch {
	case exp == 0xff:
		if mant == 0 {
			return sign | 0x7c00, true
		}
		return 0x7e00, true
	case exp == 0:
		return sign, mant == 0 // single subnormals are below half's range
	}
	e := exp - 127
	if e >= -14 && e <= 15 {
		if mant&0x1fff != 0 {
			return 0, false
		}
		return sign | uint16(e+15)<<10 | uint16(mant>>13), true
	}
	if e >= -24 && e < -14 {
		full := mant | 1<<23
		s := uint(-(e + 1))
		if full&(1<<s-1) != 0 {
			return 0, false
		}
		return sign | uint16(full>>s), true
	}
	return 0, false
}

// f32From16 converts a half float to single precision (exactly).
func f32From16(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// errCBOR is the cause of every malformed-record error; the reader wraps
// it into a *FormatError that says where.
var errCBOR = errors.New("bad CBOR")

// cborReader reads CBOR items from one chunk of records. It refuses
// indefinite lengths, reserved encodings and lengths beyond what is left,
// so no allocation is larger than the input.
type cborReader struct {
	b   []byte
	off int
}

func (r *cborReader) fail(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d of the chunk: %s", errCBOR, r.off, fmt.Sprintf(format, args...))
}

// head reads an item's head: its major type, its additional information
// and its argument (for major 7, the raw bits of a float or the simple
// value). Every well-formed head is read here in one call; headLong
// finds the error of the others.
func (r *cborReader) head() (maj, info byte, arg uint64, err error) {
	b, off := r.b, r.off
	if off < len(b) {
		c := b[off]
		maj, info = c>>5, c&0x1f
		switch {
		case info < 24: // the argument in the first byte: most items
			r.off = off + 1
			return maj, info, uint64(info), nil
		case info == 24 && off+1 < len(b):
			if arg = uint64(b[off+1]); maj != majSimple || arg >= 32 {
				r.off = off + 2
				return maj, info, arg, nil
			}
		case info == 25 && off+2 < len(b):
			r.off = off + 3
			return maj, info, uint64(binary.BigEndian.Uint16(b[off+1:])), nil
		case info == 26 && off+4 < len(b):
			r.off = off + 5
			return maj, info, uint64(binary.BigEndian.Uint32(b[off+1:])), nil
		case info == 27 && off+8 < len(b):
			r.off = off + 9
			return maj, info, binary.BigEndian.Uint64(b[off+1:]), nil
		}
	}
	return r.headLong()
}

// headLong reads a head the slow way: it is what head falls back to,
// and it says what is wrong with a malformed one.
func (r *cborReader) headLong() (maj, info byte, arg uint64, err error) {
	if r.off >= len(r.b) {
		return 0, 0, 0, r.fail("unexpected end")
	}
	c := r.b[r.off]
	maj, info = c>>5, c&0x1f
	r.off++
	var n int
	switch {
	case info < 24:
		return maj, info, uint64(info), nil
	case info == 24:
		n = 1
	case info == 25:
		n = 2
	case info == 26:
		n = 4
	case info == 27:
		n = 8
	case info == 31:
		r.off--
		return 0, 0, 0, r.fail("indefinite length")
	default:
		r.off--
		return 0, 0, 0, r.fail("reserved additional information %d", info)
	}
	if len(r.b)-r.off < n {
		return 0, 0, 0, r.fail("unexpected end in a head")
	}
	p := r.b[r.off:]
	switch n {
	case 1:
		arg = uint64(p[0])
	case 2:
		arg = uint64(binary.BigEndian.Uint16(p))
	case 4:
		arg = uint64(binary.BigEndian.Uint32(p))
	default:
		arg = binary.BigEndian.Uint64(p)
	}
	r.off += n
	if maj == majSimple && info == 24 && arg < 32 {
		return 0, 0, 0, r.fail("simple value %d in two bytes", arg)
	}
	return maj, info, arg, nil
}

// length checks that n items of at least one byte each (or n bytes) can
// still follow.
func (r *cborReader) length(n uint64) (int, error) {
	if n > uint64(len(r.b)-r.off) {
		return 0, r.lengthErr(n)
	}
	return int(n), nil
}

func (r *cborReader) lengthErr(n uint64) error {
	return r.fail("length %d beyond the %d bytes left", n, len(r.b)-r.off)
}

func (r *cborReader) uint() (uint64, error) {
	if r.off < len(r.b) && r.b[r.off] < 24 { // major 0, the value in the byte
		v := r.b[r.off]
		r.off++
		return uint64(v), nil
	}
	maj, _, arg, err := r.head()
	if err == nil && maj != majUint {
		err = r.wantErr("an unsigned integer", maj)
	}
	return arg, err
}

func (r *cborReader) wantErr(what string, maj byte) error {
	return r.fail("want %s, have major type %d", what, maj)
}

// int reads a signed integer (major type 0 or 1) that fits an int64.
func (r *cborReader) int() (int64, error) {
	maj, _, arg, err := r.head()
	if err != nil {
		return 0, err
	}
	switch {
	case maj != majUint && maj != majNeg:
		return 0, r.fail("want an integer, have major type %d", maj)
	case arg > math.MaxInt64:
		return 0, r.fail("integer beyond int64")
	case maj == majNeg:
		return ^int64(arg), nil
	}
	return int64(arg), nil
}

// expect reads a head of major type maj (array or map) and returns its
// checked length.
func (r *cborReader) expect(maj byte) (int, error) {
	if off := r.off; off < len(r.b) {
		// A short length in the first byte: most containers and strings.
		if c := r.b[off]; c>>5 == maj && c&0x1f < 24 && int(c&0x1f) <= len(r.b)-off-1 {
			r.off = off + 1
			return int(c & 0x1f), nil
		}
	}
	m, _, arg, err := r.head()
	if err != nil {
		return 0, err
	}
	if m != maj {
		return 0, r.fail("want major type %d, have %d", maj, m)
	}
	return r.length(arg)
}

// raw returns the bytes of a string item of major type maj (shared with
// the chunk buffer: copy them to keep them).
func (r *cborReader) raw(maj byte) ([]byte, error) {
	n, err := r.expect(maj)
	if err != nil {
		return nil, err
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p, nil
}

// floatOf is the float of any width a head holds (an integer is not a
// float here).
func (r *cborReader) floatOf(maj, info byte, arg uint64) (float64, error) {
	if maj == majSimple {
		switch info {
		case 25:
			return float64(f32From16(uint16(arg))), nil
		case 26:
			return float64(math.Float32frombits(uint32(arg))), nil
		case 27:
			return math.Float64frombits(arg), nil
		}
	}
	return 0, r.fail("want a float, have major type %d info %d", maj, info)
}

func (r *cborReader) float32() (float32, error) {
	b, off := r.b, r.off
	if off+4 < len(b) && b[off] == 0xfa { // single
		r.off = off + 5
		return math.Float32frombits(binary.BigEndian.Uint32(b[off+1:])), nil
	}
	if off+2 < len(b) && b[off] == 0xf9 { // half
		r.off = off + 3
		return f32From16(binary.BigEndian.Uint16(b[off+1:])), nil
	}
	maj, info, arg, err := r.head()
	if err != nil {
		return 0, err
	}
	switch {
	case maj == majSimple && info == 25:
		return f32From16(uint16(arg)), nil
	case maj == majSimple && info == 26:
		return math.Float32frombits(uint32(arg)), nil
	}
	return 0, r.fail("want a half or single float, have major type %d info %d", maj, info)
}

// skip passes over one well-formed item, nested at most depth levels, and
// returns its bytes.
func (r *cborReader) skip(depth int) ([]byte, error) {
	start := r.off
	if err := r.skipItem(depth); err != nil {
		return nil, err
	}
	return r.b[start:r.off], nil
}

func (r *cborReader) skipItem(depth int) error {
	if depth <= 0 {
		return r.fail("nested too deep")
	}
	maj, _, arg, err := r.head()
	if err != nil {
		return err
	}
	switch maj {
	case majBytes, majText:
		n, err := r.length(arg)
		if err != nil {
			return err
		}
		r.off += n
	case majArray, majMap:
		n, err := r.length(arg)
		if err != nil {
			return err
		}
		if maj == majMap {
			if n > (len(r.b)-r.off)/2 {
				return r.fail("map of %d pairs beyond the bytes left", n)
			}
			n *= 2
		}
		for range n {
			if err := r.skipItem(depth - 1); err != nil {
				return err
			}
		}
	case majTag:
		return r.skipItem(depth - 1)
	}
	return nil
}
