package ecs

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/fxamacker/cbor/v2"
)

// Permission says who may call a method.
type Permission uint8

const (
	// ServerOnly methods are called by game code, timers and other
	// entities, never by clients.
	ServerOnly Permission = iota
	// OwnClient methods may also be called by the client bound to the
	// entity (the player on their own avatar).
	OwnClient
	// AnyClient methods may be called by any client (a door anyone can open).
	AnyClient
)

// String returns the permission as in "own-client".
func (p Permission) String() string {
	switch p {
	case ServerOnly:
		return "server-only"
	case OwnClient:
		return "own-client"
	case AnyClient:
		return "any-client"
	}
	return fmt.Sprintf("Permission(%d)", uint8(p))
}

// CallerKind says where a call comes from. The zero value is CallerNone,
// which may call nothing: a Caller that someone forgot to fill in is
// denied rather than trusted as the server.
type CallerKind uint8

const (
	// CallerNone is the zero value: denied everything.
	CallerNone CallerKind = iota
	// CallerServer: game code, timers, other entities, other games.
	CallerServer
	// CallerClient: a client's RPC forwarded by a gate.
	CallerClient
)

// String returns "none", "server" or "client".
func (k CallerKind) String() string {
	switch k {
	case CallerNone:
		return "none"
	case CallerServer:
		return "server"
	case CallerClient:
		return "client"
	}
	return fmt.Sprintf("CallerKind(%d)", uint8(k))
}

// Caller identifies who makes a call, for permission checks and for the
// method body.
type Caller struct {
	Kind   CallerKind // server or client; the zero value may call nothing
	Entity EntityID   // the calling entity, if any (0 otherwise)
	Client ClientID   // for CallerClient: the client
	Gate   uint16     // for CallerClient: the gate the client is on
}

// ServerCaller returns the Caller of server-side calls (timers, game code).
func ServerCaller() Caller { return Caller{Kind: CallerServer} }

// ClientCaller returns the Caller of a client's RPC forwarded by gate.
func ClientCaller(gate uint16, client ClientID) Caller {
	return Caller{Kind: CallerClient, Client: client, Gate: gate}
}

// Method is one callable method of an entity type, with its permission
// and typed parameters. Make it with Method0..Method4 and add it to a type
// with EntityType.Method. A Method is immutable and safe to share.
type Method struct {
	name  string
	perm  Permission
	arity int
	call  func(e *Entity, c Caller, d *argReader) error
}

// Name returns the method's name.
func (m *Method) Name() string { return m.name }

// Permission returns who may call the method.
func (m *Method) Permission() Permission { return m.perm }

// Arity returns the number of arguments.
func (m *Method) Arity() int { return m.arity }

// Allowed reports whether c may call m on e: the server may call
// anything; a client may call AnyClient methods, and OwnClient methods
// only on the entity bound to that same client on that same gate. A
// CallerNone caller, or a client caller without a ClientID, may call
// nothing.
func (m *Method) Allowed(e *Entity, c Caller) bool {
	if e == nil {
		return false
	}
	switch c.Kind {
	case CallerServer:
		return true
	case CallerClient:
		if c.Client == 0 {
			return false
		}
		switch m.perm {
		case AnyClient:
			return true
		case OwnClient:
			b := e.client
			return b.Client == c.Client && b.Gate == c.Gate
		}
	}
	return false
}

// MaxArgsSize bounds the encoded arguments of one call; Invoke rejects
// larger input before decoding anything.
const MaxArgsSize = 64 << 10

