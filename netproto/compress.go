package netproto

import (
	"errors"
	"fmt"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// CompressAlgo selects how a link compresses large payloads it sends.
type CompressAlgo uint8

// Compression algorithms. Receivers accept both whatever their own setting:
// the frame's type says which one was used, so nothing is negotiated.
const (
	CompressNone CompressAlgo = iota
	// CompressS2: fast, modest ratio; the default choice for game traffic.
	CompressS2
	// CompressZstd: better ratio for larger, repetitive payloads (big
	// batches, migration blobs), more CPU and memory per link.
	CompressZstd
)

// String names the algorithm.
func (a CompressAlgo) String() string {
	switch a {
	case CompressNone:
		return "none"
	case CompressS2:
		return "s2"
	case CompressZstd:
		return "zstd"
	}
	return "compress?"
}

// Compression configures the sending side of a link: payloads of at least
// Threshold bytes are compressed with Algo, and sent compressed only when
// that makes them smaller.
type Compression struct {
	Algo CompressAlgo
	// Threshold in bytes; 0 means DefaultCompressThreshold.
	Threshold int
}

// DefaultCompressThreshold: below this, compression rarely pays for its CPU.
const DefaultCompressThreshold = 512

// zstd settings for per-link use: a small window and one synchronous worker
// keep memory per link low; decoding is capped at the frame maximum.
const zstdWindow = 1 << 18

// compressor compresses the payloads one link sends. Not safe for
// concurrent use (the link's send mutex guards it).
type compressor struct {
	algo      CompressAlgo
	threshold int
	zenc      *zstd.Encoder
}

func newCompressor(c Compression) (*compressor, error) {
	if c.Algo == CompressNone {
		return nil, nil
	}
	cp := &compressor{algo: c.Algo, threshold: c.Threshold}
	if cp.threshold <= 0 {
		cp.threshold = DefaultCompressThreshold
	}
	switch c.Algo {
	case CompressS2:
	case CompressZstd:
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderConcurrency(1),
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithLowerEncoderMem(true),
			zstd.WithEncoderCRC(false))
		if err != nil {
			return nil, fmt.Errorf("netproto: zstd encoder: %w", err)
		}
		cp.zenc = enc
	default:
		return nil, fmt.Errorf("netproto: unknown compression %d", c.Algo)
	}
	return cp, nil
}

// appendFrame appends the frame for (typ, payload) to dst, compressed
// when that pays. A nil compressor appends it plain.
func (cp *compressor) appendFrame(dst []byte, typ MsgType, payload []byte) []byte {
	if cp == nil || len(payload) < cp.threshold {
		return AppendFrame(dst, typ, payload)
	}
	out, start := appendFrameHeader(dst)
	var flag MsgType
	switch cp.algo {
	case CompressS2:
		need := s2.MaxEncodedLen(len(payload))
		if need < 0 {
			return AppendFrame(dst, typ, payload)
		}
		base := len(out)
		out = growLen(out, need)
		enc := s2.Encode(out[base:], payload)
		out = out[:base+len(enc)]
		flag = FlagS2
	case CompressZstd:
		out = cp.zenc.EncodeAll(payload, out)
		flag = FlagZstd
	}
	if len(out)-start-FrameHeaderSize >= len(payload) {
		// Incompressible: send it as it is.
		return AppendFrame(out[:start], typ, payload)
	}
	finishFrame(out, start, typ|flag)
	return out
}

// growLen extends b by n bytes of unspecified content.
func growLen(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n+len(b)/4)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

func (cp *compressor) close() {
	if cp != nil && cp.zenc != nil {
		_ = cp.zenc.Close()
	}
}

// Decompressor restores compressed payloads of the frames one link receives,
// bounded by a maximum decoded size. It reuses its output buffer and its
// zstd decoder (created on the first zstd frame). Not safe for concurrent
// use.
type Decompressor struct {
	max  int
	buf  []byte
	zdec *zstd.Decoder
}

// NewDecompressor returns a Decompressor whose outputs are at most max bytes.
func NewDecompressor(max int) *Decompressor {
	if max <= 0 {
		max = DefaultInternalMaxFrame
	}
	return &Decompressor{max: max}
}

// Decompress returns the payload of a frame of raw type typ: unchanged when
// no compression flag is set, otherwise decompressed into the
// Decompressor's buffer (valid until the next call). Base type and payload
// are returned. A decoded size over the maximum is ErrFrameTooLarge, found
// from the compressed header before decoding; corrupt input is ErrMalformed.
func (d *Decompressor) Decompress(typ MsgType, payload []byte) (MsgType, []byte, error) {
	switch typ & flagMask {
	case 0:
		return typ, payload, nil
	case FlagS2:
		n, err := s2.DecodedLen(payload)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: s2 payload of %v: %w", ErrMalformed, typ, err)
		}
		if n > d.max {
			return 0, nil, fmt.Errorf("%w: s2 payload of %v decodes to %d bytes, at most %d", ErrFrameTooLarge, typ, n, d.max)
		}
		if cap(d.buf) < n {
			d.buf = make([]byte, n)
		}
		out, err := s2.Decode(d.buf[:n], payload)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: s2 payload of %v: %w", ErrMalformed, typ, err)
		}
		return typ.Base(), out, nil
	case FlagZstd:
		if d.zdec == nil {
			win := uint64(zstdWindow)
			if uint64(d.max) > win {
				win = uint64(d.max)
			}
			dec, err := zstd.NewReader(nil,
				zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderLowmem(true),
				zstd.WithDecoderMaxMemory(uint64(d.max)),
				zstd.WithDecoderMaxWindow(win))
			if err != nil {
				return 0, nil, fmt.Errorf("netproto: zstd decoder: %w", err)
			}
			d.zdec = dec
		}
		out, err := d.zdec.DecodeAll(payload, d.buf[:0])
		if err != nil {
			if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
				return 0, nil, fmt.Errorf("%w: zstd payload of %v needs more than %d bytes: %w", ErrFrameTooLarge, typ, d.max, err)
			}
			return 0, nil, fmt.Errorf("%w: zstd payload of %v: %w", ErrMalformed, typ, err)
		}
		if len(out) > d.max {
			return 0, nil, fmt.Errorf("%w: zstd payload of %v decodes to %d bytes, at most %d", ErrFrameTooLarge, typ, len(out), d.max)
		}
		if cap(out) <= 2*d.max {
			d.buf = out[:0]
		}
		return typ.Base(), out, nil
	}
	return 0, nil, fmt.Errorf("%w: %v has both compression flags", ErrMalformed, typ)
}

// Close releases the zstd decoder, if any.
func (d *Decompressor) Close() {
	if d.zdec != nil {
		d.zdec.Close()
		d.zdec = nil
	}
}
