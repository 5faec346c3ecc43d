// Package projectiontest holds what the tests of a service that owns a
// projection (package projection) ask of it: a rebuild, rebuilds asked of
// several copies at once, and which generation's consumers are left.
package projectiontest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/projection"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// rebuildWait bounds one rebuild, on a shared machine under -race.
const rebuildWait = 60 * time.Second

// poll is how often a rebuild's status is read.
const poll = 20 * time.Millisecond

// Rebuild asks for a rebuild on the rebuild subject and follows it on the
// status subject until its generation serves; the test fails if it does
// not within a minute.
func Rebuild(t testing.TB, nc *nats.Conn, rebuild, status string) projection.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rebuildWait)
	defer cancel()
	st, err := projection.RequestRebuild(ctx, nc, rebuild, status, poll, nil)
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	return st
}

// RebuildFromEach asks for a rebuild through each connection at the same
// moment (one for each copy of the service) and returns the build they all
// followed; the test fails if a request fails or they followed different
// builds.
func RebuildFromEach(t testing.TB, conns []*nats.Conn, rebuild, status string) projection.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rebuildWait)
	defer cancel()
	sts := make([]projection.Status, len(conns))
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, nc := range conns {
		// Not Rebuild: t.Fatal belongs to the test's goroutine.
		wg.Go(func() { sts[i], errs[i] = projection.RequestRebuild(ctx, nc, rebuild, status, poll, nil) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	for _, st := range sts[1:] {
		if st.Generation != sts[0].Generation {
			t.Fatalf("rebuilds asked at once made several builds: generations %d and %d", sts[0].Generation, st.Generation)
		}
	}
	return sts[0]
}

// OnlyConsumer waits (up to 5 s) until the stream's one consumer is
// generation gen's durable consumer: <durable>-g<gen>.
func OnlyConsumer(t testing.TB, js jetstream.JetStream, stream, durable string, gen uint64) {
	t.Helper()
	ctx := context.Background()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s-g%d", durable, gen)
	testenv.Eventually(t, 5*time.Second, func() error {
		var names []string
		for n := range st.ConsumerNames(ctx).Name() {
			names = append(names, n)
		}
		if len(names) != 1 || names[0] != want {
			return fmt.Errorf("consumers of %s: %v, want only %s", stream, names, want)
		}
		return nil
	})
}
