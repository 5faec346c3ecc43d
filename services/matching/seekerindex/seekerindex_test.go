package seekerindex

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

func newIndex(t testing.TB) *Index {
	t.Helper()
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	today := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	return New(nil, cat, func() time.Time { return today })
}

func at(lat, lon float64) *profile.Location { return &profile.Location{Lat: &lat, Lon: &lon} }

// A replayed or redelivered event older than what the index holds changes
// nothing: not the profile, not a credential; and a removed seeker is not
// brought back by any event.
func TestAnOlderEventChangesNothing(t *testing.T) {
	ix := newIndex(t)
	newer := profile.Seeker{ID: "s1", Skills: []string{"release of information"}, RemotePref: "remote", RadiusMiles: 10}
	older := profile.Seeker{ID: "s1", Skills: []string{"scanning"}, RemotePref: "onsite", RadiusMiles: 50, Location: at(40, -83)}
	if !ix.SetAttrs(newer, 7) {
		t.Fatal("the first profile event changed nothing")
	}
	if ix.SetAttrs(older, 3) || ix.SetAttrs(older, 7) {
		t.Fatal("an event no newer than the profile held was applied")
	}
	sk, _, ok := ix.View("s1")
	if !ok || !slices.Equal(sk.Skills, newer.Skills) || sk.RemotePref != "remote" || sk.Point != nil {
		t.Fatalf("after an older event: %+v", sk)
	}

	if !ix.AddCredential("s1", profile.CredentialRecord{Code: "RHIT", EarnedOn: "2025-06-01"}, 12) {
		t.Fatal("a new credential changed nothing")
	}
	if ix.AddCredential("s1", profile.CredentialRecord{Code: "RHIT", EarnedOn: "2019-01-01", Apprentice: true}, 11) {
		t.Fatal("an older event for the same credential was applied")
	}
	if !ix.AddCredential("s1", profile.CredentialRecord{Code: "CCA", EarnedOn: "2024-01-01"}, 2) {
		t.Fatal("another credential's older event is no older for this one")
	}
	sk, _, _ = ix.View("s1")
	if !slices.Equal(sk.Held, []string{"CCA", "RHIT"}) {
		t.Fatalf("held %v, want CCA and RHIT (not RHIT-A)", sk.Held)
	}

	ix.Remove("s1")
	if ix.SetAttrs(newer, 100) || ix.AddCredential("s1", profile.CredentialRecord{Code: "CCS"}, 100) {
		t.Fatal("an event about a removed seeker was applied")
	}
	if _, _, ok := ix.View("s1"); ok || ix.Size() != 0 {
		t.Fatalf("a removed seeker is still known (size %d)", ix.Size())
	}
}

// Credentials recorded before the profile are kept, but the seeker is not
// visited by a scan nor viewed until the profile arrives.
func TestCredentialsBeforeTheProfile(t *testing.T) {
	ix := newIndex(t)
	ix.AddCredential("s2", profile.CredentialRecord{Code: "CCA", EarnedOn: "2024-01-01"}, 1)
	if _, _, ok := ix.View("s2"); ok {
		t.Fatal("credentials alone make a seeker")
	}
	ix.Scan(nil, true, 1, func(int, *match.Seeker) { t.Fatal("credentials alone were scanned") })
	ix.SetAttrs(profile.Seeker{ID: "s2", RemotePref: "remote"}, 1)
	sk, _, ok := ix.View("s2")
	if !ok || !slices.Equal(sk.Held, []string{"CCA"}) {
		t.Fatalf("after the profile: %+v", sk)
	}
}

// randomIndex fills an index with n seekers around a few places, a tenth
// with credentials only, and some moved or removed after they were placed.
func randomIndex(t testing.TB, r *rand.Rand, n int) (*Index, []profile.Seeker) {
	ix := newIndex(t)
	centers := []geo.Point{{Lat: 39.96, Lon: -83.0}, {Lat: 33.75, Lon: -84.39}, {Lat: 38.58, Lon: -121.49}, {Lat: 40.71, Lon: -74.0}}
	prefs := []string{"onsite", "hybrid", "remote", "any"}
	var all []profile.Seeker
	for i := range n {
		id := fmt.Sprintf("s%05d", i)
		if i%10 == 9 {
			ix.AddCredential(id, profile.CredentialRecord{Code: "CCA", EarnedOn: "2024-01-01"}, 1)
			continue
		}
		sk := profile.Seeker{ID: id, RemotePref: prefs[r.IntN(len(prefs))], RadiusMiles: 5 + r.IntN(60)}
		if r.IntN(8) > 0 {
			c := centers[r.IntN(len(centers))]
			sk.Location = at(c.Lat+r.NormFloat64()*0.8, c.Lon+r.NormFloat64()*0.8)
		}
		ix.SetAttrs(sk, 1)
		if r.IntN(5) == 0 { // moved: the old place must be left
			c := centers[r.IntN(len(centers))]
			sk.Location, sk.RemotePref = at(c.Lat+r.NormFloat64(), c.Lon+r.NormFloat64()), prefs[r.IntN(len(prefs))]
			ix.SetAttrs(sk, 2)
		}
		if r.IntN(20) == 0 {
			ix.Remove(id)
			continue
		}
		all = append(all, sk)
	}
	return ix, all
}

// visits returns how many times a scan visited each seeker.
func visits(ix *Index, p *geo.Point, remote bool, workers int) map[string]int {
	var mu sync.Mutex
	out := map[string]int{}
	ix.Scan(p, remote, workers, func(_ int, sk *match.Seeker) {
		mu.Lock()
		out[sk.ID]++
		mu.Unlock()
	})
	return out
}

// The parallel scan visits exactly the seekers the sequential one does,
// each once, and both visit every seeker who could reach the place (within
// their own radius) and, for remote work, every seeker open to it.
func TestParallelScanAgreesWithSequential(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ix, all := randomIndex(t, r, 2000)
	ix.ParallelMin = 50
	for q := range 20 {
		p := &geo.Point{Lat: 30 + r.Float64()*12, Lon: -122 + r.Float64()*50}
		if q%7 == 0 {
			p = nil
		}
		remote := q%3 == 0
		seq := visits(ix, p, remote, 1)
		for _, workers := range []int{2, 3, 8} {
			par := visits(ix, p, remote, workers)
			if len(par) != len(seq) {
				t.Fatalf("query %d, %d workers: %d seekers, sequential %d", q, workers, len(par), len(seq))
			}
			for id, n := range par {
				if n != 1 || seq[id] != 1 {
					t.Fatalf("query %d, %d workers: %s visited %d times (sequentially %d)", q, workers, id, n, seq[id])
				}
			}
		}
		for _, sk := range all {
			sv, _, _ := ix.View(sk.ID)
			near := p != nil && sv.Point != nil && geo.DistanceMiles(*p, *sv.Point) <= float64(sk.RadiusMiles)
			open := remote && (sv.Point == nil || sk.RemotePref != "onsite")
			if (near || open) && seq[sk.ID] != 1 {
				t.Fatalf("query %d (%v, remote %v): seeker %s (%v, %s, %d mi) not visited", q, p, remote, sk.ID, sv.Point, sk.RemotePref, sk.RadiusMiles)
			}
		}
	}
}
