package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Bounds of the values; docs/config.md states them too.
const (
	maxSecret          = 4096
	minFrame           = 256 // the handshake and a compression header must fit
	maxLinkFrame       = 256 << 20
	maxClientFrame     = 16 << 20
	maxTickRate        = 1000
	maxMsgsPerSecond   = 1000000
	maxEntityName      = 256
	minKCPInterval     = 10 * time.Millisecond // KCP clamps to 10..5000 ms
	maxKCPInterval     = 5 * time.Second
	minKCPMTU          = 50 // KCP refuses smaller
	maxKCPMTU          = 1500
	maxKCPWindow       = 65535 // the window field of a KCP segment is 16 bits
	maxKCPResend       = 1000
	maxFECShards       = 256 // Reed-Solomon over GF(2^8)
	minSocketBuffer    = 4 << 10
	maxSocketBuffer    = 1 << 30
	maxDefaultGateID   = (65535-defGateBase-3)/3 + 1
	maxDefaultDispatch = 65535 - defDispatcherBase
)

var (
	logLevels    = []string{"debug", "info", "warn", "error"}
	logFormats   = []string{"console", "json"}
	compressions = []string{"none", "s2", "zstd"}
)

// Validate checks a cluster built or changed in code (Default, Ephemeral,
// or one whose fields were set) with the rules Parse applies to files. The
// error joins one *Error per problem, keyed like "game.1.tick_rate".
func (c *Cluster) Validate() error {
	errs := c.check(func(sec, opt string) (string, int, bool) {
		if opt == "" {
			return sec, 0, false
		}
		return sec + "." + opt, 0, false
	})
	seen := map[string]bool{}
	var out []*Error
	for _, e := range errs {
		e.File = c.Path
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil
	}
	sortErrors(out)
	joined := make([]error, len(out))
	for i, e := range out {
		joined[i] = e
	}
	return errors.Join(joined...)
}

// locator says which key (and line) to blame for option opt of section
// sec ("common", "game", "game.2"; opt "" for the section itself): in a
// file, the key that set the value, which may be an inherited one. written
// says whether the file set it (rather than the default).
type locator func(sec, opt string) (key string, line int, written bool)

type checker struct {
	loc  locator
	errs []*Error
}

