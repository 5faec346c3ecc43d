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

// A posting's candidate count is the seekers open to employers whose
// stored list holds it: it follows an opt-in and an opt-out within a list
// refresh, and a start rebuilds the open set from the seekers index.
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
	// The open set lost (made before it existed): a start rebuilds it.
	if err := c.s.rdb.Del(ctx, openSeekersKey).Err(); err != nil {
		t.Fatal(err)
	}
	count(0)
	if err := c.s.reconcileConsent(ctx); err != nil {
		t.Fatal(err)
	}
	count(1)
	if members, _ := c.s.rdb.SMembers(ctx, openSeekersKey).Result(); fmt.Sprint(members) != "[cand-closed]" {
		t.Errorf("open set %v, want [cand-closed]", members)
	}
}
