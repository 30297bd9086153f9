package snapshot

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error of ReadFile, Decode and Verify that is
// about the file's contents wraps exactly one of them (test with
// errors.Is); the wrapping *FormatError or *SchemaError says where.
var (
	// ErrEmpty: the file has no bytes at all (a write that never started).
	ErrEmpty = errors.New("snapshot: empty file")
	// ErrNotSnapshot: the file does not start with the snapshot magic.
	ErrNotSnapshot = errors.New("snapshot: not a snapshot file (bad magic)")
	// ErrTooNew: the file's format version is newer than this binary reads.
	ErrTooNew = errors.New("snapshot: format version too new")
	// ErrTruncated: the file ends before its trailer.
	ErrTruncated = errors.New("snapshot: truncated")
	// ErrCorrupt: a checksum, a length, a limit or the structure of the
	// file is wrong.
	ErrCorrupt = errors.New("snapshot: corrupt")
	// ErrSchema: the file's schema cannot be restored by this binary's
	// registry (a component field changed type, an entity type is gone).
	ErrSchema = errors.New("snapshot: schema incompatible")
)

// FormatError is a problem with the bytes of a snapshot file: Kind is one
// of ErrEmpty, ErrNotSnapshot, ErrTooNew, ErrTruncated or ErrCorrupt, or
// ErrSchema for a component value that no longer fits its type (a number
// too big for a narrowed field), located like the others.
type FormatError struct {
	Kind    error  // the sentinel
	Section string // "preamble", "header", "chunk 3", "trailer"...
	Offset  int64  // file offset where the problem was found
	// Record is the index (from 0, in file order) of the entity record
	// being decoded, or -1 outside records. Entity is its ID if known.
	Record int64
	Entity uint64
	Detail string // what exactly is wrong
	Err    error  // an underlying cause (io, zstd, cbor), if any
}

// Error says what is wrong and where.
func (e *FormatError) Error() string {
	s := fmt.Sprintf("%v: %s at offset %d", e.Kind, e.Section, e.Offset)
	if e.Record >= 0 {
		s += fmt.Sprintf(", record %d", e.Record)
		if e.Entity != 0 {
			s += fmt.Sprintf(" (entity %016x)", e.Entity)
		}
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Kind and the cause.
func (e *FormatError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// SchemaError says why the file's schema cannot be restored here.
type SchemaError struct {
	Component string // component name, or "" for an entity type problem
	Type      string // entity type name, for an entity type problem
	Path      string // field path inside the component ("stats.hp"), if any
	Old, New  string // the shapes in the file and in this binary
	Detail    string
}

// Error names the component or type, the field and both shapes.
func (e *SchemaError) Error() string {
	var s string
	switch {
	case e.Component != "":
		s = fmt.Sprintf("%v: component %q", ErrSchema, e.Component)
		if e.Path != "" {
			s += fmt.Sprintf(" field %s", e.Path)
		}
	default:
		s = fmt.Sprintf("%v: entity type %q", ErrSchema, e.Type)
	}
	if e.Old != "" || e.New != "" {
		s += fmt.Sprintf(": was %s in the file, is %s now", e.Old, e.New)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns ErrSchema.
func (e *SchemaError) Unwrap() error { return ErrSchema }
