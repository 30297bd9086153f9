package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/zap"
)

// shutdownGrace bounds how long a stopping server waits for scrapes in
// flight (a CPU profile may run for its whole duration otherwise).
const shutdownGrace = 2 * time.Second

// Server is a running metrics endpoint: /metrics, and /debug/pprof/ when
// pprof is on.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	err  error
}

// Serve listens on addr ("host:port", port 0 for any free port) and serves
// the registry until ctx ends. It returns once it listens, so Addr is the
// bound address; the server stops with ctx (Wait tells when it has).
func (r *Registry) Serve(ctx context.Context, addr string, withPprof bool, log *zap.Logger) (*Server, error) {
	if addr == "" {
		return nil, errors.New("metrics: no address to listen on")
	}
	if log == nil {
		log = zap.NewNop()
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", r.Handler())
	if withPprof {
		// Registered on our own mux: net/http/pprof's init only touches
		// http.DefaultServeMux, which nothing here serves.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	s := &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          zap.NewStdLog(log.Named("metrics")),
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = fmt.Errorf("metrics: serve: %w", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
		case <-s.done:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil {
			s.srv.Close()
		}
	}()
	log.Info("metrics serving", zap.String("addr", s.Addr()), zap.Bool("pprof", withPprof))
	return s, nil
}

// Addr is the bound address, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the address of the /metrics page.
func (s *Server) URL() string { return "http://" + s.Addr() + "/metrics" }

// Wait blocks until the server has stopped (its context ended) and
// returns what made it stop other than that.
func (s *Server) Wait() error {
	<-s.done
	return s.err
}

// Done is closed once the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }
