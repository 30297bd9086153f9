package dispatcher

import (
	"testing"

	"github.com/ecsworld/ecsworld/netproto"
	"go.uber.org/zap"
)

// BenchmarkRouteCall measures routing of entity calls from one game to
// another through a dispatcher over loopback TCP (both fakes in process).
func BenchmarkRouteCall(b *testing.B) {
	cl := testCluster(1)
	cl.Dispatchers[0].Link.Compression = "none"
	d, err := New(cl, 1, WithLogger(zap.NewNop()))
	if err != nil {
		b.Fatal(err)
	}
	benchServe(b, d)
	from := benchJoin(b, d.Addr().String(), 1)
	to := benchJoin(b, d.Addr().String(), 2)
	call := entityCall(1, entity(1, 1), entity(2, 1), 0, "Tick")
	_, payload, err := from.codec.Marshal(call)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload) + netproto.FrameHeaderSize))
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		for range b.N {
			if _, _, err := to.link.Recv(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range b.N {
		if err := from.link.Send(netproto.MsgCallEntity, payload); err != nil {
			b.Fatal(err)
		}
		if i%64 == 63 {
			if err := from.link.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := from.link.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
