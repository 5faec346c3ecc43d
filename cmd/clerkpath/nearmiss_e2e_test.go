package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	napi "github.com/clerkpath/clerkpath/pkg/contract/notificationsapi"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// On the whole stack: a seeker who earns the CCA that a posting they nearly
// matched required is told "a near miss became a match" (with the step),
// and so is their counselor; the employer's postings list counts the
// seeker, who opted in, as a candidate of both of its postings.
func TestNearMissBecomesAMatchAndCandidatesAreCounted(t *testing.T) {
	s := startStack(t)
	const seeker = "nm-seeker-4c1d"
	me := bearer(s.token(t, "seeker", seeker, ""))
	emp := bearer(s.token(t, "employer", "e-nm", "harbor-nm"))
	today := time.Now().UTC().Format(time.DateOnly)
	post := func(title, description string) string {
		t.Helper()
		return s.postOne(t, emp, `{"title":"`+title+`","description":"`+description+`","employer":"Harbor Clinic","postal_code":"10001","date_posted":"`+today+`"}`)
	}
	clerk := post("Medical Records Clerk", "Scan and index charts. High school diploma required.")
	coder := post("Coding Associate", "CCA required. ICD-10-CM and CPT coding of outpatient charts. High school diploma required.")
	testenv.Eventually(t, 30*time.Second, func() error { // both searchable
		code, _, b := s.do(t, "GET", "/v1/postings/search?q=&zip=10001&radius_miles=10", "", "")
		for _, id := range []string{clerk, coder} {
			if code != 200 || !strings.Contains(string(b), id) {
				return fmt.Errorf("search: %d, %s not found yet", code, id)
			}
		}
		return nil
	})

	profile := `{"education":[{"level":"high_school","status":"completed"}],"location":{"postal_code":"10001"},"radius_miles":15,"open_to_employers":true}`
	if code, _, b := s.do(t, "PUT", "/v1/seekers/"+seeker, "application/json", profile, me...); code != 200 {
		t.Fatalf("profile: %d %s", code, b)
	}
	if code, _, b := s.do(t, "PUT", "/v1/seekers/"+seeker+"/counselors/coach-nm", "", "", me...); code >= 300 {
		t.Fatalf("link counselor: %d %s", code, b)
	}
	coach := bearer(s.token(t, "counselor", "coach-nm", ""))
	// The list refresh that told the clerk job also stored the coder job
	// as a near miss.
	waitFor(t, s, "/v1/seekers/"+seeker+"/events", me, napi.TypeMatchesNew, clerk)
	code, _, b := s.do(t, "GET", "/v1/seekers/"+seeker+"/matches", "", "", me...)
	if code != 200 || !strings.Contains(string(b), coder) {
		t.Fatalf("matches: %d %s; want the coder job as a near miss", code, b)
	}

	code, _, b = s.do(t, "POST", "/v1/seekers/"+seeker+"/credentials", "application/json", `{"code":"CCA","earned_on":"`+today+`"}`, me...)
	if code >= 300 {
		t.Fatalf("record CCA: %d %s", code, b)
	}
	began := time.Now()
	item := waitFor(t, s, "/v1/seekers/"+seeker+"/events", me, napi.TypeNearMissMatched, coder)
	t.Logf("credential to near_miss.matched: %s", time.Since(began).Round(10*time.Millisecond))
	if !slices.Equal(item.Missing, []string{"CCA"}) || item.SeekerID != "" {
		t.Errorf("seeker's item %+v: want missing [CCA] and no seeker id", item)
	}
	if item := waitFor(t, s, "/v1/counselors/coach-nm/events", coach, napi.TypeNearMissMatched, coder); item.SeekerID != seeker {
		t.Errorf("counselor's item %+v: want their client named", item)
	}
	if got := feedItems(t, s, "/v1/seekers/"+seeker+"/events", me, napi.TypeMatchesNew); slices.Contains(got, coder) {
		t.Errorf("the coder job was told as a new match too: %v", got)
	}

	testenv.Eventually(t, 30*time.Second, func() error {
		code, _, b := s.do(t, "GET", "/v1/employers/harbor-nm/postings", "", "", emp...)
		var l struct {
			Postings []struct {
				ID             string `json:"id"`
				CandidateCount *int   `json:"candidate_count"`
			} `json:"postings"`
		}
		if code != 200 || json.Unmarshal(b, &l) != nil {
			return fmt.Errorf("list: %d %s", code, b)
		}
		for _, p := range l.Postings {
			if p.CandidateCount == nil || *p.CandidateCount != 1 {
				return fmt.Errorf("posting %s candidate_count %v, want 1: %s", p.ID, p.CandidateCount, b)
			}
		}
		return nil
	})
}

// waitFor polls a feed (JSON, not the event stream) until a notification of
// type names posting, and returns that item.
func waitFor(t *testing.T, s *stack, path string, auth []string, typ, posting string) napi.NearMissItem {
	t.Helper()
	var found napi.NearMissItem
	testenv.Eventually(t, 30*time.Second, func() error {
		for _, it := range feedAll(t, s, path, auth, typ) {
			if it.PostingID == posting {
				found = it
				return nil
			}
		}
		return fmt.Errorf("%s: no %s for %s yet", path, typ, posting)
	})
	return found
}

func feedItems(t *testing.T, s *stack, path string, auth []string, typ string) []string {
	var out []string
	for _, it := range feedAll(t, s, path, auth, typ) {
		out = append(out, it.PostingID)
	}
	return out
}

// feedAll reads every item of one type in a feed (posting_id, seeker_id
// and missing; other fields are ignored).
func feedAll(t *testing.T, s *stack, path string, auth []string, typ string) []napi.NearMissItem {
	t.Helper()
	code, _, b := s.do(t, "GET", path+"?last_event_id=0-0", "", "", auth...)
	if code != 200 {
		t.Fatalf("%s: %d %s", path, code, b)
	}
	var feed struct {
		Notifications []struct {
			Type string    `json:"type"`
			Body napi.Body `json:"body"`
		} `json:"notifications"`
	}
	if err := json.Unmarshal(b, &feed); err != nil {
		t.Fatal(err)
	}
	var out []napi.NearMissItem
	for _, n := range feed.Notifications {
		if n.Type != typ {
			continue
		}
		for _, raw := range n.Body.Data.Items {
			var it napi.NearMissItem
			if err := json.Unmarshal(raw, &it); err != nil {
				t.Fatal(err)
			}
			out = append(out, it)
		}
	}
	return out
}
