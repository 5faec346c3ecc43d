package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// ErrPoison marks an event that can never be handled (it does not parse, or
// breaks an invariant). It is terminated and copied to the DLQ stream with
// its reason instead of being redelivered.
var ErrPoison = errors.New("poison event")

// Poison wraps err as a poison error.
func Poison(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrPoison, fmt.Sprintf(format, args...))
}

// Consumer describes a durable consumer and how it batches.
type Consumer struct {
	Stream  string
	Durable string
	Filters []string
	// MaxBatch is the most messages handed to the handler at once (default 1).
	MaxBatch int
	// Linger is how long to wait for more messages after the first before
	// handing over a partial batch.
	Linger time.Duration
	// MinInterval, when set, is the least time between the starts of two
	// partial batches: a message that comes within MinInterval of the
	// last batch waits for the rest of it, gathering what else comes, and
	// a full batch goes at once. It is for a handler whose every call costs
	// much whatever its size (a Meilisearch task): under a trickle of
	// messages it is called about once a MinInterval instead of once a
	// Linger, while a message after a quiet spell still goes after Linger.
	MinInterval time.Duration
	// IntervalPerBusy, when set, lengthens MinInterval to that many times
	// how long the handler took over the last small batch it finished (at
	// most a tenth of MaxBatch: a trickle's), so that a handler whose cost
	// grows (a larger index, a busier Meilisearch) spends at most about
	// 1/IntervalPerBusy of a trickle's time at work (the interval runs
	// from one batch's start to the next's). A bulk's large
	// batches do not count: the partial batch at its end goes after
	// MinInterval, not after a multiple of what a large batch took.
	IntervalPerBusy float64
	// MaxInterval, when set, bounds what IntervalPerBusy makes of the
	// interval (never below MinInterval): a small batch that waited behind
	// a bulk's large ones took long for reasons that pass.
	MaxInterval time.Duration
	// MaxDeliver and BackOff bound redeliveries of a failing message; after
	// the last attempt it goes to the DLQ.
	MaxDeliver int
	BackOff    []time.Duration
	AckWait    time.Duration
	// Prefetch is how many messages the pull may buffer beyond those
	// handed to the handler (default twice MaxBatch, at least 64): what
	// keeps the next batch ready while the handler works, and what a
	// consumer of large messages holds in memory for it.
	Prefetch int
	// Pipeline is how many batches may be in the handler at once (default
	// 1). With more, the next batch is handed over as soon as the handler
	// of the one before calls Release (or returns), in its own goroutine:
	// a handler that only has to start its work in order (enqueue a
	// Meilisearch task) lets the next batch start while it waits.
	Pipeline int
}

type releaseKey struct{}

// Release tells the consume loop that the batch handled with ctx has done
// what must happen in batch order, so that the next batch may be handed
// over (Consumer.Pipeline). Calling it more than once, or with a context
// not from a pipelined consumer, does nothing.
func Release(ctx context.Context) {
	if f, ok := ctx.Value(releaseKey{}).(func()); ok {
		f()
	}
}

// BatchHandler handles a batch and returns one error per message (nil: done).
type BatchHandler func(ctx context.Context, msgs []jetstream.Msg) []error

// recreateAfter is how long Run waits to recreate a consumer it heard was
// deleted. nats-server tells the pulls first and deletes the consumer's
// files last; a consumer recreated in between (a few milliseconds were
// enough for two copies) opens the old one's files and starts from its
// stale state instead of replaying the stream, holds the events that state
// counts as delivered until AckWait runs out, and then has its directory
// deleted under it, so that every later update of it fails ("…/obs/<durable>/
// meta.inf.tmp: no such file or directory").
// TestDeletedConsumerComesBackFreshUnderTwoCopies.
const recreateAfter = time.Second

