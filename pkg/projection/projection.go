// Package projection keeps a Redis projection of JetStream streams in
// generations, so that a rebuild never shows a half-built state.
//
// A projection named P is read through a generation pointer:
//
//	clerkpath:P:gen             the generation N that reads use (absent: no projection)
//	clerkpath:P:g<N>:…          generation N's data (the service chooses the rest of the key)
//	clerkpath:P:rebuild:lock    the instance building a generation (SET NX with expiry)
//	clerkpath:P:rebuild:status  hash: the last build's state and progress
//
// Each generation is fed by its own durable consumers, named
// <durable>-g<N>; a name is never reused, so nothing races the server's
// clean-up of a deleted consumer. A rebuild builds generation N+1 with new
// consumers while generation N keeps serving (and keeps being updated by its
// own consumers), waits until every new consumer has caught up (nothing
// pending, nothing unacknowledged, its ack floor at or past the last matching
// stream sequence at the time of the check), swaps the pointer atomically
// (a Lua script that checks the lock and the expected old generation), then
// after a grace period deletes generation N's consumers and keys.
//
// Every instance of a service runs Run: it keeps a consumer on the current
// generation, follows the pointer when another instance swaps it, and, when
// there is no pointer at all (first start, or Redis lost its data), builds a
// generation itself. Only the instance holding the lock builds.
package projection

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Gen is one generation of a projection: the key prefix its data lives under.
type Gen struct {
	N      uint64
	prefix string
}

// Prefix is the generation's key prefix, "clerkpath:<name>:g<N>:".
func (g Gen) Prefix() string { return g.prefix }

// Key is the generation's prefix followed by rest.
func (g Gen) Key(rest string) string { return g.prefix + rest }

// Handler applies a batch of consumer i (an index into Spec.Consumers) to
// generation g, one error per message as in events.BatchHandler.
type Handler func(ctx context.Context, g Gen, consumer int, msgs []jetstream.Msg) []error

// Spec describes a projection.
type Spec struct {
	// Name names the projection's keys: clerkpath:<Name>:….
	Name string
	// Consumers feed every generation. Durable is the base name: the
	// consumer of generation N is <Durable>-g<N>.
	Consumers []events.Consumer
	Apply     Handler
}

// Options tune a projection; the zero value is the production default.
type Options struct {
	// Poll is how often each instance reads the pointer (default 1 s).
	Poll time.Duration
	// Grace is how long the old generation lives after a swap, so that every
	// instance has switched before its consumers and keys are deleted
	// (default 5 × Poll).
	Grace time.Duration
	// LockTTL is the expiry of the build lock, refreshed while building
	// (default 30 s): a builder that dies frees it within LockTTL.
	LockTTL time.Duration
	// BuildTimeout bounds one build (default 30 min).
	BuildTimeout time.Duration
	// NoSelfHeal: when there is no pointer, only say so (reads answer 503)
	// instead of building a generation. Default false: build.
	NoSelfHeal bool
}

func (o *Options) defaults() {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 5 * o.Poll
	}
	if o.LockTTL <= 0 {
		o.LockTTL = 30 * time.Second
	}
	if o.BuildTimeout <= 0 {
		o.BuildTimeout = 30 * time.Minute
	}
}

// Build states.
const (
	StateNone     = "none"     // never built (or Redis lost the record)
	StateBuilding = "building" // a generation is being built
	StateDone     = "done"     // the last build swapped in its generation
	StateFailed   = "failed"   // the last build failed; the old generation still serves
)

