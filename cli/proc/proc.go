// Package proc is the program side of `ecsworld start`: what every process
// program of a cluster (cmd/dispatcher, cmd/gate and each game binary)
// shares with the launcher.
//
// The launcher runs each program as
//
//	PROGRAM -config CLUSTER.toml -id N -addrs FILE
//
// with its standard output and error in a log file. A program is ready
// when FILE exists: it writes it once (WriteAddrs: complete or not at
// all) as a JSON object of the addresses it bound, by kind ("tcp", "kcp",
// "ws", and "metrics" when it serves metrics), after it can do its job: a
// dispatcher once it listens, a game once it is linked to every
// dispatcher, a gate once it listens. It stops gracefully on SIGTERM or
// SIGINT and exits 0.
//
// A game binary's whole main, following that contract, is in package
// gameproc: it links the engine, which the dispatcher and gate programs
// must not.
package proc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Keys of the addresses file.
const (
	AddrTCP     = "tcp"
	AddrKCP     = "kcp"
	AddrWS      = "ws"
	AddrMetrics = "metrics"
)

// maxAddrsFile bounds what ReadAddrs reads.
const maxAddrsFile = 64 << 10

// WriteAddrs writes addrs to path atomically: a temporary file renamed into
// place, so a launcher polling for it never reads half of it. Empty
// addresses are left out.
func WriteAddrs(path string, addrs map[string]string) error {
	m := make(map[string]string, len(addrs))
	for k, v := range addrs {
		if v != "" {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("write addresses: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write addresses: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write addresses: %w", err)
	}
	return nil
}

// ReadAddrs reads an addresses file. A missing file is an error satisfying
// errors.Is(err, fs.ErrNotExist): the process is not ready yet.
func ReadAddrs(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAddrsFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxAddrsFile {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxAddrsFile)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if m == nil {
		return nil, errors.New("read " + path + ": not a JSON object")
	}
	return m, nil
}

// NewLogger builds a process logger from its config: console (human
// readable, for development) or json (production, sampled).
func NewLogger(level, format string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	var zc zap.Config
	switch format {
	case "json":
		zc = zap.NewProductionConfig()
	case "console", "":
		zc = zap.NewDevelopmentConfig()
		zc.Development = false // no panics on DPanic in a server
		zc.Sampling = &zap.SamplingConfig{Initial: 100, Thereafter: 100}
	default:
		return nil, fmt.Errorf("log format %q: console or json", format)
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	return zc.Build()
}
