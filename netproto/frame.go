package netproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frame layout: a 4-byte big-endian length of what follows, a 2-byte
// big-endian message type, then the payload. The length therefore counts the
// type too and is at least 2.
const (
	// FrameHeaderSize is the length prefix plus the type.
	FrameHeaderSize = 6
	// lenSize is the length prefix alone.
	lenSize = 4
	// typeSize is the message type field.
	typeSize = 2
)

// Default maximum frame sizes (the value of the length field: type plus
// payload). Internal links carry whole gate batches; client links carry one
// player's traffic and are the ones an attacker controls, so they get less.
const (
	DefaultInternalMaxFrame = 1 << 20
	DefaultClientMaxFrame   = 64 << 10
	// minMaxFrame keeps a configured maximum large enough for the handshake
	// messages and a compression header.
	minMaxFrame = 256
)

// Errors of the wire. They are wrapped with details; match them with
// errors.Is.
var (
	// ErrFrameTooLarge: a frame (or a decompressed payload) is longer than
	// the maximum of the link or reader. Checked before anything is
	// allocated.
	ErrFrameTooLarge = errors.New("netproto: frame too large")
	// ErrTruncated: the input ended inside a frame or a fixed record.
	ErrTruncated = errors.New("netproto: truncated")
	// ErrMalformed: bytes that cannot be a valid frame, record or message.
	ErrMalformed = errors.New("netproto: malformed")
	// ErrUnknownType: a message type this codec or link does not accept.
	ErrUnknownType = errors.New("netproto: unknown message type")
	// ErrLinkClosed: the link was closed by this side.
	ErrLinkClosed = errors.New("netproto: link closed")
	// ErrQueueFull: Send would grow the unflushed buffer past the link's
	// MaxQueued; the peer is not keeping up and the caller should drop it.
	ErrQueueFull = errors.New("netproto: send queue full")
)

// AppendFrame appends one frame (header and payload) to dst and returns the
// extended slice. It does not check sizes: Link.Send does, and a caller
// building frames for a batch checks them with ValidateFrames.
func AppendFrame(dst []byte, typ MsgType, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(typeSize+len(payload)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(typ))
	return append(dst, payload...)
}

// appendFrameHeader reserves a header for a payload that the caller appends
// next; finishFrame fills it in once the payload length is known.
func appendFrameHeader(dst []byte) ([]byte, int) {
	start := len(dst)
	return append(dst, 0, 0, 0, 0, 0, 0), start
}

// finishFrame writes the header of the frame that starts at start and runs to
// the end of b.
func finishFrame(b []byte, start int, typ MsgType) {
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-lenSize))
	binary.BigEndian.PutUint16(b[start+lenSize:], uint16(typ))
}

