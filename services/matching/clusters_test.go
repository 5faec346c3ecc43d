package matching

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// An agency's re-post of a hospital's job appears once in search and in a
// seeker's matches and match list (the hospital's, with "also posted by
// 1"); when the hospital closes it the agency's stands, and when the
// hospital reopens it the hospital's is back — within seconds, and the
// stored list always agrees with the matches read.
func TestAnAgencyRepostAppearsOnceAndClosingMovesTheCluster(t *testing.T) {
	t.Parallel()
	srv := testenv.Open(t, testenv.All)
	ctx := context.Background()
	c := startCopy(t, srv.Config, true)
	f := newFeed(t, srv.Config)
	f.seeker(t, profile.Seeker{ID: "reader", RemotePref: "remote", RadiusMiles: 25})
	testenv.Eventually(t, 20*time.Second, func() error {
		if c.s.seekers.Size() < 1 {
			return fmt.Errorf("no seeker yet")
		}
		return nil
	})
	now := time.Now()
	n := 0
	publish := func(subject string, payload any) {
		t.Helper()
		n++
		if _, err := events.Publish(ctx, f.js, events.Event{Subject: subject, ID: fmt.Sprintf("job-event-%d", n), Source: "test", Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	hospital := remoteOpening("hosp-1", now.AddDate(0, 0, -2))
	agency := remoteOpening("agency-1", now)
	agency.Employer = "Staffing Partners"
	publish(ingestapi.Posted.Subject, ingestapi.JobEvent{Posting: hospital, EmployerID: "org-hospital", ClusterID: "hosp-1"})
	publish(ingestapi.Posted.Subject, ingestapi.JobEvent{Posting: agency, EmployerID: "org-agency", ClusterID: "hosp-1"})

	shows := func(want string, size int) func() error {
		return func() error {
			res, err := c.s.search(ctx, matchingapi.SearchRequest{})
			if err != nil {
				return err
			}
			var ids []string
			for _, h := range res.Hits {
				ids = append(ids, h["id"].(string))
			}
			if !slices.Equal(ids, []string{want}) || res.Hits[0]["cluster_size"] != size || res.Hits[0]["also_posted_by"] != size-1 {
				return fmt.Errorf("search shows %v (%v), want %s of a cluster of %d", ids, res.Hits, want, size)
			}
			m, err := c.s.forwardMatch(ctx, "reader", MatchListSize, false)
			if err != nil {
				return err
			}
			if len(m.Matches) != 1 || m.Matches[0].PostingID != want || m.Matches[0].ClusterSize != size {
				return fmt.Errorf("matches %+v, want %s", m.Matches, want)
			}
			if size > 1 && !strings.Contains(m.Matches[0].Summary, "also posted 1 other times") {
				return fmt.Errorf("the explanation does not say the job is posted twice: %q", m.Matches[0].Summary)
			}
			list, err := c.s.matchList(ctx, matchingapi.MatchListRequest{SeekerID: "reader"})
			if err != nil {
				return err
			}
			if len(list.Postings) != 1 || list.Postings[0].PostingID != want {
				return fmt.Errorf("stored list %+v, want %s only", list.Postings, want)
			}
			return nil
		}
	}
	testenv.Eventually(t, 30*time.Second, shows("hosp-1", 2))

	publish(ingestapi.Closed.Subject, ingestapi.Closure{ID: "hosp-1", Reason: ingestapi.ReasonOnHold, EmployerID: "org-hospital"})
	start := time.Now()
	testenv.Eventually(t, 10*time.Second, shows("agency-1", 1))
	t.Logf("closed posting replaced by its duplicate in search, matches and list in %s", time.Since(start).Round(time.Millisecond))

	publish(ingestapi.Posted.Subject, ingestapi.JobEvent{Posting: hospital, EmployerID: "org-hospital", ClusterID: "hosp-1"})
	start = time.Now()
	testenv.Eventually(t, 10*time.Second, shows("hosp-1", 2))
	t.Logf("reopened posting back in %s", time.Since(start).Round(time.Millisecond))
}
