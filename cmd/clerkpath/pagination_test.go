package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// Search pages with opaque cursors; following them visits every posting
// once.
func TestSearchCursorPagination(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	emp := bearer(s.token(t, "employer", "e-1", "mercy"))
	d := time.Now().UTC().Format("2006-01-02")
	var recs []string
	for i := range 5 {
		recs = append(recs, fmt.Sprintf(`{"identifier":"P%d","title":"Scanning Clerk %d","description":"Scanning and indexing.","employer":"Mercy","date_posted":"%s","postal_code":"10001"}`, i, i, d))
	}
	if code, _, b := s.do(t, "POST", "/v1/postings:bulk", "application/json", "["+strings.Join(recs, ",")+"]", emp...); code != 200 {
		t.Fatalf("bulk: %d %s", code, b)
	}
	type page struct {
		Hits       []struct{ ID string } `json:"hits"`
		NextCursor string                `json:"next_cursor"`
	}
	get := func(q string) page {
		if !strings.Contains(q, "limit=") {
			q += "&limit=2"
		}
		code, _, b := s.do(t, "GET", "/v1/postings/search?sort=newest"+q, "", "")
		var p page
		if code != 200 || json.Unmarshal(b, &p) != nil {
			t.Fatalf("search: %d %s", code, b)
		}
		return p
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if n := len(get("&limit=10").Hits); n < 5 {
			return fmt.Errorf("%d indexed", n)
		}
		return nil
	})
	seen := map[string]bool{}
	p := get("")
	for pages := 1; ; pages++ {
		for _, h := range p.Hits {
			if seen[h.ID] {
				t.Fatalf("posting %s on two pages", h.ID)
			}
			seen[h.ID] = true
		}
		if p.NextCursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("more pages than postings")
		}
		p = get("&cursor=" + url.QueryEscape(p.NextCursor))
	}
	if len(seen) != 5 {
		t.Fatalf("pages covered %d postings, want 5", len(seen))
	}
	if code, _, b := s.do(t, "GET", "/v1/postings/search?cursor=nonsense!", "", ""); code != 400 || !strings.Contains(string(b), "cursor") {
		t.Fatalf("bad cursor: %d %s", code, b)
	}
}
