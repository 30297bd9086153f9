package netproto

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every blocking step of a link test so a bug fails the
// test instead of hanging it.
const testTimeout = 10 * time.Second

// transport starts a listener and returns a dialer for it.
type transport struct {
	name   string
	listen func(t *testing.T, ctx context.Context, opts Options) (Listener, func(ctx context.Context, opts Options) (Link, error))
}

var transports = []transport{
	{"tcp", func(t *testing.T, ctx context.Context, opts Options) (Listener, func(context.Context, Options) (Link, error)) {
		ln, err := ListenTCP(ctx, "127.0.0.1:0", opts)
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		return ln, func(ctx context.Context, o Options) (Link, error) { return DialTCP(ctx, addr, o) }
	}},
	{"kcp", func(t *testing.T, ctx context.Context, opts Options) (Listener, func(context.Context, Options) (Link, error)) {
		ln, err := ListenKCP(ctx, "127.0.0.1:0", opts)
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		return ln, func(ctx context.Context, o Options) (Link, error) { return DialKCP(ctx, addr, o) }
	}},
	{"ws", func(t *testing.T, ctx context.Context, opts Options) (Listener, func(context.Context, Options) (Link, error)) {
		opts.WebSocket.InsecureSkipVerify = true
		h, err := NewWebSocketHandler(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		url := "ws" + strings.TrimPrefix(srv.URL, "http")
		return &httpListener{h, srv}, func(ctx context.Context, o Options) (Link, error) { return DialWebSocket(ctx, url, o) }
	}},
}

// httpListener closes the test HTTP server with the handler.
type httpListener struct {
	*WebSocketHandler
	srv *httptest.Server
}

func (l *httpListener) Close() error {
	err := l.WebSocketHandler.Close()
	l.srv.Close()
	return err
}

// pair connects a client link to a server link. The client speaks first (a
// KCP server sees nothing before the first datagram); pair consumes that
// hello on the server.
func pair(t *testing.T, tr transport, serverOpts, clientOpts Options) (srv, cli Link, ln Listener) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if serverOpts.ReadTimeout == 0 {
		serverOpts.ReadTimeout = testTimeout
	}
	if clientOpts.ReadTimeout == 0 {
		clientOpts.ReadTimeout = testTimeout
	}
	ln, dial := tr.listen(t, context.Background(), serverOpts)
	cli, err := dial(ctx, clientOpts)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	if err := cli.Send(MsgClientHello, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := cli.Flush(); err != nil {
		t.Fatal(err)
	}
	srv, err = ln.Accept(ctx)
	if err != nil {
		cli.Close()
		ln.Close()
		t.Fatal(err)
	}
	typ, p, err := srv.Recv()
	if err != nil || typ != MsgClientHello || string(p) != "hi" {
		t.Fatalf("hello: %v %q %v", typ, p, err)
	}
	if srv.Transport() != tr.name || cli.Transport() != tr.name {
		t.Fatalf("transport names %q %q", srv.Transport(), cli.Transport())
	}
	if srv.RemoteAddr() == nil || cli.RemoteAddr() == nil {
		t.Fatal("nil RemoteAddr")
	}
	return srv, cli, ln
}

func closeAll(t *testing.T, ln Listener, links ...Link) {
	t.Helper()
	for _, l := range links {
		if err := l.Close(); err != nil {
			t.Errorf("close %s link: %v", l.Transport(), err)
		}
	}
	if err := ln.Close(); err != nil {
		t.Errorf("close listener: %v", err)
	}
}

// testPayload is frame i's deterministic content, of varied sizes.
func testPayload(i int, compressibleData bool) []byte {
	n := (i * 37) % 3000
	if compressibleData {
		return compressible(n)
	}
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*7 + j)
	}
	if n >= 4 {
		binary.BigEndian.PutUint32(b, uint32(i))
	}
	return b
}

// sendN sends n frames, flushing every flushEvery.
func sendN(l Link, n, flushEvery int, compressibleData bool) error {
	for i := 0; i < n; i++ {
		if err := l.Send(MsgCallEntity, testPayload(i, compressibleData)); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
		if (i+1)%flushEvery == 0 {
			if err := l.Flush(); err != nil {
				return fmt.Errorf("flush after %d: %w", i, err)
			}
		}
	}
	return l.Flush()
}

