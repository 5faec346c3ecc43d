package rpc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

type greetReq struct {
	Name string `json:"name"`
}

type greetRep struct {
	Greeting string `json:"greeting"`
}

var greet = Endpoint[greetReq, greetRep]{Name: "greet", Subject: "svc.test.greet", Doc: "says hello"}

var upload = Endpoint[Raw, greetRep]{Name: "upload", Subject: "svc.test.upload", Doc: "counts bytes"}

func serveTest(t *testing.T, nc *nats.Conn, bs ...Binding) {
	t.Helper()
	svc, err := micro.AddService(nc, micro.Config{Name: "test", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	if err := AddEndpoints(svc, nc, zerolog.Nop(), 5*time.Second, bs...); err != nil {
		t.Fatal(err)
	}
}

// A typed endpoint carries its request and reply both ways; the service
// decodes strictly, so a caller sending a field the service does not know
// hears which one.
func TestEndpointCallsAndDecodesStrictly(t *testing.T) {
	nc := connect(t)
	serveTest(t, nc,
		greet.Bind(func(ctx context.Context, req greetReq) (greetRep, error) {
			if req.Name == "" {
				return greetRep{}, apierr.InvalidFields(apierr.FieldError{Field: "name", Message: "is required"})
			}
			return greetRep{Greeting: "hello " + req.Name}, nil
		}),
		upload.Bind(func(ctx context.Context, req Raw) (greetRep, error) {
			return greetRep{Greeting: req.Header.Get("X-Kind") + ":" + string(req.Data)}, nil
		}),
	)
	ctx := context.Background()
	rep, err := greet.Call(ctx, nc, greetReq{Name: "Ada"})
	if err != nil || rep.Greeting != "hello Ada" {
		t.Fatalf("Call = %+v, %v", rep, err)
	}
	raw, err := greet.Forward(ctx, nc, greetReq{Name: "Bo"})
	if err != nil || !strings.Contains(string(raw), `"greeting":"hello Bo"`) {
		t.Fatalf("Forward = %s, %v", raw, err)
	}
	_, err = greet.Call(ctx, nc, greetReq{})
	if e := apierr.As(err); e.Code != apierr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "name" {
		t.Errorf("empty name: %v, want invalid naming name", err)
	}
	// A drifted caller (a field the service does not know) is refused by name.
	_, err = CallRaw(ctx, nc, greet.Subject, []byte(`{"name":"x","nickname":"y"}`), nil)
	if e := apierr.As(err); e.Code != apierr.Invalid || !strings.Contains(e.Error(), "nickname") {
		t.Errorf("unknown field: %v, want invalid naming nickname", err)
	}
	h := nats.Header{}
	h.Set("X-Kind", "csv")
	rep, err = upload.Call(ctx, nc, Raw{Data: []byte("a,b"), Header: h})
	if err != nil || rep.Greeting != "csv:a,b" {
		t.Errorf("raw Call = %+v, %v", rep, err)
	}
	if s := greet.Spec(); s.Request.Name() != "greetReq" || s.Reply.Name() != "greetRep" || s.Subject != "svc.test.greet" {
		t.Errorf("Spec = %+v", s)
	}
}

// Each error code has one HTTP status, used for micro's error statistics.
func TestErrorRepliesCarryTheCodesHTTPStatus(t *testing.T) {
	nc := connect(t)
	serveTest(t, nc, greet.Bind(func(ctx context.Context, req greetReq) (greetRep, error) {
		return greetRep{}, apierr.New(apierr.Conflict, "taken")
	}))
	msg, err := nc.Request(greet.Subject, []byte(`{"name":"x"}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get(micro.ErrorCodeHeader); got != "409" {
		t.Errorf("error code header = %q, want 409", got)
	}
}

// A service that exists but has not added its endpoints answers PING, yet
// its requests get "no responders": Serving says it is not serving until
// every endpoint is there, and then a call is answered.
func TestServingWaitsForEveryEndpointNotJustPing(t *testing.T) {
	nc := connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	want := []Spec{greet.Spec(), upload.Spec()}
	if err := Serving(ctx, nc, "test", want); err == nil {
		t.Fatal("Serving with no service: nil error")
	}
	svc, err := micro.AddService(nc, micro.Config{Name: "test", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	if _, err := nc.RequestWithContext(ctx, "$SRV.PING.test", nil); err != nil {
		t.Fatalf("PING before endpoints: %v", err)
	}
	if _, err := greet.Call(ctx, nc, greetReq{Name: "Ada"}); err == nil {
		t.Fatal("call before endpoints answered")
	}
	if err := Serving(ctx, nc, "test", want); err == nil || !strings.Contains(err.Error(), "2 of 2") {
		t.Fatalf("Serving before endpoints: %v", err)
	}
	hello := greet.Bind(func(ctx context.Context, req greetReq) (greetRep, error) { return greetRep{Greeting: "hi"}, nil })
	if err := AddEndpoints(svc, nc, zerolog.Nop(), time.Second, hello); err != nil {
		t.Fatal(err)
	}
	if err := Serving(ctx, nc, "test", want); err == nil || !strings.Contains(err.Error(), "svc.test.upload") {
		t.Fatalf("Serving with one of two endpoints: %v", err)
	}
	if err := Serving(ctx, nc, "test", want[:1]); err != nil {
		t.Fatalf("Serving: %v", err)
	}
	// What Serving promises: a call made right after it is answered.
	if rep, err := greet.Call(ctx, nc, greetReq{Name: "Ada"}); err != nil || rep.Greeting != "hi" {
		t.Fatalf("call after Serving: %+v %v", rep, err)
	}
}
