package ecs

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
)

// EntityID is an entity's stable, cluster-wide unique identity. It survives
// snapshots, restores and migration; donburi's own entity handle never
// leaves this package.
//
// Layout: the high 16 bits are the id of the game process that created the
// entity (1..65535, unique in a cluster), the low 48 bits a sequence from
// that game's IDGen. 0 means "no entity".
//
// EntityID encodes as an unsigned integer in CBOR (it deliberately does not
// implement encoding.BinaryMarshaler) and as its String form in JSON and
// text logs (TextMarshaler).
type EntityID uint64

const (
	idNodeShift = 48
	idSeqMask   = 1<<idNodeShift - 1
	// MaxSeq is the largest sequence an EntityID can hold.
	MaxSeq = idSeqMask
)

// MakeEntityID builds an EntityID from a game id and a sequence; bits of
// seq above 48 are dropped.
func MakeEntityID(node uint16, seq uint64) EntityID {
	return EntityID(uint64(node)<<idNodeShift | seq&idSeqMask)
}

// Node returns the id of the game that created the entity.
func (id EntityID) Node() uint16 { return uint16(id >> idNodeShift) }

// Seq returns the sequence part.
func (id EntityID) Seq() uint64 { return uint64(id) & idSeqMask }

// Valid reports whether id could have been made by an IDGen: a non-zero
// node and a non-zero sequence.
func (id EntityID) Valid() bool { return id.Node() != 0 && id.Seq() != 0 }

// String returns 16 lowercase hex digits, fixed width, so IDs sort and
// align in logs.
func (id EntityID) String() string { return hex16(uint64(id)) }

// ParseEntityID parses the String form: exactly 16 hex digits (either case).
// It checks syntax only; use Valid for the node/sequence rules ("0000000000000000"
// parses to the zero ID).
func ParseEntityID(s string) (EntityID, error) {
	v, err := parseHex16(s)
	if err != nil {
		return 0, fmt.Errorf("%w: entity id %q: %w", ErrBadID, s, err)
	}
	return EntityID(v), nil
}

// AppendBinary appends id as 8 bytes big-endian (the fixed form used in
// hot binary messages) and returns the extended slice.
func (id EntityID) AppendBinary(b []byte) []byte { return binary.BigEndian.AppendUint64(b, uint64(id)) }

// DecodeEntityID reads an EntityID from the first 8 bytes of b (the
// AppendBinary form) and returns the rest of b.
func DecodeEntityID(b []byte) (EntityID, []byte, error) {
	if len(b) < 8 {
		return 0, b, fmt.Errorf("%w: entity id needs 8 bytes, have %d", ErrBadID, len(b))
	}
	return EntityID(binary.BigEndian.Uint64(b)), b[8:], nil
}

