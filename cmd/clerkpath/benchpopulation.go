// The bench's population: seekers and postings made by pkg/seedgen and
// written through the gateway, as users would.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
)

// benchHTTP sends the API's requests.
type benchHTTP struct {
	base string
	c    *http.Client
	mint func(role, sub, org string) (string, error)
}

func (h *benchHTTP) do(ctx context.Context, method, path, token string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := h.c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// population is the seeded population the bench and `clerkpath seed` load.
type population struct {
	places *seedgen.Sampler
	seed   uint64
	now    time.Time
}

// seekers loads n seekers (ids bench-000000 on) with their credentials
// through PUT /v1/seekers/{id} and POST /v1/seekers/{id}/credentials, from
// workers clients at once.
func (p population) seekers(ctx context.Context, h *benchHTTP, n, workers int, progress func(done int)) (time.Duration, int, error) {
	t0 := time.Now()
	var next, retries atomic.Int64
	var failed atomic.Bool
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil || failed.Load() {
					return
				}
				if i > 0 && i%10_000 == 0 && progress != nil {
					progress(i)
				}
				r, err := p.seeker(ctx, h, i)
				retries.Add(int64(r))
				if err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return time.Since(t0), int(retries.Load()), firstErr
}

func seekerID(i int) string { return fmt.Sprintf("bench-%06d", i) }

// member is seeker i of the population, as seeded.
func (p population) member(i int) seedgen.Member {
	return seedgen.Population(rand.New(rand.NewPCG(p.seed, uint64(i))), seekerID(i), p.places, p.now)
}

// seeker seeds seeker i and returns how many credential writes it sent
// again: a credential write right after the profile's 200 has been
// answered 404 "no seeker" under load (credentials asks profiles, which
// did not have the profile yet), so a 404 is retried up to five times
// (0.1 s, 0.2 s, ... apart) and counted.
func (p population) seeker(ctx context.Context, h *benchHTTP, i int) (int, error) {
	m := p.member(i)
	tok, err := h.mint("seeker", m.Seeker.ID, "")
	if err != nil {
		return 0, err
	}
	body, _ := json.Marshal(m.Seeker)
	if code, b, err := h.do(ctx, "PUT", "/v1/seekers/"+m.Seeker.ID, tok, body); err != nil || code != 200 {
		return 0, fmt.Errorf("seeker %s: %d %s %v", m.Seeker.ID, code, b, err)
	}
	retries := 0
	for _, c := range m.Credentials {
		body, _ := json.Marshal(c)
		code, b, err := h.do(ctx, "POST", "/v1/seekers/"+m.Seeker.ID+"/credentials", tok, body)
		for try := 1; try <= 5 && err == nil && code == http.StatusNotFound; try++ {
			retries++
			select {
			case <-ctx.Done():
				return retries, ctx.Err()
			case <-time.After(time.Duration(try) * 100 * time.Millisecond):
			}
			code, b, err = h.do(ctx, "POST", "/v1/seekers/"+m.Seeker.ID+"/credentials", tok, body)
		}
		if err != nil || code != 201 {
			return retries, fmt.Errorf("seeker %s credential %s: %d %s %v", m.Seeker.ID, c.Code, code, b, err)
		}
	}
	return retries, nil
}

// postings submits n postings (identifiers <prefix>-000000 on) for org in
// bulk requests of 1,000, two at a time, and returns how many were accepted
// as new postings: ingest answers a generated posting that shares another's
// job key (title, place, work mode, credentials, pay) "duplicate", and a
// duplicate joins its cluster instead of becoming a second document.
// A request that fails with 503 (the service did not finish in time) is
// sent again: the identifiers make a retry a duplicate, not a second copy.
func (p population) postings(ctx context.Context, h *benchHTTP, n int, org, prefix string) (int, error) {
	tok, err := h.mint("employer", "bench-employer", org)
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(p.seed, 1<<40))
	recs := seedgen.Records(r, n, p.places, p.now, prefix)
	var accepted, dups atomic.Int64
	var rejected atomic.Pointer[json.RawMessage]
	errs := make(chan error, (n+999)/1000)
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := 0; i < n; i += 1000 {
		body, _ := json.Marshal(recs[i:min(i+1000, n)])
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			code, b, err := h.do(ctx, "POST", "/v1/postings:bulk", tok, body)
			for try := 0; try < 3 && err == nil && code == http.StatusServiceUnavailable; try++ {
				code, b, err = h.do(ctx, "POST", "/v1/postings:bulk", tok, body)
			}
			if err != nil || code != 200 {
				errs <- fmt.Errorf("bulk postings: %d %.300s %v", code, b, err)
				return
			}
			var out struct {
				Accepted []struct {
					Status string `json:"status"`
				} `json:"accepted"`
				Rejected []json.RawMessage `json:"rejected"`
			}
			_ = json.Unmarshal(b, &out)
			for _, a := range out.Accepted {
				if a.Status == "duplicate" {
					dups.Add(1)
				} else {
					accepted.Add(1)
				}
			}
			if len(out.Rejected) > 0 {
				rejected.CompareAndSwap(nil, &out.Rejected[0])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return int(accepted.Load()), err
	}
	if r := rejected.Load(); r != nil {
		return int(accepted.Load()), fmt.Errorf("%d of %d postings rejected, the first: %s", n-int(accepted.Load()+dups.Load()), n, *r)
	}
	return int(accepted.Load()), nil
}

// devMinter mints tokens with the stack's development key.
func devMinter(keyDir string, cfg config.Config) (func(role, sub, org string) (string, error), error) {
	priv, err := auth.LoadPrivateKey(filepath.Join(keyDir, auth.PrivateKeyFile))
	if err != nil {
		return nil, err
	}
	return func(role, sub, org string) (string, error) {
		r, err := auth.ParseRole(role)
		if err != nil {
			return "", err
		}
		return auth.Mint(priv, auth.Claims{Subject: sub, Role: r, Org: org, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: 2 * time.Hour}, time.Now())
	}, nil
}

// waitSeekersApplied waits until every profile and credential event has
// been acknowledged by each consumer of the PROFILES and CREDENTIALS
// streams (matching's seekers index included).
func waitSeekersApplied(ctx context.Context, st *benchStack, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		pending := uint64(0)
		lister := st.js.ListStreams(ctx)
		for info := range lister.Info() {
			if info.Config.Name == events.StreamJobs {
				continue
			}
			s, err := st.js.Stream(ctx, info.Config.Name)
			if err != nil {
				return err
			}
			cl := s.ListConsumers(ctx)
			for ci := range cl.Info() {
				pending += ci.NumPending + uint64(ci.NumAckPending)
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d profile and credential events still unapplied after %s", pending, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
