package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/netproto"
)

const testTimeout = 10 * time.Second

// TestRun starts the command on port 0 with no dispatcher running: it
// listens, reports its addresses, refuses clients (the cluster is not up)
// and stops cleanly when its context ends.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "cluster.toml")
	addrsPath := filepath.Join(dir, "addrs.json")
	cfg := `[common]
secret = "s"
log_level = "error"
[dispatcher.1]
listen = "127.0.0.1:1"
[game.1]
[gate.3]
kcp_listen = "127.0.0.1:0"
tcp_listen = "127.0.0.1:0"
ws_listen = ""
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-config", cfgPath, "-id", "3", "-addrs", addrsPath}) }()

	var addrs map[string]string
	deadline := time.Now().Add(testTimeout)
	for {
		b, err := os.ReadFile(addrsPath)
		if err == nil {
			if err := json.Unmarshal(b, &addrs); err != nil {
				t.Fatalf("addresses file %q: %v", b, err)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no addresses file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addrs["tcp"] == "" || addrs["kcp"] == "" || addrs["ws"] != "" {
		t.Fatalf("addresses %v", addrs)
	}

	dctx, dcancel := context.WithTimeout(ctx, testTimeout)
	defer dcancel()
	l, err := netproto.DialTCP(dctx, addrs["tcp"], netproto.Options{MaxFrame: netproto.DefaultClientMaxFrame, ReadTimeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	codec, _ := netproto.NewCodec(netproto.ClientLimits())
	codec.Send(l, &netproto.ClientHello{Version: netproto.ProtocolVersion})
	l.Flush()
	typ, payload, err := l.Recv()
	if err != nil {
		t.Fatal(err)
	}
	m, err := codec.Decode(typ, payload)
	if d, ok := m.(*netproto.Disconnect); err != nil || !ok || d.Reason != "cluster unavailable" {
		t.Fatalf("got %v %+v %v, want Disconnect: cluster unavailable", typ, m, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("run did not stop")
	}
}

func TestRunErrors(t *testing.T) {
	ctx := t.Context()
	cases := map[string][]string{
		"missing file": {"-config", filepath.Join(t.TempDir(), "none.toml")},
		"bad id":       {"-id", "0"},
		"extra args":   {"oops"},
		"no such gate": {"-config", writeConfig(t, "[common]\nsecret=\"s\"\n[dispatcher.1]\n[game.1]\n[gate.1]\n"), "-id", "9"},
	}
	for name, args := range cases {
		if err := run(ctx, args); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func writeConfig(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBootType(t *testing.T) {
	c := config.Ephemeral(1, 2, 1)
	if bt, ok := bootType(c); !ok || bt != "Account" {
		t.Errorf("agreeing games: %q %v", bt, ok)
	}
	c.Games[1].BootEntity = "Guest"
	if _, ok := bootType(c); ok {
		t.Error("disagreeing games give a boot type")
	}
}
