package snapshot

import (
	"encoding/binary"
	"hash/crc32"
	"time"

	"github.com/ecsworld/ecsworld/ecs"
)

// File layout (all integers big-endian):
//
//	preamble  magic "ECSWSNAP" (8) | version u16 | reserved u16 | header length u32 | CRC32C of the 16 bytes before
//	header    CBOR Header (keyasint map) | CRC32C of it (u32)
//	chunks    repeated: chunk head (28 bytes) | zstd frame of records
//	trailer   "ECSE" | chunks u32 | records u64 | CRC32C of the body u32 | CRC32C of the 20 bytes before
//
// A chunk head is "ECSC" | sequence u32 | records u32 | raw length u32 |
// compressed length u32 | CRC32C of the compressed bytes u32 | CRC32C of
// the 24 bytes before. The body CRC in the trailer is the CRC32C of the
// chunk CRCs in order, so a chunk removed, repeated or reordered is seen.
//
// A chunk decompresses to exactly `records` entity records, CBOR items one
// after the other. The preamble's layout never changes, so any version of
// the reader can tell a newer file from a damaged one.
//
// Version 2 makes records smaller (a third less to compress and parse)
// and keeps each chunk readable on its own:
//   - keyID is the difference (a CBOR integer, negative allowed) from the
//     previous record's EntityID in the chunk (0 before the chunk's first);
//   - keySpace is the index of the entity's space among the file's space
//     records, in file order (spaces come first);
//   - keyAttrs may be an array [key set, value...] instead of a map: the
//     key set is either an array of the keys in increasing order, which
//     defines the chunk's next key set (numbered from 0, at most
//     maxKeySets per chunk), or the number of a key set the chunk defined
//     before; the values follow in the order of the keys.
//
// A version 1 file (absolute IDs, spaces by EntityID, attributes as maps)
// is still read. EntityCodec's self-describing records use the version 1
// forms.

// Magic starts every snapshot file.
const Magic = "ECSWSNAP"

// Version is the format version this package writes and the newest it
// reads (it reads every version from 1).
const Version = 2

// maxKeySets bounds the attribute key sets one chunk defines; the writer
// writes the attributes of an entity with yet another key set as a map.
const maxKeySets = 256

const (
	preambleLen  = 20
	chunkHeadLen = 28
	trailerLen   = 24
	chunkMagic   = "ECSC"
	trailerMagic = "ECSE"
)

// Limits a reader applies unless ReadOptions says otherwise.
const (
	// DefaultMaxHeaderBytes bounds the CBOR header (the schema).
	DefaultMaxHeaderBytes = 16 << 20
	// DefaultMaxChunkBytes bounds one chunk, compressed or not; a chunk
	// holds whole records, so it is also the largest entity record.
	DefaultMaxChunkBytes = 64 << 20
	// DefaultChunkBytes is the raw size at which a writer closes a chunk.
	DefaultChunkBytes = 1 << 20
)

// maxHeaderNesting is the header's CBOR nesting limit: shapes are at most
// maxShapeDepth deep and each level of a shape is two CBOR levels.
const maxHeaderNesting = 2*maxShapeDepth + 16

// crcTable is the CRC32C table; crc32.MakeTable returns the same immutable
// table on every call, so this is a constant, not shared mutable state.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

// Header is what a snapshot says about itself and the world in it.
// Restored carries it; Encode fills it from the world and State.
type Header struct {
	// Version is the file's format version (from the preamble).
	Version uint16 `cbor:"-"`
	// GameID is the game that wrote the snapshot.
	GameID uint16 `cbor:"1,keyasint"`
	// Tick is the last tick run before the freeze: timers' due ticks
	// count from it.
	Tick uint64 `cbor:"2,keyasint"`
	// UnixNano is the wall time of the freeze.
	UnixNano int64 `cbor:"3,keyasint"`
	// LastID is the world's IDGen.Last, so a restored game never reuses
	// an EntityID.
	LastID uint64 `cbor:"4,keyasint,omitempty"`
	// NextTimerID is the timers' next ID (systems.Timers.NextID).
	NextTimerID uint64 `cbor:"5,keyasint,omitempty"`
	// Entities, Spaces and Timers count the records, the spaces among
	// them and the timers in them.
	Entities uint64 `cbor:"6,keyasint"`
	Spaces   uint64 `cbor:"7,keyasint,omitempty"`
	Timers   uint64 `cbor:"8,keyasint,omitempty"`
	// Components is the writer's registry of components; records refer
	// to them by index.
	Components []ComponentSchema `cbor:"9,keyasint,omitempty"`
	// Types are the writer's entity types; records refer to them by index.
	Types []TypeSchema `cbor:"10,keyasint,omitempty"`
	// Observers are the game's observer clients (the live map), which
	// have no entity: the restored game keeps sending them views.
	Observers []Observer `cbor:"11,keyasint,omitempty"`
	// Services are the service names the game won, with their entities:
	// the restored game registers them again after a dispatcher restart.
	Services []Service `cbor:"12,keyasint,omitempty"`
}

