package proc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddrsFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if _, err := ReadAddrs(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if err := WriteAddrs(p, map[string]string{AddrTCP: "127.0.0.1:1", AddrWS: ""}); err != nil {
		t.Fatal(err)
	}
	m, err := ReadAddrs(p)
	if err != nil || len(m) != 1 || m[AddrTCP] != "127.0.0.1:1" {
		t.Fatalf("read back %v %v", m, err)
	}
	if _, err := os.Stat(p + ".tmp"); err == nil {
		t.Error("temporary file left")
	}
	for name, body := range map[string]string{
		"not json":  "{",
		"not obj":   "null",
		"array":     "[1]",
		"too large": `{"a":"` + strings.Repeat("x", maxAddrsFile) + `"}`,
	} {
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := ReadAddrs(p); err == nil {
			t.Errorf("%s: read", name)
		}
	}
}

func TestNewLogger(t *testing.T) {
	for _, f := range []string{"console", "json", ""} {
		if _, err := NewLogger("debug", f); err != nil {
			t.Errorf("format %q: %v", f, err)
		}
	}
	if _, err := NewLogger("loud", "json"); err == nil {
		t.Error("level loud accepted")
	}
	if _, err := NewLogger("info", "xml"); err == nil {
		t.Error("format xml accepted")
	}
}
