package netproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// FuzzFrameReader feeds arbitrary streams to a FrameReader: it must return
// frames within the maximum, or an error, and never panic or over-allocate.
func FuzzFrameReader(f *testing.F) {
	var good []byte
	good = AppendFrame(good, MsgHello, []byte("abc"))
	good = AppendFrame(good, MsgHeartbeat, nil)
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0, 1})
	f.Add([]byte{0, 0, 0, 1, 0})
	f.Add([]byte{})
	const max = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFrameReader(bytes.NewReader(data), max)
		for {
			typ, payload, err := fr.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				break
			}
			if len(payload)+typeSize > max {
				t.Fatalf("%v frame of %d bytes over max", typ, len(payload))
			}
			if len(fr.buf) > max+lenSize {
				t.Fatalf("buffer grew to %d", len(fr.buf))
			}
		}
	})
}

// fuzzSeeds adds every sample message to a fuzz corpus.
func fuzzSeeds(f *testing.F, clientOnly bool) {
	c, err := NewCodec(InternalLimits())
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range sampleMessages() {
		if clientOnly && !m.MsgType().ClientLink() {
			continue
		}
		typ, p, err := c.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint16(typ), p)
	}
	f.Add(uint16(MsgCreateEntity), []byte{0xA1, 0x05, 0xBF, 0xFF})
	f.Add(uint16(MsgAttrDelta), []byte{0xA1, 0x02, 0x9B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add(uint16(0x3333), []byte{0xA0})
}

// fuzzDecode decodes with c and re-encodes what decoded: a message that
// decodes must encode and decode again to the same bytes.
func fuzzDecode(t *testing.T, c *Codec, typ uint16, payload []byte) {
	m, err := c.Decode(MsgType(typ), payload)
	if err != nil {
		if m != nil {
			t.Fatal("message returned with an error")
		}
		return
	}
	if m.MsgType() != MsgType(typ) {
		t.Fatalf("decoded %v as %T", MsgType(typ), m)
	}
	_, p2, err := c.Marshal(m)
	if err != nil {
		t.Fatalf("re-encode %T: %v", m, err)
	}
	m2, err := c.Decode(MsgType(typ), p2)
	if err != nil {
		t.Fatalf("decode of re-encoded %T: %v", m, err)
	}
	_, p3, err := c.Marshal(m2)
	if err != nil || (!bytes.Equal(p2, p3) && !hasMap(m2)) {
		t.Fatalf("re-encoding %T is not stable: %v", m, err)
	}
}

// hasMap reports messages with Go maps, whose encoding order may vary.
func hasMap(m Message) bool {
	switch m.(type) {
	case *CreateEntity, *CreateEntityAnywhere, *CreateEntityOnGame, *AttrDelta:
		return true
	}
	return false
}

// FuzzDecode covers every message decoder through the internal codec.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f, false)
	c, err := NewCodec(InternalLimits())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, typ uint16, payload []byte) { fuzzDecode(t, c, typ, payload) })
}

// FuzzDecodeClient covers the client-facing decoders with client limits:
// what a gate decodes from a client and a client from a gate.
func FuzzDecodeClient(f *testing.F) {
	fuzzSeeds(f, true)
	c, err := NewCodec(ClientLimits())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, typ uint16, payload []byte) { fuzzDecode(t, c, typ, payload) })
}

// FuzzPositionBatch decodes arbitrary batch payloads into a bounded slice.
func FuzzPositionBatch(f *testing.F) {
	good, _ := AppendPositionBatch(nil, []PositionRecord{{Entity: 1, X: 1, Y: 2, Z: 3, Yaw: 1}, {Entity: 2}})
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(binary.BigEndian.AppendUint16(nil, 0xFFFF))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		dst := make([]PositionRecord, 0, 8)
		recs, err := DecodePositionBatch(dst, payload, 16)
		if err != nil {
			return
		}
		if len(recs) > 16 {
			t.Fatalf("%d records over max", len(recs))
		}
		again, err := AppendPositionBatch(nil, recs)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := DecodePositionBatch(nil, again, 16)
		if err != nil || len(back) != len(recs) {
			t.Fatalf("re-decode: %v", err)
		}
		for i := range back {
			if back[i] != recs[i] {
				t.Fatalf("record %d unstable: %+v vs %+v", i, back[i], recs[i])
			}
		}
	})
}

// FuzzDecompress feeds arbitrary compressed payloads to a Decompressor.
func FuzzDecompress(f *testing.F) {
	plain := compressible(3000)
	f.Add(uint16(MsgGateBatch|FlagS2), s2.Encode(nil, plain))
	zenc, err := zstd.NewWriter(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint16(MsgGateBatch|FlagZstd), zenc.EncodeAll(plain, nil))
	f.Add(uint16(MsgGateBatch|FlagZstd), zenc.EncodeAll(compressible(100_000), nil))
	zenc.Close()
	f.Add(uint16(MsgGateBatch|FlagS2), s2.Encode(nil, compressible(100_000)))
	f.Add(uint16(MsgGateBatch|FlagS2|FlagZstd), []byte{1, 2, 3})
	f.Add(uint16(MsgGateBatch), []byte{1})
	const max = 16 << 10
	d := NewDecompressor(max)
	f.Cleanup(d.Close)
	f.Fuzz(func(t *testing.T, typ uint16, payload []byte) {
		out, p, err := d.Decompress(MsgType(typ), payload)
		if err != nil {
			if !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if out&flagMask != 0 {
			t.Fatalf("flags left on %v", out)
		}
		if MsgType(typ)&flagMask != 0 && len(p) > max {
			t.Fatalf("decoded %d bytes over max", len(p))
		}
	})
}
