package config

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MarshalTOML writes the cluster as a cluster file in which every process
// section spells out every option, so nothing depends on inheritance or
// defaults: Parse gives back an equal cluster. Uses: printing the options
// a process really runs with, and handing an Ephemeral cluster (after its
// dispatchers' Advertise were filled in) to processes started as separate
// programs. It implements toml.Marshaler.
func (c *Cluster) MarshalTOML() ([]byte, error) {
	var b strings.Builder
	b.WriteString("# Written by config.Cluster.MarshalTOML: every option of every process.\n")
	err := writeSection(&b, "common", commonSpecs, &c.Common)
	for i := range c.Dispatchers {
		err = cmp.Or(err, writeSection(&b, c.Dispatchers[i].Name(), dispatcherSpecs, &c.Dispatchers[i]))
	}
	for i := range c.Games {
		err = cmp.Or(err, writeSection(&b, c.Games[i].Name(), gameSpecs, &c.Games[i]))
	}
	for i := range c.Gates {
		err = cmp.Or(err, writeSection(&b, c.Gates[i].Name(), gateSpecs, &c.Gates[i]))
	}
	if err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// writeSection writes [name] with the options of specs, then one
// [name.sub] table per subtable, in spec order.
func writeSection[P any](b *strings.Builder, name string, specs []spec[P], p *P) error {
	cur := ""
	fmt.Fprintf(b, "\n[%s]\n", name)
	for _, s := range specs {
		sub, key, found := strings.Cut(s.name, ".")
		if !found {
			sub, key = "", s.name
		}
		if sub != cur {
			if sub == "" {
				return fmt.Errorf("config: option %s follows a subtable", s.name)
			}
			fmt.Fprintf(b, "\n[%s.%s]\n", name, sub)
			cur = sub
		}
		v, err := tomlValue(s.get(p))
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "%s = %s\n", key, v)
	}
	return nil
}

// tomlValue writes one Go value of an option as TOML.
func tomlValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return tomlString(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return "nan", nil
		case math.IsInf(x, 1):
			return "inf", nil
		case math.IsInf(x, -1):
			return "-inf", nil
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s, nil
	case time.Duration:
		return tomlString(x.String()), nil
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = tomlString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case []byte:
		return tomlString(hex.EncodeToString(x)), nil
	}
	return "", fmt.Errorf("config: no TOML form for %T", v)
}

// tomlString quotes s as a TOML basic string. (Go's quoting is close but
// not the same: TOML has no \x or \a escapes.)
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r) // invalid UTF-8 becomes U+FFFD
		}
	}
	b.WriteByte('"')
	return b.String()
}
