package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecsworld/ecsworld/netproto"
)

// CallError is a call the server answered with an error: refused by the
// gate (permission, unknown entity) or failed in the entity's method.
type CallError struct {
	Entity  uint64
	Method  string
	Message string
}

// Error implements error.
func (e *CallError) Error() string {
	return fmt.Sprintf("client: call %s on entity %d: %s", e.Method, e.Entity, e.Message)
}

// ErrNoResult: Result.Decode of a reply that carried no result.
var ErrNoResult = errors.New("client: call returned no result")

// Result is a call's result: one CBOR value, decoded on demand with the
// client's limits.
type Result struct {
	raw   []byte
	codec *netproto.Codec
}

// Raw is the result's CBOR encoding (nil if the method returned nothing).
func (r Result) Raw() []byte { return r.raw }

// Decode decodes the result into v (a pointer), bounded by the client's
// decode limits.
func (r Result) Decode(v any) error {
	if len(r.raw) == 0 {
		return ErrNoResult
	}
	return r.codec.UnmarshalValue(r.raw, v)
}

// Value decodes the result as a generic value (nil if there is none).
func (r Result) Value() (any, error) {
	if len(r.raw) == 0 {
		return nil, nil
	}
	var v any
	err := r.codec.UnmarshalValue(r.raw, &v)
	return v, err
}

// Call calls method on entity with args (encoded as one CBOR array) and
// waits for the reply, until ctx ends or the client stops. A reply with an
// error is a *CallError. A reply that comes after ctx ended is counted in
// Stats.LateReplies and dropped.
func (c *Client) Call(ctx context.Context, entity uint64, method string, args ...any) (Result, error) {
	b, err := c.codec.EncodeArgs(args...)
	if err != nil {
		return Result{}, fmt.Errorf("client: call %s: %w", method, err)
	}
	id := c.nextCallID.Add(1)
	ch := make(chan netproto.ClientCallReply, 1)
	c.callMu.Lock()
	if c.calls == nil {
		c.callMu.Unlock()
		return Result{}, c.closedErr()
	}
	c.calls[id] = ch
	c.callMu.Unlock()
	if err := c.send(&netproto.ClientCall{Entity: entity, Method: method, Args: b, CallID: id}); err != nil {
		c.dropCall(id)
		return Result{}, err
	}
	select {
	case r := <-ch:
		if r.Error != "" {
			return Result{}, &CallError{Entity: entity, Method: method, Message: r.Error}
		}
		return Result{raw: r.Result, codec: c.codec}, nil
	case <-ctx.Done():
		c.dropCall(id)
		return Result{}, fmt.Errorf("client: call %s on entity %d: %w", method, entity, ctx.Err())
	case <-c.done:
		return Result{}, c.closedErr()
	}
}

// Notify calls method on entity without asking for a reply (CallID 0): the
// gate and the game refuse or run it silently.
func (c *Client) Notify(entity uint64, method string, args ...any) error {
	b, err := c.codec.EncodeArgs(args...)
	if err != nil {
		return fmt.Errorf("client: notify %s: %w", method, err)
	}
	return c.send(&netproto.ClientCall{Entity: entity, Method: method, Args: b})
}

func (c *Client) dropCall(id uint64) {
	c.callMu.Lock()
	delete(c.calls, id) // no-op on a nil map
	c.callMu.Unlock()
}

// Pending is how many calls wait for their reply.
func (c *Client) Pending() int {
	c.callMu.Lock()
	defer c.callMu.Unlock()
	return len(c.calls)
}

// onReply hands a reply to its waiting Call.
func (c *Client) onReply(r *netproto.ClientCallReply) {
	c.callMu.Lock()
	ch, ok := c.calls[r.CallID]
	if ok {
		delete(c.calls, r.CallID)
	}
	c.callMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case ok:
		c.stats.Replies++
		ch <- *r // buffered for exactly this one reply
	case r.CallID != 0 && r.CallID <= c.nextCallID.Load():
		c.stats.LateReplies++
	default:
		c.recordLocked("ClientCallReply to call %d, which this client never made", r.CallID)
	}
}
