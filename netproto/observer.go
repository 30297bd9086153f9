package netproto

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The observer role. A client that says ClientHello{Role "observer"} with
// the gate's observer token may only watch: the gate refuses its calls and
// moves, and announces it to a game as ClientConnected{BootType:
// ObserverBootType}, which creates no entity for it. That game then sends
// it, a few times a second, a view of every space it holds as CallClient
// frames (no new catalogue entry: a CallClient is already what a game
// sends one client outside the sync stream):
//
//	CallClient{Entity 0, Method ObserveMethod, Args [
//	    0 seq uint       round number, the same for every frame of a round
//	    1 space uint64   the space entity
//	    2 stype string   the space's type
//	    3 part uint      0..parts-1: a space's members are split over frames
//	    4 parts uint
//	    5 types [string] the entity type names the records index
//	    6 records bytes  ObserverRecordSize bytes per entity, see below
//	]}
//
// A space's view is complete once parts frames of one seq arrived; the
// next round replaces it. A space absent from a round is gone.
const (
	// ObserverBootType is the ClientConnected.BootType of an observer. It
	// names no entity type: ecsworld reserves type names starting with
	// "ecsworld:".
	ObserverBootType = "ecsworld:observer"
	// ObserveMethod is the CallClient method of an observer view frame.
	ObserveMethod = "ecsworld.observe"
	// ObserverRecordSize is one entity's record in a view frame:
	//
	//	offset size field
	//	0      8    Entity uint64 big-endian
	//	8      2    index into the frame's types, uint16 big-endian
	//	10     4    X float32 bits, big-endian
	//	14     4    Z float32 bits
	//	18     4    AOI radius float32 bits (0: the entity watches nothing)
	//
	// The view is a map from above: Y is left out.
	ObserverRecordSize = 22
	// MaxObserverRecords bounds the records of one frame, so a frame stays
	// far below DefaultClientMaxFrame (64 KiB) whatever the type names.
	MaxObserverRecords = 2048
)

// ObserverRecord is one entity of an observer view frame.
type ObserverRecord struct {
	Entity uint64
	Type   uint16 // index into the frame's type names
	X, Z   float32
	Radius float32
}

// AppendObserverRecord appends r's binary form to dst.
func AppendObserverRecord(dst []byte, r ObserverRecord) []byte {
	dst = binary.BigEndian.AppendUint64(dst, r.Entity)
	dst = binary.BigEndian.AppendUint16(dst, r.Type)
	dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(r.X))
	dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(r.Z))
	return binary.BigEndian.AppendUint32(dst, math.Float32bits(r.Radius))
}

// ParseObserverRecords decodes the records of a view frame; ntypes is the
// length of the frame's type list, which every index must fall in.
// Untrusted input: the size must be a whole number of records, at most
// MaxObserverRecords, and every float finite.
func ParseObserverRecords(b []byte, ntypes int) ([]ObserverRecord, error) {
	if len(b)%ObserverRecordSize != 0 {
		return nil, fmt.Errorf("%w: observer records of %d bytes", ErrMalformed, len(b))
	}
	n := len(b) / ObserverRecordSize
	if n > MaxObserverRecords {
		return nil, fmt.Errorf("%w: %d observer records (max %d)", ErrMalformed, n, MaxObserverRecords)
	}
	out := make([]ObserverRecord, n)
	for i := range out {
		p := b[i*ObserverRecordSize:]
		r := ObserverRecord{
			Entity: binary.BigEndian.Uint64(p),
			Type:   binary.BigEndian.Uint16(p[8:]),
			X:      math.Float32frombits(binary.BigEndian.Uint32(p[10:])),
			Z:      math.Float32frombits(binary.BigEndian.Uint32(p[14:])),
			Radius: math.Float32frombits(binary.BigEndian.Uint32(p[18:])),
		}
		if int(r.Type) >= ntypes {
			return nil, fmt.Errorf("%w: observer record type index %d of %d types", ErrMalformed, r.Type, ntypes)
		}
		for _, f := range [...]float32{r.X, r.Z, r.Radius} {
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				return nil, fmt.Errorf("%w: observer record with a non-finite value", ErrMalformed)
			}
		}
		out[i] = r
	}
	return out, nil
}
