package demo

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/config"
	"github.com/ecsworld/ecsworld/metrics"
)

// assets are the live map's page and script.
//
//go:embed assets/index.html assets/map.js
var assets embed.FS

// handler is the map server: the page, the status table and the WebSocket
// proxy to the gate.
type handler struct {
	d     *Demo
	mux   *http.ServeMux
	proxy *httputil.ReverseProxy

	// Proxied WebSockets are hijacked connections the http.Server does not
	// track: the demo waits for them itself.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newHandler(d *Demo, gateWS string) (*handler, error) {
	u, err := url.Parse(gateWS)
	if err != nil {
		return nil, fmt.Errorf("demo: gate WebSocket address %q: %w", gateWS, err)
	}
	target := &url.URL{Scheme: "http", Host: u.Host}
	h := &handler{d: d, mux: http.NewServeMux()}
	h.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path = u.Path
			// Checked as same-origin here; the gate sees a non-browser
			// client. Token and observer rules stay the gate's.
			pr.Out.Header.Del("Origin")
		},
		ErrorLog: zap.NewStdLog(d.log),
	}
	h.mux.HandleFunc("GET /{$}", h.asset("assets/index.html", "text/html; charset=utf-8"))
	h.mux.HandleFunc("GET /map.js", h.asset("assets/map.js", "text/javascript; charset=utf-8"))
	h.mux.HandleFunc("GET /api/status", h.status)
	h.mux.HandleFunc("GET /ws", h.ws)
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *handler) asset(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile(name)
		if err != nil {
			http.Error(w, "missing asset", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	}
}

// authorized checks the observer token of a request's query.
func (h *handler) authorized(r *http.Request) bool {
	t := r.URL.Query().Get("token")
	return subtle.ConstantTimeCompare([]byte(t), []byte(h.d.token)) == 1
}

// ws proxies a same-origin WebSocket upgrade to the gate.
func (h *handler) ws(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "WebSocket upgrade expected", http.StatusBadRequest)
		return
	}
	if o := r.Header.Get("Origin"); o != "" {
		ou, err := url.Parse(o)
		if err != nil || !strings.EqualFold(ou.Host, r.Host) {
			http.Error(w, "cross-origin WebSocket refused", http.StatusForbidden)
			return
		}
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "demo stopping", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	h.proxy.ServeHTTP(w, r)
}

// wait refuses new WebSockets and waits for the proxied ones to end (they
// end when the gate closes them).
func (h *handler) wait() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.wg.Wait()
}

// Row is one process of the status table, as `ecsworld status` shows it.
type Row struct {
	Process  string `json:"process"`
	PID      int    `json:"pid"`
	State    string `json:"state"`
	Uptime   string `json:"uptime"`
	Entities string `json:"entities"`
	Clients  string `json:"clients"`
	TickP99  string `json:"tick_p99"`
}

// Status is the status table of the demo's processes, read from their
// metrics registries. Every process runs in this one program, so they
// share its pid.
func (d *Demo) Status() []Row {
	state := "running"
	select {
	case <-d.Cluster.Done():
		state = "stopped"
	default:
	}
	up := time.Since(d.started).Truncate(time.Second).String()
	var rows []Row
	add := func(p config.Process) {
		rw := Row{Process: p.Name(), PID: os.Getpid(), State: state, Uptime: up, Entities: "-", Clients: "-", TickP99: "-"}
		reg := d.Cluster.Registries[p.Name()]
		if reg == nil {
			rows = append(rows, rw)
			return
		}
		fams, err := gather(reg)
		if err != nil {
			rw.State = "metrics: " + err.Error()
			rows = append(rows, rw)
			return
		}
		num := func(name string) string {
			v, ok := fams.Sum(name)
			if !ok {
				return "?"
			}
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		switch p.Role {
		case config.RoleGame:
			rw.Entities, rw.Clients = num("ecsworld_entities"), num("ecsworld_clients")
			if v, ok := fams.Sum("ecsworld_tick_p99_seconds"); ok {
				rw.TickP99 = time.Duration(v * float64(time.Second)).Round(time.Microsecond).String()
			}
		case config.RoleGate:
			rw.Clients = num("ecsworld_clients")
		case config.RoleDispatcher:
			rw.Entities = num("ecsworld_routes")
		}
		rows = append(rows, rw)
	}
	cl := d.Cluster.Config
	for _, p := range cl.Dispatchers {
		add(p.Process)
	}
	for _, p := range cl.Games {
		add(p.Process)
	}
	for _, p := range cl.Gates {
		add(p.Process)
	}
	return rows
}

// gather reads a registry as the scraped families `ecsworld status` uses.
func gather(reg *metrics.Registry) (metrics.Families, error) {
	mfs, err := reg.Gatherer().Gather()
	if err != nil && len(mfs) == 0 {
		return nil, err
	}
	f := make(metrics.Families, len(mfs))
	for _, m := range mfs {
		f[m.GetName()] = m
	}
	return f, nil
}

// status serves the status table as JSON.
func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		http.Error(w, "wrong or missing token", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(struct {
		Rows []Row `json:"rows"`
		Bots int   `json:"bots"`
	}{h.d.Status(), h.d.BotsIn()}); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		h.d.log.Debug("status not sent", zap.Error(err))
	}
}
