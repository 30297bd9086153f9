package netproto

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

func compressible(n int) []byte {
	return bytes.Repeat([]byte("position update for entity 12345; "), n/34+1)[:n]
}

func random(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestCompressRoundTrip(t *testing.T) {
	for _, algo := range []CompressAlgo{CompressNone, CompressS2, CompressZstd} {
		t.Run(algo.String(), func(t *testing.T) {
			cp, err := newCompressor(Compression{Algo: algo, Threshold: 100})
			if err != nil {
				t.Fatal(err)
			}
			defer cp.close()
			d := NewDecompressor(1 << 20)
			defer d.Close()
			for _, payload := range [][]byte{nil, []byte("small"), compressible(99), compressible(100), compressible(50_000), random(5000, 1)} {
				frame := cp.appendFrame([]byte("x"), MsgGateBatch, payload)
				typ, wire, rest, err := SplitFrame(frame[1:], 1<<20)
				if err != nil || len(rest) != 0 {
					t.Fatal(err)
				}
				flagged := typ&flagMask != 0
				if wantFlag := algo != CompressNone && len(payload) >= 100 && bytes.Equal(payload[:10], compressible(10)); flagged != wantFlag {
					t.Fatalf("%d-byte payload: flagged %v, want %v", len(payload), flagged, wantFlag)
				}
				if flagged && len(wire) >= len(payload) {
					t.Fatalf("compressed %d bytes to %d", len(payload), len(wire))
				}
				btyp, out, err := d.Decompress(typ, wire)
				if err != nil {
					t.Fatal(err)
				}
				if btyp != MsgGateBatch || !bytes.Equal(out, payload) {
					t.Fatalf("%d-byte payload did not round trip", len(payload))
				}
			}
		})
	}
}

func TestDecompressBounds(t *testing.T) {
	big := compressible(100_000)
	s2big := s2.Encode(nil, big)
	zenc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zbig := zenc.EncodeAll(big, nil)
	zenc.Close()
	// A zstd frame without a content size in its header: the decoder must
	// still stop at the limit.
	var streamed bytes.Buffer
	zw, _ := zstd.NewWriter(&streamed, zstd.WithSingleSegment(false))
	zw.Write(big)
	zw.Close()

	tests := []struct {
		name string
		typ  MsgType
		in   []byte
		want error
	}{
		{"s2 over max", MsgGateBatch | FlagS2, s2big, ErrFrameTooLarge},
		{"zstd over max", MsgGateBatch | FlagZstd, zbig, ErrFrameTooLarge},
		{"zstd stream over max", MsgGateBatch | FlagZstd, streamed.Bytes(), ErrFrameTooLarge},
		{"s2 corrupt", MsgGateBatch | FlagS2, append([]byte{10}, random(20, 3)...), ErrMalformed},
		{"s2 empty", MsgGateBatch | FlagS2, nil, ErrMalformed},
		{"zstd corrupt", MsgGateBatch | FlagZstd, random(50, 4), ErrMalformed},
		{"both flags", MsgGateBatch | FlagS2 | FlagZstd, s2big, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecompressor(64 << 10)
			defer d.Close()
			_, out, err := d.Decompress(tc.typ, tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v (%d bytes), want %v", err, len(out), tc.want)
			}
			if cap(d.buf) > 128<<10 {
				t.Fatalf("decompressor buffer grew to %d", cap(d.buf))
			}
		})
	}
}

func TestDecompressReusesBuffer(t *testing.T) {
	cp, _ := newCompressor(Compression{Algo: CompressS2})
	frame := cp.appendFrame(nil, MsgGateBatch, compressible(4000))
	typ, wire, _, _ := SplitFrame(frame, 0)
	d := NewDecompressor(0)
	if _, _, err := d.Decompress(typ, wire); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if _, _, err := d.Decompress(typ, wire); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("s2 decompress allocates %v times", allocs)
	}
}