// SplitFrame splits the first whole frame off b. It returns the frame's raw
// type (compression flags included), its payload (aliasing b) and the rest of
// b. maxFrame bounds the length field; a value <= 0 means
// DefaultInternalMaxFrame.
func SplitFrame(b []byte, maxFrame int) (typ MsgType, payload, rest []byte, err error) {
	if maxFrame <= 0 {
		maxFrame = DefaultInternalMaxFrame
	}
	if len(b) < FrameHeaderSize {
		return 0, nil, b, fmt.Errorf("%w: frame header needs %d bytes, have %d", ErrTruncated, FrameHeaderSize, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if err := checkLen(n, maxFrame); err != nil {
		return 0, nil, b, err
	}
	end := lenSize + int(n)
	if len(b) < end {
		return 0, nil, b, fmt.Errorf("%w: frame of %d bytes, have %d", ErrTruncated, end, len(b))
	}
	typ = MsgType(binary.BigEndian.Uint16(b[lenSize:]))
	return typ, b[FrameHeaderSize:end:end], b[end:], nil
}

// ValidateFrames checks that b is a sequence of whole frames, each within
// maxFrame, with a known type (compression flags allowed), and returns how
// many there are. A gate calls it once per GateBatch item before copying the
// item's frames to many client links.
func ValidateFrames(b []byte, maxFrame int) (int, error) {
	count := 0
	for len(b) > 0 {
		typ, _, rest, err := SplitFrame(b, maxFrame)
		if err != nil {
			return count, fmt.Errorf("frame %d: %w", count, err)
		}
		if !typ.Base().Known() {
			return count, fmt.Errorf("frame %d: %w: %v", count, ErrUnknownType, typ)
		}
		b = rest
		count++
	}
	return count, nil
}

// checkLen validates a frame's length field against the maximum.
func checkLen(n uint32, maxFrame int) error {
	if n < typeSize {
		return fmt.Errorf("%w: frame length %d cannot hold a message type", ErrMalformed, n)
	}
	if uint64(n) > uint64(maxFrame) {
		return fmt.Errorf("%w: frame length %d exceeds maximum %d", ErrFrameTooLarge, n, maxFrame)
	}
	return nil
}

// FrameReader reads frames from a byte stream. It keeps one buffer that grows
// to the largest frame seen (never past the maximum) and reads as much as the
// stream offers, so a burst of small frames costs one read call and no
// allocation. Not safe for concurrent use.
type FrameReader struct {
	r        io.Reader
	maxFrame int
	buf      []byte
	start    int // first unconsumed byte
	end      int // end of buffered bytes
}

// initialReadBuffer is the buffer a FrameReader starts with: enough for the
// common small frames and for a full KCP or WebSocket read.
const initialReadBuffer = 4096

// NewFrameReader returns a reader of frames from r whose length field may be
// at most maxFrame (<= 0 means DefaultInternalMaxFrame).
func NewFrameReader(r io.Reader, maxFrame int) *FrameReader {
	if maxFrame <= 0 {
		maxFrame = DefaultInternalMaxFrame
	}
	size := initialReadBuffer
	if maxFrame+lenSize < size {
		size = maxFrame + lenSize
	}
	return &FrameReader{r: r, maxFrame: maxFrame, buf: make([]byte, size)}
}

// MaxFrame reports the reader's maximum length field.
func (fr *FrameReader) MaxFrame() int { return fr.maxFrame }

// Next returns the next frame's raw type and payload. The payload aliases the
// reader's buffer and is valid until the next call. At a clean end of stream
// between frames it returns io.EOF; an end inside a frame is ErrTruncated
// (also matching io.ErrUnexpectedEOF). A length over the maximum is
// ErrFrameTooLarge, detected before the buffer grows.
func (fr *FrameReader) Next() (MsgType, []byte, error) {
	if err := fr.fill(lenSize); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(fr.buf[fr.start:])
	if err := checkLen(n, fr.maxFrame); err != nil {
		return 0, nil, err
	}
	total := lenSize + int(n)
	if err := fr.fill(total); err != nil {
		return 0, nil, err
	}
	frame := fr.buf[fr.start : fr.start+total : fr.start+total]
	fr.start += total
	return MsgType(binary.BigEndian.Uint16(frame[lenSize:])), frame[FrameHeaderSize:], nil
}

// fill makes at least need bytes available at buf[start:]. need has already
// been bounded by the maximum frame size.
func (fr *FrameReader) fill(need int) error {
	if fr.end-fr.start >= need {
		return nil
	}
	if fr.start == fr.end {
		fr.start, fr.end = 0, 0
	}
	if len(fr.buf)-fr.start < need {
		if len(fr.buf) >= need {
			// Room enough once the unconsumed tail moves to the front.
			fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
		} else {
			nb := make([]byte, growSize(len(fr.buf), need, fr.maxFrame+lenSize))
			fr.end = copy(nb, fr.buf[fr.start:fr.end])
			fr.buf = nb
		}
		fr.start = 0
	}
	empty := 0
	for fr.end-fr.start < need {
		n, err := fr.r.Read(fr.buf[fr.end:])
		fr.end += n
		if fr.end-fr.start >= need {
			return nil
		}
		if err != nil {
			have := fr.end - fr.start
			if errors.Is(err, io.EOF) {
				if have == 0 && need == lenSize {
					return io.EOF
				}
				return fmt.Errorf("%w: %w: stream ended with %d of %d bytes of a frame", ErrTruncated, io.ErrUnexpectedEOF, have, need)
			}
			return err
		}
		if n == 0 {
			// io.Reader discourages (0, nil); a transport that keeps
			// returning it must not make us spin forever.
			if empty++; empty >= 100 {
				return io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	return nil
}

// growSize doubles cur until it holds need, capped at limit (need <= limit).
func growSize(cur, need, limit int) int {
	n := cur
	if n < initialReadBuffer {
		n = initialReadBuffer
	}
	for n < need {
		n *= 2
	}
	if n > limit {
		n = limit
	}
	if n < need {
		n = need
	}
	return n
}
