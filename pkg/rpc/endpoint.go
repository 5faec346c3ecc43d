package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"
)

// Endpoint is one request/reply endpoint of a service: its subject, micro
// endpoint name and the Go types of its request and reply. Each endpoint is
// declared once, in the owning service's contract package
// (pkg/contract/<service>api), and both sides use that declaration: the
// service binds a handler with Bind, callers use Call or Forward. A renamed
// field or a changed type is then a compile error, not an end-to-end test
// failure.
//
// Req may be Raw for an endpoint whose body is not JSON (an uploaded file):
// the body and headers then travel as they are.
type Endpoint[Req, Rep any] struct {
	// Name is the endpoint's name within its micro service ("seeker-put").
	Name string
	// Subject is the NATS subject, "svc.<service>.<what>".
	Subject string
	// Doc says in a sentence what the endpoint does (docs/events.md).
	Doc string
}

// Raw is the request of an endpoint whose body is not JSON.
type Raw struct {
	Data   []byte
	Header nats.Header
}

// Call sends req and decodes the reply.
func (e Endpoint[Req, Rep]) Call(ctx context.Context, nc *nats.Conn, req Req) (Rep, error) {
	var out Rep
	body, err := e.Forward(ctx, nc, req)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("call %s: unmarshal reply: %w", e.Subject, err)
	}
	return out, nil
}

// Forward sends req and returns the reply's JSON as the service encoded it,
// for a caller (the gateway) that passes it on unchanged.
func (e Endpoint[Req, Rep]) Forward(ctx context.Context, nc *nats.Conn, req Req) (json.RawMessage, error) {
	if raw, ok := any(req).(Raw); ok {
		return CallRaw(ctx, nc, e.Subject, raw.Data, raw.Header)
	}
	data, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("call %s: marshal: %w", e.Subject, err)
	}
	return CallRaw(ctx, nc, e.Subject, data, nil)
}

// Bind pairs the endpoint with its handler. The request is decoded strictly
// (unknown fields are an error naming the field) before fn sees it.
func (e Endpoint[Req, Rep]) Bind(fn func(ctx context.Context, req Req) (Rep, error)) Binding {
	return Binding{Spec: e.Spec(), fn: func(ctx context.Context, r Request) (any, error) {
		var req Req
		if raw, ok := any(&req).(*Raw); ok {
			raw.Data = r.Data
			raw.Header = nats.Header(r.Header)
		} else if err := r.Decode(&req); err != nil {
			return nil, err
		}
		return fn(ctx, req)
	}}
}

// Spec describes the endpoint for documentation and checks.
func (e Endpoint[Req, Rep]) Spec() Spec {
	return Spec{Name: e.Name, Subject: e.Subject, Doc: e.Doc,
		Request: reflect.TypeFor[Req](), Reply: reflect.TypeFor[Rep]()}
}

// Spec is an endpoint without its type parameters.
type Spec struct {
	Name, Subject, Doc string
	Request, Reply     reflect.Type
}

// Binding is an endpoint with its handler, ready to add to a micro service.
type Binding struct {
	Spec Spec
	fn   Func
}

// AddEndpoints adds each binding to svc, every one served by Handler with
// the given per-request timeout.
func AddEndpoints(svc micro.Service, nc *nats.Conn, log zerolog.Logger, timeout time.Duration, bs ...Binding) error {
	for _, b := range bs {
		if err := svc.AddEndpoint(b.Spec.Name, Handler(nc, log, timeout, b.fn), micro.WithEndpointSubject(b.Spec.Subject)); err != nil {
			return fmt.Errorf("add endpoint %s (%s): %w", b.Spec.Name, b.Spec.Subject, err)
		}
	}
	// The subscriptions go out on nc's write buffer: flush them so that a
	// service that says "ready" after this is reachable from any other
	// connection. A flush that fails (the connection is down) is not an
	// error: nats.go sends every subscription again when it reconnects.
	_ = nc.FlushTimeout(5 * time.Second)
	return nil
}

// Serving asks the micro service named name for its INFO and reports
// whether it serves every endpoint in want. A micro service answers PING as
// soon as it exists, before its endpoints are added, so PING alone says a
// service is up while its requests still get "no responders". The endpoints
// of an INFO reply were subscribed on the service's connection before the
// reply was sent, so the server knows them by the time the reply arrives.
// With several copies running, the first to answer is the one checked.
func Serving(ctx context.Context, nc *nats.Conn, name string, want []Spec) error {
	msg, err := nc.RequestWithContext(ctx, "$SRV.INFO."+name, nil)
	if err != nil {
		return fmt.Errorf("%s info: %w", name, err)
	}
	var info micro.Info
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		return fmt.Errorf("%s info: unmarshal: %w", name, err)
	}
	have := make(map[string]bool, len(info.Endpoints))
	for _, ep := range info.Endpoints {
		have[ep.Subject] = true
	}
	var missing []string
	for _, s := range want {
		if !have[s.Subject] {
			missing = append(missing, s.Subject)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s is starting: %d of %d endpoints not served yet (%s)", name, len(missing), len(want), strings.Join(missing, ", "))
	}
	return nil
}