// Run creates or updates the durable consumer and delivers batches to h until
// ctx ends; failures to create or read the consumer are retried, never
// returned. Every message is acknowledged explicitly: after success, Nak'd
// with back-off after a transient failure, or copied to the DLQ and
// terminated when poison or out of attempts.
func Run(ctx context.Context, js jetstream.JetStream, c Consumer, log zerolog.Logger, h BatchHandler) error {
	if c.MaxBatch < 1 {
		c.MaxBatch = 1
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 8
	}
	if c.BackOff == nil {
		c.BackOff = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second, 5 * time.Second, 15 * time.Second}
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	cfg := jetstream.ConsumerConfig{
		Durable:        c.Durable,
		FilterSubjects: c.Filters,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.AckWait,
		MaxDeliver:     c.MaxDeliver,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		MaxAckPending:  max(1000, c.MaxBatch*4),
	}
	retry := 100 * time.Millisecond
	for {
		err := consume(ctx, js, c, cfg, log, h)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, jetstream.ErrConsumerDeleted) {
			// An operator deleted the consumer to rebuild the projection:
			// recreate it, which replays the stream from the start — once
			// the server has finished deleting it (recreateAfter).
			log.Warn().Dur("recreate_in", recreateAfter).Msg("consumer deleted; recreating it and replaying the stream")
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(recreateAfter):
			}
			continue
		}
		// NATS down, JetStream busy, a consumer being deleted while we
		// recreate it: never a reason to stop the service. Retry.
		log.Error().Err(err).Dur("retry_in", retry).Msg("consumer failed; retrying")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
		retry = min(2*retry, 5*time.Second)
	}
}

func consume(ctx context.Context, js jetstream.JetStream, c Consumer, cfg jetstream.ConsumerConfig, log zerolog.Logger, h BatchHandler) error {
	cons, err := js.CreateOrUpdateConsumer(ctx, c.Stream, cfg)
	if err != nil {
		return fmt.Errorf("consumer %s on %s: %w", c.Durable, c.Stream, err)
	}
	// Heartbeats: a pull that has gone dead (a consumer deleted unseen, a
	// server that lost it) shows within seconds, not minutes (heardNothing).
	prefetch := c.Prefetch
	if prefetch < 1 {
		prefetch = max(2*c.MaxBatch, 64)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(prefetch), jetstream.PullHeartbeat(heartbeat))
	if err != nil {
		return fmt.Errorf("consumer %s: messages: %w", c.Durable, err)
	}
	// Stopping drains the pull rather than dropping it: what the server
	// has already delivered here is handed back (releaseHeld), so another
	// copy gets it at once instead of after AckWait (2 min for matching's
	// reverse consumer).
	stop := context.AfterFunc(ctx, it.Drain)
	defer stop()
	defer it.Stop()
	var took atomic.Int64 // how long the handler took over the last small batch it finished
	if c.IntervalPerBusy > 0 {
		h = timedHandler(h, max(1, c.MaxBatch/10), &took)
	}
	pipe := newPipeline(c.Pipeline, func(ctx context.Context, batch []jetstream.Msg) {
		settleAll(ctx, js, c, log, batch, keepAlive(ctx, c.AckWait, h, batch))
	})
	defer pipe.wait()
	batch := make([]jetstream.Msg, 0, c.MaxBatch)
	silent := 0          // heartbeats missed in a row while the consumer exists
	var handed time.Time // when the last batch was handed over
	for {
		batch = batch[:0]
		first, err := it.Next()
		if errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil {
			if silent, err = heardNothing(ctx, cons, c.Durable, silent, log); err == nil {
				continue
			}
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				releaseHeld(it, nil)
				return nil
			}
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				return jetstream.ErrConsumerDeleted
			}
			// Any other failure of the pull: start over. Run creates the
			// consumer again, or finds it as it was and resumes from its
			// acknowledged position.
			return fmt.Errorf("consumer %s: next message: %w", c.Durable, err)
		}
		silent = 0
		batch = append(batch, first)
		deadline := gatherUntil(time.Now(), c.Linger, handed, minInterval(c, time.Duration(took.Load())))
		for len(batch) < c.MaxBatch {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			m, err := it.Next(jetstream.NextMaxWait(left))
			if err != nil {
				break
			}
			batch = append(batch, m)
		}
		if ctx.Err() != nil {
			releaseHeld(it, batch)
			return nil
		}
		handed = time.Now()
		if c.Pipeline <= 1 {
			settleAll(ctx, js, c, log, batch, keepAlive(ctx, c.AckWait, h, batch))
			continue
		}
		if err := pipe.hand(ctx, slices.Clone(batch)); err != nil {
			// Not handed over: ctx ended while waiting for a slot.
			releaseHeld(it, batch)
			return nil
		}
	}
}

// timedHandler is h keeping in took how long its last call with at most
// small messages took.
func timedHandler(h BatchHandler, small int, took *atomic.Int64) BatchHandler {
	return func(ctx context.Context, msgs []jetstream.Msg) []error {
		if len(msgs) > small {
			return h(ctx, msgs)
		}
		t0 := time.Now()
		defer func() { took.Store(int64(time.Since(t0))) }()
		return h(ctx, msgs)
	}
}

