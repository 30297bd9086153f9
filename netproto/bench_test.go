package netproto

import (
	"context"
	"testing"
)

func benchCall() *CallEntity {
	return &CallEntity{
		Target: 3<<48 | 12345,
		Method: "TakeDamage",
		Args:   sampleArgs,
		Caller: Caller{Kind: CallerEntity, Entity: 3<<48 | 999, Game: 3},
		CallID: 4242,
	}
}

func BenchmarkCallEntityEncode(b *testing.B) {
	c := mustCodec(b, InternalLimits())
	m := benchCall()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = c.AppendMessage(buf[:0], m)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkCallEntityDecode(b *testing.B) {
	c := mustCodec(b, InternalLimits())
	_, p, _ := c.Marshal(benchCall())
	var m CallEntity
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		m = CallEntity{}
		if err := c.DecodeInto(p, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRecords(n int) []PositionRecord {
	recs := make([]PositionRecord, n)
	for i := range recs {
		recs[i] = PositionRecord{Entity: 3<<48 | uint64(i), X: float32(i) * 1.5, Y: 0, Z: float32(i) * -2.25, Yaw: float32(i) * 0.01}
	}
	return recs
}

func BenchmarkPositionBatch100Encode(b *testing.B) {
	recs := benchRecords(100)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendPositionBatch(buf[:0], recs)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkPositionBatch100Decode(b *testing.B) {
	p, _ := AppendPositionBatch(nil, benchRecords(100))
	dst := make([]PositionRecord, 0, 100)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		var err error
		if dst, err = DecodePositionBatch(dst, p, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTCPRoundTrip measures one CallEntity-sized frame there and back
// over loopback TCP links.
func BenchmarkTCPRoundTrip(b *testing.B) {
	ctx := context.Background()
	ln, err := ListenTCP(ctx, "127.0.0.1:0", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	cli, err := DialTCP(ctx, ln.Addr().String(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	srv, err := ln.Accept(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	go func() {
		for {
			typ, p, err := srv.Recv()
			if err != nil {
				return
			}
			if srv.Send(typ, p) != nil || srv.Flush() != nil {
				return
			}
		}
	}()
	c := mustCodec(b, InternalLimits())
	_, payload, _ := c.Marshal(benchCall())
	b.ReportAllocs()
	for b.Loop() {
		if err := cli.Send(MsgCallEntity, payload); err != nil {
			b.Fatal(err)
		}
		if err := cli.Flush(); err != nil {
			b.Fatal(err)
		}
		if _, _, err := cli.Recv(); err != nil {
			b.Fatal(err)
		}
	}
}
