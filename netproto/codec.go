package netproto

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// ProtocolVersion is the wire version carried in Hello and ClientHello.
const ProtocolVersion uint32 = 1

// Limits bound what a Codec decodes. Every field must be positive;
// InternalLimits and ClientLimits are the presets.
type Limits struct {
	// MaxPayload is the largest payload Decode accepts, checked before any
	// decoding.
	MaxPayload int
	// MaxNestedLevels bounds CBOR nesting (4..65535).
	MaxNestedLevels int
	// MaxArrayElements bounds every CBOR array (16..2^31-1).
	MaxArrayElements int
	// MaxMapPairs bounds every CBOR map (16..2^31-1).
	MaxMapPairs int
	// MaxPositionRecords bounds a PositionSync or ClientMove batch.
	MaxPositionRecords int
	// ClientOnly makes Decode refuse every type that may not travel on a
	// client link (MsgType.ClientLink) with ErrUnknownType.
	ClientOnly bool
}

// InternalLimits are the limits for links between gates, games and
// dispatchers.
func InternalLimits() Limits {
	return Limits{
		MaxPayload:         DefaultInternalMaxFrame - typeSize,
		MaxNestedLevels:    16,
		MaxArrayElements:   65536,
		MaxMapPairs:        65536,
		MaxPositionRecords: MaxPositionBatch,
	}
}

// ClientLimits are the limits for client links, on both ends: a gate decoding
// what a client sends and a client decoding what a gate sends.
func ClientLimits() Limits {
	return Limits{
		MaxPayload:         DefaultClientMaxFrame - typeSize,
		MaxNestedLevels:    16,
		MaxArrayElements:   4096,
		MaxMapPairs:        4096,
		MaxPositionRecords: (DefaultClientMaxFrame - typeSize - positionCountSize) / PositionRecordSize,
		ClientOnly:         true,
	}
}

// Codec encodes and decodes the catalogue. It holds one CBOR encoding mode
// and one decoding mode, built once; it is safe for concurrent use.
type Codec struct {
	lim  Limits
	enc  cbor.UserBufferEncMode
	dec  cbor.DecMode
	bufs sync.Pool // *[]byte scratch for Send
}

// NewCodec builds a Codec with the given limits.
func NewCodec(lim Limits) (*Codec, error) {
	if lim.MaxPayload <= 0 || lim.MaxPositionRecords <= 0 {
		return nil, fmt.Errorf("netproto: limits need positive MaxPayload and MaxPositionRecords: %+v", lim)
	}
	enc, err := cbor.EncOptions{
		ShortestFloat: cbor.ShortestFloat16,
		NaNConvert:    cbor.NaNConvert7e00,
		InfConvert:    cbor.InfConvertFloat16,
		IndefLength:   cbor.IndefLengthForbidden,
		TagsMd:        cbor.TagsForbidden,
	}.UserBufferEncMode()
	if err != nil {
		return nil, fmt.Errorf("netproto: cbor encoding mode: %w", err)
	}
	dec, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  lim.MaxNestedLevels,
		MaxArrayElements: lim.MaxArrayElements,
		MaxMapPairs:      lim.MaxMapPairs,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		// Attribute trees are maps with string keys; nested maps decode as
		// map[string]any rather than map[any]any, so users can walk them.
		DefaultMapType: reflect.TypeOf(map[string]any(nil)),
		UTF8:           cbor.UTF8RejectInvalid,
		NaN:            cbor.NaNDecodeForbidden,
		Inf:            cbor.InfDecodeForbidden,
	}.DecMode()
	if err != nil {
		return nil, fmt.Errorf("netproto: cbor decoding mode: %w", err)
	}
	return &Codec{lim: lim, enc: enc, dec: dec}, nil
}

// Limits returns the codec's limits.
func (c *Codec) Limits() Limits { return c.lim }

// Marshal encodes m and returns its type and payload.
func (c *Codec) Marshal(m Message) (MsgType, []byte, error) {
	b, err := c.AppendMessage(nil, m)
	if err != nil {
		return 0, nil, err
	}
	return m.MsgType(), b, nil
}

// AppendMessage appends m's payload (no frame header) to dst.
func (c *Codec) AppendMessage(dst []byte, m Message) ([]byte, error) {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return dst, fmt.Errorf("%w: nil message", ErrMalformed)
	}
	switch v := m.(type) {
	case *Heartbeat:
		return dst, nil
	case *PositionSync:
		return AppendPositionBatch(dst, v.Records)
	case *ClientMove:
		return AppendPositionBatch(dst, v.Records)
	case *SyncFromClient:
		return AppendSyncFromClient(dst, v.Client, v.Record)
	}
	start := len(dst)
	buf := bytes.NewBuffer(dst)
	if err := c.enc.MarshalToBuffer(m, buf); err != nil {
		return dst[:start], fmt.Errorf("netproto: encode %v: %w", m.MsgType(), err)
	}
	return buf.Bytes(), nil
}

// AppendFrame appends m as one whole frame (header and payload) to dst: the
// way a game encodes a client message once for a GateBatch item.
func (c *Codec) AppendFrame(dst []byte, m Message) ([]byte, error) {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return dst, fmt.Errorf("%w: nil message", ErrMalformed)
	}
	out, start := appendFrameHeader(dst)
	out, err := c.AppendMessage(out, m)
	if err != nil {
		return dst, err
	}
	finishFrame(out, start, m.MsgType())
	return out, nil
}

