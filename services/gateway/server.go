package gateway

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/idempotency"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/ratelimit"
)

// server is the gateway's state shared by handlers.
type server struct {
	p        *platform.Platform
	verifier *auth.Verifier
	limiter  *ratelimit.Limiter
	idem     *idempotency.Store
	metrics  *metrics
}

// NewServer returns the gateway's HTTP handler: routes behind
// authentication and authorization, wrapped in request ids, recovery,
// metrics and access logs.
func NewServer(p *platform.Platform, verifier *auth.Verifier) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &server{
		p:        p,
		verifier: verifier,
		limiter:  ratelimit.New(p.Redis, "clerkpath:ratelimit:"),
		idem:     idempotency.New(p.Redis, "clerkpath:idempotency:", idempotency.DefaultTTL, idempotency.WithPendingTTL(5*time.Minute)),
		metrics:  newMetrics(reg),
	}
	mux := http.NewServeMux()
	addRoutes(mux, s, reg)
	return s.middleware(mux)
}
