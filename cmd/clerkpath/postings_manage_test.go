package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/cmd/clerkpath/apiclient"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// Issue 13: an employer closes a filled job and it leaves a seeker's
// matches (and search) within seconds; the employer's list shows it
// closed as filled; a filled job does not reopen; a job put on hold and
// reopened comes back. Through the generated client, checked against the
// OpenAPI document.
func TestEmployerClosesAFilledPostingAndItLeavesMatches(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	check := newConformance(t)
	ctx := context.Background()
	org := "cl-" + randomSuffix()
	employer := check.client(t, s.base, s.token(t, "employer", "e-"+org, org))
	today := time.Now().UTC().Format("2006-01-02")
	emp := bearer(s.token(t, "employer", "e-"+org, org))
	post := func(body string) string {
		t.Helper()
		code, _, b := s.do(t, "POST", "/v1/postings", "application/json", body, emp...)
		if code != http.StatusCreated {
			t.Fatalf("POST posting: %d %s", code, b)
		}
		return decode[struct {
			Accepted []struct{ ID string } `json:"accepted"`
		}](t, b).Accepted[0].ID
	}
	filled := post(`{"identifier":"REQ-1","title":"Medical Records Clerk","description":"High school diploma required. Scanning and indexing.","employer":"Mercy","postal_code":"10001","date_posted":"` + today + `"}`)
	held := post(`{"identifier":"REQ-2","title":"Release of Information Clerk","description":"High school diploma required. Release of information.","employer":"Mercy","postal_code":"10001","date_posted":"` + today + `"}`)

	seekerID := "cl-s-" + randomSuffix()
	me := bearer(s.token(t, "seeker", seekerID, ""))
	if code, _, b := s.do(t, "PUT", "/v1/seekers/"+seekerID, "application/json", `{"education":[{"level":"high_school","status":"completed"}],"location":{"postal_code":"10001"},"radius_miles":25}`, me...); code != 200 {
		t.Fatalf("profile: %d %s", code, b)
	}
	matches := func() []string {
		code, _, b := s.do(t, "GET", "/v1/seekers/"+seekerID+"/matches", "", "", me...)
		if code != 200 {
			t.Fatalf("matches: %d %s", code, b)
		}
		var m matchesBody
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range m.Matches {
			ids = append(ids, r.PostingID)
		}
		return ids
	}
	// Matching hears of the new seeker by an event: until then, 404.
	testenv.Eventually(t, 30*time.Second, func() error {
		if code, _, b := s.do(t, "GET", "/v1/seekers/"+seekerID+"/matches", "", "", me...); code != 200 {
			return fmt.Errorf("matches: %d %s", code, b)
		}
		return nil
	})
	testenv.Eventually(t, 30*time.Second, func() error {
		if ids := matches(); !slices.Contains(ids, filled) || !slices.Contains(ids, held) {
			return fmt.Errorf("matches %v, want %s and %s", ids, filled, held)
		}
		return nil
	})

	closed, err := employer.ClosePostingWithResponse(ctx, filled, nil, apiclient.ClosePostingJSONRequestBody{Reason: apiclient.ClosePostingJSONBodyReasonFilled})
	status(t, "close as filled", closed, closed.Body, err, http.StatusOK)
	if closed.JSON200.Status != apiclient.PostingSummaryStatusClosed || closed.JSON200.Reason == nil || *closed.JSON200.Reason != apiclient.PostingSummaryReasonFilled {
		t.Fatalf("close: %s", closed.Body)
	}
	start := time.Now()
	testenv.Eventually(t, 10*time.Second, func() error {
		if ids := matches(); slices.Contains(ids, filled) || !slices.Contains(ids, held) {
			return fmt.Errorf("matches %v: want %s gone and %s kept", ids, filled, held)
		}
		return nil
	})
	t.Logf("the filled posting left the seeker's matches %v after the close", time.Since(start).Round(time.Millisecond))
	testenv.Eventually(t, 10*time.Second, func() error {
		if code, _, _ := s.do(t, "GET", "/v1/postings/"+filled, "", ""); code != http.StatusNotFound {
			return fmt.Errorf("GET the closed posting: %d, want 404", code)
		}
		return nil
	})

	list, err := employer.ListEmployerPostingsWithResponse(ctx, org, nil)
	status(t, "list", list, list.Body, err, http.StatusOK)
	byID := map[string]apiclient.PostingSummary{}
	for _, p := range list.JSON200.Postings {
		byID[p.Id] = p
	}
	if p := byID[filled]; p.Status != apiclient.PostingSummaryStatusClosed || p.Reason == nil || *p.Reason != apiclient.PostingSummaryReasonFilled {
		t.Fatalf("the list shows the filled posting as %+v", p)
	}
	if p := byID[held]; p.Status != apiclient.PostingSummaryStatusOpen || p.ClusterSize < 1 {
		t.Fatalf("the list shows the open posting as %+v", p)
	}
	reopen, err := employer.ReopenPostingWithResponse(ctx, filled, nil)
	status(t, "reopen a filled posting", reopen, reopen.Body, err, http.StatusConflict)

	// On hold, then reopened: out of the matches and back.
	onHold, err := employer.ClosePostingWithResponse(ctx, held, nil, apiclient.ClosePostingJSONRequestBody{Reason: apiclient.ClosePostingJSONBodyReasonOnHold})
	status(t, "close on hold", onHold, onHold.Body, err, http.StatusOK)
	testenv.Eventually(t, 10*time.Second, func() error {
		if ids := matches(); slices.Contains(ids, held) {
			return fmt.Errorf("matches %v still hold %s", ids, held)
		}
		return nil
	})
	reopen, err = employer.ReopenPostingWithResponse(ctx, held, nil)
	status(t, "reopen on hold", reopen, reopen.Body, err, http.StatusOK)
	testenv.Eventually(t, 10*time.Second, func() error {
		if ids := matches(); !slices.Contains(ids, held) {
			return fmt.Errorf("matches %v lack the reopened %s", ids, held)
		}
		return nil
	})

	// Another organisation cannot close it.
	other := check.client(t, s.base, s.token(t, "employer", "e-other", "other-"+org))
	denied, err := other.ClosePostingWithResponse(ctx, held, nil, apiclient.ClosePostingJSONRequestBody{Reason: apiclient.ClosePostingJSONBodyReasonWithdrawn})
	status(t, "close another organisation's posting", denied, denied.Body, err, http.StatusNotFound)
}
