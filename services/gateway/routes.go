package gateway

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// addRoutes is the whole HTTP surface on one screen.
func addRoutes(mux *http.ServeMux, s *server, reg *prometheus.Registry) {
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	mux.Handle("POST /v1/postings", s.handleSubmitPosting())
	mux.Handle("GET /v1/postings/search", s.handleSearchPostings())

	mux.Handle("PUT /v1/seekers/{id}", s.handlePutSeeker())
	mux.Handle("GET /v1/seekers/{id}", s.handleGetSeeker())
}
