package matching

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

// The one-filter encoding of hard requirements must select exactly the
// postings the pure scorer calls eligible: checked for random seekers over
// random postings in a real Meilisearch.
func TestEligibilityFilterAgreesWithTheScorer(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	r := rand.New(rand.NewPCG(7, 11))
	now := time.Now()
	places := zipPoints(t, s.cfg.ZCTAFile, 40)
	ps := genPostings(r, 600, places, now)
	s.loadPostings(t, ps)
	s.checkFilterAgrees(t, r, ps, places, 40)
}

// checkFilterAgrees compares, for n random seekers, the postings the
// eligibility filter selects in Meilisearch with those the scorer calls
// eligible among ps.
func (s *Service) checkFilterAgrees(t *testing.T, r *rand.Rand, ps []posting.Posting, places []geo.Point, n int) {
	t.Helper()
	byID := map[string]posting.Posting{}
	for _, p := range ps {
		byID[p.ID] = p
	}
	for i := range n {
		id := fmt.Sprintf("s%d", i)
		s.seekers.SetAttrs(genSeeker(r, id, places), 1)
		for _, c := range pick(r, credentialPool, r.IntN(3)) {
			s.seekers.AddCredential(id, profile.CredentialRecord{Code: c, EarnedOn: "2024-01-01"}, 1)
		}
		sk, attrs, _ := s.seekers.View(id)
		place, _ := placeFilter(sk, attrs)
		got, err := s.query(context.Background(), joinAnd(`status = "open"`, place, s.eligibilityFilter(sk)), 1000)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs, want []string
		for _, p := range got {
			gotIDs = append(gotIDs, p.ID)
		}
		for _, p := range ps {
			// Meilisearch measures distance on a sphere as we do; postings
			// right at the radius may differ by rounding, so skip them.
			reach, d := match.Reachable(sk, p)
			if d != nil && p.WorkMode != "remote" && abs(*d-float64(sk.RadiusMiles)) < 0.05 {
				continue
			}
			if reach && len(match.Gaps(sk, p)) == 0 {
				want = append(want, p.ID)
			}
		}
		slices.Sort(gotIDs)
		slices.Sort(want)
		gotIDs = slices.DeleteFunc(gotIDs, func(id string) bool {
			_, d := match.Reachable(sk, byID[id])
			return d != nil && byID[id].WorkMode != "remote" && abs(*d-float64(sk.RadiusMiles)) < 0.05
		})
		if !slices.Equal(gotIDs, want) {
			t.Fatalf("seeker %s (held %v, edu %d, exp %d): filter gave %d postings, scorer %d\nonly filter: %v\nonly scorer: %v",
				id, sk.Held, sk.EducationRank, sk.ExperienceMonths, len(gotIDs), len(want), minus(gotIDs, want), minus(want, gotIDs))
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
