package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/posting"
)

// store is what ingest remembers of postings beyond JetStream's one-hour
// duplicate window, in Redis (ops.go lists the keys for operators):
//
//	clerkpath:posting:<id>              hash: fingerprint (current version; empty once closed by the system),
//	                                    simhash, cluster, org, raw (the submitted fields, JSON), title,
//	                                    identifier, date_posted, first_seen, updated_at, status, reason,
//	                                    closed_at, opens (times posted again after closing), patches
//	clerkpath:simband:<band>:<value>    set of posting ids with that SimHash band
//	clerkpath:jobkey:<hash>             the cluster of a job key (see jobKey)
//	clerkpath:posting-expires           sorted set: id → when it closes (validThrough)
//	clerkpath:posting-seen              sorted set: id → when it was last received
//	clerkpath:org-postings:<org>        sorted set (by member): "<13-digit inverted ms>:<id>", newest first
//	clerkpath:org-open:<org>            set of the organisation's open posting ids (sync=true)
//	clerkpath:cluster-open:<cluster>    set of the cluster's open posting ids (cluster size)
type store struct{ rdb *redis.Client }

func postingKey(id string) string          { return "clerkpath:posting:" + id }
func orgListKey(org string) string         { return "clerkpath:org-postings:" + org }
func orgOpenKey(org string) string         { return "clerkpath:org-open:" + org }
func clusterOpenKey(cluster string) string { return "clerkpath:cluster-open:" + cluster }

const (
	expiresKey = "clerkpath:posting-expires"
	seenKey    = "clerkpath:posting-seen"
)

// listMember orders an organisation's postings newest first by member:
// milliseconds before year 2286, zero-padded, then the id.
func listMember(firstSeen time.Time, id string) string {
	return fmt.Sprintf("%013d:%s", 9_999_999_999_999-firstSeen.UnixMilli(), id)
}

// known is what Redis remembers of a posting.
type known struct {
	fingerprint, cluster, status, reason, org, firstSeen string
	opens                                                int
}

// closedByEmployer tells whether the organisation closed the posting
// itself: only a reopen opens it again, never a resubmission.
func (k known) closedByEmployer() bool {
	return k.status == ingestapi.StatusClosed && slices.Contains(ingestapi.CloseReasons, k.reason)
}

// closedBySystem tells whether the posting expired, went stale or left a
// synced feed: submitting it again posts it again.
func (k known) closedBySystem() bool {
	return (k.status == ingestapi.StatusClosed || k.status == ingestapi.StatusStale) && !k.closedByEmployer()
}

var knownFields = []string{"fingerprint", "cluster", "status", "reason", "org", "first_seen", "opens"}

// lookup reads what is remembered of each id, in one round trip.
func (d *store) lookup(ctx context.Context, ids []string) ([]known, error) {
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, postingKey(id), knownFields...)
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]known, len(ids))
	for i, c := range cmds {
		v := c.Val()
		str := func(j int) string { s, _ := v[j].(string); return s }
		out[i] = known{fingerprint: str(0), cluster: str(1), status: str(2), reason: str(3), org: str(4), firstSeen: str(5)}
		out[i].opens, _ = strconv.Atoi(str(6))
	}
	return out, nil
}

// accepted is one posting to remember as open.
type accepted struct {
	index   int // in the submission's accepted records
	p       posting.Posting
	raw     posting.Raw
	cluster string
	changed bool // a new version: its fields are written
	known   known
	opens   int // times posted again after closing, this one included
}

// rememberAll records accepted versions and refreshes postings received
// again unchanged, in one transaction.
func (d *store) rememberAll(ctx context.Context, org string, as []accepted, now time.Time) error {
	pipe := d.rdb.TxPipeline()
	if err := queueRemember(ctx, pipe, org, as, now); err != nil {
		return err
	}
	_, err := pipe.Exec(ctx)
	return err
}

// queueRemember queues rememberAll's writes on pipe (a transaction).
func queueRemember(ctx context.Context, pipe redis.Pipeliner, org string, as []accepted, now time.Time) error {
	listed := map[string]bool{}
	for _, a := range as {
		p := a.p
		pipe.ZAdd(ctx, seenKey, redis.Z{Score: float64(now.Unix()), Member: p.ID})
		pipe.SAdd(ctx, orgOpenKey(org), p.ID)
		pipe.SAdd(ctx, clusterOpenKey(a.cluster), p.ID)
		if !a.changed {
			continue
		}
		raw, err := json.Marshal(a.raw)
		if err != nil {
			return fmt.Errorf("remember posting %s: %w", p.ID, err)
		}
		pipe.HSet(ctx, postingKey(p.ID),
			"fingerprint", p.Fingerprint, "simhash", strconv.FormatUint(p.SimHash, 10), "cluster", a.cluster,
			"org", org, "raw", raw, "title", p.Title, "identifier", p.Identifier,
			"date_posted", p.DatePosted.UTC().Format(time.RFC3339), "updated_at", now.Unix(),
			"status", ingestapi.StatusOpen, "reason", "", "closed_at", "", "opens", a.opens)
		if a.known.firstSeen == "" && !listed[p.ID] {
			listed[p.ID] = true
			pipe.HSet(ctx, postingKey(p.ID), "first_seen", now.Unix())
			pipe.ZAdd(ctx, orgListKey(org), redis.Z{Member: listMember(now, p.ID)})
		}
		pipe.SetNX(ctx, jobKeyKey(p), a.cluster, 0)
		for b := range bands {
			pipe.SAdd(ctx, bandKey(b, p.SimHash), p.ID)
		}
		// Only a validThrough the sender gave closes a posting on a date;
		// one without it stays open while it is re-sent, and goes stale
		// when it is not (seenKey).
		if !p.ValidThrough.IsZero() {
			pipe.ZAdd(ctx, expiresKey, redis.Z{Score: float64(p.ValidThrough.Unix()), Member: p.ID})
		} else {
			pipe.ZRem(ctx, expiresKey, p.ID)
		}
	}
	return nil
}

