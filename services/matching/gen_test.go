package matching

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/rs/zerolog"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/platform"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
	"github.com/clerkpath/clerkpath/pkg/shred"
	"github.com/clerkpath/clerkpath/pkg/testenv"

	"github.com/clerkpath/clerkpath/services/matching/postingindex"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// ownServers is a configuration of the test's own servers (nats-server,
// Redis database, Meilisearch index prefix), for a service that opens its
// own connections.
func ownServers(t testing.TB) config.Config {
	t.Helper()
	return testenv.Open(t, testenv.Needs{NATS: true, Redis: true, Meili: true}).Config
}

// The generators live in pkg/seedgen (shared with `clerkpath seed` and
// `clerkpath bench`); these names keep the tests short.
var credentialPool = seedgen.CredentialPool

// zipPoints loads n ZIP centroids spread over the country (every k-th).
func zipPoints(t testing.TB, path string, n int) []geo.Point {
	t.Helper()
	ps, err := seedgen.ReadPlacesFile(path)
	if err != nil {
		t.Fatalf("ZIP centroids (run deployments/local/install.sh): %v", err)
	}
	return seedgen.Spread(ps, n)
}

func pick[T any](r *rand.Rand, xs []T, k int) []T { return seedgen.Pick(r, xs, k) }

// genPostings makes n postings around the given places.
func genPostings(r *rand.Rand, n int, places []geo.Point, now time.Time) []posting.Posting {
	return seedgen.Postings(r, n, places, now)
}

// genSeeker makes a seeker near a place.
func genSeeker(r *rand.Rand, id string, places []geo.Point) profile.Seeker {
	return seedgen.Seeker(r, id, places)
}

// testService is a matching Service opened by newTestService, with the
// configuration of its servers.
type testService struct {
	*Service
	cfg config.Config
}

// newTestService opens a matching Service on fresh real servers without
// running its consumers: tests and benchmarks load it directly.
func newTestService(t testing.TB) *testService {
	t.Helper()
	cfg := ownServers(t)
	ctx := context.Background()
	p, err := platform.Open(ctx, cfg, Name, platform.Needs{Redis: true, Meili: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	s, err := New(p.NC, p.JS, p.Redis, p.Meili, p.Log, OptionsFromConfig(cfg, p.Log))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := shred.Open(ctx, p.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.keys, err = keys.Mirrored(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := meili.EnsureIndex(ctx, p.Meili, postingindex.Settings(s.index)); err != nil {
		t.Fatal(err)
	}
	return &testService{Service: s, cfg: cfg}
}

// loadPostings indexes postings straight into Meilisearch in batches.
func (s *Service) loadPostings(t testing.TB, ps []posting.Posting) {
	t.Helper()
	ctx := context.Background()
	pk := "id"
	for i := 0; i < len(ps); i += 10000 {
		var docs []postingindex.Document
		for _, p := range ps[i:min(i+10000, len(ps))] {
			doc, groups, err := postingindex.Doc(p)
			if err != nil {
				t.Fatal(err)
			}
			s.postings.Vocabulary().Add(groups, p.CredentialsOrEligible, len(match.Routes(&p)))
			docs = append(docs, doc)
		}
		info, err := s.mc.Index(s.index).AddDocumentsNdjson(ctx, postingindex.NDJSON(docs), &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err == nil {
			err = meili.Wait(ctx, s.mc, info)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
