package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/ecsworld/ecsworld/examples/test_game/arena"
)

// requireBrowserEnv, set to 1 (as .ci/run does), makes a missing Chromium
// a failure instead of a skip, so CI cannot skip the browser test silently.
const requireBrowserEnv = "ECSWORLD_REQUIRE_BROWSER"

// chromiumPath finds Debian's chromium (ECSWORLD_CHROMIUM overrides).
func chromiumPath() string {
	if p := os.Getenv("ECSWORLD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestLiveMapInBrowser starts the demo of the example game with a few
// bots, loads the live map in headless Chromium, waits until the page has
// drawn the arena's monsters and avatars as dots and its status table,
// hovers a dot for its AOI radius, and checks a screenshot of it is not
// blank. The screenshot is kept in the test's artifact directory
// (go test -artifacts).
func TestLiveMapInBrowser(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		msg := "no Chromium: install it (as root: apt-get install -y --no-install-recommends chromium) or set ECSWORLD_CHROMIUM to a Chromium binary"
		if os.Getenv(requireBrowserEnv) == "1" {
			t.Fatalf("%s; %s=1 requires the browser test", msg, requireBrowserEnv)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const bots = 10
	d, err := Start(ctx, Options{Game: arena.Setup, Bots: bots})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()

	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 800),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	if err := chromedp.Do(bctx, chromedp.Navigate(d.MapURL)); err != nil {
		t.Fatalf("load %s: %v", d.MapURL, err)
	}
	waitFor(t, "the bots to log in", func() bool { return d.BotsIn() == bots })
	// The monsters and every avatar drawn in one frame, and the status
	// rows in.
	ready := fmt.Sprintf(`window.ecsworldMap && window.ecsworldMap.lastDots >= %d && window.ecsworldMap.statusRows >= 3`, arena.DefaultMonsters+bots)
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](ready,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		state, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`JSON.stringify(window.ecsworldMap)`))
		t.Fatalf("the map never drew the dots: %v (page state %s)", err, state)
	}
	// Hovering a dot shows its AOI radius (a ring and a tooltip).
	at, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`window.ecsworldMap.firstDot`))
	if err != nil || len(at) != 2 {
		t.Fatalf("no dot position: %v %v", at, err)
	}
	canvas, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`(r => [r.left, r.top])(document.getElementById("canvas").getBoundingClientRect())`))
	if err != nil || len(canvas) != 2 {
		t.Fatalf("no canvas position: %v %v", canvas, err)
	}
	if err := chromedp.Do(bctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, canvas[0]+at[0], canvas[1]+at[1])); err != nil {
		t.Fatal(err)
	}
	hoverTip := `window.ecsworldMap.hovered !== "" && /AOI radius (10|30)$/.test(document.getElementById("tip").textContent)`
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](hoverTip,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		tip, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("tip").textContent`))
		t.Errorf("hovering a dot did not show its AOI radius: %v (tooltip %q)", err, tip)
	}
	shot, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), "livemap.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is no PNG: %v", err)
	}
	if n, colours := content(img); n < 500 || colours < 4 {
		t.Errorf("screenshot looks blank: %d pixels differ from the background, %d colours", n, colours)
	}
}

// content counts the pixels that differ from the image's top-left corner
// (the page background) and the distinct colours of the image.
func content(img image.Image) (int, int) {
	b := img.Bounds()
	bg := img.At(b.Min.X, b.Min.Y)
	br, bgG, bb, _ := bg.RGBA()
	colours := map[[3]uint32]bool{}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if len(colours) < 1000 {
				colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			}
			if r != br || g != bgG || bl != bb {
				n++
			}
		}
	}
	return n, len(colours)
}
