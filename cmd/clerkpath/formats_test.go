package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every accepted format goes through HTTP; bad bodies get the right status.
func TestBulkEveryFormatOverHTTP(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	emp := bearer(s.token(t, "employer", "e-1", "mercy"))
	d := time.Now().UTC().Format("2006-01-02")
	cases := []struct {
		name, ctype, body  string
		accepted, rejected int
	}{
		{"json array", "application/json", `[{"title":"Coder I","description":"CCA required.","employer":"Mercy","date_posted":"` + d + `","postal_code":"73102"},{"title":"x"}]`, 1, 1},
		{"ndjson", "application/x-ndjson", `{"title":"ROI Specialist","description":"RHIT preferred.","employer":"Mercy","date_posted":"` + d + `","work_mode":"remote"}` + "\n", 1, 0},
		{"jsonl", "application/jsonl", `{"title":"Scanning Clerk","description":"Scanning.","employer":"Mercy","date_posted":"` + d + `","postal_code":"10001"}` + "\n", 1, 0},
		{"csv", "text/csv; charset=utf-8", "title,description,employer,date_posted,postal_code\nCoder II,\"RHIT and (CCS or CIC) required.\",Mercy," + d + ",95814\n", 1, 0},
		{"json-ld array", "application/ld+json", `[{"@context":"https://schema.org","@type":"JobPosting","title":"Cancer Registrar","description":"CTR required.","datePosted":"` + d + `",
			"hiringOrganization":"Mercy","jobLocation":{"@type":"Place","geo":{"@type":"GeoCoordinates","latitude":38.58,"longitude":-121.49}}}]`, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, b := s.do(t, "POST", "/v1/postings:bulk", tc.ctype, tc.body, emp...)
			var res struct {
				Accepted []json.RawMessage `json:"accepted"`
				Rejected []json.RawMessage `json:"rejected"`
			}
			if code != 200 || json.Unmarshal(b, &res) != nil || len(res.Accepted) != tc.accepted || len(res.Rejected) != tc.rejected {
				t.Fatalf("%d %s", code, b)
			}
		})
	}
	bad := []struct {
		name, ctype, body string
		status            int
		contains          string
	}{
		{"wrong content type", "application/xml", "<job/>", http.StatusUnsupportedMediaType, "text/csv"},
		{"malformed csv", "text/csv", "title,description,employer,date_posted,postal_code\nCoder,\"unterminated,Mercy,2026-11-25,10001\n", http.StatusBadRequest, "line"},
		{"malformed json", "application/json", "[{\"title\":}]", http.StatusBadRequest, "line 1, column"},
		{"too large", "application/json", "[" + strings.Repeat(" ", 9<<20) + "]", http.StatusRequestEntityTooLarge, "8388608"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, b := s.do(t, "POST", "/v1/postings:bulk", tc.ctype, tc.body, emp...)
			if code != tc.status || hdr.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), tc.contains) {
				t.Fatalf("%d %s", code, b)
			}
		})
	}
}

func TestBadTokensAre401WithWWWAuthenticate(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	good := s.token(t, "seeker", "s-1", "")
	parts := strings.Split(good, ".")
	for name, h := range map[string]string{
		"no token":         "",
		"not bearer":       "Basic dXNlcjpwYXNz",
		"garbage":          "Bearer not-a-jwt",
		"alg none":         "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".",
		"tampered payload": "Bearer " + parts[0] + "." + parts[1] + "x." + parts[2],
	} {
		t.Run(name, func(t *testing.T) {
			var hdrs []string
			if h != "" {
				hdrs = []string{"Authorization", h}
			}
			code, hdr, b := s.do(t, "GET", "/v1/seekers/s-1", "", "", hdrs...)
			if code != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("%d %q %s", code, hdr.Get("WWW-Authenticate"), b)
			}
		})
	}
}
