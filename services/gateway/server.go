package gateway

import (
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/idempotency"
	"github.com/clerkpath/clerkpath/pkg/ratelimit"
)

// clients are the connections the handlers use.
type clients struct {
	NC    *nats.Conn
	JS    jetstream.JetStream
	Redis *redis.Client
	Log   zerolog.Logger
}

// server is the gateway's state shared by handlers.
type server struct {
	nc       *nats.Conn          // requests to the services
	js       jetstream.JetStream // the access log (AUDIT) and consumer health
	redis    *redis.Client       // rate limits and idempotency keys
	log      zerolog.Logger
	opts     Options
	verifier *auth.Verifier
	limiter  *ratelimit.Limiter
	idem     *idempotency.Store
	metrics  *metrics
}

// newHandler returns the gateway's HTTP handler: routes behind
// authentication and authorization, wrapped in request ids, recovery,
// metrics and access logs.
func newHandler(c clients, opts Options, verifier *auth.Verifier) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &server{
		nc:       c.NC,
		js:       c.JS,
		redis:    c.Redis,
		log:      c.Log,
		opts:     opts,
		verifier: verifier,
		limiter:  ratelimit.New(c.Redis, "clerkpath:ratelimit:"),
		idem:     idempotency.New(c.Redis, "clerkpath:idempotency:", idempotency.DefaultTTL, idempotency.WithPendingTTL(5*time.Minute)),
		metrics:  newMetrics(reg),
	}
	mux := http.NewServeMux()
	addRoutes(mux, s, reg)
	return s.middleware(mux)
}