// Invoke decodes args (a CBOR array, see EncodeArgs; empty input counts as
// an empty array) into the method's typed parameters and runs the method
// on e. It does not check permissions: call Allowed first.
//
// Arguments are untrusted: they are bounded (MaxArgsSize, nesting,
// element counts, no indefinite lengths, no tags, no duplicate map keys),
// the count must equal Arity, and each element must decode into its
// parameter's type; any failure returns an *ArgError (errors.Is
// ErrBadArgs) and the method does not run. A panic in the method body is
// recovered and returned as a *PanicError wrapping ErrMethodPanic, so a
// bad method never takes down the tick. A destroyed or nil entity gives
// ErrNoEntity.
func (m *Method) Invoke(e *Entity, c Caller, args []byte) (err error) {
	if e == nil || e.destroyed {
		return fmt.Errorf("%w: call %s", ErrNoEntity, m.name)
	}
	if len(args) > MaxArgsSize {
		return &ArgError{Method: m.name, Index: -1, Err: fmt.Errorf("%d bytes exceed the limit of %d", len(args), MaxArgsSize)}
	}
	var rest []byte
	if len(args) > 0 {
		n, r, herr := arrayHeader(args)
		if herr != nil {
			return &ArgError{Method: m.name, Index: -1, Err: herr}
		}
		if n != uint64(m.arity) {
			return &ArgError{Method: m.name, Index: -1, Err: fmt.Errorf("want %d arguments, got %d", m.arity, n)}
		}
		rest = r
	} else if m.arity != 0 {
		return &ArgError{Method: m.name, Index: -1, Err: fmt.Errorf("want %d arguments, got none", m.arity)}
	}
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Kind: ErrMethodPanic, Where: e.typ.name + "." + m.name, Entity: e.id, Value: r, Stack: debug.Stack()}
		}
	}()
	d := argReader{method: m.name, rest: rest}
	return m.call(e, c, &d)
}

// EncodeArgs encodes args for a method of the same arity, checking the
// count; see the package-level EncodeArgs.
func (m *Method) EncodeArgs(args ...any) ([]byte, error) {
	if len(args) != m.arity {
		return nil, &ArgError{Method: m.name, Index: -1, Err: fmt.Errorf("want %d arguments, got %d", m.arity, len(args))}
	}
	return EncodeArgs(args...)
}

// EncodeArgs encodes method arguments as one CBOR array, the form Invoke
// takes. Times are encoded as RFC 3339 strings (Invoke forbids tags).
func EncodeArgs(args ...any) ([]byte, error) {
	if args == nil {
		args = []any{}
	}
	b, err := argCodec.enc.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("ecs: encode method arguments: %w", err)
	}
	return b, nil
}

// argCodec holds the CBOR modes of method arguments. It is built once from
// fixed options when the package initialises and never changes after:
// cbor's EncMode and DecMode are immutable values, safe for concurrent
// use, so sharing them is not shared mutable state. (Building a mode per
// call would cost more than the call.)
var argCodec = newArgCodec()

type codec struct {
	enc cbor.EncMode
	dec cbor.DecMode
}

