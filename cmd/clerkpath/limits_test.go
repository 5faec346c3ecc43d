package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/config"
)

func TestRateLimitsAnswer429WithRetryAfter(t *testing.T) {
	t.Parallel()
	s := startStack(t, func(c *config.Config) { c.RateLimitAnon = 5; c.RateLimit = 8 })
	for i := range 5 {
		if code, _, body := s.do(t, "GET", "/v1/postings/search?q=x", "", ""); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	code, hdr, body := s.do(t, "GET", "/v1/postings/search?q=x", "", "")
	if code != http.StatusTooManyRequests || hdr.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("6th anonymous request: %d %s", code, body)
	}
	if n, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Fatalf("Retry-After %q", hdr.Get("Retry-After"))
	}
	// A token has its own budget; probes are never limited.
	tok := bearer(s.token(t, "seeker", "rl-1", ""))
	for i := range 8 {
		if code, _, _ := s.do(t, "GET", "/v1/postings/search?q=x", "", "", tok...); code != 200 {
			t.Fatalf("token request %d: %d", i, code)
		}
	}
	if code, _, _ := s.do(t, "GET", "/v1/postings/search?q=x", "", "", tok...); code != http.StatusTooManyRequests {
		t.Fatalf("9th token request: %d", code)
	}
	if code, _, _ := s.do(t, "GET", "/healthz", "", ""); code != 200 {
		t.Fatalf("healthz limited: %d", code)
	}
}

func TestIdempotencyKeyReplaysTheFirstResponse(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	emp := bearer(s.token(t, "employer", "e-1", "acme"))
	posting := `{"title":"Release of Information Specialist","description":"Process ROI requests under HIPAA.","employer":"Acme Health","postal_code":"30303","date_posted":"2026-11-20"}`
	key := append(emp, "Idempotency-Key", "req-123")
	c1, h1, b1 := s.do(t, "POST", "/v1/postings", "application/json", posting, key...)
	c2, h2, b2 := s.do(t, "POST", "/v1/postings", "application/json", posting, key...)
	if c1 != 201 || c2 != 201 || string(b1) != string(b2) {
		t.Fatalf("first %d %s, second %d %s", c1, b1, c2, b2)
	}
	if h1.Get("Idempotent-Replayed") != "" || h2.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay headers %q %q", h1.Get("Idempotent-Replayed"), h2.Get("Idempotent-Replayed"))
	}
	other := strings.Replace(posting, "30303", "10001", 1)
	c3, _, b3 := s.do(t, "POST", "/v1/postings", "application/json", other, key...)
	if c3 != http.StatusUnprocessableEntity {
		t.Fatalf("same key, different body: %d %s", c3, b3)
	}
	c4, _, _ := s.do(t, "POST", "/v1/postings", "application/json", posting, append(emp, "Idempotency-Key", strings.Repeat("k", 300))...)
	if c4 != http.StatusBadRequest {
		t.Fatalf("oversized key: %d", c4)
	}
}

// Employers named alike in two organisations are two callers: the same
// Idempotency-Key from each creates each one's posting (issue 11: one got
// the other's stored response and its own posting was not created).
func TestIdempotencyKeysBelongToOneCaller(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	key := "same-key"
	var ids []string
	for _, org := range []string{"acme", "globex"} {
		emp := append(bearer(s.token(t, "employer", "hr", org)), "Idempotency-Key", key)
		posting := `{"title":"Medical Records Clerk","description":"Scan and index records.","employer":"` + org + `","postal_code":"30303","date_posted":"2026-11-20"}`
		code, hdr, body := s.do(t, "POST", "/v1/postings", "application/json", posting, emp...)
		if code != 201 || hdr.Get("Idempotent-Replayed") != "" {
			t.Fatalf("%s: %d replayed=%q %s", org, code, hdr.Get("Idempotent-Replayed"), body)
		}
		ids = append(ids, string(body))
	}
	if ids[0] == ids[1] {
		t.Fatalf("both organisations got the same answer: %s", ids[0])
	}
}