// minInterval is the least time between two partial batches of c when the
// handler took lastTook over the last one.
func minInterval(c Consumer, lastTook time.Duration) time.Duration {
	busy := time.Duration(c.IntervalPerBusy * float64(lastTook))
	if c.MaxInterval > 0 {
		busy = min(busy, c.MaxInterval)
	}
	return max(c.MinInterval, busy)
}

// gatherUntil is when a batch whose first message came at now is handed
// over if not full before: Linger after it, and no sooner than
// MinInterval after the last batch was handed over (at handed).
func gatherUntil(now time.Time, linger time.Duration, handed time.Time, minInterval time.Duration) time.Time {
	deadline := now.Add(linger)
	if minInterval > 0 && !handed.IsZero() {
		if d := handed.Add(minInterval); d.After(deadline) {
			return d
		}
	}
	return deadline
}

// releaseHeld hands back to the server the messages a stopping consumer
// holds unhandled, the batch being gathered and whatever the pull has
// buffered, so that they are delivered to another copy at once (a Nak
// without delay) rather than after AckWait. It drains the iterator, which
// stops the pull.
func releaseHeld(it jetstream.MessagesContext, batch []jetstream.Msg) {
	for _, m := range batch {
		_ = m.Nak()
	}
	it.Drain()
	for {
		m, err := it.Next()
		if err != nil {
			return
		}
		_ = m.Nak()
	}
}

// keepAlive runs h on batch, telling the server every third of ackWait
// that the batch's messages are still being worked on. A batch that takes
// longer than AckWait (a Meilisearch task queued behind others, a posting
// announced to thousands of seekers) is otherwise delivered again while
// its handler still runs, and handled twice (issue 14: at 10,000 postings
// the indexer sent Meilisearch 18,486 documents for 10,000 postings).
func keepAlive(ctx context.Context, ackWait time.Duration, h BatchHandler, batch []jetstream.Msg) []error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				for _, m := range batch {
					_ = m.InProgress()
				}
			}
		}
	})
	defer wg.Wait()
	defer close(done)
	return h(ctx, batch)
}

// settleAll settles each message of a batch with its handler's result.
func settleAll(ctx context.Context, js jetstream.JetStream, c Consumer, log zerolog.Logger, batch []jetstream.Msg, results []error) {
	for i, m := range batch {
		var herr error
		if i < len(results) {
			herr = results[i]
		}
		settle(ctx, js, c, log, m, herr)
	}
}

// pipeline runs up to Consumer.Pipeline batches in the handler at once,
// each handed over once the one before released it (Release) or finished.
type pipeline struct {
	slots  chan struct{}
	wg     sync.WaitGroup
	handle func(ctx context.Context, batch []jetstream.Msg)
}

func newPipeline(n int, handle func(ctx context.Context, batch []jetstream.Msg)) *pipeline {
	return &pipeline{slots: make(chan struct{}, max(n, 1)), handle: handle}
}

// hand starts batch in its own goroutine and returns once its handler
// released it; an error only when ctx ended first.
func (p *pipeline) hand(ctx context.Context, batch []jetstream.Msg) error {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	released := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(released) }) }
	p.wg.Go(func() {
		defer func() { <-p.slots }()
		defer release()
		p.handle(context.WithValue(ctx, releaseKey{}, release), batch)
	})
	select {
	case <-released:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait waits for every batch in the handler.
func (p *pipeline) wait() { p.wg.Wait() }

// heardNothing decides what a pull that heard nothing for two heartbeat
// periods means. It keeps the pull (the iterator asks the server again on
// the next Next) unless the consumer is gone, or the server answers about
// the consumer while the pull stays silent maxSilent times in a row.
//
// Stopping the pull on every missed heartbeat, as this loop once did, lost
// what the server had already sent it: a server that is only slow (an
// fsync stall on a busy disk, a JetStream API backlog) goes on delivering
// to the old pull, the client drops those messages once it unsubscribed,
// and they sit unacknowledged until AckWait runs out (30 s), again on every
// stall (issue 14: matching's indexer acknowledged nothing for minutes).
// A consumer deleted while this service was cut off from NATS still shows
// here: its pull is silent and Info finds no consumer.
func heardNothing(ctx context.Context, cons jetstream.Consumer, durable string, silent int, log zerolog.Logger) (int, error) {
	ictx, cancel := context.WithTimeout(ctx, infoTimeout)
	defer cancel()
	_, err := cons.Info(ictx)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted):
		return silent, jetstream.ErrConsumerDeleted
	case err != nil:
		// The server does not answer either: it is busy or unreachable,
		// and a new pull would fare no better. Keep waiting on this one.
		log.Warn().Err(err).Str("consumer", durable).Msg("no heartbeat and no consumer info; keeping the pull")
		return silent, nil
	case silent+1 >= maxSilent:
		return silent, fmt.Errorf("consumer %s: %d heartbeats missed while the server answers: %w", durable, silent+1, jetstream.ErrNoHeartbeat)
	}
	log.Warn().Str("consumer", durable).Int("missed", silent+1).Msg("no heartbeat; the consumer exists, keeping the pull")
	return silent + 1, nil
}

