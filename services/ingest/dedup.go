package ingest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/posting"
)

// dedup keeps what de-duplication needs beyond JetStream's one-hour window,
// in Redis:
//
//	clerkpath:posting:<id>           hash: fingerprint (current version), simhash, cluster
//	clerkpath:simband:<band>:<value> set of posting ids with that SimHash band
//	clerkpath:posting-expires        sorted set: id → when it closes (validThrough)
//	clerkpath:posting-seen           sorted set: id → when it was last received
type dedup struct{ rdb *redis.Client }

func postingKey(id string) string { return "clerkpath:posting:" + id }

const (
	expiresKey = "clerkpath:posting-expires"
	seenKey    = "clerkpath:posting-seen"
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

// version returns the fingerprint last accepted for id ("" when new).
func (d *dedup) version(ctx context.Context, id string) (string, error) {
	v, err := d.rdb.HGet(ctx, postingKey(id), "fingerprint").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// cluster returns the near-duplicate cluster of a posting: its existing
// cluster, else the cluster of the nearest earlier posting within
// NearDuplicateDistance, else its own id.
func (d *dedup) cluster(ctx context.Context, id string, h uint64) (string, error) {
	if c, err := d.rdb.HGet(ctx, postingKey(id), "cluster").Result(); err == nil && c != "" {
		return c, nil
	} else if err != nil && !errors.Is(err, redis.Nil) {
		return "", err
	}
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(bands))
	for i := range bands {
		cmds[i] = pipe.SRandMemberN(ctx, bandKey(i, h), maxCandidatesPerBand)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return "", err
	}
	seen := map[string]bool{id: true}
	var others []string
	for _, c := range cmds {
		for _, other := range c.Val() {
			if !seen[other] {
				seen[other] = true
				others = append(others, other)
			}
		}
	}
	slices.Sort(others)
	pipe = d.rdb.Pipeline()
	vals := make([]*redis.SliceCmd, len(others))
	for i, other := range others {
		vals[i] = pipe.HMGet(ctx, postingKey(other), "simhash", "cluster")
	}
	if len(others) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return "", err
		}
	}
	best, bestDist := "", posting.NearDuplicateDistance+1
	for i, other := range others {
		v := vals[i].Val()
		hs, _ := v[0].(string)
		oh, err := strconv.ParseUint(hs, 10, 64)
		if err != nil {
			continue
		}
		if dist := posting.Hamming(h, oh); dist < bestDist {
			cl, _ := v[1].(string)
			if cl == "" {
				cl = other
			}
			best, bestDist = cl, dist
		}
	}
	if best == "" {
		return id, nil
	}
	return best, nil
}

// remember records an accepted version.
func (d *dedup) remember(ctx context.Context, p posting.Posting, now time.Time) error {
	cluster, err := d.cluster(ctx, p.ID, p.SimHash)
	if err != nil {
		return err
	}
	pipe := d.rdb.TxPipeline()
	pipe.HSet(ctx, postingKey(p.ID), "fingerprint", p.Fingerprint, "simhash", strconv.FormatUint(p.SimHash, 10), "cluster", cluster)
	for i := range bands {
		pipe.SAdd(ctx, bandKey(i, p.SimHash), p.ID)
	}
	// Only a validThrough the sender gave closes a posting on a date; one
	// without it stays open while it is re-sent, and goes stale when it is
	// not (seenKey).
	if !p.ValidThrough.IsZero() {
		pipe.ZAdd(ctx, expiresKey, redis.Z{Score: float64(p.ValidThrough.Unix()), Member: p.ID})
	}
	pipe.ZAdd(ctx, seenKey, redis.Z{Score: float64(now.Unix()), Member: p.ID})
	_, err = pipe.Exec(ctx)
	return err
}

// seen refreshes a posting that was sent again unchanged.
func (d *dedup) seen(ctx context.Context, p posting.Posting, now time.Time) error {
	return d.rdb.ZAdd(ctx, seenKey, redis.Z{Score: float64(now.Unix()), Member: p.ID}).Err()
}

// forget drops a closed posting, so that posting it again later is new.
func (d *dedup) forget(ctx context.Context, id string) error {
	h, err := d.rdb.HGet(ctx, postingKey(id), "simhash").Uint64()
	pipe := d.rdb.TxPipeline()
	if err == nil {
		for i := range bands {
			pipe.SRem(ctx, bandKey(i, h), id)
		}
	}
	pipe.Del(ctx, postingKey(id))
	pipe.ZRem(ctx, expiresKey, id)
	pipe.ZRem(ctx, seenKey, id)
	_, err = pipe.Exec(ctx)
	return err
}

// due returns postings whose score in key is at or before t.
func (d *dedup) due(ctx context.Context, key string, t time.Time) ([]string, error) {
	return d.rdb.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(t.Unix(), 10), Count: 1000}).Result()
}