func newArgCodec() codec {
	enc, err := cbor.EncOptions{
		ShortestFloat: cbor.ShortestFloat16,
		Time:          cbor.TimeRFC3339Nano,
	}.EncMode()
	if err != nil {
		panic(err) // fixed options: cannot fail unless the library changed
	}
	dec, err := cbor.DecOptions{
		MaxNestedLevels:  16,
		MaxArrayElements: 4096,
		MaxMapPairs:      4096,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		IntDec:           cbor.IntDecConvertSignedOrFail,
		DefaultMapType:   reflect.TypeFor[map[string]any](),
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return codec{enc: enc, dec: dec}
}

// arrayHeader reads the head of a definite-length CBOR array.
func arrayHeader(b []byte) (n uint64, rest []byte, err error) {
	if len(b) == 0 {
		return 0, nil, errors.New("empty input")
	}
	maj, info, arg, size := cborHead(b)
	switch {
	case maj != 4:
		return 0, nil, fmt.Errorf("want a CBOR array, got major type %d", maj)
	case size > 0:
		return arg, b[size:], nil
	case info == 31:
		return 0, nil, errors.New("indefinite-length array")
	case info > 27:
		return 0, nil, fmt.Errorf("malformed array head (additional info %d)", info)
	}
	return 0, nil, errors.New("truncated array head")
}

// cborHead reads the head of the CBOR item that b starts with (b is not
// empty): its major type, additional information and argument, and the
// bytes the head takes, which is 0 for a head cut short, with reserved
// additional information (28 to 30) or of indefinite length (31).
func cborHead[T string | []byte](b T) (maj, info byte, arg uint64, size int) {
	maj, info = b[0]>>5, b[0]&0x1f
	switch {
	case info < 24:
		return maj, info, uint64(info), 1
	case info > 27:
		return maj, info, 0, 0
	}
	w := 1 << (info - 24)
	if len(b) <= w {
		return maj, info, 0, 0
	}
	for i := 1; i <= w; i++ {
		arg = arg<<8 | uint64(b[i])
	}
	return maj, info, arg, 1 + w
}

// argReader decodes a method's arguments one by one from the array body.
type argReader struct {
	method string
	rest   []byte
	i      int
}

// next decodes the next element into v (a pointer to the parameter).
func (d *argReader) next(v any) error {
	rest, err := argCodec.dec.UnmarshalFirst(d.rest, v)
	if err != nil {
		return &ArgError{Method: d.method, Index: d.i, Err: err}
	}
	d.rest = rest
	d.i++
	return nil
}

// done checks that nothing follows the last element.
// all decodes one argument into each of ps, in order, then checks that no
// argument is left.
func (d *argReader) all(ps ...any) error {
	for _, p := range ps {
		if err := d.next(p); err != nil {
			return err
		}
	}
	return d.done()
}

func (d *argReader) done() error {
	if len(d.rest) != 0 {
		return &ArgError{Method: d.method, Index: -1, Err: fmt.Errorf("%d trailing bytes after the arguments", len(d.rest))}
	}
	return nil
}

func newMethod(name string, perm Permission, arity int, fn any, call func(e *Entity, c Caller, d *argReader) error) *Method {
	if name == "" {
		panic("ecs: method with an empty name")
	}
	if reflect.ValueOf(fn).IsNil() {
		panic(fmt.Sprintf("ecs: method %q: nil function", name))
	}
	if perm > AnyClient {
		panic(fmt.Sprintf("ecs: method %q: invalid permission %d", name, perm))
	}
	return &Method{name: name, perm: perm, arity: arity, call: call}
}

// Method0 declares a method without arguments. Like the other MethodN
// constructors it panics on an empty name, a nil fn or an invalid
// permission: declarations are code, not input.
func Method0(name string, perm Permission, fn func(e *Entity, c Caller) error) *Method {
	return newMethod(name, perm, 0, fn, func(e *Entity, c Caller, d *argReader) error {
		if err := d.done(); err != nil {
			return err
		}
		return fn(e, c)
	})
}

// Method1 declares a method with one argument of type A.
func Method1[A any](name string, perm Permission, fn func(e *Entity, c Caller, a A) error) *Method {
	return newMethod(name, perm, 1, fn, func(e *Entity, c Caller, d *argReader) error {
		var a A
		if err := d.all(&a); err != nil {
			return err
		}
		return fn(e, c, a)
	})
}

// Method2 declares a method with arguments of types A and B.
func Method2[A, B any](name string, perm Permission, fn func(e *Entity, c Caller, a A, b B) error) *Method {
	return newMethod(name, perm, 2, fn, func(e *Entity, c Caller, d *argReader) error {
		var (
			a A
			b B
		)
		if err := d.all(&a, &b); err != nil {
			return err
		}
		return fn(e, c, a, b)
	})
}

// Method3 declares a method with arguments of types A, B and C.
func Method3[A, B, C any](name string, perm Permission, fn func(e *Entity, c Caller, a A, b B, cc C) error) *Method {
	return newMethod(name, perm, 3, fn, func(e *Entity, c Caller, d *argReader) error {
		var (
			a  A
			b  B
			cc C
		)
		if err := d.all(&a, &b, &cc); err != nil {
			return err
		}
		return fn(e, c, a, b, cc)
	})
}

// Method4 declares a method with arguments of types A, B, C and D.
func Method4[A, B, C, D any](name string, perm Permission, fn func(e *Entity, c Caller, a A, b B, cc C, dd D) error) *Method {
	return newMethod(name, perm, 4, fn, func(e *Entity, c Caller, d *argReader) error {
		var (
			a  A
			b  B
			cc C
			dd D
		)
		if err := d.all(&a, &b, &cc, &dd); err != nil {
			return err
		}
		return fn(e, c, a, b, cc, dd)
	})
}
