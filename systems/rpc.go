package systems

import (
	"errors"
	"fmt"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/ecsworld/ecsworld/ecs"
)

// Call is one method call on an entity, as the game decodes it from its
// inbox (a client's RPC forwarded by a gate, another game's call) or as a
// timer fires it.
type Call struct {
	Target ecs.EntityID // the entity whose method is called
	Method string       // the method's name in the entity's type
	// Args is the CBOR array of arguments (ecs.EncodeArgs).
	Args   []byte
	Caller ecs.Caller // who calls, for the permission check
	// ID identifies the call for its reply; 0 means no reply is wanted.
	ID uint64
}

// ReplySink receives the outcome of every dispatched call with ID != 0; a
// nil err is success. The game turns it into a reply message. It runs on
// the tick goroutine, inside the RPC stage, and must not retain call.Args.
type ReplySink func(call Call, err error)

// RPCStats counts dispatched calls by outcome. Each call lands in exactly
// one counter.
type RPCStats struct {
	OK       uint64 // the method ran and returned nil
	NoEntity uint64 // no such entity in this world (ecs.ErrNoEntity)
	NoMethod uint64 // its type has no such method (ecs.ErrNoMethod)
	Denied   uint64 // the caller may not call it (ecs.ErrDenied)
	BadArgs  uint64 // the arguments did not decode (ecs.ErrBadArgs)
	Panics   uint64 // the method panicked (ecs.ErrMethodPanic)
	Errors   uint64 // the method body returned an error of its own
}

// Total is the number of calls counted.
func (s RPCStats) Total() uint64 {
	return s.OK + s.NoEntity + s.NoMethod + s.Denied + s.BadArgs + s.Panics + s.Errors
}

// invoker is the one path from a Call to a method, shared by RPC dispatch
// and timers so both check and count the same way. Its counters are atomic
// so Stats can be read by an exporter goroutine.
type invoker struct {
	world *ecs.World
	log   *zap.Logger
	msgs  [outError + 1]string // log message per failed outcome, built once

	ok, noEntity, noMethod, denied, badArgs, panics, errs atomic.Uint64
}

// init sets up the invoker of w. kind ("rpc" or "timer") prefixes
// the log messages. Each failure mode has its own message, so the sampler
// (which counts per message) gives each its own budget: a flood of one
// kind of bad call cannot hide the first lines of another.
func (iv *invoker) init(w *ecs.World, log *zap.Logger, kind string) {
	iv.world, iv.log = w, sampled(log)
	iv.msgs[outNoEntity] = kind + ": call to unknown entity"
	iv.msgs[outNoMethod] = kind + ": call to unknown method"
	iv.msgs[outDenied] = kind + ": call denied"
	iv.msgs[outBadArgs] = kind + ": call with bad arguments"
	iv.msgs[outPanic] = kind + ": method panicked"
	iv.msgs[outError] = kind + ": method failed"
}

func (iv *invoker) stats() RPCStats {
	return RPCStats{
		OK: iv.ok.Load(), NoEntity: iv.noEntity.Load(), NoMethod: iv.noMethod.Load(),
		Denied: iv.denied.Load(), BadArgs: iv.badArgs.Load(), Panics: iv.panics.Load(), Errors: iv.errs.Load(),
	}
}

// outcome classifies a call for the counters.
type outcome uint8

const (
	outOK outcome = iota
	outNoEntity
	outNoMethod
	outDenied
	outBadArgs
	outPanic
	outError
)

// invoke runs c: entity, method, permission, then the method itself. Every
// failure is returned wrapping the matching ecs sentinel, counted and
// logged (sampled); nothing panics out of it. The outcome tells apart a
// missing target (outNoEntity) from a method body that returned an error
// wrapping ErrNoEntity about some other entity (outError).
func (iv *invoker) invoke(c *Call) (out outcome, err error) {
	e, ok := iv.world.Entity(c.Target)
	if !ok {
		err = fmt.Errorf("%w: %v", ecs.ErrNoEntity, c.Target)
		return iv.fail(outNoEntity, &iv.noEntity, c, err), err
	}
	m, found := e.Type().LookupMethod(c.Method)
	if !found {
		err = fmt.Errorf("%w: %s.%s", ecs.ErrNoMethod, e.Type().Name(), c.Method)
		return iv.fail(outNoMethod, &iv.noMethod, c, err), err
	}
	if !m.Allowed(e, c.Caller) {
		err = fmt.Errorf("%w: %s.%s for a %v caller", ecs.ErrDenied, e.Type().Name(), c.Method, c.Caller.Kind)
		return iv.fail(outDenied, &iv.denied, c, err), err
	}
	defer func() {
		// ecs recovers a method's panic into ErrMethodPanic; this is the
		// belt to its braces, so nothing escapes into the tick.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s.%s: %v", ecs.ErrMethodPanic, e.Type().Name(), c.Method, r)
			out = iv.fail(outPanic, &iv.panics, c, err)
		}
	}()
	err = m.Invoke(e, c.Caller, c.Args)
	switch {
	case err == nil:
		iv.ok.Add(1)
		return outOK, nil
	case errors.Is(err, ecs.ErrBadArgs):
		return iv.fail(outBadArgs, &iv.badArgs, c, err), err
	case errors.Is(err, ecs.ErrMethodPanic):
		return iv.fail(outPanic, &iv.panics, c, err), err
	default:
		return iv.fail(outError, &iv.errs, c, err), err
	}
}

