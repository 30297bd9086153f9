package snapshot_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ecsworld/ecsworld/snapshot"
)

// FuzzDecode feeds arbitrary bytes to the reader: it must never panic or
// allocate beyond its limits, every error must wrap one sentinel, and a
// file it accepts must hold what its header announces. The seeds (a good
// file, cut and damaged copies) run as an ordinary test.
func FuzzDecode(f *testing.F) {
	s := newSchema(f)
	g := randWorld(f, s, 11, 30)
	good := encode(f, g)
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte(snapshot.Magic))
	f.Add(good[:len(good)/2])
	for _, i := range []int{9, 30, len(good) / 2, len(good) - 3} {
		bad := bytes.Clone(good)
		bad[i] ^= 0x55
		f.Add(bad)
	}
	rd, err := snapshot.NewReader(snapshot.ReadOptions{MaxHeaderBytes: 1 << 20, MaxChunkBytes: 4 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		reg := newSchema(t).reg
		r, err := rd.Decode(bytes.NewReader(b), reg, worldOpts())
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %q wraps %d sentinels", err, n)
			}
			return
		}
		if uint64(r.World.Len()) != r.Header.Entities || uint64(r.World.NumSpaces()) != r.Header.Spaces || uint64(len(r.Timers)) != r.Header.Timers {
			t.Fatalf("accepted file: world of %d/%d, header %+v", r.World.Len(), r.World.NumSpaces(), r.Header)
		}
	})
}