// MarshalText implements encoding.TextMarshaler (the String form).
func (id EntityID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (the String form).
func (id *EntityID) UnmarshalText(b []byte) error {
	v, err := ParseEntityID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ClientID identifies a client connection cluster-wide. Gates assign them:
// the high 16 bits are the gate id, the low 48 bits the gate's sequence.
// 0 means "no client".
type ClientID uint64

// MakeClientID builds a ClientID from a gate id and a sequence.
func MakeClientID(gate uint16, seq uint64) ClientID {
	return ClientID(uint64(gate)<<idNodeShift | seq&idSeqMask)
}

// Gate returns the id of the gate that assigned the client.
func (c ClientID) Gate() uint16 { return uint16(c >> idNodeShift) }

// Seq returns the sequence part.
func (c ClientID) Seq() uint64 { return uint64(c) & idSeqMask }

// String returns 16 lowercase hex digits, fixed width.
func (c ClientID) String() string { return hex16(uint64(c)) }

// ParseClientID parses the String form: exactly 16 hex digits.
func ParseClientID(s string) (ClientID, error) {
	v, err := parseHex16(s)
	if err != nil {
		return 0, fmt.Errorf("%w: client id %q: %v", ErrBadID, s, err)
	}
	return ClientID(v), nil
}

// AppendBinary appends c as 8 bytes big-endian.
func (c ClientID) AppendBinary(b []byte) []byte { return binary.BigEndian.AppendUint64(b, uint64(c)) }

// DecodeClientID reads a ClientID from the first 8 bytes of b and returns
// the rest of b.
func DecodeClientID(b []byte) (ClientID, []byte, error) {
	if len(b) < 8 {
		return 0, b, fmt.Errorf("%w: client id needs 8 bytes, have %d", ErrBadID, len(b))
	}
	return ClientID(binary.BigEndian.Uint64(b)), b[8:], nil
}

// MarshalText implements encoding.TextMarshaler (the String form).
func (c ClientID) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (the String form).
func (c *ClientID) UnmarshalText(b []byte) error {
	v, err := ParseClientID(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ClientBinding is the client an entity is bound to (the player's avatar
// has one); the zero value means no client.
type ClientBinding struct {
	Gate   uint16   // the gate the client is connected to
	Client ClientID // the client; 0 means unbound
}

// Bound reports whether b names a client.
func (b ClientBinding) Bound() bool { return b.Client != 0 }

const hexDigits = "0123456789abcdef"

func hex16(v uint64) string {
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

func parseHex16(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("want 16 hex digits, have %d characters", len(s))
	}
	var v uint64
	for i := 0; i < 16; i++ {
		c := s[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("invalid hex digit %q at %d", c, i)
		}
		v = v<<4 | uint64(d)
	}
	return v, nil
}

// IDEpochUnix is the zero of IDGen sequences, 2025-01-01 00:00:00 UTC, in
// Unix seconds.
const IDEpochUnix = 1735689600

// IDUnit is the clock resolution of IDGen sequences. 48 bits of 16 µs
// cover about 142 years from the epoch.
const IDUnit = 16 * time.Microsecond

const idEpochMicro = IDEpochUnix * 1_000_000

// IDGen makes the EntityIDs of one game process. It is an ordinary value
// (no package-level generator); a game creates one with its game id and
// passes it to its World.
//
// Each Next returns max(last+1, now) where now is the wall clock in IDUnit
// steps since IDEpochUnix. Sequences therefore restart near the clock after a
// process restart, and a restarted game never reuses an ID of its previous
// life unless, right before a cold restart (one without a snapshot), it was
// creating IDs faster than one per IDUnit (62,500 per second) for long
// enough to run ahead of the clock by more than the downtime, or the wall
// clock went back across the restart by more than the downtime. A restore
// from a snapshot closes both gaps: the snapshot carries Last and the new
// process calls Resume with it.
//
// IDGen is safe for concurrent use (a CAS loop on one atomic word).
type IDGen struct {
	node uint16
	now  func() time.Time
	last atomic.Uint64
}

// NewIDGen returns a generator for game node (1..65535) reading the clock
// from now (nil means time.Now). It panics if node is 0: game ids come from
// the validated cluster configuration, so 0 is a programming error.
func NewIDGen(node uint16, now func() time.Time) *IDGen {
	if node == 0 {
		panic("ecs: NewIDGen: node 0 is invalid")
	}
	if now == nil {
		now = time.Now
	}
	return &IDGen{node: node, now: now}
}

// Node returns the game id the generator stamps into IDs.
func (g *IDGen) Node() uint16 { return g.node }

// Next returns a new EntityID, greater than every ID this generator (or a
// generator Resumed from it) returned before. It panics when the 48-bit
// sequence is exhausted (in the year 2167, or after 2^48 IDs).
func (g *IDGen) Next() EntityID {
	now := clockSeq(g.now())
	for {
		last := g.last.Load()
		n := max(last+1, now)
		if n > idSeqMask {
			panic("ecs: IDGen: entity id sequence exhausted")
		}
		if g.last.CompareAndSwap(last, n) {
			return MakeEntityID(g.node, n)
		}
	}
}

// Last returns the sequence of the last ID returned (0 before the first),
// for a snapshot to carry.
func (g *IDGen) Last() uint64 { return g.last.Load() }

// Resume makes every later Next return a sequence above seq (the Last of
// a previous life, from a snapshot). It never moves the sequence back.
func (g *IDGen) Resume(seq uint64) {
	seq &= idSeqMask
	for {
		last := g.last.Load()
		if seq <= last || g.last.CompareAndSwap(last, seq) {
			return
		}
	}
}

// clockSeq converts t to IDUnit steps since IDEpochUnix (0 before it).
func clockSeq(t time.Time) uint64 {
	us := t.UnixMicro() - idEpochMicro
	if us <= 0 {
		return 0
	}
	return uint64(us) / uint64(IDUnit/time.Microsecond)
}
