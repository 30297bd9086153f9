package netproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

func TestFrameRoundTrip(t *testing.T) {
	frames := []struct {
		typ     MsgType
		payload []byte
	}{
		{MsgHeartbeat, nil},
		{MsgHello, []byte("hello")},
		{MsgGateBatch, bytes.Repeat([]byte{0xAB}, 10_000)}, // grows the buffer
		{MsgCallEntity, []byte{1}},
		{MsgPositionSync, bytes.Repeat([]byte{7}, 5000)},
	}
	var stream []byte
	for _, f := range frames {
		stream = AppendFrame(stream, f.typ, f.payload)
	}
	readers := map[string]func([]byte) io.Reader{
		"whole":   func(b []byte) io.Reader { return bytes.NewReader(b) },
		"onebyte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":    func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"dataerr": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			fr := NewFrameReader(mk(stream), 64<<10)
			for i, f := range frames {
				typ, payload, err := fr.Next()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if typ != f.typ || !bytes.Equal(payload, f.payload) {
					t.Fatalf("frame %d: got %v/%d bytes, want %v/%d bytes", i, typ, len(payload), f.typ, len(f.payload))
				}
			}
			if _, _, err := fr.Next(); err != io.EOF {
				t.Fatalf("after last frame: got %v, want io.EOF", err)
			}
		})
	}
}

func TestFrameReaderErrors(t *testing.T) {
	valid := AppendFrame(nil, MsgHello, []byte("0123456789"))
	hugeLen := binary.BigEndian.AppendUint32(nil, 1<<31)
	hugeLen = append(hugeLen, 0, 0x10)
	tests := []struct {
		name  string
		input []byte
		max   int
		want  error
	}{
		{"length over max", AppendFrame(nil, MsgHello, make([]byte, 300)), 256, ErrFrameTooLarge},
		{"huge length, tiny input", hugeLen, 1 << 20, ErrFrameTooLarge},
		{"truncated header", valid[:3], 1024, ErrTruncated},
		{"truncated type", valid[:5], 1024, ErrTruncated},
		{"truncated payload", valid[:len(valid)-1], 1024, ErrTruncated},
		{"length 0", []byte{0, 0, 0, 0}, 1024, ErrMalformed},
		{"length 1", []byte{0, 0, 0, 1, 9}, 1024, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fr := NewFrameReader(bytes.NewReader(tc.input), tc.max)
			_, _, err := fr.Next()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, ErrTruncated) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("truncation %v should also match io.ErrUnexpectedEOF", err)
			}
			if len(fr.buf) > initialReadBuffer {
				t.Fatalf("buffer grew to %d on a bad frame", len(fr.buf))
			}
		})
	}
}

// errReader fails with a transport error after its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestFrameReaderTransportError(t *testing.T) {
	boom := errors.New("boom")
	frame := AppendFrame(nil, MsgHello, []byte("abc"))
	fr := NewFrameReader(&errReader{data: frame[:7], err: boom}, 0)
	if _, _, err := fr.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the transport error", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestFrameReaderNoProgress(t *testing.T) {
	fr := NewFrameReader(zeroReader{}, 0)
	if _, _, err := fr.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("got %v, want io.ErrNoProgress", err)
	}
}

