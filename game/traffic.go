package game

import (
	"sync/atomic"

	"github.com/ecsworld/ecsworld/netproto"
)

// Traffic is a count of messages and their bytes (netproto.Traffic).
type Traffic = netproto.Traffic

// typeCounts counts traffic by message type. Every type on a dispatcher
// link is below 0x100; anything else is counted under type 0.
type typeCounts [256]struct{ msgs, bytes atomic.Uint64 }

func (tc *typeCounts) add(typ netproto.MsgType, payload int) {
	if typ >= 256 {
		typ = 0
	}
	tc[typ].msgs.Add(1)
	tc[typ].bytes.Add(uint64(netproto.FrameHeaderSize + payload))
}

// snapshot returns the non-zero counts.
func (tc *typeCounts) snapshot() map[netproto.MsgType]Traffic {
	m := make(map[netproto.MsgType]Traffic)
	for i := range tc {
		if n := tc[i].msgs.Load(); n > 0 {
			m[netproto.MsgType(i)] = Traffic{Msgs: n, Bytes: tc[i].bytes.Load()}
		}
	}
	return m
}

// countingLink counts what the game queues on a dispatcher link, by type.
type countingLink struct {
	netproto.Link
	out *typeCounts
}

// Send queues a frame and counts it once the link took it.
func (l countingLink) Send(typ netproto.MsgType, payload []byte) error {
	if err := l.Link.Send(typ, payload); err != nil {
		return err
	}
	l.out.add(typ, len(payload))
	return nil
}