// Heartbeat handling of the consume loop.
const (
	// heartbeat is how often the server signals an idle pull.
	heartbeat = 2 * time.Second
	// infoTimeout bounds the consumer check after a missed heartbeat.
	infoTimeout = 5 * time.Second
	// maxSilent missed heartbeats in a row with the consumer present
	// means the pull itself is lost: it is made anew.
	maxSilent = 3
)

func settle(ctx context.Context, js jetstream.JetStream, c Consumer, log zerolog.Logger, m jetstream.Msg, herr error) {
	if herr == nil {
		if err := m.Ack(); err != nil {
			log.Warn().Err(err).Msg("ack")
		}
		return
	}
	attempts := uint64(1)
	if md, err := m.Metadata(); err == nil {
		attempts = md.NumDelivered
	}
	env := EnvelopeOf(m)
	if errors.Is(herr, ErrPoison) || attempts >= uint64(c.MaxDeliver) {
		reason := herr.Error()
		if err := deadLetter(ctx, js, c, m, reason); err != nil {
			// Keep the message: without a DLQ copy, terminating it would lose it.
			log.Error().Err(err).Str("event_id", env.ID).Msg("dead-letter failed; will redeliver")
			_ = m.NakWithDelay(c.BackOff[len(c.BackOff)-1])
			return
		}
		log.Error().Err(herr).Str("event_id", env.ID).Str("subject", env.Subject).Msg("event dead-lettered")
		_ = m.TermWithReason(truncate(reason, 200))
		return
	}
	delay := c.BackOff[min(int(attempts)-1, len(c.BackOff)-1)]
	log.Warn().Err(herr).Str("event_id", env.ID).Uint64("attempt", attempts).Dur("retry_in", delay).Msg("event failed; will retry")
	_ = m.NakWithDelay(delay)
}

// Header names on dead-lettered messages.
const (
	HeaderDLQReason   = "Clerkpath-Dlq-Reason"
	HeaderDLQConsumer = "Clerkpath-Dlq-Consumer"
	HeaderDLQStream   = "Clerkpath-Dlq-Stream"
	HeaderDLQSeq      = "Clerkpath-Dlq-Stream-Seq"
)

func deadLetter(ctx context.Context, js jetstream.JetStream, c Consumer, m jetstream.Msg, reason string) error {
	out := nats.NewMsg(DLQPrefix + m.Subject())
	out.Data = m.Data()
	for k, vs := range m.Headers() {
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	out.Header.Del(nats.MsgIdHdr)
	out.Header.Set(HeaderDLQReason, truncate(reason, 1000))
	out.Header.Set(HeaderDLQConsumer, c.Durable)
	out.Header.Set(HeaderDLQStream, c.Stream)
	id := c.Durable + ":" + m.Subject()
	if md, err := m.Metadata(); err == nil {
		out.Header.Set(HeaderDLQSeq, fmt.Sprint(md.Sequence.Stream))
		id = fmt.Sprintf("%s:%s:%d", c.Durable, c.Stream, md.Sequence.Stream)
	}
	_, err := js.PublishMsg(ctx, out, jetstream.WithMsgID(id))
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// AwaitProjection polls applied until it reports that a projection has
// caught up with a write (read-your-writes for the caller who made it),
// wait passes, or ctx ends.
func AwaitProjection(ctx context.Context, wait time.Duration, applied func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(wait)
	delay := time.Millisecond
	for {
		ok, err := applied(ctx)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("projection has not applied the write")
			}
			return fmt.Errorf("await projection: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Millisecond)
	}
}