func (k *checker) failf(sec, opt, format string, args ...any) {
	key, line, _ := k.loc(sec, opt)
	k.errs = append(k.errs, &Error{Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// failPair reports a rule between options a and b at a (with msgA), unless
// the file set only b: then at b (with msgB), the line to change.
func (k *checker) failPair(sec, a, msgA, b, msgB string) {
	if _, _, wa := k.loc(sec, a); !wa {
		if _, _, wb := k.loc(sec, b); wb {
			k.failf(sec, b, "%s", msgB)
			return
		}
	}
	k.failf(sec, a, "%s", msgA)
}

// rules applies the rule of every spec to the values of p.
func rules[P any](k *checker, sec string, specs []spec[P], p *P) {
	for _, s := range specs {
		if msg := s.check(s.get(p)); msg != "" {
			k.failf(sec, s.name, "%s", msg)
		}
	}
}

// check runs every rule and returns the errors, each located by loc.
func (c *Cluster) check(loc locator) []*Error {
	k := &checker{loc: loc}
	rules(k, "common", commonSpecs, &c.Common)
	l := c.Common.Link
	if l.HeartbeatInterval > 0 && l.IdleTimeout <= l.HeartbeatInterval {
		k.failPair("common",
			"link.idle_timeout", fmt.Sprintf("must be longer than link.heartbeat_interval (%s), got %s", l.HeartbeatInterval, l.IdleTimeout),
			"link.heartbeat_interval", fmt.Sprintf("must be shorter than link.idle_timeout (%s), got %s", l.IdleTimeout, l.HeartbeatInterval))
	}
	if l.CompressThreshold > l.MaxFrame && l.MaxFrame >= minFrame && l.MaxFrame <= maxLinkFrame {
		k.failPair("common",
			"link.compress_threshold", fmt.Sprintf("must be at most link.max_frame (%d), got %d", l.MaxFrame, l.CompressThreshold),
			"link.max_frame", fmt.Sprintf("must be at least link.compress_threshold (%d), got %d", l.CompressThreshold, l.MaxFrame))
	}

	kinds := []struct {
		role  string
		procs []*Process
	}{
		{RoleDispatcher, procs(c.Dispatchers, func(d *Dispatcher) *Process { return &d.Process })},
		{RoleGame, procs(c.Games, func(g *Game) *Process { return &g.Process })},
		{RoleGate, procs(c.Gates, func(g *Gate) *Process { return &g.Process })},
	}
	for _, kind := range kinds {
		if len(kind.procs) == 0 {
			k.failf(kind.role, "", "no %s: a cluster needs at least one [%s.N] section", kind.role, kind.role)
		}
		seen := map[uint16]bool{}
		for _, p := range kind.procs {
			sec := kind.role + "." + strconv.Itoa(int(p.ID))
			if seen[p.ID] {
				k.failf(sec, "", "duplicate id: two %s processes have id %d", kind.role, p.ID)
			}
			seen[p.ID] = true
			k.process(c.Common, sec, kind.role, p)
		}
	}
	for i := range c.Dispatchers {
		d := &c.Dispatchers[i]
		rules(k, d.Name(), dispatcherSpecs, d)
		k.dispatcher(d)
	}
	for i := range c.Games {
		rules(k, c.Games[i].Name(), gameSpecs, &c.Games[i])
	}
	for i := range c.Gates {
		g := &c.Gates[i]
		rules(k, g.Name(), gateSpecs, g)
		k.gate(g)
	}
	k.listeners(c)
	return k.errs
}

func procs[P any](ps []P, get func(*P) *Process) []*Process {
	out := make([]*Process, len(ps))
	for i := range ps {
		out[i] = get(&ps[i])
	}
	return out
}

// process checks what every process has beyond its options' own rules.
func (k *checker) process(c Common, sec, role string, p *Process) {
	if p.ID == 0 {
		k.failf(sec, "", "id must be between 1 and 65535, got 0")
	}
	if p.Role != role {
		k.failf(sec, "", "role is %q, want %q", p.Role, role)
	}
	if p.Secret != c.Secret {
		k.failf(sec, "secret", "differs from common.secret: every process must share the cluster secret")
	}
	if p.Link != c.Link {
		k.failf(sec, "link", "differs from common.link: both ends of an internal link use the same settings")
	}
	if p.Pprof && p.Metrics == "" {
		k.failf(sec, "pprof", "pprof is served on the metrics address, and %s has none", sec)
	}
}

func (k *checker) dispatcher(d *Dispatcher) {
	if d.Listen == "" {
		hint := ""
		if int(d.ID) > maxDefaultDispatch {
			hint = fmt.Sprintf(" (ids above %d have no default port)", maxDefaultDispatch)
		}
		k.failf(d.Name(), "listen", "must be set%s", hint)
	}
}

func (k *checker) gate(g *Gate) {
	sec := g.Name()
	if g.KCPListen == "" && g.TCPListen == "" && g.WSListen == "" {
		hint := ""
		if int(g.ID) > maxDefaultGateID {
			hint = fmt.Sprintf(" (ids above %d have no default ports)", maxDefaultGateID)
		}
		k.failf(sec, "", "no client listener: set at least one of kcp_listen, tcp_listen, ws_listen%s", hint)
	}
	if g.CompressThreshold > g.MaxFrame && g.MaxFrame >= minFrame && g.MaxFrame <= maxClientFrame {
		k.failPair(sec,
			"compress_threshold", fmt.Sprintf("must be at most max_frame (%d), got %d", g.MaxFrame, g.CompressThreshold),
			"max_frame", fmt.Sprintf("must be at least compress_threshold (%d), got %d", g.CompressThreshold, g.MaxFrame))
	}
	if g.HeartbeatInterval > 0 && g.IdleTimeout <= g.HeartbeatInterval {
		k.failPair(sec,
			"idle_timeout", fmt.Sprintf("must be longer than heartbeat_interval (%s), got %s", g.HeartbeatInterval, g.IdleTimeout),
			"heartbeat_interval", fmt.Sprintf("must be shorter than idle_timeout (%s), got %s", g.IdleTimeout, g.HeartbeatInterval))
	}
	kc := g.KCP
	switch {
	case kc.FECData < 0 || kc.FECParity < 0:
	case (kc.FECData == 0) != (kc.FECParity == 0):
		msg := fmt.Sprintf("fec_data and fec_parity must both be 0 (no FEC) or both positive, got %d and %d", kc.FECData, kc.FECParity)
		k.failPair(sec, "kcp.fec_parity", msg, "kcp.fec_data", msg)
	case kc.FECData+kc.FECParity > maxFECShards:
		msg := fmt.Sprintf("fec_data + fec_parity must be at most %d, got %d", maxFECShards, kc.FECData+kc.FECParity)
		k.failPair(sec, "kcp.fec_parity", msg, "kcp.fec_data", msg)
	}
}

// The rules of single options. Each returns "" for a good value, else
// what is wrong with it.

func oneOf(allowed []string) func(string) string {
	return func(v string) string {
		if slices.Contains(allowed, v) {
			return ""
		}
		return fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

func between(lo, hi int) func(int) string {
	return func(v int) string {
		if v >= lo && v <= hi {
			return ""
		}
		return fmt.Sprintf("must be between %d and %d, got %d", lo, hi, v)
	}
}

func maxLen(n int) func(string) string {
	return func(v string) string {
		if len(v) <= n {
			return ""
		}
		return fmt.Sprintf("must be at most %d bytes, got %d", n, len(v))
	}
}

func positive(d time.Duration) string {
	if d > 0 {
		return ""
	}
	return fmt.Sprintf("must be positive, got %s", d)
}

// optionalAddr: "" (off, or not set) or a valid host:port.
func optionalAddr(v string) string {
	if v == "" {
		return ""
	}
	if _, _, err := splitAddr(v); err != nil {
		return err.Error()
	}
	return ""
}

// dialAddr: "" or an address another machine can dial: a host and a port.
func dialAddr(v string) string {
	if v == "" {
		return ""
	}
	host, port, err := splitAddr(v)
	if err != nil {
		return err.Error()
	}
	if port == 0 || unspecified(host) {
		return fmt.Sprintf("must be an address the other processes can dial (a host and a port), got %q", v)
	}
	return ""
}

func entityName(v string) string {
	if v == "" || len(v) > maxEntityName ||
		strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return fmt.Sprintf("must be an entity type name (1 to %d printable characters, no spaces), got %q", maxEntityName, v)
	}
	return ""
}

func cellSize(v float64) string {
	if v >= 0 && !math.IsInf(v, 0) {
		return ""
	}
	return fmt.Sprintf("must be 0 (derived from the AOI radius) or a positive size, got %g", v)
}

func speed(v float64) string {
	if v > 0 && !math.IsInf(v, 0) {
		return ""
	}
	return fmt.Sprintf("must be a positive speed, got %g", v)
}

func dirPath(v string) string {
	if v == "" || strings.ContainsRune(v, 0) {
		return fmt.Sprintf("must be a directory path, got %q", v)
	}
	return ""
}

func originPatterns(v []string) string {
	for i, o := range v {
		if _, err := path.Match(o, ""); o == "" || err != nil {
			return fmt.Sprintf("element %d: want a host pattern such as \"example.com\" or \"*.example.com\", got %q", i, o)
		}
	}
	return ""
}

func kcpInterval(d time.Duration) string {
	if d >= minKCPInterval && d <= maxKCPInterval && d%time.Millisecond == 0 {
		return ""
	}
	return fmt.Sprintf("must be whole milliseconds between %s and %s, got %s", minKCPInterval, maxKCPInterval, d)
}

func aesKey(b []byte) string {
	switch len(b) {
	case 0, 16, 24, 32:
		return ""
	}
	return fmt.Sprintf("must be 32, 48 or 64 hex digits (a 16-, 24- or 32-byte AES key), got %d", 2*len(b))
}

// listener is one address some process listens on.
type listener struct {
	network, addr, sec, opt string
}

// listeners reports two listeners on the same address and protocol (KCP
// is UDP, so it may share a port number with a TCP listener). Port 0 never
// collides: the OS picks a free port. The file cannot tell machines
// apart, so the same host and port is a collision even where the processes
// are meant for different machines: give them their own IPs.
func (k *checker) listeners(c *Cluster) {
	var ls []listener
	for _, d := range c.Dispatchers {
		ls = append(ls, listener{"tcp", d.Listen, d.Name(), "listen"}, listener{"tcp", d.Metrics, d.Name(), "metrics"})
	}
	for _, g := range c.Games {
		ls = append(ls, listener{"tcp", g.Metrics, g.Name(), "metrics"})
	}
	for _, g := range c.Gates {
		ls = append(ls,
			listener{"udp", g.KCPListen, g.Name(), "kcp_listen"},
			listener{"tcp", g.TCPListen, g.Name(), "tcp_listen"},
			listener{"tcp", g.WSListen, g.Name(), "ws_listen"},
			listener{"tcp", g.Metrics, g.Name(), "metrics"})
	}
	first := map[string]listener{}
	for _, l := range ls {
		host, port, err := splitAddr(l.addr)
		if l.addr == "" || err != nil || port == 0 {
			continue
		}
		id := l.network + " " + net.JoinHostPort(normHost(host), strconv.Itoa(port))
		if f, dup := first[id]; dup {
			k.failf(l.sec, l.opt, "%s is also the %s of %s: set a different address for each process", l.addr, f.opt, f.sec)
			continue
		}
		first[id] = l
	}

	// Two dispatchers that other processes dial at the same address would
	// be one dispatcher to them.
	dial := map[string]string{}
	for _, d := range c.Dispatchers {
		if d.Advertise == "" {
			continue
		}
		host, port, err := splitAddr(d.Advertise)
		if err != nil || port == 0 {
			continue
		}
		id := net.JoinHostPort(normHost(host), strconv.Itoa(port))
		if f, dup := dial[id]; dup {
			k.failf(d.Name(), "advertise", "%s is also the address of %s", d.Advertise, f)
			continue
		}
		dial[id] = d.Name()
	}
}

// splitAddr checks and splits a host:port address. The host may be empty
// (every interface), an IP or a DNS name; the port is a number, 0 meaning
// one the OS picks.
func splitAddr(s string) (string, int, error) {
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("want an address host:port such as \"127.0.0.1:13001\", got %q", s)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || ps == "" || strings.Trim(ps, "0123456789") != "" || port > 65535 {
		return "", 0, fmt.Errorf("port must be a number between 0 and 65535, got %q in %q", ps, s)
	}
	if !validHost(host) {
		return "", 0, fmt.Errorf("bad host %q in %q: want an IP address or a DNS name", host, s)
	}
	return host, port, nil
}

func validHost(h string) bool {
	if h == "" {
		return true
	}
	ip, _, _ := strings.Cut(h, "%") // an IPv6 zone: fe80::1%eth0
	if net.ParseIP(ip) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// unspecified: a host that means every interface, not one to dial.
func unspecified(h string) bool {
	if h == "" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsUnspecified()
}

// normHost makes equal hosts compare equal: every form of "all
// interfaces" is one, IPs in canonical form, names in lower case.
func normHost(h string) string {
	if unspecified(h) {
		return "*"
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return strings.ToLower(h)
}

// Warnings lists settings that run but are risky in production, for a
// command to log at startup.
func (c *Cluster) Warnings() []string {
	var w []string
	if c.Common.Secret == "" {
		w = append(w, "common.secret is empty: any process that can reach a dispatcher can join the cluster")
	}
	var all []Process
	for _, d := range c.Dispatchers {
		all = append(all, d.Process)
	}
	for _, g := range c.Games {
		all = append(all, g.Process)
	}
	for _, g := range c.Gates {
		all = append(all, g.Process)
		if slices.Contains(g.WSOrigins, "*") {
			w = append(w, g.Name()+`.ws_origins has "*": web pages of any site can open WebSockets to this gate`)
		}
	}
	for _, p := range all {
		if !p.Pprof {
			continue
		}
		if host, _, err := splitAddr(p.Metrics); err == nil && !loopback(host) {
			w = append(w, p.Name()+".pprof is on and its metrics address "+p.Metrics+" is not loopback: profiles are open to the network")
		}
	}
	return w
}

func loopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