// Status is the state of a projection's latest build, as every instance
// reports it (it is kept in Redis).
type Status struct {
	Projection string `json:"projection"`
	State      string `json:"state"`
	// Serving is the generation reads use (0: none).
	Serving uint64 `json:"serving"`
	// Generation is the generation of the latest build.
	Generation uint64 `json:"generation,omitempty"`
	// Applied and Total measure the build: stream sequences its consumers
	// have acknowledged and the streams' last sequences, summed.
	Applied  uint64    `json:"applied"`
	Total    uint64    `json:"total"`
	Error    string    `json:"error,omitempty"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
}

// ErrNoProjection is returned by Current when there is no generation to read.
var ErrNoProjection = errors.New("projection is being rebuilt")

// Projection is one instance's handle on a generational projection.
type Projection struct {
	rdb   *redis.Client
	js    jetstream.JetStream
	log   zerolog.Logger
	spec  Spec
	opts  Options
	token string // this instance, as the lock holder

	mu       sync.Mutex
	runCtx   context.Context // set by Run
	serving  map[uint64]context.CancelFunc
	building uint64 // generation this instance builds (0: none)
	kick     chan struct{}
	builds   sync.WaitGroup // builds and consumers, waited for by Run
}

// New returns a handle; Run keeps it up to date.
func New(rdb *redis.Client, js jetstream.JetStream, log zerolog.Logger, spec Spec, opts Options) *Projection {
	opts.defaults()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Projection{
		rdb: rdb, js: js, spec: spec, opts: opts, token: hex.EncodeToString(b),
		log:     log.With().Str("projection", spec.Name).Logger(),
		serving: map[uint64]context.CancelFunc{},
		kick:    make(chan struct{}, 1),
	}
}

func (p *Projection) base() string       { return "clerkpath:" + p.spec.Name + ":" }
func (p *Projection) pointerKey() string { return p.base() + "gen" }
func (p *Projection) lockKey() string    { return p.base() + "rebuild:lock" }
func (p *Projection) statusKey() string  { return p.base() + "rebuild:status" }

// Generation returns generation n of the projection (whether or not it exists).
func (p *Projection) Generation(n uint64) Gen {
	return Gen{N: n, prefix: p.base() + "g" + strconv.FormatUint(n, 10) + ":"}
}

// ConsumerName is the durable name of consumer i in generation n.
func (p *Projection) ConsumerName(i int, n uint64) string {
	return fmt.Sprintf("%s-g%d", p.spec.Consumers[i].Durable, n)
}

// Current returns the generation reads use. With no pointer it answers an
// apierr.Unavailable wrapping ErrNoProjection, so that callers answer 503
// rather than 404 or an empty list; Run is building one meanwhile.
func (p *Projection) Current(ctx context.Context) (Gen, error) {
	n, ok, err := p.pointer(ctx)
	if err != nil {
		return Gen{}, apierr.Wrap(err, apierr.Unavailable, p.spec.Name+" are unavailable")
	}
	if !ok {
		return Gen{}, apierr.Wrap(ErrNoProjection, apierr.Unavailable, p.spec.Name+" projection is being rebuilt")
	}
	return p.Generation(n), nil
}

func (p *Projection) pointer(ctx context.Context) (uint64, bool, error) {
	v, err := p.rdb.Get(ctx, p.pointerKey()).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read %s: %w", p.pointerKey(), err)
	}
	return v, true, nil
}

// Ready reports an error while there is no generation to read.
func (p *Projection) Ready(ctx context.Context) error {
	_, err := p.Current(ctx)
	return err
}

// WaitServing waits until a generation serves or wait passes.
func (p *Projection) WaitServing(ctx context.Context, wait time.Duration) error {
	return events.AwaitProjection(ctx, wait, func(ctx context.Context) (bool, error) {
		_, ok, err := p.pointer(ctx)
		return ok, err
	})
}

// Run keeps this instance's consumers on the current generation until ctx
// ends: it follows swaps made by any instance, heals a missing projection
// by building one, and collects consumers of abandoned generations.
func (p *Projection) Run(ctx context.Context) error {
	p.mu.Lock()
	p.runCtx = ctx
	p.mu.Unlock()
	defer p.builds.Wait()
	defer func() {
		p.mu.Lock()
		for n, cancel := range p.serving {
			cancel()
			delete(p.serving, n)
		}
		p.mu.Unlock()
	}()
	t := time.NewTicker(p.opts.Poll)
	defer t.Stop()
	lastGC := time.Time{}
	for {
		p.reconcile(ctx)
		if time.Since(lastGC) > 30*time.Second {
			if err := p.collect(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn().Err(err).Msg("collect old generations")
			}
			lastGC = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.kick:
		}
	}
}

// reconcile makes the consumers this instance runs match the pointer.
func (p *Projection) reconcile(ctx context.Context) {
	n, ok, err := p.pointer(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn().Err(err).Msg("read generation pointer")
		}
		return // keep whatever runs: Redis may be back in a moment
	}
	p.mu.Lock()
	for g, cancel := range p.serving {
		if (ok && g == n) || g == p.building {
			continue
		}
		cancel()
		delete(p.serving, g)
	}
	if ok && n != p.building { // the builder hands its consumers over itself
		if _, running := p.serving[n]; !running {
			p.serving[n] = p.startConsumers(ctx, p.Generation(n))
			p.log.Info().Uint64("generation", n).Msg("serving generation")
		}
	}
	building := p.building != 0
	p.mu.Unlock()
	if !ok && !building && !p.opts.NoSelfHeal {
		if _, err := p.startBuild(ctx, "no generation pointer (first start, or Redis lost its data)"); err != nil && !errors.Is(err, errBusy) {
			p.log.Warn().Err(err).Msg("self-heal: start a build")
		}
	}
}

// startConsumers runs the generation's consumers until the returned cancel.
func (p *Projection) startConsumers(parent context.Context, g Gen) context.CancelFunc {
	ctx, cancel := context.WithCancel(parent)
	for i, c := range p.spec.Consumers {
		c.Durable = p.ConsumerName(i, g.N)
		p.builds.Add(1)
		go func() {
			defer p.builds.Done()
			_ = events.Run(ctx, p.js, c, p.log, func(ctx context.Context, msgs []jetstream.Msg) []error {
				return p.spec.Apply(ctx, g, i, msgs)
			})
		}()
	}
	return cancel
}

var errBusy = errors.New("a build is already running")

// Rebuild starts building a new generation unless one is being built (by
// any instance), and returns the build's status at once; Status follows it.
func (p *Projection) Rebuild(ctx context.Context) (Status, error) {
	_, err := p.startBuild(ctx, "requested")
	switch {
	case err == nil:
		return p.Status(ctx)
	case errors.Is(err, errBusy):
		return p.awaitRecorded(ctx)
	default:
		return Status{}, err
	}
}

// awaitRecorded answers a rebuild request that found the lock taken. The
// holder records its build ("building", the new generation) a few round
// trips after it takes the lock; until then the status still shows the
// previous build, done. Answering that would send the caller after a build
// that has ended (two copies asked at once: one caller saw "generation 1
// done" five times and gave up). So it waits, up to recordWait, until the
// status shows a build running or the lock is free.
func (p *Projection) awaitRecorded(ctx context.Context) (Status, error) {
	deadline := time.Now().Add(recordWait)
	for {
		st, err := p.Status(ctx)
		if err != nil || st.State == StateBuilding || time.Now().After(deadline) {
			return st, err
		}
		held, err := p.rdb.Exists(ctx, p.lockKey()).Result()
		if err != nil {
			return st, apierr.Wrap(err, apierr.Unavailable, p.spec.Name+" are unavailable")
		}
		if held == 0 {
			return p.Status(ctx)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// recordWait bounds how long a rebuild request waits for a build that has
// taken the lock to record itself: a few Redis and JetStream round trips.
const recordWait = 5 * time.Second

// Status reports the latest build and the serving generation.
func (p *Projection) Status(ctx context.Context) (Status, error) {
	st := Status{Projection: p.spec.Name, State: StateNone}
	n, _, err := p.pointer(ctx)
	if err != nil {
		return st, apierr.Wrap(err, apierr.Unavailable, p.spec.Name+" are unavailable")
	}
	st.Serving = n
	h, err := p.rdb.HGetAll(ctx, p.statusKey()).Result()
	if err != nil {
		return st, apierr.Wrap(err, apierr.Unavailable, p.spec.Name+" are unavailable")
	}
	if s := h["state"]; s != "" {
		st.State = s
	}
	st.Generation, _ = strconv.ParseUint(h["generation"], 10, 64)
	st.Applied, _ = strconv.ParseUint(h["applied"], 10, 64)
	st.Total, _ = strconv.ParseUint(h["total"], 10, 64)
	st.Error = h["error"]
	st.Started, _ = time.Parse(time.RFC3339Nano, h["started"])
	st.Finished, _ = time.Parse(time.RFC3339Nano, h["finished"])
	if st.State == StateBuilding {
		// A builder that died leaves "building" behind: the lock says. (A
		// builder records its end before it unlocks: read the state again.)
		held, err := p.rdb.Exists(ctx, p.lockKey()).Result()
		if err == nil && held == 0 {
			if again, err := p.rdb.HGetAll(ctx, p.statusKey()).Result(); err == nil && again["generation"] == h["generation"] {
				if again["state"] == StateBuilding {
					st.State, st.Error = StateFailed, "the build was abandoned (its instance stopped)"
				} else {
					st.State, st.Error = again["state"], again["error"]
					st.Serving, _, _ = p.pointer(ctx)
				}
			}
		}
	}
	return st, nil
}

// startBuild takes the lock and starts a build in the background.
func (p *Projection) startBuild(ctx context.Context, why string) (uint64, error) {
	p.mu.Lock()
	runCtx := p.runCtx
	busy := p.building != 0
	p.mu.Unlock()
	if runCtx == nil {
		return 0, errors.New("projection is not running")
	}
	if busy {
		return 0, errBusy
	}
	ok, err := p.rdb.SetNX(ctx, p.lockKey(), p.token, p.opts.LockTTL).Result()
	if err != nil {
		return 0, apierr.Wrap(err, apierr.Unavailable, p.spec.Name+" are unavailable")
	}
	if !ok {
		return 0, errBusy
	}
	from, had, err := p.pointer(ctx)
	if err == nil {
		var next uint64
		if next, err = p.nextGeneration(ctx, from); err == nil {
			p.mu.Lock()
			p.building = next
			p.mu.Unlock()
			err = p.rdb.HSet(ctx, p.statusKey(), "state", StateBuilding, "generation", next, "applied", 0, "total", 0,
				"error", "", "started", time.Now().UTC().Format(time.RFC3339Nano), "finished", "").Err()
			if err == nil {
				p.log.Info().Uint64("generation", next).Str("why", why).Msg("building a new generation")
				p.builds.Add(1)
				go func() {
					defer p.builds.Done()
					p.build(runCtx, next, from, had)
				}()
				return next, nil
			}
			p.mu.Lock()
			p.building = 0
			p.mu.Unlock()
		}
	}
	p.unlock(context.WithoutCancel(ctx))
	return 0, fmt.Errorf("start a build of %s: %w", p.spec.Name, err)
}

// nextGeneration is above the serving one, the last build's, and every
// generation a consumer exists for: names are never reused, even after
// Redis lost the pointer.
func (p *Projection) nextGeneration(ctx context.Context, from uint64) (uint64, error) {
	next := from
	if g, err := p.rdb.HGet(ctx, p.statusKey(), "generation").Uint64(); err == nil {
		next = max(next, g)
	}
	cons, err := p.consumers(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range cons {
		next = max(next, c.gen)
	}
	return next + 1, nil
}

type genConsumer struct {
	stream, name string
	gen          uint64
}

// consumers lists the durable consumers of every generation.
func (p *Projection) consumers(ctx context.Context) ([]genConsumer, error) {
	var out []genConsumer
	seen := map[string]bool{}
	for _, c := range p.spec.Consumers {
		if seen[c.Stream] {
			continue
		}
		seen[c.Stream] = true
		st, err := p.js.Stream(ctx, c.Stream)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", c.Stream, err)
		}
		names := st.ConsumerNames(ctx)
		for name := range names.Name() {
			for _, c2 := range p.spec.Consumers {
				if c2.Stream != c.Stream {
					continue
				}
				if rest, ok := strings.CutPrefix(name, c2.Durable+"-g"); ok {
					if g, err := strconv.ParseUint(rest, 10, 64); err == nil {
						out = append(out, genConsumer{stream: c.Stream, name: name, gen: g})
					}
				}
			}
		}
		if err := names.Err(); err != nil {
			return nil, fmt.Errorf("consumers of %s: %w", c.Stream, err)
		}
	}
	return out, nil
}

var refreshScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`)

