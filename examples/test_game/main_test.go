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
