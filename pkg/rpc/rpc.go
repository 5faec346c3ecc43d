// Package rpc is clerkpath's request/reply between services over NATS
// micro endpoints: JSON in, JSON out, with apierr errors carried across the
// wire so that the gateway can show the caller exactly what a service said.
package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// Request is what a handler sees of a micro request.
type Request struct {
	Subject string
	Data    []byte
	Header  micro.Headers
}

// Decode decodes the JSON body strictly into v.
func (r Request) Decode(v any) error { return strictjson.Decode(r.Data, v) }

// Func handles one request; its result is marshalled as JSON. A []byte
// result is sent as is.
type Func func(ctx context.Context, r Request) (any, error)

// DeadlineHeader carries the caller's deadline (RFC 3339 with
// nanoseconds) so that a service stops working on a request the caller
// has stopped waiting for.
const DeadlineHeader = "Clerkpath-Deadline"

// MaxInFlight bounds the requests one endpoint of one service instance
// works on at once; more wait in NATS (back-pressure), and more instances
// share the load through micro's queue group.
const MaxInFlight = 64

// Handler adapts fn to a micro handler that serves up to MaxInFlight
// requests at once, each with a per-request timeout (or the caller's
// deadline, when that is sooner), the caller's request id in ctx, and
// errors sent as apierr JSON. A request whose caller's deadline passed
// while it waited is dropped unanswered: nobody is listening.
//
// Answers are published on nc to the request's reply subject (with micro's
// error headers for errors) rather than through micro.Request, whose
// methods may not be called after the handler returned. Each request's
// goroutine is bounded by its deadline. micro's per-endpoint statistics
// therefore count requests but not their processing time or errors;
// clerkpath's request metrics are the gateway's.
func Handler(nc *nats.Conn, log zerolog.Logger, timeout time.Duration, fn Func) micro.Handler {
	slots := make(chan struct{}, MaxInFlight)
	return micro.HandlerFunc(func(req micro.Request) {
		r := Request{Subject: req.Subject(), Data: req.Data(), Header: req.Headers()}
		reply := req.Reply()
		slots <- struct{}{} // when full, delivery waits: back-pressure
		go func() {
			defer func() { <-slots }()
			serve(nc, log, timeout, fn, r, reply)
		}()
	})
}

func serve(nc *nats.Conn, log zerolog.Logger, timeout time.Duration, fn Func, r Request, reply string) {
	deadline := time.Now().Add(timeout)
	if d, err := time.Parse(time.RFC3339Nano, r.Header.Get(DeadlineHeader)); err == nil && d.Before(deadline) {
		deadline = d
	}
	if !time.Now().Before(deadline) || reply == "" {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if id := r.Header.Get(obs.RequestIDHeader); obs.ValidRequestID(id) {
		ctx = obs.WithRequestID(ctx, id)
	}
	lg := obs.Logger(ctx, log)
	res, err := fn(ctx, r)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && !errors.As(err, new(*apierr.Error)) {
			err = apierr.Wrap(err, apierr.Unavailable, "the service did not finish in time")
		}
		e := apierr.As(err)
		if e.Code == apierr.Internal || e.Code == apierr.Unavailable {
			lg.Error().Err(err).Str("subject", r.Subject).Msg("request failed")
		}
		respondError(nc, lg, reply, e)
		return
	}
	var body []byte
	switch v := res.(type) {
	case []byte:
		body = v
	case json.RawMessage:
		body = v
	default:
		if body, err = json.Marshal(res); err != nil {
			lg.Error().Err(err).Str("subject", r.Subject).Msg("marshal response")
			respondError(nc, lg, reply, apierr.New(apierr.Internal, "internal error"))
			return
		}
	}
	if int64(len(body)) > nc.MaxPayload() {
		// Silence here would leave the caller waiting for its timeout.
		lg.Warn().Int("bytes", len(body)).Str("subject", r.Subject).Msg("reply larger than max_payload")
		respondError(nc, lg, reply, apierr.New(apierr.TooLarge,
			"the answer is %d bytes, more than the NATS server accepts in one message (%d, its max_payload): ask for less, or raise max_payload (docs/operations.md)", len(body), nc.MaxPayload()))
		return
	}
	if err := nc.Publish(reply, body); err != nil {
		lg.Warn().Err(err).Str("subject", r.Subject).Msg("send reply")
	}
}

// respondError sends e the way micro sends errors: its code and message in
// micro's headers, the apierr JSON as the body.
func respondError(nc *nats.Conn, lg *zerolog.Logger, reply string, e *apierr.Error) {
	body, _ := json.Marshal(e)
	msg := &nats.Msg{Subject: reply, Data: body, Header: nats.Header{}}
	msg.Header.Set(micro.ErrorCodeHeader, strconv.Itoa(e.Code.HTTPStatus()))
	msg.Header.Set(micro.ErrorHeader, string(e.Code))
	if err := nc.PublishMsg(msg); err != nil {
		lg.Warn().Err(err).Msg("send error reply")
	}
}

// CallRaw sends data to subject and returns the reply body, turning a
// service error back into its *apierr.Error.
func CallRaw(ctx context.Context, nc *nats.Conn, subject string, data []byte, h nats.Header) ([]byte, error) {
	if st := nc.Status(); st != nats.CONNECTED {
		// While NATS is away the request would sit in the reconnect buffer
		// until the caller's timeout: say so at once instead.
		return nil, apierr.New(apierr.Unavailable, "service unavailable: the message bus is unreachable (%s)", strings.ToLower(st.String()))
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	for k, vs := range h {
		for _, v := range vs {
			msg.Header.Add(k, v)
		}
	}
	if id := obs.RequestID(ctx); id != "" {
		msg.Header.Set(obs.RequestIDHeader, id)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	msg.Header.Set(DeadlineHeader, deadline.UTC().Format(time.RFC3339Nano))
	reply, err := nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrMaxPayload):
			return nil, apierr.Wrap(err, apierr.TooLarge, fmt.Sprintf(
				"the request is %d bytes, more than the NATS server accepts in one message (%d, its max_payload)", len(data), nc.MaxPayload()))
		case errors.Is(err, nats.ErrNoResponders):
			return nil, apierr.Wrap(err, apierr.Unavailable, "service unavailable: "+subject)
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
			return nil, apierr.Wrap(err, apierr.Unavailable, "service did not answer in time: "+subject)
		}
		return nil, apierr.Wrap(err, apierr.Unavailable, "service request failed: "+subject)
	}
	if code := reply.Header.Get(micro.ErrorCodeHeader); code != "" {
		var e apierr.Error
		if err := json.Unmarshal(reply.Data, &e); err != nil || e.Code == "" {
			return nil, apierr.Wrap(fmt.Errorf("%s: %s %s", subject, code, reply.Header.Get(micro.ErrorHeader)), apierr.Internal, "internal error")
		}
		return nil, &e
	}
	return reply.Data, nil
}

// Call marshals req as JSON, calls subject and unmarshals the reply.
func Call[Resp any](ctx context.Context, nc *nats.Conn, subject string, req any) (Resp, error) {
	var out Resp
	data, err := json.Marshal(req)
	if err != nil {
		return out, fmt.Errorf("call %s: marshal: %w", subject, err)
	}
	body, err := CallRaw(ctx, nc, subject, data, nil)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("call %s: unmarshal reply: %w", subject, err)
	}
	return out, nil
}
