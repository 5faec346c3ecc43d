package postingindex

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/meilisearch/meilisearch-go"

	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
)

// Each job once. Ingest groups near-duplicate postings (an agency's
// re-wording of a hospital's posting, the same job posted again) into a
// cluster named by its first posting's id (cluster_id). The index keeps
// every open posting, and marks all but one of each cluster hidden: search,
// forward matches and the match lists show the cluster's representative
// only, with the cluster's size and first-seen date.
//
// The representative is the employer's own posting over an agency's, then
// the freshest. The events do not say which organisation is an agency, so
// the employer's own postings are taken to be those of the organisation
// that posted the cluster's first posting (agencies re-post what employers
// posted before them); once that posting has closed, the freshest stands.
// The indexer settles every cluster a batch touched once the batch is
// searchable (settleClusters), so a search never sees a cluster without a
// shown posting for longer than one Meilisearch task.

// Index fields of duplicate clusters.
const (
	FieldCluster          = "cluster_id"
	FieldClusterHidden    = "cluster_hidden" // true: another posting of the cluster stands for it
	FieldClusterSize      = "cluster_size"
	FieldClusterOwner     = "cluster_owner" // the organisation of the cluster's first posting
	FieldClusterFirstSeen = "cluster_first_seen_ts"
	FieldClusterReposts   = "cluster_reposts" // postings of the cluster by the shown posting's organisation, less one
)

// ShownFilter keeps one posting per cluster (documents indexed before
// clusters have no cluster_hidden and are shown).
const ShownFilter = "NOT " + FieldClusterHidden + " = true"

// Member is what settling a cluster reads of each posting in it.
type Member struct {
	ID         string `json:"id"`
	Cluster    string `json:"cluster_id"`
	EmployerID string `json:"employer_id"`
	Posted     int64  `json:"date_posted_ts"`
	Owner      string `json:"cluster_owner"`
	FirstSeen  int64  `json:"cluster_first_seen_ts"`
	Hidden     bool   `json:"cluster_hidden"`
	Size       int    `json:"cluster_size"`
	Reposts    int    `json:"cluster_reposts"`
}

// representative picks the posting that stands for a cluster: the owner's
// (the organisation of the cluster's first posting) over others, then the
// freshest, then the lowest id.
func representative(owner string, ms []Member) string {
	best := slices.MinFunc(ms, func(a, b Member) int {
		if ao, bo := a.EmployerID == owner, b.EmployerID == owner; ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.Posted, a.Posted); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return best.ID
}

// settle returns the changes that make ms (one cluster's open postings) show
// one representative, with the cluster's size, owner and first-seen date on
// every member; nil when nothing changes.
func settle(cluster string, ms []Member) []map[string]any {
	owner, first := "", int64(0)
	for _, m := range ms {
		switch {
		case m.ID == cluster:
			owner = m.EmployerID
		case m.Owner != "" && owner == "":
			owner = m.Owner
		}
		for _, t := range []int64{m.FirstSeen, m.Posted} {
			if t != 0 && (first == 0 || t < first) {
				first = t
			}
		}
	}
	if owner == "" {
		owner = representative("", ms) // no first posting seen: the freshest's organisation
		for _, m := range ms {
			if m.ID == owner {
				owner = m.EmployerID
			}
		}
	}
	rep := representative(owner, ms)
	repOrg := ""
	for _, m := range ms {
		if m.ID == rep {
			repOrg = m.EmployerID
		}
	}
	reposts := -1
	for _, m := range ms {
		if m.EmployerID == repOrg {
			reposts++
		}
	}
	var out []map[string]any
	for _, m := range ms {
		hidden := m.ID != rep
		if m.Hidden == hidden && m.Size == len(ms) && m.Owner == owner && m.FirstSeen == first && m.Reposts == reposts {
			continue
		}
		out = append(out, map[string]any{"id": m.ID, FieldClusterHidden: hidden, FieldClusterSize: len(ms),
			FieldClusterOwner: owner, FieldClusterFirstSeen: first, FieldClusterReposts: reposts})
	}
	return out
}

// settleClusters brings the given clusters to one shown posting each.
//
// Settling reads the clusters' members and writes what changes; with
// batches in the indexer at once (Pipeline) two settlings could read
// before either wrote, and the one written last could be the older view.
// They take turns, each reading after the last one's write succeeded, so
// each sees every upsert that completed before it.
func (x *Index) settleClusters(ctx context.Context, clusters []string) error {
	x.settling.Lock()
	defer x.settling.Unlock()
	slices.Sort(clusters)
	clusters = slices.Compact(clusters)
	// The members are read 100 clusters at a time and the changes written
	// in one task: a Meilisearch task costs about as much for three
	// documents as for three hundred (issue 14: a task per chunk made a
	// batch of 1,000 postings ten settling tasks of 0.3–3 s each, most of
	// the indexer's time at 10,000 postings).
	var changes []map[string]any
	for len(clusters) > 0 {
		chunk := clusters[:min(100, len(clusters))]
		clusters = clusters[len(chunk):]
		members, err := x.Members(ctx, chunk)
		if err != nil {
			return err
		}
		for _, c := range chunk {
			if ms := members[c]; len(ms) > 0 {
				changes = append(changes, settle(c, ms)...)
			}
		}
	}
	if len(changes) == 0 {
		return nil
	}
	pk := "id"
	info, err := x.mc.Index(x.uid).UpdateDocuments(ctx, changes, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	if err == nil {
		err = meili.Wait(ctx, x.mc, info)
	}
	if err != nil {
		return fmt.Errorf("settle duplicate clusters: %w", err)
	}
	return nil
}

// maxClusterRead bounds the postings read to settle a chunk of clusters.
const maxClusterRead = 10000

// Members reads the open postings of some clusters, by cluster.
func (x *Index) Members(ctx context.Context, clusters []string) (map[string][]Member, error) {
	res, err := x.mc.Index(x.uid).Search(ctx, "", &meilisearch.SearchRequest{
		Filter: FieldCluster + " IN " + match.InList(clusters), Limit: maxClusterRead,
		AttributesToRetrieve: []string{"id", FieldCluster, "employer_id", "date_posted_ts", FieldClusterOwner, FieldClusterFirstSeen, FieldClusterHidden, FieldClusterSize, FieldClusterReposts},
	})
	if err != nil {
		return nil, fmt.Errorf("read duplicate clusters: %w", err)
	}
	out := map[string][]Member{}
	for _, h := range res.Hits {
		var m Member
		if err := h.DecodeInto(&m); err != nil {
			return nil, fmt.Errorf("decode cluster member: %w", err)
		}
		out[m.Cluster] = append(out[m.Cluster], m)
	}
	return out, nil
}

// clustersOf returns the clusters of indexed postings (before they are
// deleted).
func (x *Index) clustersOf(ctx context.Context, ids []string) ([]string, error) {
	var res meilisearch.DocumentsResult
	if err := x.mc.Index(x.uid).GetDocuments(ctx, &meilisearch.DocumentsQuery{Ids: ids, Limit: int64(len(ids)), Fields: []string{"id", FieldCluster}}, &res); err != nil {
		return nil, fmt.Errorf("read the clusters of closed postings: %w", err)
	}
	var out []string
	for _, h := range res.Results {
		var m Member
		if err := h.DecodeInto(&m); err == nil && m.Cluster != "" {
			out = append(out, m.Cluster)
		}
	}
	return out, nil
}