// recvN receives and checks n frames in order.
func recvN(l Link, n int, compressibleData bool) error {
	for i := 0; i < n; i++ {
		typ, p, err := l.Recv()
		if err != nil {
			return fmt.Errorf("recv %d: %w", i, err)
		}
		if typ != MsgCallEntity || !bytes.Equal(p, testPayload(i, compressibleData)) {
			return fmt.Errorf("frame %d: type %v, %d bytes: wrong content", i, typ, len(p))
		}
	}
	return nil
}

// exchange sends n frames each way at once and checks them.
func exchange(t *testing.T, a, b Link, n, flushEvery int, compressibleData bool) {
	t.Helper()
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for _, dir := range [][2]Link{{a, b}, {b, a}} {
		wg.Add(2)
		go func(from Link) { defer wg.Done(); errs <- sendN(from, n, flushEvery, compressibleData) }(dir[0])
		go func(to Link) { defer wg.Done(); errs <- recvN(to, n, compressibleData) }(dir[1])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestLinkExchange(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli, ln := pair(t, tr, Options{}, Options{})
			defer closeAll(t, ln, cli, srv)
			exchange(t, srv, cli, 300, 7, false)
		})
	}
}

func TestLinkCoalescing(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli, ln := pair(t, tr, Options{}, Options{})
			defer closeAll(t, ln, cli, srv)
			// Many Sends, one Flush: everything arrives whole and in order.
			exchange(t, srv, cli, 200, 1_000_000, false)
			// Several pre-encoded frames in one SendFrames, as a gate does.
			var frames []byte
			for i := 0; i < 50; i++ {
				frames = AppendFrame(frames, MsgCallEntity, testPayload(i, false))
			}
			if err := srv.SendFrames(frames); err != nil {
				t.Fatal(err)
			}
			if err := srv.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := recvN(cli, 50, false); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLinkCompression(t *testing.T) {
	for _, tr := range transports {
		for _, algo := range []CompressAlgo{CompressNone, CompressS2, CompressZstd} {
			t.Run(tr.name+"/"+algo.String(), func(t *testing.T) {
				// The server compresses with algo, the client with the
				// other setting; each side decodes whatever arrives.
				other := CompressS2
				if algo == CompressS2 {
					other = CompressNone
				}
				srv, cli, ln := pair(t, tr,
					Options{Compression: Compression{Algo: algo, Threshold: 64}},
					Options{Compression: Compression{Algo: other, Threshold: 64}})
				defer closeAll(t, ln, cli, srv)
				exchange(t, srv, cli, 100, 10, true)
				exchange(t, srv, cli, 50, 10, false)
				// Pre-encoded frames are compressed on the way out too.
				var frames []byte
				for i := 0; i < 20; i++ {
					frames = AppendFrame(frames, MsgCallEntity, testPayload(i, true))
				}
				if err := srv.SendFrames(frames); err != nil {
					t.Fatal(err)
				}
				if err := srv.Flush(); err != nil {
					t.Fatal(err)
				}
				if err := recvN(cli, 20, true); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestLinkCompressionOnWire checks on raw bytes that a compressing link sets
// the flag and a plain link does not.
func TestLinkCompressionOnWire(t *testing.T) {
	for _, algo := range []CompressAlgo{CompressNone, CompressS2, CompressZstd} {
		t.Run(algo.String(), func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			l, err := newStreamLink(a, "pipe", Options{Compression: Compression{Algo: algo}}.withDefaults(DefaultInternalMaxFrame))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			payload := compressible(10_000)
			if err := l.Send(MsgGateBatch, payload); err != nil {
				t.Fatal(err)
			}
			if err := l.Send(MsgHeartbeat, nil); err != nil {
				t.Fatal(err)
			}
			go l.Flush()
			fr := NewFrameReader(b, 0)
			typ, wire, err := fr.Next()
			if err != nil {
				t.Fatal(err)
			}
			want := map[CompressAlgo]MsgType{CompressNone: MsgGateBatch, CompressS2: MsgGateBatch | FlagS2, CompressZstd: MsgGateBatch | FlagZstd}[algo]
			if typ != want {
				t.Fatalf("wire type %v, want %v", typ, want)
			}
			if algo != CompressNone && len(wire) > len(payload)/4 {
				t.Fatalf("%d bytes compressed to %d", len(payload), len(wire))
			}
			if typ, _, err := fr.Next(); err != nil || typ != MsgHeartbeat {
				t.Fatalf("small frame: %v %v", typ, err)
			}
		})
	}
}

func TestLinkFrameTooLargeFromPeer(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli, ln := pair(t, tr, Options{MaxFrame: 1024}, Options{MaxFrame: 64 << 10})
			defer closeAll(t, ln, cli, srv)
			if err := cli.Send(MsgCallEntity, make([]byte, 4096)); err != nil {
				t.Fatal(err)
			}
			if err := cli.Flush(); err != nil {
				t.Fatal(err)
			}
			_, _, err := srv.Recv()
			if !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("server Recv: %v, want ErrFrameTooLarge", err)
			}
			// The stream is lost: the error sticks. The link can still
			// say why to the peer, then its owner closes it.
			if _, _, err2 := srv.Recv(); !errors.Is(err2, ErrFrameTooLarge) {
				t.Fatalf("second Recv: %v", err2)
			}
			if err := srv.Send(MsgDisconnect, []byte{0xa0}); err != nil {
				t.Fatalf("Send of a last Disconnect: %v", err)
			}
			if err := srv.Flush(); err != nil {
				t.Fatalf("Flush of a last Disconnect: %v", err)
			}
			if typ, _, err := cli.Recv(); err != nil || typ != MsgDisconnect {
				t.Fatalf("peer got %v, %v; want the Disconnect", typ, err)
			}
			srv.Close()
			if tr.name == "kcp" {
				return // KCP has no close handshake; the peer times out.
			}
			if _, _, err := cli.Recv(); err == nil {
				t.Fatal("peer did not see the close")
			}
		})
	}
}

func TestLinkSendLimits(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	l, err := newStreamLink(a, "pipe", Options{MaxFrame: 1000, MaxQueued: 5000}.withDefaults(DefaultInternalMaxFrame))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Send(MsgCallEntity, make([]byte, 999)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized Send: %v", err)
	}
	if err := l.Send(MsgCallEntity, make([]byte, 998)); err != nil {
		t.Fatalf("Send at the limit: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := l.Send(MsgCallEntity, make([]byte, 998)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Send(MsgCallEntity, make([]byte, 998)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("queue over MaxQueued: %v", err)
	}
	if err := l.Send(0, nil); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("type 0: %v", err)
	}
	if err := l.Send(MsgHello|FlagS2, nil); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("flagged type: %v", err)
	}
	if err := l.SendFrames(AppendFrame(nil, MsgCallEntity, make([]byte, 1200))); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized SendFrames: %v", err)
	}
	if err := l.SendFrames([]byte{0, 0, 0, 9, 0}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated SendFrames: %v", err)
	}
	l.Close()
	if err := l.Send(MsgHeartbeat, nil); !errors.Is(err, ErrLinkClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if err := l.Flush(); !errors.Is(err, ErrLinkClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
	if _, _, err := l.Recv(); !errors.Is(err, ErrLinkClosed) {
		t.Fatalf("Recv after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestLinkConcurrentSendFlush(t *testing.T) {
	srv, cli, ln := pair(t, transports[0], Options{}, Options{})
	defer closeAll(t, ln, cli, srv)
	const senders, perSender = 4, 250
	var wg sync.WaitGroup
	errs := make(chan error, senders+2)
	done := make(chan struct{})
	// A flusher goroutine, as a writer-goroutine model would run.
	go func() {
		for {
			select {
			case <-done:
				errs <- cli.Flush()
				return
			default:
				if err := cli.Flush(); err != nil {
					errs <- err
					return
				}
				runtime.Gosched()
			}
		}
	}()
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; i < perSender; i++ {
				p := binary.BigEndian.AppendUint32([]byte{byte(s)}, uint32(i))
				if err := cli.Send(MsgCallEntity, p); err != nil {
					errs <- err
					return
				}
			}
		}(s)
	}
	wg.Wait()
	close(done)
	next := make([]uint32, senders)
	for n := 0; n < senders*perSender; n++ {
		_, p, err := srv.Recv()
		if err != nil {
			t.Fatal(err)
		}
		s, i := p[0], binary.BigEndian.Uint32(p[1:])
		if i != next[s] {
			t.Fatalf("sender %d: frame %d arrived, want %d", s, i, next[s])
		}
		next[s]++
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func TestLinkReadTimeout(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli, ln := pair(t, tr, Options{ReadTimeout: 50 * time.Millisecond}, Options{})
			defer closeAll(t, ln, cli, srv)
			_, _, err := srv.Recv()
			if !IsTimeout(err) {
				t.Fatalf("idle Recv: %v, want a timeout", err)
			}
		})
	}
}

