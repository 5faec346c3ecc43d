package gateway

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// services whose micro endpoints the gateway depends on, with the
// endpoints each must serve before /readyz calls it up.
var services = func() map[string][]rpc.Spec {
	out := map[string][]rpc.Spec{}
	for _, c := range contract.Services() {
		if c.Name != "gateway" {
			out[c.Name] = c.Endpoints
		}
	}
	return out
}()

type depStatus struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func statusOf(err error) depStatus {
	if err != nil {
		return depStatus{Status: "down", Error: err.Error()}
	}
	return depStatus{Status: "ok"}
}

// readiness is the answer of /readyz.
type readiness struct {
	Status       string                           `json:"status"`
	Dependencies map[string]depStatus             `json:"dependencies"`
	Services     map[string]depStatus             `json:"services"`
	Consumers    map[string]events.ConsumerStatus `json:"consumers"`
}

// ok reports whether everything is up and no consumer is stalled.
func (rd readiness) ok() bool {
	for _, m := range []map[string]depStatus{rd.Dependencies, rd.Services} {
		for _, st := range m {
			if st.Status != "ok" {
				return false
			}
		}
	}
	for _, st := range rd.Consumers {
		if st.Stalled {
			return false
		}
	}
	return true
}

// handleReadyz checks the gateway's own dependencies (NATS, the event
// streams, Redis), every service it calls (a micro PING), the search index
// as matching sees it, and every durable consumer (lag and last progress),
// and answers 503 naming what is down or stalled.
func (s *server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		rd := readiness{Status: "ok", Dependencies: s.checkDependencies(ctx), Services: s.checkServices(ctx), Consumers: map[string]events.ConsumerStatus{}}
		rd.Dependencies["meilisearch"] = s.searchIndexStatus(ctx)
		// Durable consumers: their lag and last progress; one stalled
		// means acknowledged writes are not reaching a projection.
		if sts, err := events.ConsumerStatuses(ctx, s.js, time.Now(), events.DefaultStallAfter); err != nil {
			rd.Dependencies["consumers"] = statusOf(err)
		} else {
			for _, st := range sts {
				rd.Consumers[st.Name] = st
			}
		}
		code := http.StatusOK
		if !rd.ok() {
			rd.Status, code = "unavailable", http.StatusServiceUnavailable
		}
		writeJSON(w, code, rd)
	})
}

// checkDependencies checks NATS with JetStream, the event streams (each
// must have a leader) and Redis, at once.
func (s *server) checkDependencies(ctx context.Context) map[string]depStatus {
	checks := map[string]func() error{
		"nats": func() error {
			if !s.nc.IsConnected() {
				return errors.New("not connected: " + s.nc.Status().String())
			}
			_, err := s.js.AccountInfo(ctx)
			return err
		},
		"streams": func() error { return platform.CheckStreams(ctx, s.js) },
		"redis":   func() error { return s.redis.Ping(ctx).Err() },
	}
	return runChecks(checks)
}

// checkServices asks each service for its micro INFO: a service is up
// once it serves every endpoint of its contract. A PING would be answered
// as soon as the service exists, before its endpoints are added.
func (s *server) checkServices(ctx context.Context) map[string]depStatus {
	checks := map[string]func() error{}
	for name, want := range services {
		checks[name] = func() error { return rpc.Serving(ctx, s.nc, name, want) }
	}
	return runChecks(checks)
}

// runChecks runs the checks concurrently and returns each one's status.
func runChecks(checks map[string]func() error) map[string]depStatus {
	out := make(map[string]depStatus, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := statusOf(check())
			mu.Lock()
			out[name] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// searchIndexStatus is Meilisearch's status as matching reports it: the
// index is matching's, and the gateway holds no Meilisearch client.
func (s *server) searchIndexStatus(ctx context.Context) depStatus {
	rd, err := matchingapi.Ready.Call(ctx, s.nc, matchingapi.ReadyRequest{})
	switch {
	case err != nil:
		return depStatus{Status: "unknown", Error: "matching, which checks it, did not answer: " + err.Error()}
	case rd.Meilisearch != "ok":
		return depStatus{Status: "down", Error: rd.MeilisearchError}
	}
	return depStatus{Status: "ok"}
}
