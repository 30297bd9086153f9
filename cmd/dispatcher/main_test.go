package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ecsworld/ecsworld/netproto"
)

// TestMain lets the test binary run as the command itself (re-executed by
// TestProcess), so the real main runs as a real process.
func TestMain(m *testing.M) {
	if os.Getenv("DISPATCHER_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestProcess(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cluster.toml")
	const cluster = `[common]
secret = "proc-secret"
log_format = "json"
[dispatcher.1]
listen = "127.0.0.1:0"
[game.1]
[gate.1]
tcp_listen = "127.0.0.1:0"
kcp_listen = "127.0.0.1:0"
ws_listen = "127.0.0.1:0"
`
	if err := os.WriteFile(cfg, []byte(cluster), 0o644); err != nil {
		t.Fatal(err)
	}
	addrs := filepath.Join(dir, "addrs.json")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-config", cfg, "-id", "1", "-addrs", addrs)
	cmd.Env = append(os.Environ(), "DISPATCHER_TEST_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	var a struct{ TCP string }
	for {
		b, err := os.ReadFile(addrs)
		if err == nil {
			if err := json.Unmarshal(b, &a); err != nil {
				t.Fatalf("addrs file %q: %v", b, err)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the dispatcher never wrote its address")
		}
		time.Sleep(10 * time.Millisecond)
	}

	l, err := netproto.DialTCP(ctx, a.TCP, netproto.Options{ReadTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	codec, err := netproto.NewCodec(netproto.InternalLimits())
	if err != nil {
		t.Fatal(err)
	}
	if err := codec.Send(l, &netproto.Hello{Role: netproto.RoleGame, ID: 1, Secret: "proc-secret"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	typ, _, err := l.Recv()
	if err != nil || typ != netproto.MsgHelloAck {
		t.Fatalf("want HelloAck, got %v, %v", typ, err)
	}

	// SIGTERM: a graceful stop, exit status 0, the link closed.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	for {
		if _, _, err := l.Recv(); err != nil {
			if netproto.IsTimeout(err) {
				t.Fatal("link still open after the dispatcher exited")
			}
			break
		}
	}
}