func TestLinkPeerClose(t *testing.T) {
	for _, tr := range transports {
		if tr.name == "kcp" {
			continue // no close handshake in KCP: covered by ReadTimeout
		}
		t.Run(tr.name, func(t *testing.T) {
			srv, cli, ln := pair(t, tr, Options{}, Options{})
			defer closeAll(t, ln, srv)
			if err := cli.Send(MsgDisconnect, []byte{0xA0}); err != nil {
				t.Fatal(err)
			}
			if err := cli.Flush(); err != nil {
				t.Fatal(err)
			}
			cli.Close()
			if typ, _, err := srv.Recv(); err != nil || typ != MsgDisconnect {
				t.Fatalf("last frame before close: %v %v", typ, err)
			}
			if _, _, err := srv.Recv(); !errors.Is(err, io.EOF) {
				t.Fatalf("after peer close: %v, want io.EOF", err)
			}
		})
	}
}

func TestLinkCloseUnblocksRecv(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv, cli, ln := pair(t, tr, Options{}, Options{})
			defer closeAll(t, ln, cli)
			// The peer reads, as every link's owner does (a WebSocket
			// close handshake needs the peer's answer).
			go cli.Recv()
			got := make(chan error, 1)
			go func() { _, _, err := srv.Recv(); got <- err }()
			srv.Close()
			select {
			case err := <-got:
				if !errors.Is(err, ErrLinkClosed) {
					t.Fatalf("Recv after Close: %v, want ErrLinkClosed", err)
				}
			case <-time.After(testTimeout):
				t.Fatal("Recv still blocked after Close")
			}
		})
	}
}

