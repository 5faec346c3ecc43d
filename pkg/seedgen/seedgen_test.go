package seedgen

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/posting"
)

const placesCSV = "zip,lat,lon\n10001,40.75,-73.99\n10002,40.71,-73.98\n10003,40.73,-73.98\n59001,45.5,-109.5\n"

func testSampler(t *testing.T) *Sampler {
	t.Helper()
	ps, err := ReadPlaces(strings.NewReader(placesCSV))
	if err != nil {
		t.Fatal(err)
	}
	return NewSampler(ps)
}

func TestReadPlacesWeighsDenseCells(t *testing.T) {
	ps, err := ReadPlaces(strings.NewReader(placesCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 || ps[0].ZIP != "10001" || ps[0].Weight != 3 || ps[3].Weight != 1 {
		t.Fatalf("places %+v", ps)
	}
	s := NewSampler(ps)
	r := rand.New(rand.NewPCG(1, 2))
	rural := 0
	for range 10000 {
		if s.Draw(r).ZIP == "59001" {
			rural++
		}
	}
	// weights 3,3,3,1: the rural ZIP is drawn 1 time in 10.
	if rural < 800 || rural > 1200 {
		t.Fatalf("rural ZIP drawn %d times in 10,000, want about 1,000", rural)
	}
	for _, bad := range []string{"zip,lat,lon\n1000x,1,2\n", "zip,lat,lon\n10001,95,2\n", "zip,lat,lon\n"} {
		if _, err := ReadPlaces(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadPlaces(%q) = nil error", bad)
		}
	}
}

func TestSameSeedSamePopulation(t *testing.T) {
	s := testSampler(t)
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	gen := func(seed uint64) ([]Record, []Member) {
		r := rand.New(rand.NewPCG(seed, 1))
		recs := Records(r, 200, s, now, "B")
		var ms []Member
		for i := range 200 {
			ms = append(ms, Population(r, "s"+string(rune('a'+i%26)), s, now))
		}
		return recs, ms
	}
	r1, m1 := gen(7)
	r2, m2 := gen(7)
	if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(m1, m2) {
		t.Fatal("the same seed gave different populations")
	}
	r3, _ := gen(8)
	if reflect.DeepEqual(r1, r3) {
		t.Fatal("another seed gave the same postings")
	}
}

func TestPopulationCoversEveryStageAndRemoteWork(t *testing.T) {
	s := testSampler(t)
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(3, 4))
	stages := map[string]int{}
	for i := range 900 {
		m := Population(r, "s", s, now)
		stages[m.Stage]++
		if err := m.Seeker.Validate(); err != nil {
			t.Fatalf("seeker %d (%s) invalid: %v", i, m.Stage, err)
		}
	}
	if len(stages) != len(Stages) {
		t.Fatalf("stages drawn %v, want all %d", stages, len(Stages))
	}
	remote, titles := 0, map[string]bool{}
	for _, rec := range Records(r, 2000, s, now, "B") {
		if rec["work_mode"] == "remote" {
			remote++
		}
		titles[rec["title"].(string)] = true
		if _, err := json.Marshal(rec); err != nil {
			t.Fatal(err)
		}
	}
	if remote < 200 || remote > 400 || len(titles) != len(Templates) {
		t.Fatalf("%d remote of 2,000 (want about 300), %d titles of %d", remote, len(titles), len(Templates))
	}
}

func FuzzReadPlaces(f *testing.F) {
	f.Add(placesCSV)
	f.Add("zip,lat,lon\n501,40.8,-73.0\n")
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ReadPlaces(strings.NewReader(in))
		if err != nil {
			return
		}
		s := NewSampler(ps)
		r := rand.New(rand.NewPCG(1, 1))
		if p := s.Draw(r); !p.Valid() || p.Weight < 1 {
			t.Fatalf("drew %+v", p)
		}
	})
}

// Generated postings are not near-duplicates of each other by accident
// (ingest would fold them into one cluster, showing one posting per
// template), and the employer's sentences around a template's requirement
// text change nothing that is extracted from it.
func TestGeneratedPostingsAreDistinctAndKeepTheirRequirements(t *testing.T) {
	s := testSampler(t)
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	recs := Records(rand.New(rand.NewPCG(5, 6)), 1000, s, now, "B")
	hashes := make([]uint64, len(recs))
	for i, rec := range recs {
		hashes[i] = posting.SimHash(rec["title"].(string) + " " + rec["description"].(string))
	}
	near := 0
	for i := range hashes {
		for j := range hashes {
			if i != j && posting.Hamming(hashes[i], hashes[j]) <= posting.NearDuplicateDistance {
				near++
				break
			}
		}
	}
	if near > len(recs)/20 {
		t.Errorf("%d of %d generated postings have a near-duplicate (want under 5%%)", near, len(recs))
	}
	opt := posting.NormalizeOptions{Now: now}
	raw := func(title, desc string) posting.Raw {
		return posting.Raw{Title: title, Description: desc, Employer: "Lakeside Health 1", PostalCode: "10001", DatePosted: "2026-12-01"}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, tp := range Templates {
		want, err := posting.Normalize(raw(tp.Title, tp.Description), opt)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			desc := describe(r, tp, "Lakeside Health 1")
			got, err := posting.Normalize(raw(tp.Title, desc), opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Requirements, want.Requirements) {
				t.Fatalf("%s: with the employer's sentences %q\nextracted %+v\nwant %+v", tp.Title, desc, got.Requirements, want.Requirements)
			}
		}
	}
}