// Observer is an observer client's binding (State.Observers).
type Observer struct {
	Gate   uint16 `cbor:"1,keyasint"`
	Client uint64 `cbor:"2,keyasint"`
}

// Service is a service name the game won (State.Services).
type Service struct {
	Name   string `cbor:"1,keyasint"`
	Entity uint64 `cbor:"2,keyasint"`
}

// MaxServiceName bounds a service name in a header.
const MaxServiceName = 256

// Time returns the wall time of the freeze.
func (h *Header) Time() time.Time { return time.Unix(0, h.UnixNano) }

// ComponentSchema is a component as the writer registered it.
type ComponentSchema struct {
	Name        string `cbor:"1,keyasint"`
	Fingerprint uint64 `cbor:"2,keyasint"`
	Shape       *Shape `cbor:"3,keyasint"`
}

// TypeSchema is an entity type as the writer registered it.
type TypeSchema struct {
	Name      string  `cbor:"1,keyasint"`
	Space     bool    `cbor:"2,keyasint,omitempty"`
	AOIRadius float32 `cbor:"3,keyasint,omitempty"`
	// Components are the indices (in Header.Components) of the
	// components the type declares: a record of the type that lacks one
	// had it removed, and a component a new binary added to the type is
	// not in this list, so it gets its zero value.
	Components []uint32 `cbor:"4,keyasint,omitempty"`
	// Entities counts the records of this type.
	Entities uint64 `cbor:"5,keyasint,omitempty"`
}

// Timer is a timer as a snapshot carries it: the fields of
// systems.Timer, with Due relative to Header.Tick in the file (the
// remaining ticks) and absolute in memory.
type Timer struct {
	ID     uint64
	Entity ecs.EntityID
	Method string
	Args   []byte // a CBOR array (ecs.EncodeArgs); shared, do not modify
	Due    uint64 // the tick it fires next
	Repeat uint64 // interval of a repeating timer; 0 fires once
}

// Record keys of an entity record (a CBOR map with unsigned integer keys,
// in increasing order; optional keys are left out when empty or default).
const (
	keyID     = 1  // EntityID (version 2: the difference from the chunk's previous record's)
	keyType   = 2  // index in Header.Types
	keySpace  = 3  // EntityID of the space the entity is in (version 2: the space's index)
	keyPos    = 4  // [x, y, z] floats
	keyYaw    = 5  // float
	keyAOI    = 6  // float: AOI radius, when not the type's default
	keyVel    = 7  // [x, y, z] velocity
	keyDest   = 8  // [x, y, z] destination
	keySpeed  = 9  // float: speed toward the destination
	keyGate   = 10 // client's gate
	keyClient = 11 // ClientID
	keyComps  = 12 // map: component index → component value (CBOR)
	keyAttrs  = 13 // map: attribute key → value (version 2 also: [key set, values...])
	keyTimers = 14 // array of [id, method, args, remaining ticks, repeat]
	// keyRemoved lists (by name) the components of the entity's type it
	// no longer has. Only EntityCodec writes it: in a file the header's
	// TypeSchema.Components says the same for every record.
	keyRemoved   = 15
	maxRecordKey = keyRemoved
)

func putPreamble(b []byte, version uint16, headerLen uint32) {
	copy(b, Magic)
	binary.BigEndian.PutUint16(b[8:], version)
	binary.BigEndian.PutUint16(b[10:], 0)
	binary.BigEndian.PutUint32(b[12:], headerLen)
	binary.BigEndian.PutUint32(b[16:], crc(b[:16]))
}

// chunkHead is the fixed head of a chunk.
type chunkHead struct {
	seq, records, rawLen, compLen, dataCRC uint32
}

func (h *chunkHead) put(b []byte) {
	copy(b, chunkMagic)
	binary.BigEndian.PutUint32(b[4:], h.seq)
	binary.BigEndian.PutUint32(b[8:], h.records)
	binary.BigEndian.PutUint32(b[12:], h.rawLen)
	binary.BigEndian.PutUint32(b[16:], h.compLen)
	binary.BigEndian.PutUint32(b[20:], h.dataCRC)
	binary.BigEndian.PutUint32(b[24:], crc(b[:24]))
}

func (h *chunkHead) get(b []byte) {
	h.seq = binary.BigEndian.Uint32(b[4:])
	h.records = binary.BigEndian.Uint32(b[8:])
	h.rawLen = binary.BigEndian.Uint32(b[12:])
	h.compLen = binary.BigEndian.Uint32(b[16:])
	h.dataCRC = binary.BigEndian.Uint32(b[20:])
}

func putTrailer(b []byte, chunks uint32, records uint64, bodyCRC uint32) {
	copy(b, trailerMagic)
	binary.BigEndian.PutUint32(b[4:], chunks)
	binary.BigEndian.PutUint64(b[8:], records)
	binary.BigEndian.PutUint32(b[16:], bodyCRC)
	binary.BigEndian.PutUint32(b[20:], crc(b[:20]))
}

func crc32Update(c uint32, p []byte) uint32 { return crc32.Update(c, crcTable, p) }
