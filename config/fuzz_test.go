package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse: any bytes give a cluster or errors, never a panic; what Parse
// accepts also passes Validate and survives MarshalTOML and Parse again
// unchanged; what it refuses is reported as *Error values only. The seeds
// run as an ordinary test.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("testdata", "cluster.toml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(example),
		minimal,
		"",
		"[common]\nsecret = \"x\"\n[common.link]\nmax_frame = 300\n" + minimal,
		"[game]\ntick_rate = 0\n[game.1]\n[game.2]\n[dispatcher.1]\n[gate.1]\n",
		"[gate]\nkcp_listen = \":1\"\n[gate.1]\n[gate.2]\n[gate.2.kcp]\nmtu = 9000\nfec_data = 3\n[game.1]\n[dispatcher.1]\n",
		"game.1.tick_rte = 5\ndispatcher.1 = {}\ngate.1 = {kcp = {mtu = 1200, bogus = 1}}\n",
		"[[dispatcher]]\n[game.01]\n[gate.-2]\n[gate.65536]\n",
		"[common]\nsecret = \"unterminated\n",
		"[dispatcher.1]\nadvertise = \"[::1]:1\"\nlisten = \"[fe80::1%eth0]:0\"\n[game.1]\naoi_cell_size = inf\n[gate.1]\nmax_speed = nan\n",
		"a.b.c.d.e.f = 1\n[game.1.kcp.x.y]\n[gate.1]\nws_origins = [\"*\", 1, []]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			if c != nil {
				t.Fatal("a cluster and an error")
			}
			var joined interface{ Unwrap() []error }
			if !errors.As(err, &joined) {
				t.Fatalf("error is not joined: %T %v", err, err)
			}
			for _, e := range joined.Unwrap() {
				if _, ok := e.(*Error); !ok {
					t.Fatalf("error of type %T: %v", e, e)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		out, err := c.MarshalTOML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("fuzz.toml", out)
		if err != nil {
			t.Fatalf("MarshalTOML output does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip differs:\n%+v\n%+v", c, back)
		}
	})
}
