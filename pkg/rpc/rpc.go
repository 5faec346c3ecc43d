// Package rpc is clerkpath's request/reply between services over NATS
// micro endpoints: JSON in, JSON out, with apierr errors carried across the
// wire so that the gateway can show the caller exactly what a service said.
package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
// result is sent as is, and a JSONAppender as it appends itself.
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
	case JSONAppender:
		if body, err = v.AppendJSON(nil); err != nil {
			lg.Error().Err(err).Str("subject", r.Subject).Msg("marshal response")
			respondError(nc, lg, reply, apierr.New(apierr.Internal, "internal error"))
			return
		}
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

// JSONAppender is a reply that encodes itself, to the bytes json.Marshal
// would give, faster than json.Marshal: Handler sends what AppendJSON
// appends. matchingapi.SearchResponse is one (json.Marshal's sorting and
// reflection over twenty hits of thirty fields each was a quarter of
// matching's CPU per search).
type JSONAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// AppendJSONObjects appends ms as json.Marshal encodes a []map[string]any
// (nil: null), each map as AppendJSONObject does. Maps with the same keys
// (search hits) share one sorting of them.
func AppendJSONObjects(b []byte, ms []map[string]any) ([]byte, error) {
	if ms == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	start := len(b)
	var keys []string
	for i, m := range ms {
		if i == 1 {
			// Room for the rest at the first map's size: growing the
			// buffer by doubling was 6% of matching's CPU per search.
			b = slices.Grow(b, (len(b)-start+1)*(len(ms)-1)+512)
		}
		if i > 0 {
			b = append(b, ',')
		}
		if m == nil {
			b = append(b, "null"...)
			continue
		}
		if !sameKeys(keys, m) {
			keys = sortedKeys(m)
		}
		var err error
		if b, err = appendJSONObject(b, m, keys); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// AppendJSONObject appends m as json.Marshal encodes it (keys sorted,
// HTML-safe escaping, nil: null). A json.RawMessage value must be valid
// JSON, as a slice of an answer json.Valid accepted is: it is copied as it
// is when it needs neither compacting nor escaping, the common case, and
// encoded by json.Marshal (which checks it) otherwise. Strings and ints
// that need no escaping are written directly; any other value is encoded
// by json.Marshal.
func AppendJSONObject(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	return appendJSONObject(b, m, sortedKeys(m))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sameKeys reports whether keys are exactly m's keys.
func sameKeys(keys []string, m map[string]any) bool {
	if keys == nil || len(keys) != len(m) {
		return false
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// appendJSONObject appends m with its keys in the order of keys (sorted).
func appendJSONObject(b []byte, m map[string]any, keys []string) ([]byte, error) {
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSONString(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendJSONValue(b, m[k]); err != nil {
			return nil, fmt.Errorf("encode %q: %w", k, err)
		}
	}
	return append(b, '}'), nil
}

func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case json.RawMessage:
		if len(v) > 0 && plainJSON(v) {
			return append(b, v...), nil
		}
	case string:
		return appendJSONString(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	}
	enc, err := json.Marshal(v)
	return append(b, enc...), err
}

// appendJSONString appends s quoted, directly when no byte of it needs
// escaping (printable ASCII other than " \ < > &), else as json.Marshal
// quotes it.
func appendJSONString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, err := json.Marshal(s)
			return append(b, enc...), err
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// plainJSON reports whether valid JSON v is as json.Marshal would send it:
// no whitespace outside strings (compact), no < > & and no U+2028 or
// U+2029 (whose first byte is 0xE2), which json.Marshal escapes.
func plainJSON(v []byte) bool {
	inString := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '<', '>', '&', 0xE2:
			return false
		case ' ', '\t', '\n', '\r':
			if !inString {
				return false
			}
		case '\\':
			i++ // the escaped byte: \" does not end the string
		case '"':
			inString = !inString
		}
	}
	return true
}
