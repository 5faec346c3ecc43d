package matching

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/match"
	"github.com/clerkpath/clerkpath/pkg/meili"
	"github.com/clerkpath/clerkpath/pkg/posting"
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
	fieldCluster          = "cluster_id"
	fieldClusterHidden    = "cluster_hidden" // true: another posting of the cluster stands for it
	fieldClusterSize      = "cluster_size"
	fieldClusterOwner     = "cluster_owner" // the organisation of the cluster's first posting
	fieldClusterFirstSeen = "cluster_first_seen_ts"
	fieldClusterReposts   = "cluster_reposts" // postings of the cluster by the shown posting's organisation, less one
)

// shownFilter keeps one posting per cluster (documents indexed before
// clusters have no cluster_hidden and are shown).
const shownFilter = "NOT " + fieldClusterHidden + " = true"

// clusterMember is what settling a cluster reads of each posting in it.
type clusterMember struct {
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
func representative(owner string, ms []clusterMember) string {
	best := slices.MinFunc(ms, func(a, b clusterMember) int {
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
func settle(cluster string, ms []clusterMember) []map[string]any {
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
		out = append(out, map[string]any{"id": m.ID, fieldClusterHidden: hidden, fieldClusterSize: len(ms),
			fieldClusterOwner: owner, fieldClusterFirstSeen: first, fieldClusterReposts: reposts})
	}
	return out
}

// settleClusters brings the given clusters to one shown posting each.
func (s *Service) settleClusters(ctx context.Context, clusters []string) error {
	slices.Sort(clusters)
	clusters = slices.Compact(clusters)
	for len(clusters) > 0 {
		chunk := clusters[:min(100, len(clusters))]
		clusters = clusters[len(chunk):]
		members, err := s.clusterMembers(ctx, chunk)
		if err != nil {
			return err
		}
		var changes []map[string]any
		for _, c := range chunk {
			if ms := members[c]; len(ms) > 0 {
				changes = append(changes, settle(c, ms)...)
			}
		}
		if len(changes) == 0 {
			continue
		}
		pk := "id"
		info, err := s.mc.Index(s.index).UpdateDocuments(ctx, changes, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err == nil {
			err = meili.Wait(ctx, s.mc, info)
		}
		if err != nil {
			return fmt.Errorf("settle duplicate clusters: %w", err)
		}
	}
	return nil
}

// postingClusterKey is the cluster of a posting in the match lists, kept
// until it closes: a jobs.closed event names the posting only.
func postingClusterKey(posting string) string { return "clerkpath:posting-cluster:" + posting }

// closeListed removes a closed posting from every match list and returns
// its cluster ("" when unknown).
func (s *Service) closeListed(ctx context.Context, id string) (string, error) {
	cluster, err := s.rdb.Get(ctx, postingClusterKey(id)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", err
	}
	if err := s.unlistPosting(ctx, id); err != nil {
		return "", err
	}
	return cluster, s.rdb.Del(ctx, postingClusterKey(id)).Err()
}

// matchClusters brings the match lists in line with the clusters' shown
// postings (settled by the indexer): a hidden posting leaves every list,
// the shown one is matched against the seekers.
func (s *Service) matchClusters(ctx context.Context, clusters []string) error {
	slices.Sort(clusters)
	clusters = slices.Compact(clusters)
	for len(clusters) > 0 {
		chunk := clusters[:min(100, len(clusters))]
		clusters = clusters[len(chunk):]
		members, err := s.clusterMembers(ctx, chunk)
		if err != nil {
			return err
		}
		var shown []string
		for _, ms := range members {
			for _, m := range ms {
				if m.Hidden {
					if err := s.unlistPosting(ctx, m.ID); err != nil {
						return fmt.Errorf("remove a duplicate from match lists: %w", err)
					}
					continue
				}
				shown = append(shown, m.ID)
			}
		}
		if len(shown) == 0 {
			continue
		}
		var res meilisearch.DocumentsResult
		if err := s.mc.Index(s.index).GetDocuments(ctx, &meilisearch.DocumentsQuery{Ids: shown, Limit: int64(len(shown))}, &res); err != nil {
			return fmt.Errorf("read shown postings: %w", err)
		}
		for _, h := range res.Results {
			var p posting.Posting
			if err := h.DecodeInto(&p); err != nil {
				return fmt.Errorf("decode shown posting: %w", err)
			}
			if err := s.reverseMatch(ctx, p); err != nil {
				return fmt.Errorf("reverse match %s: %w", p.ID, err)
			}
		}
	}
	return nil
}

// maxClusterRead bounds the postings read to settle a chunk of clusters.
const maxClusterRead = 10000

// clusterMembers reads the open postings of some clusters, by cluster.
func (s *Service) clusterMembers(ctx context.Context, clusters []string) (map[string][]clusterMember, error) {
	res, err := s.mc.Index(s.index).Search(ctx, "", &meilisearch.SearchRequest{
		Filter: fieldCluster + " IN " + match.InList(clusters), Limit: maxClusterRead,
		AttributesToRetrieve: []string{"id", fieldCluster, "employer_id", "date_posted_ts", fieldClusterOwner, fieldClusterFirstSeen, fieldClusterHidden, fieldClusterSize, fieldClusterReposts},
	})
	if err != nil {
		return nil, fmt.Errorf("read duplicate clusters: %w", err)
	}
	out := map[string][]clusterMember{}
	for _, h := range res.Hits {
		var m clusterMember
		if err := h.DecodeInto(&m); err != nil {
			return nil, fmt.Errorf("decode cluster member: %w", err)
		}
		out[m.Cluster] = append(out[m.Cluster], m)
	}
	return out, nil
}

// clustersOf returns the clusters of indexed postings (before they are
// deleted).
func (s *Service) clustersOf(ctx context.Context, ids []string) ([]string, error) {
	var res meilisearch.DocumentsResult
	if err := s.mc.Index(s.index).GetDocuments(ctx, &meilisearch.DocumentsQuery{Ids: ids, Limit: int64(len(ids)), Fields: []string{"id", fieldCluster}}, &res); err != nil {
		return nil, fmt.Errorf("read the clusters of closed postings: %w", err)
	}
	var out []string
	for _, h := range res.Results {
		var m clusterMember
		if err := h.DecodeInto(&m); err == nil && m.Cluster != "" {
			out = append(out, m.Cluster)
		}
	}
	return out, nil
}

// trust is what an indexed posting's cluster fields and age tell a seeker.
func (m clusterMember) trust(today time.Time) matchingapi.Trust {
	t := matchingapi.Trust{ClusterSize: max(1, m.Size), Reposts: max(0, m.Reposts)}
	t.AlsoPostedBy = t.ClusterSize - 1
	if m.Posted > 0 {
		t.AgeDays = max(0, int(today.Sub(time.Unix(m.Posted, 0)).Hours()/24))
	}
	if m.FirstSeen > 0 {
		t.FirstSeen = time.Unix(m.FirstSeen, 0).UTC().Format(time.DateOnly)
	}
	return t
}

// explainTrust is the trust signals in words, for a match's summary.
func explainTrust(t matchingapi.Trust) string {
	s := fmt.Sprintf(" Posted %d days ago", t.AgeDays)
	if t.AlsoPostedBy > 0 {
		s += fmt.Sprintf("; the same job is also posted %d other times (first seen %s)", t.AlsoPostedBy, t.FirstSeen)
	}
	if t.Reposts > 0 {
		s += fmt.Sprintf("; re-posted %d times by this employer", t.Reposts)
	}
	return s + "."
}