func (iv *invoker) fail(out outcome, n *atomic.Uint64, c *Call, err error) outcome {
	n.Add(1)
	lvl := zap.WarnLevel
	if out == outPanic {
		lvl = zap.ErrorLevel // a bug in game code, not bad input
	}
	// Check first: when the sampler drops the line, no field is built, so
	// a client spamming bad calls costs a counter increment, not a log
	// encoding.
	ce := iv.log.Check(lvl, iv.msgs[out])
	if ce == nil {
		return out
	}
	fields := make([]zap.Field, 0, 8)
	fields = append(fields, zap.Stringer("target", c.Target), zap.String("method", c.Method),
		zap.Stringer("caller", c.Caller.Kind))
	if c.Caller.Entity != 0 {
		fields = append(fields, zap.Stringer("caller_entity", c.Caller.Entity))
	}
	if c.Caller.Kind == ecs.CallerClient {
		fields = append(fields, zap.Stringer("client", c.Caller.Client), zap.Uint16("gate", c.Caller.Gate))
	}
	fields = append(fields, zap.Error(err))
	var pe *ecs.PanicError
	if out == outPanic && errors.As(err, &pe) {
		fields = append(fields, zap.ByteString("stack", pe.Stack))
	}
	ce.Write(fields...)
	return out
}

// RPCOptions configures an RPC stage. The zero value is usable.
type RPCOptions struct {
	// Logger receives a sampled line per failed call. Nil logs nothing.
	Logger *zap.Logger
	// Reply, if set, receives the outcome of calls with ID != 0.
	Reply ReplySink
}

// RPC is stage 2 of the tick: a queue of calls drained once per tick, each
// dispatched to its entity's method with the caller's permission checked.
// A failed call is counted and logged and, if it wants a reply, reported to
// the ReplySink; it never stops the tick.
//
// The queue is a plain slice reused from tick to tick: Enqueue, like every
// method but Stats, must be called on the tick goroutine (the inbox stage
// drains the network's channel and enqueues).
type RPC struct {
	inv   invoker
	reply ReplySink
	queue []Call
	spare []Call
}

// NewRPC returns the RPC stage for w.
func NewRPC(w *ecs.World, opts RPCOptions) *RPC {
	r := &RPC{reply: opts.Reply}
	r.inv.init(w, opts.Logger, "rpc")
	return r
}

// Name implements System.
func (r *RPC) Name() string { return "rpc" }

// SetReplySink replaces the reply sink (nil drops replies).
func (r *RPC) SetReplySink(s ReplySink) { r.reply = s }

// Enqueue queues c for the next RPC stage. The queue keeps c.Args until
// the call is dispatched: do not reuse its bytes. A call enqueued while the
// stage runs (a method calling another entity) runs in the next tick, so a
// chain of calls cannot loop within one tick.
func (r *RPC) Enqueue(c Call) { r.queue = append(r.queue, c) }

// Len returns the number of queued calls.
func (r *RPC) Len() int { return len(r.queue) }

// Update implements System: it dispatches the calls queued before it
// started, in order.
func (r *RPC) Update(*Tick) error {
	cur := r.queue
	r.queue = r.spare[:0]
	for i := range cur {
		r.dispatch(&cur[i])
	}
	clear(cur) // drop references to Args until reuse
	r.spare = cur[:0]
	return nil
}

// Dispatch runs c now, through the same checks and counters as queued
// calls, and reports to the ReplySink if c.ID != 0. It returns the error
// the ReplySink gets.
func (r *RPC) Dispatch(c Call) error { return r.dispatch(&c) }

func (r *RPC) dispatch(c *Call) error {
	_, err := r.inv.invoke(c)
	if c.ID != 0 && r.reply != nil {
		r.sendReply(c, err)
	}
	return err
}

// sendReply calls the sink, recovering a panic so the rest of the queue
// still runs.
func (r *RPC) sendReply(c *Call, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.inv.log.Error("rpc reply sink panicked", zap.Uint64("target", uint64(c.Target)),
				zap.String("method", c.Method), zap.Uint64("call", c.ID), zap.Any("panic", p))
		}
	}()
	r.reply(*c, err)
}

// Stats returns the counters since creation. Safe from any goroutine.
func (r *RPC) Stats() RPCStats { return r.inv.stats() }
