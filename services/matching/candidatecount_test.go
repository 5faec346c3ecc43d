package matching

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// A posting's candidate count is the seekers open to employers who qualify
// for it, the total of its candidates list: it follows an opt-in and an
// opt-out, and does not depend on the posting being in their stored lists
// (which hold only each seeker's best MatchListSize).
func TestCandidateCountsFollowOptInAndOut(t *testing.T) {
	cfg := testenv.Open(t, testenv.All).Config
	ctx := context.Background()
	c := startCopy(t, cfg, true)
	f := newFeed(t, cfg)
	version := 0
	put := func(id string, open bool) {
		t.Helper()
		version++
		sk := profile.Seeker{ID: id, RemotePref: "remote", RadiusMiles: 25, OpenToEmployers: open}
		sealed, err := f.keys.Seal(ctx, id, profile.Change{Seeker: &sk})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.SeekerSubjectPrefix + sealed.Subject, Type: events.TypeSeekerUpdated,
			ID: fmt.Sprintf("seeker:%s:%d", id, version), Source: "test", Payload: sealed}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(want int) {
		t.Helper()
		testenv.Eventually(t, 30*time.Second, func() error {
			res, err := c.s.candidateCounts(ctx, matchingapi.CandidateCountsRequest{PostingIDs: []string{"roi-count", "never-posted"}})
			if err != nil {
				return err
			}
			if res.Counts["roi-count"] != want || res.Counts["never-posted"] != 0 {
				return fmt.Errorf("counts %v, want roi-count %d and never-posted 0", res.Counts, want)
			}
			return nil
		})
	}
	put("cand-open", true)
	put("cand-closed", false)
	testenv.Eventually(t, 20*time.Second, func() error {
		if n := c.s.seekers.Size(); n < 2 {
			return fmt.Errorf("%d seekers of 2", n)
		}
		return nil
	})
	f.post(t, remoteOpening("roi-count", time.Now()))
	settled(t, c.s, 60*time.Second)
	count(1)
	put("cand-closed", true)
	count(2)
	put("cand-open", false)
	count(1)
	// Out of every stored list (a list holds only its seeker's best): still
	// a candidate.
	if err := c.s.rdb.Del(ctx, listKey("cand-closed"), postingKey("roi-count")).Err(); err != nil {
		t.Fatal(err)
	}
	count(1)
	list, err := c.s.candidates(ctx, matchingapi.CandidatesRequest{PostingID: "roi-count"})
	if err != nil || list.Total != 1 || len(list.Candidates) != 1 || list.Candidates[0].SeekerID != "cand-closed" {
		t.Fatalf("candidates %+v, %v; want cand-closed alone", list, err)
	}
}
