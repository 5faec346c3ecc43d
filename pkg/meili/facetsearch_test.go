package meili_test

import (
	"context"
	"testing"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// EnsureIndex applies FacetSearch as given, false included (meilisearch-go
// leaves a false out of a settings update, and Meilisearch's default is
// on), both ways, and an index without it still counts facets in searches.
func TestEnsureIndexAppliesFacetSearchAsGiven(t *testing.T) {
	srv := testenv.Open(t, testenv.Needs{Meili: true})
	ctx := context.Background()
	uid := srv.Config.IndexPrefix + "facets"
	ix := func(on bool) meili.Index {
		return meili.Index{UID: uid, PrimaryKey: "id", Settings: meilisearch.Settings{FilterableAttributes: []string{"mode"}, FacetSearch: on}}
	}
	for _, on := range []bool{false, true, false, false} {
		if err := meili.EnsureIndex(ctx, srv.Meili, ix(on)); err != nil {
			t.Fatal(err)
		}
		got, err := srv.Meili.Index(uid).GetFacetSearch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != on {
			t.Fatalf("facet search %v after EnsureIndex with %v", got, on)
		}
	}
	info, err := srv.Meili.Index(uid).AddDocuments(ctx, []map[string]any{{"id": "a", "mode": "remote"}, {"id": "b", "mode": "remote"}, {"id": "c", "mode": "onsite"}}, nil)
	if err == nil {
		err = meili.Wait(ctx, srv.Meili, info)
	}
	if err != nil {
		t.Fatal(err)
	}
	raw, err := srv.Meili.Index(uid).SearchRaw(ctx, "", &meilisearch.SearchRequest{Facets: []string{"mode"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := meili.DecodeSearchHits(*raw)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.FacetDistribution) != `{"mode":{"onsite":1,"remote":2}}` {
		t.Fatalf("facet counts without facet search: %s", res.FacetDistribution)
	}
	if _, err := srv.Meili.Index(uid).FacetSearch(ctx, &meilisearch.FacetSearchRequest{FacetName: "mode", FacetQuery: "rem"}); err == nil {
		t.Fatal("a facet search was answered with facet search off")
	}
}
