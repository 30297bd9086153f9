package arena

import "testing"

// The schema registers (the game refuses a bad one at New): every type the
// docs name, with one method per permission kind.
func TestSetupSchema(t *testing.T) {
	st := New(Options{}).Setup()
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