func TestListenerAcceptContext(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			ln, _ := tr.listen(t, ctx, Options{})
			defer ln.Close()
			actx, acancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer acancel()
			if _, err := ln.Accept(actx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Accept with expired context: %v", err)
			}
			cancel() // ends the listener
			actx2, acancel2 := context.WithTimeout(context.Background(), testTimeout)
			defer acancel2()
			if _, err := ln.Accept(actx2); err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Accept after the listener's context ended: %v", err)
			}
		})
	}
}

// TestLinkCloseReleasesGoroutines runs a full exchange per transport and
// checks that closing links and listener returns the goroutine count to its
// baseline.
func TestLinkCloseReleasesGoroutines(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			srv, cli, ln := pair(t, tr, Options{Compression: Compression{Algo: CompressZstd}}, Options{Compression: Compression{Algo: CompressS2}})
			exchange(t, srv, cli, 50, 10, true)
			closeAll(t, ln, cli, srv)
			deadline := time.Now().Add(testTimeout)
			for {
				now := runtime.NumGoroutine()
				if now <= before {
					return
				}
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<20)
					n := runtime.Stack(buf, true)
					t.Fatalf("%d goroutines before, %d after close:\n%s", before, now, buf[:n])
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestKCPOptions(t *testing.T) {
	key := []byte("0123456789abcdef")
	opts := Options{KCP: KCPOptions{Key: key, DataShards: 10, ParityShards: 3, MTU: 1200}}
	srv, cli, ln := pair(t, transports[1], opts, opts)
	defer closeAll(t, ln, cli, srv)
	exchange(t, srv, cli, 100, 10, false)

	if _, err := ListenKCP(context.Background(), "127.0.0.1:0", Options{KCP: KCPOptions{Key: []byte("short")}}); err == nil {
		t.Fatal("bad AES key accepted")
	}
}
