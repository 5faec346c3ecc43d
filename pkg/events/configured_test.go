package events

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/natsserver"
	"github.com/clerkpath/clerkpath/pkg/natsx"
)

// A consumer created as Run configures it reads back as configured (one
// filter comes back as FilterSubject), and one with another setting does
// not: only the first may be consumed without an update.
func TestConfiguredReadsBackTheConsumerRunCreates(t *testing.T) {
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	ctx := context.Background()
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "test", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureStreams(ctx, js, 1); err != nil {
		t.Fatal(err)
	}
	for _, filters := range [][]string{{JobsPosted}, {JobsPosted, JobsClosed}} {
		want := jetstream.ConsumerConfig{Durable: "c" + filters[len(filters)-1][5:], FilterSubjects: filters, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: 2 * time.Minute, MaxDeliver: 8, DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: 1000}
		c, err := js.CreateOrUpdateConsumer(ctx, StreamJobs, want)
		if err != nil {
			t.Fatal(err)
		}
		if !configured(c.CachedInfo().Config, want) {
			t.Fatalf("%v: the consumer as created is not configured: %+v", filters, c.CachedInfo().Config)
		}
		other := want
		other.AckWait = time.Minute
		if configured(c.CachedInfo().Config, other) {
			t.Fatalf("%v: a consumer with another AckWait counts as configured", filters)
		}
	}
}
