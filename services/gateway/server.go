package gateway

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/platform"
)

// server is the gateway's state shared by handlers.
type server struct {
	p        *platform.Platform
	verifier *auth.Verifier
	metrics  *metrics
}

// NewServer returns the gateway's HTTP handler: routes behind
// authentication and authorization, wrapped in request ids, recovery,
// metrics and access logs.
func NewServer(p *platform.Platform, verifier *auth.Verifier) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &server{p: p, verifier: verifier, metrics: newMetrics(reg)}
	mux := http.NewServeMux()
	addRoutes(mux, s, reg)
	return s.middleware(mux)
}
