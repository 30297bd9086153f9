package inproc

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/ecs"
	"github.com/ecsworld/ecsworld/game"
)

func accounts(config.Game, *zap.Logger) (game.Setup, error) {
	return game.Setup{Types: []*ecs.EntityType{ecs.NewEntityType("Account")}}, nil
}

// TestStartStop runs two dispatchers, two games and a gate, checks each
// is linked, and that Stop closes every listener.
func TestStartStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := config.Ephemeral(2, 2, 1)
	cl.Games[0].Metrics = "127.0.0.1:0"
	c, err := Start(ctx, cl, Options{Setup: accounts})
	if err != nil {
		t.Fatal(err)
	}
	if cl.Dispatchers[0].Advertise != "" {
		t.Error("Start changed the cluster it was given")
	}
	for _, d := range c.Dispatchers {
		if s := d.Stats(); s.Games != 2 || s.Gates != 1 {
			t.Errorf("dispatcher %d: %d games %d gates", d.ID(), s.Games, s.Gates)
		}
	}
	if len(c.Metrics) != 1 || c.Metrics["game.1"] == nil || len(c.Registries) != 5 {
		t.Errorf("metrics %v, registries %d", c.Metrics, len(c.Registries))
	}
	addrs := append(c.Config.DispatcherAddrs(), c.Gates[0].Addrs().TCP, c.Metrics["game.1"].Addr())
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	for _, a := range addrs {
		if conn, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts after Stop", a)
		}
	}
}

func TestStartFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := config.Ephemeral(1, 1, 1)
	if _, err := Start(ctx, cl, Options{}); err == nil {
		t.Error("Start without Setup succeeded")
	}
	core, logs := observer.New(zap.InfoLevel)
	_, err := Start(ctx, cl, Options{Setup: func(g config.Game, _ *zap.Logger) (game.Setup, error) {
		return game.Setup{}, errors.New("broken game")
	}, Log: zap.New(core)})
	if err == nil || !strings.Contains(err.Error(), "game.1: setup: broken game") {
		t.Fatalf("Start: %v", err)
	}
	// The dispatcher it had started no longer listens.
	started := logs.FilterMessage("dispatcher listening").All()
	if len(started) != 1 {
		t.Fatalf("dispatcher log lines: %v", logs.All())
	}
	addr, _ := started[0].ContextMap()["addr"].(string)
	if addr == "" {
		t.Fatalf("no addr in %v", started[0].ContextMap())
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts after a failed Start", addr)
	}
}
