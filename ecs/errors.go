package ecs

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them (test
// with errors.Is) and add what was wrong.
var (
	// ErrNoEntity: the entity does not exist in this world or is destroyed.
	ErrNoEntity = errors.New("ecs: no such entity")
	// ErrEntityExists: Create was given an ID that is already in use.
	ErrEntityExists = errors.New("ecs: entity already exists")
	// ErrBadID: an EntityID or ClientID is malformed or invalid here.
	ErrBadID = errors.New("ecs: bad id")
	// ErrNoIDGen: an ID was needed but the world has no IDGen.
	ErrNoIDGen = errors.New("ecs: world has no IDGen")
	// ErrNoType: no entity type of that name is registered.
	ErrNoType = errors.New("ecs: no such entity type")
	// ErrNoComponent: no component of that name or Go type.
	ErrNoComponent = errors.New("ecs: no such component")
	// ErrComponentValue: a value given for a component is not of its Go
	// type (or matches several components of an entity type).
	ErrComponentValue = errors.New("ecs: value does not match component type")
	// ErrDuplicate: a name is already registered (or declared) differently.
	ErrDuplicate = errors.New("ecs: duplicate")
	// ErrFrozen: the registry already backs a world and cannot change.
	ErrFrozen = errors.New("ecs: registry is frozen")
	// ErrBadType: an entity type declaration is invalid.
	ErrBadType = errors.New("ecs: invalid entity type")
	// ErrWrongWorld: two entities of different worlds were combined.
	ErrWrongWorld = errors.New("ecs: entity belongs to another world")

	// ErrNoMethod: the entity's type has no method of that name.
	ErrNoMethod = errors.New("ecs: no such method")
	// ErrDenied: the caller may not call that method on that entity.
	ErrDenied = errors.New("ecs: permission denied")
	// ErrBadArgs: method arguments are malformed, of the wrong arity or of
	// the wrong types. Returned as an *ArgError.
	ErrBadArgs = errors.New("ecs: bad method arguments")
	// ErrMethodPanic: a method body panicked; returned as a *PanicError.
	ErrMethodPanic = errors.New("ecs: method panicked")
	// ErrHookPanic: a hook panicked; reported to WorldOptions.OnError as a
	// *PanicError.
	ErrHookPanic = errors.New("ecs: hook panicked")

	// ErrNotSpace: the target of EnterSpace is not a space.
	ErrNotSpace = errors.New("ecs: not a space")
	// ErrSpaceInSpace: a space cannot enter a space.
	ErrSpaceInSpace = errors.New("ecs: a space cannot enter a space")
	// ErrInterrupted: a hook run by EnterSpace destroyed the entity or moved
	// it elsewhere, so the rest of the operation was not done.
	ErrInterrupted = errors.New("ecs: interrupted by a hook")

	// ErrAttrType: an attribute value of an unsupported Go type.
	ErrAttrType = errors.New("ecs: unsupported attribute value")
	// ErrAttrDepth: the value would nest deeper than MaxAttrDepth.
	ErrAttrDepth = errors.New("ecs: attribute nesting too deep")
	// ErrAttrAttached: the container already has a parent (or is an
	// entity's root, or would contain itself); Clone it first.
	ErrAttrAttached = errors.New("ecs: attribute container already attached")
	// ErrAttrIndex: a list index out of range.
	ErrAttrIndex = errors.New("ecs: attribute list index out of range")
	// ErrAttrNil: a mutation on a nil *MapAttr or *ListAttr (for example
	// the result of Map(key) on a key holding another kind of value).
	ErrAttrNil = errors.New("ecs: nil attribute container")
)

// ArgError is returned by Method.Invoke when the arguments cannot be
// decoded. errors.Is(err, ErrBadArgs) holds; Unwrap also yields the
// underlying cause (often a cbor error).
type ArgError struct {
	Method string // method name
	Index  int    // argument index, or -1 for the argument array itself
	Err    error  // cause
}

// Error describes the method, the argument and the cause.
func (e *ArgError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("ecs: method %s: bad arguments: %v", e.Method, e.Err)
	}
	return fmt.Sprintf("ecs: method %s: bad argument %d: %v", e.Method, e.Index, e.Err)
}

// Unwrap returns ErrBadArgs and the cause.
func (e *ArgError) Unwrap() []error { return []error{ErrBadArgs, e.Err} }

// PanicError is a recovered panic of user code: a method body (wrapping
// ErrMethodPanic) or a hook (wrapping ErrHookPanic). The stack is kept so
// the process can log where it happened.
type PanicError struct {
	Kind   error    // ErrMethodPanic or ErrHookPanic
	Where  string   // "type.method" or "type.OnHook"
	Entity EntityID // the entity it ran on
	Value  any      // the value passed to panic
	Stack  []byte   // debug.Stack() at the recovery point
}

// Error describes where the panic happened and its value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("%v: %s on %s: %v", e.Kind, e.Where, e.Entity, e.Value)
}

// Unwrap returns Kind, so errors.Is(err, ErrMethodPanic) works; if the
// panic value was an error it is returned too.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{e.Kind, err}
	}
	return []error{e.Kind}
}
