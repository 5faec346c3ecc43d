package matching

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

// Every field of postingindex.Member survives candidateHit: a field added
// to Member and not to candidateHit fails here instead of reading zero in
// the trust signals.
func TestCandidateHitCarriesEveryMemberField(t *testing.T) {
	var m postingindex.Member
	v := reflect.ValueOf(&m).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x" + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(7 + i))
		case reflect.Bool:
			f.SetBool(true)
		default:
			t.Fatalf("Member.%s is a %s: teach this test and candidateHit", v.Type().Field(i).Name, f.Kind())
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := decodeCandidates([]byte(`{"hits":[` + string(b) + `],"estimatedTotalHits":1}`))
	if err != nil || len(hits) != 1 {
		t.Fatalf("decode: %v %d", err, len(hits))
	}
	if got := hits[0].member(); got != m {
		t.Fatalf("member()\n got %+v\nwant %+v", got, m)
	}
	if hits[0].ID != m.ID {
		t.Fatalf("posting id %q, want %q", hits[0].ID, m.ID)
	}
	for _, n := range jsonNames(reflect.TypeFor[postingindex.Member]()) {
		if !slices.Contains(candidateAttributes, n) {
			t.Errorf("candidateAttributes lacks Member's %q", n)
		}
	}
}

// A candidate search against the real index gives back each posting and
// its trust signals as a search of the whole document decoded by
// meilisearch-go does (what forward matching did before), but for the
// posting's description: not retrieved, nothing scores it.
func TestCandidateSearchReturnsThePostingButItsText(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	ps := genPostings(rand.New(rand.NewPCG(3, 4)), 40, zipPoints(t, s.cfg.ZCTAFile, 20), time.Now())
	s.loadPostings(t, ps)
	if slices.Contains(candidateAttributes, "description") {
		t.Fatal("candidate searches retrieve the description")
	}
	got, trust, err := s.queryTrust(ctx, `status = "open"`, 100)
	if err != nil {
		t.Fatal(err)
	}
	full, err := s.mc.Index(s.index).Search(ctx, "", &meilisearch.SearchRequest{Filter: `status = "open"`, Limit: 100, Sort: []string{"date_posted_ts:desc"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ps) || len(full.Hits) != len(ps) || len(trust) != len(ps) {
		t.Fatalf("%d hits, %d trust signals and %d whole hits for %d postings", len(got), len(trust), len(full.Hits), len(ps))
	}
	for i, h := range full.Hits {
		var want posting.Posting
		var m postingindex.Member
		if err := h.DecodeInto(&want); err != nil {
			t.Fatal(err)
		}
		if err := h.DecodeInto(&m); err != nil {
			t.Fatal(err)
		}
		if want.Description == "" {
			t.Fatalf("posting %s was indexed without a description: the test says nothing", want.ID)
		}
		want.Description = ""
		gb, _ := json.Marshal(got[i])
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Fatalf("hit %d\n got %s\nwant %s", i, gb, wb)
		}
		if w := trustSignals(m, s.now()); trust[m.ID] != w {
			t.Fatalf("trust of %s: %+v, want %+v", m.ID, trust[m.ID], w)
		}
	}
}

// candidateBody is a search answer of 200 generated postings as
// candidateSearch retrieves them.
func candidateBody(t testing.TB) []byte {
	t.Helper()
	places := []geo.Point{{Lat: 41.88, Lon: -87.63}, {Lat: 29.76, Lon: -95.37}, {Lat: 47.61, Lon: -122.33}}
	ps := genPostings(rand.New(rand.NewPCG(3, 4)), 200, places, time.Now())
	hits := make([]candidateHit, len(ps))
	for i, p := range ps {
		p.Description = ""
		hits[i] = candidateHit{Posting: p, Cluster: "c" + p.ID, Posted: 1_700_000_000 + int64(i), FirstSeen: 1_700_000_000, Size: 1 + i%3, Reposts: i % 2, Hidden: i%7 == 0}
	}
	body, err := json.Marshal(map[string]any{"hits": hits, "estimatedTotalHits": len(hits), "processingTimeMs": 3})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// decodeCandidates reads each hit as meilisearch-go's Search and
// Hit.DecodeInto a posting and a postingindex.Member read it (the path it
// replaced), wherever both read the answer.
func FuzzDecodeCandidates(f *testing.F) {
	f.Add(candidateBody(f))
	f.Add([]byte(`{"hits":[{"id":"p1","simhash":"12","date_posted":"2026-01-02T03:04:05Z","cluster_size":2,"location":{"lat":1.5}}]}`))
	f.Add([]byte(`{"hits":[{"id":"p1","simhash":12}]}`))
	f.Add([]byte(`{"hits":null}`))
	f.Add([]byte(`{"hits":[{"Description":"x","Cluster_Size":3}]}`))
	f.Add([]byte(`{"hits":[{"id":"a","ID":"b","cluster_ID":"c","routes":[{"groups":[["A","B"]]}],"employment_type":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeCandidates(body)
		var old meilisearch.SearchResponse
		werr := json.Unmarshal(body, &old)
		var want []candidateHit
		for _, h := range old.Hits {
			if werr != nil {
				break
			}
			if caseVariant(h) {
				// A key that is a field's name but for letter case: the
				// old path matches keys exactly, encoding/json (here) in
				// any case. The indexer writes every key as named.
				return
			}
			var p posting.Posting
			var m postingindex.Member
			if werr = h.DecodeInto(&p); werr == nil {
				werr = h.DecodeInto(&m)
			}
			want = append(want, candidateHit{Posting: p, Cluster: m.Cluster, EmployerID: m.EmployerID, Posted: m.Posted, Owner: m.Owner,
				FirstSeen: m.FirstSeen, Hidden: m.Hidden, Size: m.Size, Reposts: m.Reposts})
			if werr == nil && m.ID != p.ID {
				t.Fatalf("the old path read two ids, %q and %q", p.ID, m.ID)
			}
		}
		if werr != nil || err != nil {
			// An answer one path refuses (a value of the wrong type
			// somewhere) is not one Meilisearch sends for documents the
			// indexer wrote; what must hold is that what both read, they
			// read alike.
			return
		}
		if len(got) == 0 && len(want) == 0 {
			return
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Fatalf("decoded differently\n got %s\nwant %s\nbody %q", gb, wb, body)
		}
	})
}

// caseVariant reports whether a key of h equals a field's JSON name but
// for letter case.
func caseVariant(h meilisearch.Hit) bool {
	names := append(jsonNames(reflect.TypeFor[posting.Posting]()), jsonNames(reflect.TypeFor[postingindex.Member]())...)
	for k := range h {
		if slices.Contains(names, k) {
			continue
		}
		if slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, k) }) {
			return true
		}
	}
	return false
}

func BenchmarkDecodeCandidates(b *testing.B) {
	body := candidateBody(b)
	b.SetBytes(int64(len(body)))
	b.Run("once", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeCandidates(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("meilisearch-go-and-decode-into", func(b *testing.B) {
		for b.Loop() {
			var res meilisearch.SearchResponse
			if err := json.Unmarshal(body, &res); err != nil {
				b.Fatal(err)
			}
			for _, h := range res.Hits {
				var p posting.Posting
				var m postingindex.Member
				if err := h.DecodeInto(&p); err != nil {
					b.Fatal(err)
				}
				if err := h.DecodeInto(&m); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
