// Package platform holds the connections every clerkpath service runs on —
// NATS with JetStream, Redis and Meilisearch — opened from the configuration
// and closed in order on shutdown.
package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/natsx"
)

// Platform is one service's connections. Redis and Meili are nil when the
// service was opened without them.
type Platform struct {
	Service string
	Config  config.Config
	Log     zerolog.Logger
	NC      *nats.Conn
	JS      jetstream.JetStream
	Redis   *redis.Client
	Meili   meilisearch.ServiceManager
}

// Needs says which connections a service uses.
type Needs struct {
	Redis bool
	Meili bool
}

// Open connects to what the service needs and ensures the event streams
// exist. It fails fast when a required URL is missing.
func Open(ctx context.Context, cfg config.Config, service string, needs Needs, log zerolog.Logger) (*Platform, error) {
	req := []string{config.EnvNATSURL}
	if needs.Redis {
		req = append(req, config.EnvRedisURL)
	}
	if needs.Meili {
		req = append(req, config.EnvMeiliURL, config.EnvMeiliKey)
	}
	if err := cfg.Require(req...); err != nil {
		return nil, err
	}
	p := &Platform{Service: service, Config: cfg, Log: log}
	nc, err := ConnectNATS(ctx, cfg, cfg.NATSURL, "clerkpath-"+service, log)
	if err != nil {
		return nil, err
	}
	p.NC = nc
	if mp := nc.MaxPayload(); mp < natsx.RecommendedMaxPayload {
		p.Close()
		return nil, fmt.Errorf("the NATS server's max_payload is %d bytes; clerkpath needs at least %d (8 MiB: bulk postings and exports travel as one message): set max_payload: 8MB in the server configuration (docs/operations.md)", mp, natsx.RecommendedMaxPayload)
	}
	if p.JS, err = jetstream.New(nc); err != nil {
		p.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := events.EnsureStreams(ctx, p.JS, cfg.StreamReplicas); err != nil {
		p.Close()
		return nil, err
	}
	if needs.Redis {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("%s: %w", config.EnvRedisURL, err)
		}
		// A Redis that is down should make a request fail in about a
		// second, not after go-redis's default 5 s dial and three retries
		// (settings given in the URL win).
		if !strings.Contains(cfg.RedisURL, "dial_timeout=") {
			opt.DialTimeout = time.Second
		}
		if !strings.Contains(cfg.RedisURL, "max_retries=") {
			opt.MaxRetries = 1
		}
		p.Redis = redis.NewClient(opt)
	}
	if needs.Meili {
		p.Meili = meili.Connect(cfg.MeiliURL, cfg.MeiliKey)
	}
	return p, nil
}

// Check pings every connection the platform has and returns each one's
// status: nil when healthy.
//
// "streams" asks each event stream for its state, which only its leader
// answers: while a replicated stream has lost its leader (and every write
// fails) the check says so, though NATS itself is reachable.
func (p *Platform) Check(ctx context.Context) map[string]error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var mu sync.Mutex
	out := map[string]error{}
	var wg sync.WaitGroup
	check := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := fn()
			mu.Lock()
			out[name] = err
			mu.Unlock()
		}()
	}
	check("nats", func() error {
		if !p.NC.IsConnected() {
			return errors.New("not connected: " + p.NC.Status().String())
		}
		_, err := p.JS.AccountInfo(ctx)
		return err
	})
	check("streams", func() error { return CheckStreams(ctx, p.JS) })
	if p.Redis != nil {
		check("redis", func() error { return p.Redis.Ping(ctx).Err() })
	}
	if p.Meili != nil {
		check("meilisearch", func() error {
			h, err := p.Meili.Health(ctx)
			if err != nil {
				return err
			}
			if h.Status != "available" {
				return errors.New("status " + h.Status)
			}
			return nil
		})
	}
	wg.Wait()
	return out
}

// Close drains NATS and closes the other clients.
func (p *Platform) Close() {
	if p.NC != nil {
		natsx.Drain(p.NC, 5*time.Second)
	}
	if p.Redis != nil {
		_ = p.Redis.Close()
	}
	if p.Meili != nil {
		p.Meili.Close()
	}
}

// CheckStreams reports every event stream that has no leader or does not
// answer (the gateway's readiness check uses it too).
func CheckStreams(ctx context.Context, js jetstream.JetStream) error {
	cfgs := events.StreamConfigs(1)
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := js.Stream(ctx, cfg.Name)
			switch {
			case err != nil:
				errs[i] = fmt.Errorf("stream %s: %w", cfg.Name, err)
			case st.CachedInfo().Cluster != nil && st.CachedInfo().Cluster.Leader == "":
				errs[i] = fmt.Errorf("stream %s has no leader", cfg.Name)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ConnectNATS connects to url with the credentials and TLS settings of cfg
// (CLERKPATH_NATS_CREDS, _NKEY_FILE, _CA_FILE, _CERT_FILE, _KEY_FILE).
func ConnectNATS(ctx context.Context, cfg config.Config, url, name string, log zerolog.Logger) (*nats.Conn, error) {
	sec, err := natsx.Security{
		CredsFile: cfg.NATSCreds, NKeySeedFile: cfg.NATSNKeyFile,
		CAFile: cfg.NATSCAFile, CertFile: cfg.NATSCertFile, KeyFile: cfg.NATSKeyFile,
	}.Options()
	if err != nil {
		return nil, err
	}
	return natsx.Connect(ctx, url, name, log, sec...)
}
