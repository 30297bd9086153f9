package proc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsworld/ecsworld/config"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.toml")
	if err := os.WriteFile(path, []byte("[dispatcher.1]\n[game.1]\n[gate.1]\n[gate.2]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Parse(nil, config.RoleGate, []string{"-config", path, "-id", "2", "-addrs", "a.json"})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != 2 || p.AddrsFile != "a.json" || p.Cluster.Gate(2) == nil || p.Log == nil || p.Path != path {
		t.Fatalf("Parse gave %+v", p)
	}
	for _, tc := range []struct {
		role string
		args []string
		want string
	}{
		{config.RoleGame, []string{"-config", path, "-id", "3"}, "has no [game.3]"},
		{config.RoleDispatcher, []string{"-config", path, "-id", "0"}, "must be 1..65535"},
		{config.RoleGate, []string{"-config", path, "extra"}, "unexpected arguments"},
		{config.RoleGate, []string{"-config", filepath.Join(dir, "missing.toml")}, "missing.toml"},
		{"observer", []string{"-config", path}, "unknown role"},
	} {
		if _, err := Parse(nil, tc.role, tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s, %q) = %v, want an error with %q", tc.role, tc.args, err, tc.want)
		}
	}
}
