// Package notifications tells seekers, counselors and employers what
// changed for them: new matches, a posting they matched being closed, a
// credential's renewal cycle ending soon, a new opted-in candidate. It
// follows the MATCHES, JOBS, CREDENTIALS and PROFILES streams, keeps each
// subscriber's notifications in a bounded Redis stream (read by the
// gateway's server-sent events through the feed endpoint) and delivers
// them to registered webhooks, signed as Standard Webhooks specifies, with
// retries and back-off for about a day (docs/notifications.md).
package notifications

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// Name and Version of the service.
const (
	Name    = "notifications"
	Version = "1.0.0"
)

// EnvAllowLoopbackHTTP, set to 1 or true, lets webhooks use http:// URLs on
// a loopback host (a receiver on the developer's machine, the tests);
// otherwise webhook URLs must be https.
const EnvAllowLoopbackHTTP = "CLERKPATH_WEBHOOK_ALLOW_LOOPBACK_HTTP"

// DefaultBackoff is the wait before each retry of a failed delivery:
// 8 retries over about 22 hours, after which the webhook is disabled.
var DefaultBackoff = []time.Duration{
	5 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
}

// Options tune the service; the zero value is production's.
type Options struct {
	// AllowLoopbackHTTP accepts http:// webhook URLs whose host is a
	// loopback address or "localhost".
	AllowLoopbackHTTP bool
	// Backoff is the wait before each retry of a delivery; after the last
	// retry fails the webhook is disabled. Nil means DefaultBackoff.
	Backoff []time.Duration
	// DeliveryTimeout bounds one HTTP delivery (default 10 s).
	DeliveryTimeout time.Duration
	// PollEvery is how often due deliveries are looked for (default 250 ms).
	PollEvery time.Duration
	// Linger is how long a batch of match events waits for more, so that a
	// subscriber's new matches arrive as one notification (default 500 ms).
	Linger time.Duration
	// RequestTimeout bounds each request the service serves (default 25 s,
	// above the feed's longest wait).
	RequestTimeout time.Duration
	// StreamReplicas is the keyring stream's replica count (default 1).
	StreamReplicas int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the notifications service.
type Service struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	rdb   *redis.Client
	log   zerolog.Logger
	keys  *shred.Keyring
	opts  Options
	now   func() time.Time
	http  *http.Client
	names pseudonyms
}

// New opens the keyring and the pseudonym key. Serve runs the service.
func New(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, rdb *redis.Client, log zerolog.Logger, opts Options) (*Service, error) {
	keys, err := shred.Open(ctx, js, opts.StreamReplicas)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	names, err := openPseudonyms(ctx, rdb)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	names.event = keys.Pseudonym
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.DeliveryTimeout <= 0 {
		opts.DeliveryTimeout = 10 * time.Second
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = 250 * time.Millisecond
	}
	if opts.Linger <= 0 {
		opts.Linger = 500 * time.Millisecond
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = notificationsapi.MaxFeedWait + 5*time.Second
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	client := &http.Client{
		Timeout:   opts.DeliveryTimeout,
		Transport: deliveryTransport(opts.AllowLoopbackHTTP),
		// A receiver that redirects is not followed: the URL registered is
		// the one that gets the payload.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Service{nc: nc, js: js, rdb: rdb, log: log, keys: keys, opts: opts, now: now, http: client, names: names}, nil
}

// deliveryTransport is the HTTP transport of webhook deliveries: every
// connection it makes directly is checked by dialGuard. Behind an egress
// proxy (HTTPS_PROXY) the connection goes to the proxy, which then decides
// where deliveries may go (docs/deploy.md, "Egress").
func deliveryTransport(allowLoopback bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if proxy, _ := http.ProxyFromEnvironment(&http.Request{URL: &url.URL{Scheme: "https", Host: "example.com"}}); proxy != nil {
		return t
	}
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: dialGuard(allowLoopback)}
	t.DialContext = d.DialContext
	return t
}

// Serve answers the endpoints, follows the event streams and delivers
// webhooks until ctx ends.
func (s *Service) Serve(ctx context.Context) error {
	svc, err := micro.AddService(s.nc, micro.Config{Name: Name, Version: Version, Description: "webhooks and notification feeds"})
	if err != nil {
		return fmt.Errorf("notifications: add micro service: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	if err := rpc.AddEndpoints(svc, s.nc, s.log, s.opts.RequestTimeout,
		notificationsapi.WebhookCreate.Bind(s.createWebhook),
		notificationsapi.WebhookListing.Bind(s.listWebhooks),
		notificationsapi.WebhookDelete.Bind(s.deleteWebhook),
		notificationsapi.WebhookDeliveries.Bind(s.deliveries),
		notificationsapi.FeedRead.Bind(s.feed),
	); err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, c := range s.consumers() {
		g.Go(func() error { return s.follow(ctx, c) })
	}
	g.Go(func() error { s.deliverLoop(ctx); return nil })
	s.log.Info().Msg("notifications ready")
	return g.Wait()
}

// Run builds the service from a platform's clients and serves it (the
// form `clerkpath run` and the service's own command use).
func Run(ctx context.Context, p *platform.Platform) error {
	allow := os.Getenv(EnvAllowLoopbackHTTP)
	s, err := New(ctx, p.NC, p.JS, p.Redis, p.Log, Options{
		AllowLoopbackHTTP: allow == "1" || allow == "true",
		StreamReplicas:    p.Config.StreamReplicas,
	})
	if err != nil {
		return err
	}
	return s.Serve(ctx)
}