// swapScript moves the pointer from ARGV[2] (” = absent) to ARGV[3] if
// this instance (ARGV[1]) still holds the lock.
var swapScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return redis.error_reply('lost the build lock') end
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[2] then return redis.error_reply('generation pointer moved to ' .. cur) end
redis.call('SET', KEYS[1], ARGV[3])
return 1`)

func (p *Projection) unlock(ctx context.Context) {
	_ = unlockScript.Run(ctx, p.rdb, []string{p.lockKey()}, p.token).Err()
}

// build builds generation next, swaps it in for from (had: a pointer
// existed) and drops the old generation.
func (p *Projection) build(ctx context.Context, next, from uint64, had bool) {
	g := p.Generation(next)
	bctx, cancel := context.WithTimeout(ctx, p.opts.BuildTimeout)
	defer cancel()
	stop := p.startConsumers(ctx, g) // outlives the build when it is swapped in
	err := p.awaitCaughtUp(bctx, g)
	if err == nil {
		expected := ""
		if had {
			expected = strconv.FormatUint(from, 10)
		}
		err = swapScript.Run(bctx, p.rdb, []string{p.pointerKey(), p.lockKey()}, p.token, expected, next).Err()
	}
	fin, finCancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer finCancel()
	if err != nil {
		stop()
		p.mu.Lock()
		p.building = 0
		p.mu.Unlock()
		if ctx.Err() != nil {
			// The service is stopping: the next start collects the rest.
			err = errors.New("the building instance stopped")
		} else {
			p.log.Error().Err(err).Uint64("generation", next).Msg("build failed; the old generation still serves")
			p.dropGeneration(fin, next)
		}
		_ = p.rdb.HSet(fin, p.statusKey(), "state", StateFailed, "error", err.Error(), "finished", time.Now().UTC().Format(time.RFC3339Nano)).Err()
		p.unlock(fin)
		return
	}
	p.mu.Lock()
	if _, ok := p.serving[next]; ok {
		stop() // reconcile saw the new pointer first and runs its own
	} else {
		p.serving[next] = stop
	}
	p.building = 0
	p.mu.Unlock()
	p.log.Info().Uint64("generation", next).Uint64("old", from).Msg("swapped in the new generation")
	select {
	case p.kick <- struct{}{}: // stop this instance's old consumers now
	default:
	}
	// Other instances switch within Poll; then the old generation goes.
	select {
	case <-ctx.Done():
		// Stopping: the swap is done; the next start collects the old generation.
		_ = p.rdb.HSet(fin, p.statusKey(), "state", StateDone, "finished", time.Now().UTC().Format(time.RFC3339Nano)).Err()
		p.unlock(fin)
		return
	case <-time.After(p.opts.Grace):
	}
	if err := p.collectBelow(fin, next); err != nil {
		p.log.Warn().Err(err).Msg("drop old generations")
	}
	_ = p.rdb.HSet(fin, p.statusKey(), "state", StateDone, "finished", time.Now().UTC().Format(time.RFC3339Nano)).Err()
	p.unlock(fin)
}

// awaitCaughtUp waits until every consumer of g has applied its stream up
// to the last matching sequence at the time of the check, refreshing the
// lock and recording progress meanwhile.
func (p *Projection) awaitCaughtUp(ctx context.Context, g Gen) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	lastRefresh := time.Now()
	for {
		if time.Since(lastRefresh) > p.opts.LockTTL/3 {
			ok, err := refreshScript.Run(ctx, p.rdb, []string{p.lockKey()}, p.token, p.opts.LockTTL.Milliseconds()).Int()
			if err != nil {
				return fmt.Errorf("refresh the build lock: %w", err)
			}
			if ok == 0 {
				return errors.New("lost the build lock (did Redis lose its data?)")
			}
			lastRefresh = time.Now()
		}
		done, applied, total, err := p.caughtUp(ctx, g)
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("build generation %d: %w", g.N, ctx.Err())
		}
		if err == nil {
			_ = p.rdb.HSet(ctx, p.statusKey(), "applied", applied, "total", total).Err()
			if done {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("build generation %d: %w", g.N, ctx.Err())
		case <-t.C:
		}
	}
}

// caughtUp checks every consumer of g. The stream's last matching sequence
// is read before the consumer, so a consumer that reaches it has applied
// everything stored when the check began.
func (p *Projection) caughtUp(ctx context.Context, g Gen) (done bool, applied, total uint64, err error) {
	done = true
	for i, c := range p.spec.Consumers {
		st, err := p.js.Stream(ctx, c.Stream)
		if err != nil {
			return false, 0, 0, fmt.Errorf("stream %s: %w", c.Stream, err)
		}
		var last uint64
		for _, f := range c.Filters {
			m, err := st.GetLastMsgForSubject(ctx, f)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				return false, 0, 0, fmt.Errorf("last message of %s on %s: %w", f, c.Stream, err)
			}
			last = max(last, m.Sequence)
		}
		cons, err := p.js.Consumer(ctx, c.Stream, p.ConsumerName(i, g.N))
		if err != nil {
			return false, 0, 0, err // not created yet
		}
		ci, err := cons.Info(ctx)
		if err != nil {
			return false, 0, 0, err
		}
		total += last
		applied += min(ci.AckFloor.Stream, last)
		if ci.NumPending > 0 || ci.NumAckPending > 0 || ci.AckFloor.Stream < last {
			done = false
		}
	}
	return done, applied, total, nil
}

// collect drops consumers and keys of generations nobody serves or builds:
// those below the pointer, and those above it when no build holds the lock
// (a builder that died).
func (p *Projection) collect(ctx context.Context) error {
	n, ok, err := p.pointer(ctx)
	if err != nil || !ok {
		return err
	}
	cons, err := p.consumers(ctx)
	if err != nil {
		return err
	}
	held, err := p.rdb.Exists(ctx, p.lockKey()).Result()
	if err != nil {
		return err
	}
	for _, c := range cons {
		if c.gen < n || (c.gen > n && held == 0) {
			if err := p.deleteConsumer(ctx, c); err != nil {
				return err
			}
			p.dropKeys(ctx, c.gen)
		}
	}
	return nil
}

// collectBelow drops every generation below n.
func (p *Projection) collectBelow(ctx context.Context, n uint64) error {
	cons, err := p.consumers(ctx)
	if err != nil {
		return err
	}
	gens := map[uint64]bool{}
	for _, c := range cons {
		if c.gen < n {
			if err := p.deleteConsumer(ctx, c); err != nil {
				return err
			}
			gens[c.gen] = true
		}
	}
	if n > 1 {
		gens[n-1] = true
	}
	for g := range gens {
		p.dropKeys(ctx, g)
	}
	return nil
}

func (p *Projection) dropGeneration(ctx context.Context, n uint64) {
	for i, c := range p.spec.Consumers {
		_ = p.deleteConsumer(ctx, genConsumer{stream: c.Stream, name: p.ConsumerName(i, n), gen: n})
	}
	p.dropKeys(ctx, n)
}

func (p *Projection) deleteConsumer(ctx context.Context, c genConsumer) error {
	err := p.js.DeleteConsumer(ctx, c.stream, c.name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("delete consumer %s on %s: %w", c.name, c.stream, err)
	}
	return nil
}

// dropKeys deletes generation n's keys.
func (p *Projection) dropKeys(ctx context.Context, n uint64) {
	it := p.rdb.Scan(ctx, 0, p.Generation(n).Prefix()+"*", 1000).Iterator()
	batch := make([]string, 0, 500)
	flush := func() {
		if len(batch) > 0 {
			if err := p.rdb.Unlink(ctx, batch...).Err(); err != nil {
				p.log.Warn().Err(err).Uint64("generation", n).Msg("drop keys")
			}
			batch = batch[:0]
		}
	}
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	if err := it.Err(); err != nil {
		p.log.Warn().Err(err).Uint64("generation", n).Msg("drop keys")
	}
}

// RebuildHandler answers a rebuild request (an empty body): it starts a
// build unless one runs and replies with the Status.
func (p *Projection) RebuildHandler(ctx context.Context, _ rpc.Request) (any, error) {
	return p.Rebuild(ctx)
}

// StatusHandler answers a status request (an empty body) with the Status.
func (p *Projection) StatusHandler(ctx context.Context, _ rpc.Request) (any, error) {
	return p.Status(ctx)
}

// ApplyByKey applies a batch with up to parallel goroutines, keeping the
// order of messages with the same key (an entity: a seeker, an
// organisation) and running different keys at once. Replays are bound by
// round trips per event; this is what makes a rebuild of a long stream
// take seconds, not minutes. Changes of different keys must commute.
func ApplyByKey(ctx context.Context, msgs []jetstream.Msg, parallel int, key func(jetstream.Msg) string, apply func(context.Context, jetstream.Msg) error) []error {
	errs := make([]error, len(msgs))
	groups := map[string][]int{}
	var order []string
	for i, m := range msgs {
		k := key(m)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	if len(order) == 1 || parallel <= 1 {
		for i, m := range msgs {
			errs[i] = apply(ctx, m)
		}
		return errs
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, k := range order {
		idx := groups[k]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for n, i := range idx {
				errs[i] = apply(ctx, msgs[i])
				if errs[i] != nil {
					// Later changes of this key wait for the failed one's redelivery.
					for _, j := range idx[n+1:] {
						errs[j] = fmt.Errorf("an earlier event of %s failed: %w", k, errs[i])
					}
					return
				}
			}
		})
	}
	wg.Wait()
	return errs
}
