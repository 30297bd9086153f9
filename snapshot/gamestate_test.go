package snapshot_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/ecsworld/ecsworld/snapshot"
)

// TestGameState: the game's observers and won services travel in the
// header, and a header with a bad one is refused as corrupt, naming it.
func TestGameState(t *testing.T) {
	s := newSchema(t)
	g := randWorld(t, s, 11, 20)
	st := g.state()
	st.Observers = []snapshot.Observer{{Gate: 1, Client: 1<<48 | 4}, {Gate: 2, Client: 2<<48 | 9}}
	st.Services = []snapshot.Service{{Name: "chat", Entity: 7<<48 | 3}, {Name: "market", Entity: 7<<48 | 5}}
	encodeWith := func(st *snapshot.State) []byte {
		t.Helper()
		wr, err := snapshot.NewWriter(snapshot.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := wr.Encode(&buf, g.w, st); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	good := encodeWith(st)
	r, err := decode(t, good, s.reg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Header.Observers, st.Observers) || !reflect.DeepEqual(r.Header.Services, st.Services) {
		t.Errorf("read observers %v, services %v; wrote %v, %v", r.Header.Observers, r.Header.Services, st.Observers, st.Services)
	}

	if _, err := decode(t, withHeader(t, good, func(*snapshot.Header) {}), s.reg); err != nil {
		t.Fatalf("a rewritten, unchanged header: %v", err)
	}

	for _, tc := range []struct {
		name string
		edit func(st *snapshot.State)
		want string
	}{
		{"observer without gate", func(st *snapshot.State) { st.Observers = []snapshot.Observer{{Client: 5}} }, "observer 0"},
		{"observer without client", func(st *snapshot.State) { st.Observers = []snapshot.Observer{{Gate: 3}} }, "observer 0"},
		{"unnamed service", func(st *snapshot.State) { st.Services = []snapshot.Service{{Entity: 4}} }, "service 0"},
		{"long service name", func(st *snapshot.State) {
			st.Services = []snapshot.Service{{Name: strings.Repeat("n", snapshot.MaxServiceName+1), Entity: 4}}
		}, "service 0"},
		{"service without entity", func(st *snapshot.State) { st.Services = []snapshot.Service{{Name: "chat"}} }, `service "chat"`},
		{"service twice", func(st *snapshot.State) {
			st.Services = []snapshot.Service{{Name: "chat", Entity: 4}, {Name: "chat", Entity: 5}}
		}, `service "chat" listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := *st
			tc.edit(&bad)
			// The writer refuses it (a freeze must not save what no
			// restore can read)...
			wr, err := snapshot.NewWriter(snapshot.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := wr.Encode(&bytes.Buffer{}, g.w, &bad); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Encode err = %v, want one naming %q", err, tc.want)
			}
			// ...and so does the reader, given such a header.
			_, err = decode(t, withHeader(t, good, func(h *snapshot.Header) {
				h.Observers, h.Services = bad.Observers, bad.Services
			}), s.reg)
			var fe *snapshot.FormatError
			if !errors.Is(err, snapshot.ErrCorrupt) || !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode err = %v, want ErrCorrupt naming %q", err, tc.want)
			}
		})
	}
}

// withHeader returns file with its header decoded, edited and written
// back, checksums and the preamble's length fixed: a well-formed file
// whose header says what edit made it say.
func withHeader(t *testing.T, file []byte, edit func(h *snapshot.Header)) []byte {
	t.Helper()
	const pre = 20 // magic 8, version 2, flags 2, header length 4, CRC 4
	hlen := binary.BigEndian.Uint32(file[12:16])
	var h snapshot.Header
	if err := cbor.Unmarshal(file[pre:pre+hlen], &h); err != nil {
		t.Fatal(err)
	}
	edit(&h)
	hb, err := cbor.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	out := append([]byte(nil), file[:pre]...)
	binary.BigEndian.PutUint32(out[12:16], uint32(len(hb)))
	binary.BigEndian.PutUint32(out[16:20], crc32.Checksum(out[:16], castagnoli))
	out = append(out, hb...)
	out = binary.BigEndian.AppendUint32(out, crc32.Checksum(hb, castagnoli))
	return append(out, file[pre+hlen+4:]...)
}
