package netproto

import (
	"encoding/binary"
	"fmt"
	"math"
)

// PositionRecord is one entity's position and heading, the hot per-tick sync
// item. It travels as a fixed binary record, not CBOR:
//
//	offset size field
//	0      8    Entity  uint64 big-endian
//	8      4    X       float32 bits, big-endian
//	12     4    Y       float32 bits
//	16     4    Z       float32 bits
//	20     2    Yaw     uint16: yaw in [0, 2π) scaled by 65536/2π
//
// Positions travel as float32 unchanged: the server keeps float32 positions,
// so nothing is lost (relative precision 2^-24: under 1 mm up to 16 km from
// the origin). Yaw is quantised to 2π/65536 rad (about 0.0055°); decoding
// is within half a step (π/65536 ≈ 4.8e-5 rad) of the encoded angle, far
// below what a client can render. Non-finite values are refused both ways.
type PositionRecord struct {
	Entity uint64
	X      float32
	Y      float32
	Z      float32
	Yaw    float32
}

// Sizes of the binary position formats.
const (
	// PositionRecordSize is the size of one encoded record.
	PositionRecordSize = 22
	// positionCountSize is the uint16 record count that starts a batch.
	positionCountSize = 2
	// MaxPositionBatch is the most records a batch can count.
	MaxPositionBatch = math.MaxUint16
	// syncFromClientSize is SyncFromClient's payload: client id + record.
	syncFromClientSize = 8 + PositionRecordSize
)

const yawScale = 65536 / (2 * math.Pi)

// QuantizeYaw maps an angle in radians (any range) to its 16-bit wire value.
func QuantizeYaw(yaw float32) uint16 {
	y := float64(yaw)
	if y < 0 || y >= 2*math.Pi {
		// Mod is slow; most yaws are already in range.
		y = math.Mod(y, 2*math.Pi)
		if y < 0 {
			y += 2 * math.Pi
		}
	}
	// Rounding can give 65536 for angles just under 2π: that wraps to 0,
	// which is the same heading.
	return uint16(uint32(math.Round(y*yawScale)) & 0xFFFF)
}

// DequantizeYaw maps a 16-bit wire value to radians in [0, 2π).
func DequantizeYaw(q uint16) float32 {
	return float32(float64(q) * (1 / yawScale))
}

// finite reports whether f is neither NaN nor ±Inf.
func finite(f float32) bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// checkRecord refuses non-finite values, which no client or server may use.
func checkRecord(r *PositionRecord) error {
	if !finite(r.X) || !finite(r.Y) || !finite(r.Z) || !finite(r.Yaw) {
		return fmt.Errorf("%w: non-finite position or yaw for entity %d", ErrMalformed, r.Entity)
	}
	return nil
}

// AppendPositionRecord appends one encoded record to dst. A game uses it to
// build GateBatch.PosRecords (each record encoded once, whatever the number
// of recipients).
func AppendPositionRecord(dst []byte, r PositionRecord) ([]byte, error) {
	if err := checkRecord(&r); err != nil {
		return dst, err
	}
	return appendRecord(dst, &r), nil
}

func appendRecord(dst []byte, r *PositionRecord) []byte {
	dst = binary.BigEndian.AppendUint64(dst, r.Entity)
	dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(r.X))
	dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(r.Y))
	dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(r.Z))
	return binary.BigEndian.AppendUint16(dst, QuantizeYaw(r.Yaw))
}

// float32 bits with all exponent bits set are NaN or ±Inf.
const f32ExpMask = 0x7F800000

// decodeRecord reads one record from b (len(b) >= PositionRecordSize).
func decodeRecord(b []byte) (PositionRecord, error) {
	b = b[:PositionRecordSize]
	x := binary.BigEndian.Uint32(b[8:])
	y := binary.BigEndian.Uint32(b[12:])
	z := binary.BigEndian.Uint32(b[16:])
	r := PositionRecord{
		Entity: binary.BigEndian.Uint64(b),
		X:      math.Float32frombits(x),
		Y:      math.Float32frombits(y),
		Z:      math.Float32frombits(z),
		Yaw:    DequantizeYaw(binary.BigEndian.Uint16(b[20:])),
	}
	if x&f32ExpMask == f32ExpMask || y&f32ExpMask == f32ExpMask || z&f32ExpMask == f32ExpMask {
		return r, fmt.Errorf("%w: non-finite position for entity %d", ErrMalformed, r.Entity)
	}
	return r, nil
}

