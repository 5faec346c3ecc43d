package gateway

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/clerkpath/clerkpath/pkg/events"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// services whose micro endpoints the gateway depends on.
var services = []string{"profiles", "credentials", "ingest", "matching"}

type depStatus struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// handleReadyz checks every dependency (NATS, its streams, Redis,
// Meilisearch), every service (a micro PING) and every durable consumer
// (lag and last progress), and answers 503 naming what is down or stalled.
func (s *server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		deps := map[string]depStatus{}
		ok := true
		for name, err := range s.p.Check(ctx) {
			if err != nil {
				ok = false
				deps[name] = depStatus{Status: "down", Error: err.Error()}
			} else {
				deps[name] = depStatus{Status: "ok"}
			}
		}
		svcs := map[string]depStatus{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, name := range services {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := depStatus{Status: "ok"}
				if _, err := s.p.NC.RequestWithContext(ctx, "$SRV.PING."+name, nil); err != nil {
					st = depStatus{Status: "down", Error: err.Error()}
				}
				mu.Lock()
				svcs[name] = st
				if st.Status != "ok" {
					ok = false
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		// Durable consumers: their lag and last progress; one stalled
		// means acknowledged writes are not reaching a projection.
		consumers := map[string]events.ConsumerStatus{}
		if sts, err := events.ConsumerStatuses(ctx, s.p.JS, time.Now(), events.DefaultStallAfter); err != nil {
			ok = false
			deps["consumers"] = depStatus{Status: "down", Error: err.Error()}
		} else {
			for _, st := range sts {
				consumers[st.Name] = st
				if st.Stalled {
					ok = false
				}
			}
		}
		status, code := "ok", http.StatusOK
		if !ok {
			status, code = "unavailable", http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"status": status, "dependencies": deps, "services": svcs, "consumers": consumers})
	})
}
