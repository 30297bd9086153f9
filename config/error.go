package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem of a cluster file (or of a Cluster built in code).
// Parse and Validate return them joined with errors.Join; errors.As finds
// the first.
type Error struct {
	// File is the file's name, "" for a Cluster built in code.
	File string
	// Line is the line of Key in the file, 0 when unknown.
	Line int
	// Key is the dotted key at fault, such as "game.1.tick_rate" (for an
	// inherited value, the key where the file set it: "game.tick_rate");
	// "" when there is none, as for a TOML syntax error.
	Key string
	// Msg says what is wrong.
	Msg string
}

// Error formats the error as file:line: key: message, leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// sortErrors puts errors in file order; those without a line go last,
// by key.
func sortErrors(errs []*Error) {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Msg, b.Msg))
	})
}