// AppendPositionBatch appends a batch payload (uint16 count, then the
// records) to dst. It refuses more than MaxPositionBatch records and
// non-finite values, leaving dst as it was.
func AppendPositionBatch(dst []byte, recs []PositionRecord) ([]byte, error) {
	if len(recs) > MaxPositionBatch {
		return dst, fmt.Errorf("%w: %d position records, at most %d per batch", ErrFrameTooLarge, len(recs), MaxPositionBatch)
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(recs)))
	for i := range recs {
		if err := checkRecord(&recs[i]); err != nil {
			return dst[:start], err
		}
		dst = appendRecord(dst, &recs[i])
	}
	return dst, nil
}

// AppendPositionBatchRaw appends a batch payload built from already encoded
// records (a multiple of PositionRecordSize bytes, as in
// GateBatch.PosRecords). A gate uses it to send each client its records
// without decoding them.
func AppendPositionBatchRaw(dst []byte, raw []byte) ([]byte, error) {
	if len(raw)%PositionRecordSize != 0 {
		return dst, fmt.Errorf("%w: %d bytes is not a whole number of position records", ErrMalformed, len(raw))
	}
	n := len(raw) / PositionRecordSize
	if n > MaxPositionBatch {
		return dst, fmt.Errorf("%w: %d position records, at most %d per batch", ErrFrameTooLarge, n, MaxPositionBatch)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	return append(dst, raw...), nil
}

// PositionBatchLen checks a batch payload's header and length against
// maxRecords (<= 0: MaxPositionBatch) and returns its record count.
func PositionBatchLen(payload []byte, maxRecords int) (int, error) {
	if maxRecords <= 0 || maxRecords > MaxPositionBatch {
		maxRecords = MaxPositionBatch
	}
	if len(payload) < positionCountSize {
		return 0, fmt.Errorf("%w: position batch of %d bytes has no count", ErrTruncated, len(payload))
	}
	n := int(binary.BigEndian.Uint16(payload))
	if n > maxRecords {
		return 0, fmt.Errorf("%w: position batch of %d records, at most %d", ErrFrameTooLarge, n, maxRecords)
	}
	want := positionCountSize + n*PositionRecordSize
	switch {
	case len(payload) < want:
		return 0, fmt.Errorf("%w: position batch of %d records needs %d bytes, have %d", ErrTruncated, n, want, len(payload))
	case len(payload) > want:
		return 0, fmt.Errorf("%w: position batch of %d records has %d trailing bytes", ErrMalformed, n, len(payload)-want)
	}
	return n, nil
}

// DecodePositionBatch decodes a batch payload, appending the records to
// dst[:0] and returning it. With cap(dst) >= the count it does not
// allocate. The count is checked against maxRecords (<= 0: MaxPositionBatch)
// and the exact payload length before any record is read; a non-finite value
// is an error (dst then holds the records before it).
func DecodePositionBatch(dst []PositionRecord, payload []byte, maxRecords int) ([]PositionRecord, error) {
	dst = dst[:0]
	n, err := PositionBatchLen(payload, maxRecords)
	if err != nil {
		return dst, err
	}
	if cap(dst) < n {
		dst = make([]PositionRecord, n)
	}
	dst = dst[:n]
	b := payload[positionCountSize:]
	for i := range dst {
		r, err := decodeRecord(b[i*PositionRecordSize:])
		if err != nil {
			return dst[:i], fmt.Errorf("record %d: %w", i, err)
		}
		dst[i] = r
	}
	return dst, nil
}

// AppendSyncFromClient appends a SyncFromClient payload to dst.
func AppendSyncFromClient(dst []byte, client uint64, r PositionRecord) ([]byte, error) {
	if err := checkRecord(&r); err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint64(dst, client)
	return appendRecord(dst, &r), nil
}

// DecodeSyncFromClient decodes a SyncFromClient payload.
func DecodeSyncFromClient(payload []byte) (SyncFromClient, error) {
	if len(payload) != syncFromClientSize {
		return SyncFromClient{}, fmt.Errorf("%w: SyncFromClient is %d bytes, got %d", ErrMalformed, syncFromClientSize, len(payload))
	}
	r, err := decodeRecord(payload[8:])
	if err != nil {
		return SyncFromClient{}, err
	}
	return SyncFromClient{Client: binary.BigEndian.Uint64(payload), Record: r}, nil
}