// record is a posting as the owning organisation manages it.
type record struct {
	id, fingerprint, cluster, org, status, reason, title, identifier string
	raw                                                              []byte
	simhash                                                          uint64
	datePosted, firstSeen, updatedAt, closedAt                       time.Time
	opens, patches                                                   int
}

var errNoPosting = errors.New("no such posting")

// load reads a posting's record; errNoPosting when ingest never accepted it.
func (d *store) load(ctx context.Context, id string) (record, error) {
	recs, err := d.loadAll(ctx, []string{id}, true)
	if err != nil {
		return record{}, err
	}
	if recs[0].org == "" {
		return record{}, errNoPosting
	}
	return recs[0], nil
}

// loadAll reads the records of ids in one round trip (without the
// submitted fields unless withRaw); a record never accepted has no org.
func (d *store) loadAll(ctx context.Context, ids []string, withRaw bool) ([]record, error) {
	fields := []string{"fingerprint", "cluster", "org", "status", "reason", "title", "identifier", "simhash",
		"date_posted", "first_seen", "updated_at", "closed_at", "opens", "patches"}
	if withRaw {
		fields = append(fields, "raw")
	}
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, postingKey(id), fields...)
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]record, len(ids))
	for i, c := range cmds {
		v := c.Val()
		str := func(j int) string { s, _ := v[j].(string); return s }
		unix := func(j int) time.Time {
			n, err := strconv.ParseInt(str(j), 10, 64)
			if err != nil || n == 0 {
				return time.Time{}
			}
			return time.Unix(n, 0).UTC()
		}
		r := record{id: ids[i], fingerprint: str(0), cluster: str(1), org: str(2), status: str(3), reason: str(4),
			title: str(5), identifier: str(6), firstSeen: unix(9), updatedAt: unix(10), closedAt: unix(11)}
		r.simhash, _ = strconv.ParseUint(str(7), 10, 64)
		r.datePosted, _ = time.Parse(time.RFC3339, str(8))
		r.opens, _ = strconv.Atoi(str(12))
		r.patches, _ = strconv.Atoi(str(13))
		if withRaw {
			r.raw = []byte(str(14))
		}
		if r.status == "" && r.org != "" {
			r.status = ingestapi.StatusOpen
		}
		out[i] = r
	}
	return out, nil
}

// markClosed records that a posting closed (status closed or stale) for
// reason. A posting the system closed forgets its version, so that
// submitting it again posts it again; one the employer closed keeps it.
func (d *store) markClosed(ctx context.Context, r record, status, reason string, now time.Time) error {
	pipe := d.rdb.TxPipeline()
	pipe.HSet(ctx, postingKey(r.id), "status", status, "reason", reason, "closed_at", now.Unix())
	if !slices.Contains(ingestapi.CloseReasons, reason) {
		pipe.HDel(ctx, postingKey(r.id), "fingerprint")
	}
	for i := range bands {
		pipe.SRem(ctx, bandKey(i, r.simhash), r.id)
	}
	if r.org != "" {
		pipe.SRem(ctx, orgOpenKey(r.org), r.id)
	}
	if r.cluster != "" {
		pipe.SRem(ctx, clusterOpenKey(r.cluster), r.id)
	}
	pipe.ZRem(ctx, expiresKey, r.id)
	pipe.ZRem(ctx, seenKey, r.id)
	_, err := pipe.Exec(ctx)
	return err
}

// nextPatch counts a PATCH of the posting, for its event's id.
func (d *store) nextPatch(ctx context.Context, id string) (int64, error) {
	return d.rdb.HIncrBy(ctx, postingKey(id), "patches", 1).Result()
}

// due returns postings whose score in key is at or before t.
func (d *store) due(ctx context.Context, key string, t time.Time) ([]string, error) {
	return d.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, Start: "-inf", Stop: strconv.FormatInt(t.Unix(), 10), ByScore: true, Count: 1000}).Result()
}

// openOf lists the organisation's open postings.
func (d *store) openOf(ctx context.Context, org string) ([]string, error) {
	return d.rdb.SMembers(ctx, orgOpenKey(org)).Result()
}

// listPage returns up to n ids of the organisation's postings after the
// cursor (a list member; "" from the start), newest first, and the last
// member read.
func (d *store) listPage(ctx context.Context, org, cursor string, n int) ([]string, string, error) {
	start := "-"
	if cursor != "" {
		start = "(" + cursor
	}
	members, err := d.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: orgListKey(org), Start: start, Stop: "+", ByLex: true, Count: int64(n)}).Result()
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(members))
	last := ""
	for i, m := range members {
		_, ids[i], _ = strings.Cut(m, ":")
		last = m
	}
	return ids, last, nil
}

// clusterSizes counts the open postings of each cluster.
func (d *store) clusterSizes(ctx context.Context, clusters []string) ([]int, error) {
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(clusters))
	for i, c := range clusters {
		cmds[i] = pipe.SCard(ctx, clusterOpenKey(c))
	}
	if len(clusters) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]int, len(clusters))
	for i, c := range cmds {
		out[i] = int(c.Val())
	}
	return out, nil
}