// Send encodes m into a pooled scratch buffer and queues it on l (Link.Send
// copies it), so steady-state sends allocate nothing for the payload.
func (c *Codec) Send(l Link, m Message) error {
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b, err := c.AppendMessage((*bp)[:0], m)
	if err == nil {
		err = l.Send(m.MsgType(), b)
	}
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		c.bufs.Put(bp)
	}
	return err
}

// Decode decodes a payload of type typ into a new message. Unknown types
// (and, with ClientOnly limits, types that do not travel on client links) are
// ErrUnknownType; the payload size is checked before decoding.
func (c *Codec) Decode(typ MsgType, payload []byte) (Message, error) {
	if c.lim.ClientOnly && !typ.ClientLink() {
		return nil, fmt.Errorf("%w: %v on a client link", ErrUnknownType, typ)
	}
	m := newMessage(typ)
	if m == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownType, typ)
	}
	if err := c.DecodeInto(payload, m); err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeInto decodes payload into m (of the payload's type), so a hot path
// can reuse one message value. m's slices are reused where the decoder can;
// fields absent from the payload keep their old values, so pass a zeroed
// message.
func (c *Codec) DecodeInto(payload []byte, m Message) error {
	if m == nil || reflect.ValueOf(m).IsNil() {
		return fmt.Errorf("%w: nil message", ErrMalformed)
	}
	typ := m.MsgType()
	if c.lim.ClientOnly && !typ.ClientLink() {
		return fmt.Errorf("%w: %v on a client link", ErrUnknownType, typ)
	}
	if len(payload) > c.lim.MaxPayload {
		return fmt.Errorf("%w: %v payload of %d bytes, at most %d", ErrFrameTooLarge, typ, len(payload), c.lim.MaxPayload)
	}
	var err error
	switch v := m.(type) {
	case *Heartbeat:
		if len(payload) != 0 {
			err = fmt.Errorf("%w: %d bytes of payload", ErrMalformed, len(payload))
		}
	case *PositionSync:
		v.Records, err = DecodePositionBatch(v.Records, payload, c.lim.MaxPositionRecords)
	case *ClientMove:
		v.Records, err = DecodePositionBatch(v.Records, payload, c.lim.MaxPositionRecords)
	case *SyncFromClient:
		*v, err = DecodeSyncFromClient(payload)
	case *GateBatch:
		if err = c.unmarshal(payload, v); err == nil {
			err = v.validate()
		}
	default:
		err = c.unmarshal(payload, m)
	}
	if err != nil {
		return fmt.Errorf("netproto: decode %v: %w", typ, err)
	}
	return nil
}

// unmarshal decodes exactly one CBOR item filling payload.
func (c *Codec) unmarshal(payload []byte, v any) error {
	if len(payload) == 0 {
		return fmt.Errorf("%w: empty CBOR payload", ErrTruncated)
	}
	if err := c.dec.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// validate checks the parts of a GateBatch the gate relies on without
// decoding further: position records line up with their recipient lists.
func (b *GateBatch) validate() error {
	if len(b.PosRecords)%PositionRecordSize != 0 {
		return fmt.Errorf("%w: GateBatch has %d bytes of position records, not a multiple of %d", ErrMalformed, len(b.PosRecords), PositionRecordSize)
	}
	if n := len(b.PosRecords) / PositionRecordSize; n != len(b.PosClients) {
		return fmt.Errorf("%w: GateBatch has %d position records and %d recipient lists", ErrMalformed, n, len(b.PosClients))
	}
	return nil
}

// EncodeArgs encodes call arguments as one CBOR array, the form of
// CallEntity.Args, ClientCall.Args and CallClient.Args.
func (c *Codec) EncodeArgs(args ...any) ([]byte, error) {
	if args == nil {
		args = []any{}
	}
	b, err := c.enc.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("netproto: encode args: %w", err)
	}
	return b, nil
}

// DecodeArgs decodes call arguments (one CBOR array) into generic values
// with the codec's limits. Integers decode as uint64 (non-negative) or int64.
func (c *Codec) DecodeArgs(b []byte) ([]any, error) {
	if len(b) > c.lim.MaxPayload {
		return nil, fmt.Errorf("%w: args of %d bytes", ErrFrameTooLarge, len(b))
	}
	var args []any
	if err := c.unmarshal(b, &args); err != nil {
		return nil, fmt.Errorf("netproto: decode args: %w", err)
	}
	return args, nil
}

// MarshalValue encodes any value with the codec's encoding mode (a call
// result, an attribute value).
func (c *Codec) MarshalValue(v any) ([]byte, error) {
	b, err := c.enc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("netproto: encode value: %w", err)
	}
	return b, nil
}

// UnmarshalValue decodes one CBOR item into v with the codec's limits (for
// typed call arguments or a result).
func (c *Codec) UnmarshalValue(b []byte, v any) error {
	if len(b) > c.lim.MaxPayload {
		return fmt.Errorf("%w: value of %d bytes", ErrFrameTooLarge, len(b))
	}
	if err := c.unmarshal(b, v); err != nil {
		return fmt.Errorf("netproto: decode value: %w", err)
	}
	return nil
}
