package gateway

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/obs"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "clerkpath_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "clerkpath_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// recorder remembers the status for metrics and logs. When the mux itself
// answers 404 or 405 (no route), it swallows the mux's plain-text body so
// that middleware can answer with a problem document instead.
type recorder struct {
	http.ResponseWriter
	status   int
	bytes    int
	swallow  bool
	wroteHdr bool
}

func (r *recorder) WriteHeader(code int) {
	if r.wroteHdr {
		return
	}
	r.wroteHdr = true
	r.status = code
	if r.swallow && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		return
	}
	r.swallow = false
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHdr {
		r.WriteHeader(http.StatusOK)
	}
	if r.swallow {
		return len(b), nil
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok && !r.swallow {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// middleware adds a request id, recovers panics, answers unknown routes
// with problem documents, and records metrics and an access log line that
// carries no personal data (route pattern, not the raw query).
func (s *server) middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(obs.RequestIDHeader)
		if !obs.ValidRequestID(id) {
			id = obs.NewRequestID()
		}
		ctx := obs.WithRequestID(r.Context(), id)
		r = r.WithContext(ctx)
		w.Header().Set(obs.RequestIDHeader, id)

		_, pattern := mux.Handler(r)
		rec := &recorder{ResponseWriter: w, swallow: pattern == ""}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				obs.Logger(ctx, s.log).Error().Interface("panic", v).Str("route", pattern).Msg("handler panicked")
				if !rec.wroteHdr {
					writeProblem(rec, r, http.StatusInternalServerError, apierr.Internal, "internal error", nil)
				}
			}
			route := pattern
			if route == "" {
				route = "unmatched"
			}
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
			s.metrics.latency.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
			obs.Logger(ctx, s.log).Info().
				Str("method", r.Method).Str("route", route).Int("status", rec.status).
				Int("bytes", rec.bytes).Dur("duration", time.Since(start)).Msg("http request")
		}()
		mux.ServeHTTP(rec, r)
		if pattern == "" && rec.swallow {
			rec.swallow = false
			status := rec.status
			if status == http.StatusMethodNotAllowed {
				writeProblem(w, r, status, apierr.MethodNotAllowed, "method "+r.Method+" is not allowed here; allowed: "+w.Header().Get("Allow"), nil)
				return
			}
			rec.status = http.StatusNotFound
			writeProblem(w, r, http.StatusNotFound, apierr.NotFound, "no such route: "+r.Method+" "+r.URL.Path, nil)
		}
	})
}
