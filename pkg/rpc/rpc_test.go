package rpc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/natsserver"
)

func connect(t *testing.T) *nats.Conn {
	t.Helper()
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// A request the caller has stopped waiting for stops in the service too:
// the handler's context ends at the caller's deadline, not at the
// service's own (longer) timeout.
func TestHandlerEndsAtTheCallersDeadline(t *testing.T) {
	nc := connect(t)
	ended := make(chan time.Duration, 1)
	svc, err := micro.AddService(nc, micro.Config{Name: "slow", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	err = svc.AddEndpoint("wait", Handler(nc, zerolog.Nop(), time.Minute, func(ctx context.Context, r Request) (any, error) {
		start := time.Now()
		<-ctx.Done()
		ended <- time.Since(start)
		return nil, ctx.Err()
	}), micro.WithEndpointSubject("test.wait"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = CallRaw(ctx, nc, "test.wait", []byte(`{}`), nil)
	if e := apierr.As(err); e.Code != apierr.Unavailable {
		t.Errorf("call = %v, want unavailable (timed out)", err)
	}
	select {
	case d := <-ended:
		if d > 5*time.Second {
			t.Errorf("handler ran %v after the caller gave up", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler was still running 10s after the caller's 300ms deadline")
	}
}

// Errors cross the wire as the service said them.
func TestCallCarriesFieldErrors(t *testing.T) {
	nc := connect(t)
	svc, err := micro.AddService(nc, micro.Config{Name: "picky", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	err = svc.AddEndpoint("check", Handler(nc, zerolog.Nop(), time.Second, func(ctx context.Context, r Request) (any, error) {
		var in struct {
			Name string `json:"name"`
		}
		if err := r.Decode(&in); err != nil {
			return nil, err
		}
		return map[string]string{"hello": in.Name}, nil
	}), micro.WithEndpointSubject("test.check"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Call[map[string]string](context.Background(), nc, "test.check", map[string]any{"name": "x"})
	if err != nil || got["hello"] != "x" {
		t.Fatalf("Call = %v, %v", got, err)
	}
	_, err = Call[map[string]string](context.Background(), nc, "test.check", map[string]any{"nme": "x"})
	var e *apierr.Error
	if !errors.As(err, &e) || e.Code != apierr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "nme" {
		t.Errorf("Call with an unknown field = %#v, want invalid naming nme", err)
	}
}

// An answer larger than the server's max_payload comes back as a clear
// error at once, not as silence and a timeout; so does a request too large
// to send.
func TestOversizedMessagesAnswerAtOnce(t *testing.T) {
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir(), MaxPayload: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	svc, err := micro.AddService(nc, micro.Config{Name: "big", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	err = svc.AddEndpoint("big", Handler(nc, zerolog.Nop(), time.Second, func(ctx context.Context, r Request) (any, error) {
		return make([]byte, 100<<10), nil
	}), micro.WithEndpointSubject("test.big"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = CallRaw(context.Background(), nc, "test.big", []byte(`{}`), nil)
	if e := apierr.As(err); e.Code != apierr.TooLarge || !strings.Contains(e.Message, "max_payload") {
		t.Errorf("oversized answer: %v, want too_large naming max_payload", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("oversized answer took %v", d)
	}
	_, err = CallRaw(context.Background(), nc, "test.big", make([]byte, 100<<10), nil)
	if e := apierr.As(err); e.Code != apierr.TooLarge || !strings.Contains(e.Message, "max_payload") {
		t.Errorf("oversized request: %v, want too_large naming max_payload", err)
	}
}

// With NATS away, a call fails at once rather than after its timeout.
func TestCallFailsFastWhileNATSIsDown(t *testing.T) {
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ns.Shutdown()
	ns.WaitForShutdown()
	for nc.Status() == nats.CONNECTED {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	_, err = CallRaw(context.Background(), nc, "test.any", []byte(`{}`), nil)
	if e := apierr.As(err); e.Code != apierr.Unavailable {
		t.Errorf("call with NATS down = %v, want unavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("call with NATS down took %v, want an answer at once", d)
	}
}

// One instance serves many requests at once: ten calls to a handler that
// takes 300 ms finish together, not one after another (issue 11: each
// service answered one request at a time).
func TestHandlerServesRequestsConcurrently(t *testing.T) {
	nc := connect(t)
	svc, err := micro.AddService(nc, micro.Config{Name: "busy", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	err = svc.AddEndpoint("work", Handler(nc, zerolog.Nop(), 10*time.Second, func(ctx context.Context, r Request) (any, error) {
		select {
		case <-time.After(300 * time.Millisecond):
			return map[string]bool{"ok": true}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}), micro.WithEndpointSubject("test.work"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	errs := make(chan error, 10)
	for range 10 {
		go func() {
			_, err := Call[map[string]bool](context.Background(), nc, "test.work", struct{}{})
			errs <- err
		}()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ten 300 ms requests took %v: served one at a time", d)
	}
}
