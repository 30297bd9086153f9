package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunRefusesBadSetups(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cluster.toml")
	if err := os.WriteFile(cfg, []byte("[dispatcher.1]\n[game.1]\n[gate.1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-config", cfg, "-id", "0"}, "-id 0"},
		{[]string{"-config", cfg, "-restore"}, "-restore"},
		{[]string{"-config", cfg, "-id", "2"}, "has no [game.2]"},
		{[]string{"-config", cfg, "-monsters", "-1"}, "-monsters"},
		{[]string{"-config", filepath.Join(dir, "missing.toml")}, "missing.toml"},
		{[]string{"-config", cfg, "stray"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error about %s", tt.args, err, tt.want)
		}
	}
}

// The schema registers (the game refuses a bad one at New): every type the
// docs name, with one method per permission kind.
func TestSetupSchema(t *testing.T) {
	w := &world{}
	st := w.setup()
	names := map[string]bool{}
	for _, typ := range st.Types {
		names[typ.Name()] = true
	}
	for _, n := range []string{"Account", "Avatar", "Monster", "Arena", "ChatHub"} {
		if !names[n] {
			t.Errorf("type %s missing", n)
		}
	}
	perms := map[string]string{}
	for _, typ := range st.Types {
		if typ.Name() != "Avatar" {
			continue
		}
		for _, m := range typ.Methods() {
			perms[m.Name()] = m.Permission().String()
		}
	}
	want := map[string]string{"Ping": "own-client", "Say": "own-client", "Travel": "own-client",
		"Poke": "any-client", "Hear": "server-only", "Grant": "server-only"}
	for m, p := range want {
		if perms[m] != p {
			t.Errorf("Avatar.%s: %q, want %q", m, perms[m], p)
		}
	}
	if _, ok := st.ClientMoved["Avatar"]; !ok {
		t.Error("Avatar is not client-moved")
	}
}
