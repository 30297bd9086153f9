package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildVariant builds examples/test_game into binDir as name, with one
// line of its sources changed (old, which must occur exactly once in the
// .go files under examples/test_game, becomes new) through go build
// -overlay: a game binary with changed method behaviour, the source tree
// untouched.
func buildVariant(t *testing.T, name, old, new string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var src string
	var b []byte
	found := 0
	err = filepath.WalkDir(filepath.Join(root, "examples", "test_game"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if n := strings.Count(string(data), old); n > 0 {
			src, b, found = path, data, found+n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != 1 {
		t.Fatalf("examples/test_game holds %q %d times, want once: update the variant of this test", old, found)
	}
	dir := t.TempDir()
	changed := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(changed, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	ov, err := json.Marshal(map[string]map[string]string{"Replace": {src: changed}})
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay", overlay, "-o", filepath.Join(binDir, name), "./examples/test_game")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the variant: %v\n%s", err, out)
	}
}
