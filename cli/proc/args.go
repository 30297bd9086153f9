package proc

import (
	"errors"
	"flag"
	"fmt"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/config"
)

// Process is what a process program knows once its flags are parsed: the
// cluster, which process of it this is, where to write its addresses and
// its logger.
type Process struct {
	// Path is the cluster file, Cluster what it holds.
	Path    string
	Cluster *config.Cluster
	// ID is this process's id among those of its role.
	ID uint16
	// AddrsFile is where to write the bound addresses ("" for nowhere).
	AddrsFile string
	// Log is built from the process's log_level and log_format.
	Log *zap.Logger
}

// Parse parses the flags every process program takes (-config, -id,
// -addrs) with the caller's own already defined on fs (nil: none), loads the
// cluster file, checks that it has a section for this role and id, and
// builds the logger; the cluster file's warnings go to it. role is one of
// config.RoleDispatcher, RoleGame, RoleGate.
func Parse(fs *flag.FlagSet, role string, args []string) (*Process, error) {
	if fs == nil {
		fs = flag.NewFlagSet(role, flag.ContinueOnError)
	}
	path := fs.String("config", "cluster.toml", "cluster file")
	id := fs.Uint("id", 1, "this process's id (its ["+role+".N] section)")
	addrs := fs.String("addrs", "", "once ready, write the bound addresses to this file as JSON")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *id < 1 || *id > 65535 {
		return nil, fmt.Errorf("-id %d: must be 1..65535", *id)
	}
	cl, err := config.Load(*path)
	if err != nil {
		return nil, err
	}
	var p *config.Process
	switch role {
	case config.RoleDispatcher:
		if c := cl.Dispatcher(uint16(*id)); c != nil {
			p = &c.Process
		}
	case config.RoleGame:
		if c := cl.Game(uint16(*id)); c != nil {
			p = &c.Process
		}
	case config.RoleGate:
		if c := cl.Gate(uint16(*id)); c != nil {
			p = &c.Process
		}
	default:
		return nil, errors.New("proc: unknown role " + role)
	}
	if p == nil {
		return nil, fmt.Errorf("%s has no [%s.%d]: add the section or pick another -id", *path, role, *id)
	}
	log, err := NewLogger(p.LogLevel, p.LogFormat)
	if err != nil {
		return nil, err
	}
	for _, w := range cl.Warnings() {
		log.Warn(w)
	}
	return &Process{Path: *path, Cluster: cl, ID: uint16(*id), AddrsFile: *addrs, Log: log}, nil
}
