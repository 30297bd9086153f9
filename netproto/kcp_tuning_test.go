package netproto

import (
	"context"
	"testing"
	"time"
)

// TestKCPTuning: a link works with the default tuning and with a
// conservative one (congestion window on, 50 ms clock, no fast resend).
func TestKCPTuning(t *testing.T) {
	for _, tu := range []*KCPTuning{nil, {NoDelay: false, Interval: 50 * time.Millisecond, Resend: 0, NoCongestion: false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		opts := Options{KCP: KCPOptions{Tuning: tu}, ReadTimeout: 5 * time.Second}
		ln, err := ListenKCP(ctx, "127.0.0.1:0", opts)
		if err != nil {
			t.Fatal(err)
		}
		cli, err := DialKCP(ctx, ln.Addr().String(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := cli.Send(MsgHeartbeat, nil); err != nil {
			t.Fatal(err)
		}
		if err := cli.Flush(); err != nil {
			t.Fatal(err)
		}
		srv, err := ln.Accept(ctx)
		if err != nil {
			t.Fatalf("tuning %+v: accept: %v", tu, err)
		}
		if typ, _, err := srv.Recv(); err != nil || typ != MsgHeartbeat {
			t.Fatalf("tuning %+v: got %v %v", tu, typ, err)
		}
		srv.Close()
		cli.Close()
		ln.Close()
		cancel()
	}
}
