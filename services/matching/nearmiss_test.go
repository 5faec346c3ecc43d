package matching

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// A seeker who earns the credential a near miss lacked is told the
// posting became a match, with the step that was missing; a posting that
// was never a near miss is an ordinary new match, and nothing is told as
// a former near miss twice.
func TestNearMissThatBecameAMatchIsAnnouncedAsSuch(t *testing.T) {
	t.Parallel()
	cfg := ownServers(t)
	ctx := context.Background()
	c := startCopy(t, cfg, true)
	f := newFeed(t, cfg)
	now := time.Now()
	cca := remoteOpening("needs-cca", now)
	cca.SetRoutes([]posting.Route{{Credentials: [][]string{{"CCA"}}}})
	f.post(t, cca)
	f.post(t, remoteOpening("open-to-all", now))
	settled(t, c.s, 60*time.Second)

	const id = "near-miss-seeker"
	sk := profile.Seeker{ID: id, Education: []profile.Education{{Level: "high_school", Status: "completed"}}, RemotePref: "remote", RadiusMiles: 25}
	f.seeker(t, sk)
	testenv.Eventually(t, 30*time.Second, func() error {
		n, err := c.s.rdb.HExists(ctx, nearKey(id), "needs-cca").Result()
		if err != nil || !n {
			return fmt.Errorf("needs-cca not a stored near miss yet (%v)", err)
		}
		return nil
	})
	// The seeker passes CCA.
	sealed, err := f.keys.Seal(ctx, id, profile.CredentialChange{SeekerID: id, Credential: &profile.CredentialRecord{Code: "CCA", EarnedOn: now.Format(time.DateOnly)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(ctx, f.js, events.Event{Subject: events.CredentialsEarned, ID: "earned-cca", Source: "test", Payload: sealed}); err != nil {
		t.Fatal(err)
	}
	var founds []matchingapi.Found
	testenv.Eventually(t, 30*time.Second, func() error {
		founds = f.founds(t, id)
		for _, fd := range founds {
			if slices.Contains(fd.Postings, "needs-cca") {
				return nil
			}
		}
		return fmt.Errorf("needs-cca not announced: %+v", founds)
	})
	var former []matchingapi.FormerNearMiss
	for _, fd := range founds {
		former = append(former, fd.WasNearMiss...)
		for _, nm := range fd.WasNearMiss {
			if !slices.Contains(fd.Postings, nm.PostingID) {
				t.Errorf("former near miss %s not among the announcement's postings %v", nm.PostingID, fd.Postings)
			}
		}
	}
	want := []matchingapi.FormerNearMiss{{PostingID: "needs-cca", Missing: []string{"CCA"}}}
	if fmt.Sprint(former) != fmt.Sprint(want) {
		t.Fatalf("former near misses %+v, want %+v (announcements %+v)", former, want, founds)
	}
	if was, _ := c.s.rdb.HExists(ctx, nearKey(id), "needs-cca").Result(); was {
		t.Errorf("needs-cca is still a stored near miss after it was announced as a match")
	}
}

// founds reads the matches.found events of one seeker, oldest first.
func (f feed) founds(t *testing.T, seeker string) []matchingapi.Found {
	t.Helper()
	var out []matchingapi.Found
	for _, fd := range f.found(t) {
		if fd.SeekerID == seeker {
			out = append(out, fd)
		}
	}
	return out
}
