package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/posting"
)

// maxCandidatesPerBand bounds the near-duplicate candidates looked at per
// band: a chain that posts one text for a hundred sites fills a band with
// identical hashes, any of which names the cluster.
const maxCandidatesPerBand = 16

// bands split a 64-bit SimHash into 7 bands: two hashes within
// posting.NearDuplicateDistance (6) bits agree on at least one band
// (pigeonhole), so looking up 7 small sets finds every near-duplicate.
var bands = [...]struct{ shift, width uint }{{0, 10}, {10, 9}, {19, 9}, {28, 9}, {37, 9}, {46, 9}, {55, 9}}

func bandKey(i int, h uint64) string {
	b := bands[i]
	v := (h >> b.shift) & (1<<b.width - 1)
	return "clerkpath:simband:" + strconv.Itoa(i) + ":" + strconv.FormatUint(v, 16)
}

// clusters returns the near-duplicate cluster of each posting: its existing
// cluster, else the cluster of the nearest posting within
// NearDuplicateDistance — remembered in Redis or earlier in the same batch —
// else the cluster of the same job under another wording (jobKey), else its
// own id. At most three round trips for the whole batch.
func (d *store) clusters(ctx context.Context, ps []posting.Posting, kn []known) ([]string, error) {
	out := make([]string, len(ps))
	for i := range ps {
		out[i] = kn[i].cluster
	}
	bandCmds, err := d.bandCandidates(ctx, ps, out)
	if err != nil {
		return nil, err
	}
	if bandCmds == nil {
		return out, nil
	}
	stored, err := d.storedCandidates(ctx, bandCmds)
	if err != nil {
		return nil, err
	}
	keyCmds, err := d.jobKeyClusters(ctx, ps, out)
	if err != nil {
		return nil, err
	}
	byKey := map[string]string{} // job key → cluster, for this batch
	for i, p := range ps {
		k := jobKey(p)
		if out[i] == "" {
			out[i] = nearest(p, i, ps, out, bandCmds[i], stored)
		}
		if out[i] == "" {
			out[i] = keyCmds[i].Val()
		}
		if out[i] == "" {
			out[i] = byKey[k]
		}
		if out[i] == "" {
			out[i] = p.ID
		}
		if _, ok := byKey[k]; !ok {
			byKey[k] = out[i]
		}
	}
	return out, nil
}

// bandCandidates reads, for each posting without a cluster, up to
// maxCandidatesPerBand remembered postings in each of its SimHash bands.
// nil when every posting has a cluster already.
func (d *store) bandCandidates(ctx context.Context, ps []posting.Posting, clustered []string) ([][]*redis.StringSliceCmd, error) {
	pipe := d.rdb.Pipeline()
	cmds := make([][]*redis.StringSliceCmd, len(ps))
	open := 0
	for i, p := range ps {
		if clustered[i] != "" {
			continue
		}
		open++
		cmds[i] = make([]*redis.StringSliceCmd, len(bands))
		for b := range bands {
			cmds[i][b] = pipe.SRandMemberN(ctx, bandKey(b, p.SimHash), maxCandidatesPerBand)
		}
	}
	if open == 0 {
		return nil, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	return cmds, nil
}

// storedCandidates reads the hash and cluster of every band candidate,
// each once.
func (d *store) storedCandidates(ctx context.Context, bandCmds [][]*redis.StringSliceCmd) (map[string]cand, error) {
	var others []string
	seen := map[string]bool{}
	for _, band := range bandCmds {
		for _, c := range band {
			for _, o := range c.Val() {
				if !seen[o] {
					seen[o] = true
					others = append(others, o)
				}
			}
		}
	}
	stored := map[string]cand{}
	if len(others) == 0 {
		return stored, nil
	}
	slices.Sort(others)
	pipe := d.rdb.Pipeline()
	vals := make([]*redis.SliceCmd, len(others))
	for i, o := range others {
		vals[i] = pipe.HMGet(ctx, postingKey(o), "simhash", "cluster")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	for i, o := range others {
		v := vals[i].Val()
		hs, _ := v[0].(string)
		h, err := strconv.ParseUint(hs, 10, 64)
		if err != nil {
			continue
		}
		cl, _ := v[1].(string)
		if cl == "" {
			cl = o
		}
		stored[o] = cand{h, cl}
	}
	return stored, nil
}

// jobKeyClusters looks up the cluster remembered under the job key of each
// posting without a cluster: the same job under another wording is still
// recognisable by what it is (see jobKey).
func (d *store) jobKeyClusters(ctx context.Context, ps []posting.Posting, clustered []string) ([]*redis.StringCmd, error) {
	keyCmds := make([]*redis.StringCmd, len(ps))
	pipe := d.rdb.Pipeline()
	for i, p := range ps {
		if clustered[i] == "" {
			keyCmds[i] = pipe.Get(ctx, jobKeyKey(p))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	return keyCmds, nil
}

// cand is a remembered posting's hash and cluster.
type cand struct {
	hash    uint64
	cluster string
}

// nearest returns the cluster of the posting nearest to ps[i] by SimHash,
// within NearDuplicateDistance: among the band candidates remembered in
// Redis and the batch's earlier postings. "" when none is near.
func nearest(p posting.Posting, i int, ps []posting.Posting, out []string, band []*redis.StringSliceCmd, stored map[string]cand) string {
	best, bestDist := "", posting.NearDuplicateDistance+1
	consider := func(id string, c cand) {
		if id == p.ID {
			return
		}
		if dist := posting.Hamming(p.SimHash, c.hash); dist < bestDist || (dist == bestDist && c.cluster < best) {
			best, bestDist = c.cluster, dist
		}
	}
	for _, c := range band {
		for _, o := range c.Val() {
			if cd, ok := stored[o]; ok {
				consider(o, cd)
			}
		}
	}
	for j := range i { // earlier postings of this batch, already clustered
		consider(ps[j].ID, cand{ps[j].SimHash, out[j]})
	}
	return best
}

// jobKey identifies a job by what it is rather than how it is worded: the
// normalised title, the place (postal code, else coordinates to about a
// kilometre), the work mode, the required credentials and the pay.
func jobKey(p posting.Posting) string {
	place := p.Location.PostalCode
	if pt, ok := p.Location.Point(); ok && place == "" {
		place = fmt.Sprintf("%.2f,%.2f", pt.Lat, pt.Lon)
	}
	groups := make([]string, 0, len(p.CredentialsRequired))
	for _, g := range p.CredentialsRequired {
		g = slices.Clone(g)
		slices.Sort(g)
		groups = append(groups, strings.Join(g, "|"))
	}
	slices.Sort(groups)
	title := strings.Join(strings.Fields(strings.ToLower(p.Title)), " ")
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%.2f-%.2f", title, place, p.WorkMode, strings.Join(groups, "&"), p.SalaryHourlyMin, p.SalaryHourlyMax)))
	return hex.EncodeToString(sum[:12])
}

func jobKeyKey(p posting.Posting) string { return "clerkpath:jobkey:" + jobKey(p) }