func TestFrameReaderSteadyStateAllocs(t *testing.T) {
	var stream []byte
	for i := 0; i < 200; i++ {
		stream = AppendFrame(stream, MsgCallEntity, make([]byte, 40+i%100))
	}
	r := bytes.NewReader(stream)
	fr := NewFrameReader(r, 0)
	allocs := testing.AllocsPerRun(20, func() {
		r.Reset(stream)
		for {
			if _, _, err := fr.Next(); err != nil {
				if err != io.EOF {
					t.Fatal(err)
				}
				break
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 200 frames, want 0", allocs)
	}
}

func TestSplitAndValidateFrames(t *testing.T) {
	var b []byte
	b = AppendFrame(b, MsgCreateEntity, []byte("x"))
	b = AppendFrame(b, MsgDestroyEntity|FlagS2, []byte("yy"))
	b = AppendFrame(b, MsgHeartbeat, nil)
	n, err := ValidateFrames(b, 1024)
	if err != nil || n != 3 {
		t.Fatalf("ValidateFrames = %d, %v; want 3, nil", n, err)
	}
	typ, payload, rest, err := SplitFrame(b, 1024)
	if err != nil || typ != MsgCreateEntity || string(payload) != "x" || len(rest) != len(b)-7 {
		t.Fatalf("SplitFrame = %v %q %d %v", typ, payload, len(rest), err)
	}
	bad := []struct {
		name string
		b    []byte
		want error
	}{
		{"truncated", b[:len(b)-1], ErrTruncated},
		{"unknown type", AppendFrame(nil, 0x3333, nil), ErrUnknownType},
		{"too large", AppendFrame(nil, MsgCreateEntity, make([]byte, 2000)), ErrFrameTooLarge},
		{"short header", []byte{0, 0}, ErrTruncated},
	}
	for _, tc := range bad {
		if _, err := ValidateFrames(tc.b, 1024); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestMsgTypeNames(t *testing.T) {
	seen := map[string]MsgType{}
	for typ, name := range msgNames {
		if typ == 0 || typ > MaxMsgType {
			t.Errorf("%s: type 0x%04x outside 1..MaxMsgType", name, uint16(typ))
		}
		if prev, ok := seen[name]; ok {
			t.Errorf("name %s used by 0x%04x and 0x%04x", name, uint16(prev), uint16(typ))
		}
		seen[name] = typ
		if got := newMessage(typ); got == nil || got.MsgType() != typ {
			t.Errorf("newMessage(%v) = %T", typ, got)
		}
		if typ.String() != name {
			t.Errorf("String() = %q, want %q", typ.String(), name)
		}
	}
	if s := (MsgHello | FlagS2).String(); s != "Hello|s2" {
		t.Errorf("flagged String() = %q", s)
	}
	if s := MsgType(0x3333).String(); s != "MsgType(0x3333)" {
		t.Errorf("unknown String() = %q", s)
	}
	for _, typ := range []MsgType{MsgClientHello, MsgClientCall, MsgClientMove, MsgHeartbeat, MsgDisconnect} {
		if !typ.FromClient() || !typ.ClientLink() {
			t.Errorf("%v should come from clients", typ)
		}
	}
	for _, typ := range []MsgType{MsgHello, MsgGateBatch, MsgCreateEntity, MsgPositionSync} {
		if typ.FromClient() {
			t.Errorf("%v must not come from clients", typ)
		}
	}
	if MsgGateBatch.ClientLink() || !MsgPositionSync.ClientLink() {
		t.Error("ClientLink ranges wrong")
	}
}

func TestShard(t *testing.T) {
	const n = 4
	counts := make([]int, n)
	for i := uint64(1); i <= 40_000; i++ {
		id := uint64(7)<<48 | i
		s := Shard(id, n)
		if s != Shard(id, n) {
			t.Fatal("Shard is not deterministic")
		}
		counts[s]++
	}
	for s, c := range counts {
		if c < 9000 || c > 11000 {
			t.Errorf("shard %d got %d of 40000 sequential ids", s, c)
		}
	}
	if Shard(123, 0) != 0 || Shard(123, 1) != 0 {
		t.Error("Shard with n <= 1 must be 0")
	}
	if a, b := ShardString("chat", 8), ShardString("chat", 8); a != b || a < 0 || a >= 8 {
		t.Errorf("ShardString = %d, %d", a, b)
	}
	if Origin(uint64(0xBEEF)<<48|42) != 0xBEEF {
		t.Error("Origin")
	}
}

func ExampleAppendFrame() {
	b := AppendFrame(nil, MsgHeartbeat, nil)
	fmt.Printf("% x\n", b)
	// Output: 00 00 00 02 00 01
}
