package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// Outcome statuses of an accepted record.
const (
	outcomePosted    = "posted"
	outcomeUpdated   = "updated"
	outcomeDuplicate = "duplicate"
	// outcomeClosed: the organisation closed this posting (filled,
	// withdrawn, on hold); a resubmission leaves it closed.
	outcomeClosed = "closed"
)

// submission is one decoded request to Submit.
type submission struct {
	org    string
	single bool
	sync   bool
	batch  posting.Batch
}

func (s *Service) submit(ctx context.Context, r rpc.Raw) (ingestapi.Result, error) {
	sub, err := decodeSubmission(r)
	if err != nil {
		return ingestapi.Result{}, err
	}
	res := ingestapi.Result{Accepted: []ingestapi.Outcome{}, Rejected: []ingestapi.RejectedRecord{}}
	for _, e := range sub.batch.Errors {
		res.Rejected = append(res.Rejected, ingestapi.RejectedRecord{Index: e.Index, Line: e.Line, Errors: e.Fields})
	}
	var good []normalized
	// namedByRejected are ids of postings named by rejected rows: a sync
	// keeps them open. unnamed counts rejected rows whose id is unknown.
	namedByRejected, unnamed := map[string]bool{}, len(sub.batch.Errors)
	for _, raw := range sub.batch.Records {
		n, err := s.normalize(raw, sub.org)
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				return res, err
			}
			if sub.single {
				return res, apierr.InvalidFields(unprefix(ae.Fields)...)
			}
			res.Rejected = append(res.Rejected, ingestapi.RejectedRecord{Index: raw.Index, Line: raw.Line, Errors: ae.Fields})
			if id := rawID(raw, sub.org); id != "" {
				namedByRejected[id] = true
			} else {
				unnamed++
			}
			continue
		}
		good = append(good, n)
	}
	outs, err := s.accept(ctx, sub.org, good)
	if err != nil {
		return res, err
	}
	res.Accepted = append(res.Accepted, outs...)
	if err := s.recordRejections(ctx, sub.org, res.Rejected); err != nil {
		return res, err
	}
	if sub.sync {
		if err := s.resync(ctx, sub.org, &res, namedByRejected, unnamed); err != nil {
			return res, err
		}
	}
	if sub.single {
		for i := range res.Accepted {
			res.Accepted[i].Warnings = unprefix(res.Accepted[i].Warnings)
		}
	}
	return res, nil
}

func decodeSubmission(r rpc.Raw) (submission, error) {
	sub := submission{org: r.Header.Get(ingestapi.HeaderEmployerOrg)}
	if !profile.ValidID(sub.org) {
		return sub, apierr.InvalidFields(apierr.FieldError{Field: "employer_id", Message: "the submitting organisation is required (the gateway sets it from the caller's token)"})
	}
	var opt posting.DecodeOptions
	if cols := r.Header.Get(ingestapi.HeaderColumns); cols != "" {
		if err := json.Unmarshal([]byte(cols), &opt.Columns); err != nil {
			return sub, apierr.InvalidFields(apierr.FieldError{Field: "columns", Message: `a JSON object mapping your CSV headers to ours, like {"Job Title":"title"}`})
		}
	}
	sub.single = r.Header.Get(ingestapi.HeaderMode) == "single"
	if v := r.Header.Get(ingestapi.HeaderSync); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return sub, apierr.InvalidFields(apierr.FieldError{Field: "sync", Message: "true or false"})
		}
		if b && sub.single {
			return sub, apierr.InvalidFields(apierr.FieldError{Field: "sync", Message: "a sync sends the whole feed: use POST /v1/postings:bulk?sync=true"})
		}
		sub.sync = b
	}
	batch, err := posting.Decode(r.Header.Get("Content-Type"), bytes.NewReader(r.Data), opt)
	if err != nil {
		return sub, err
	}
	sub.batch = batch
	if sub.single && len(batch.Records)+len(batch.Errors) != 1 {
		return sub, apierr.InvalidFields(apierr.FieldError{Field: "body", Message: "send exactly one posting here; use POST /v1/postings:bulk for several"})
	}
	if sub.single && len(batch.Errors) == 1 {
		return sub, apierr.InvalidFields(unprefix(batch.Errors[0].Fields)...)
	}
	return sub, nil
}

// normalized is a record that passed validation.
type normalized struct {
	p        posting.Posting
	raw      posting.Raw
	warnings []apierr.FieldError
}

// normalize validates one record as a new posting of org: posting.Normalize,
// then its US ZIP code against the centroids (unknown is an error naming
// postal_code; without centroids it is accepted with a warning).
func (s *Service) normalize(raw posting.Raw, org string) (normalized, error) {
	p, err := posting.Normalize(raw, posting.NormalizeOptions{Now: s.now(), Geo: s.opts.ZCTA, StaleAfterDays: s.opts.StaleAfterDays, Extractor: s.x})
	if err != nil {
		return normalized{}, err
	}
	p.ID = org + "-" + p.ID // postings of different organisations never share an id
	n := normalized{p: p, raw: raw}
	loc := p.Location
	if loc.PostalCode == "" || (loc.Country != "" && loc.Country != "US") {
		return n, nil
	}
	field := recordField(raw.Index, "postal_code")
	if s.opts.ZCTA == nil {
		n.warnings = append(n.warnings, apierr.FieldError{Field: field,
			Message: "not checked: the ZIP centroids are not loaded, so this posting has no coordinates and does not appear in radius searches"})
		return n, nil
	}
	if _, ok := s.opts.ZCTA.Lookup(loc.PostalCode); !ok {
		return normalized{}, apierr.InvalidFields(apierr.FieldError{Field: field,
			Message: "unknown US ZIP code " + strconv.Quote(loc.PostalCode) + ": not among the ZIP centroids, so the posting could not be placed"})
	}
	return n, nil
}

func recordField(index int, name string) string {
	return "records[" + strconv.Itoa(index) + "]." + name
}

// rawID is the id a record would have as a posting of org, from its
// identifier; "" when it has none (the id then comes from the content,
// which a rejected record does not have).
func rawID(raw posting.Raw, org string) string {
	id := posting.IDOf(raw)
	if id == "" {
		return ""
	}
	return org + "-" + id
}

// recordRejections publishes jobs.rejected for each refused record:
// content-free, for operators and the employer's dashboards.
// They are stored in atomic batches (events.PublishBatch): a feed with
// many bad rows costs an fsync per 500 rows, not one a row.
func (s *Service) recordRejections(ctx context.Context, org string, rejected []ingestapi.RejectedRecord) error {
	evs := make([]events.Event, len(rejected))
	for i, rj := range rejected {
		ev := ingestapi.Rejected.New("", ingestapi.Rejection{EmployerID: org, Index: rj.Index, Line: rj.Line, Errors: rj.Errors, RequestID: obs.RequestID(ctx)})
		ev.ID, ev.Source, ev.Time, ev.RequestID = obs.NewRequestID(), Name, s.now(), obs.RequestID(ctx)
		evs[i] = ev
	}
	if _, err := events.PublishBatch(ctx, s.js, evs); err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "could not record the rejected records; try again")
	}
	return nil
}

// accept de-duplicates and publishes a batch of normalised postings, with
// a handful of round trips for the whole batch: what Redis remembers of
// them, their near-duplicate clusters, and for each chunk of postings one
// atomic batch of events and one transaction to remember them. The same posting
// sent twice is one posting: its fingerprint is in the message id
// (JetStream drops a repeat within the hour) and Redis remembers each
// posting's current fingerprint beyond that.
func (s *Service) accept(ctx context.Context, org string, ns []normalized) ([]ingestapi.Outcome, error) {
	if len(ns) == 0 {
		return nil, nil
	}
	ps := make([]posting.Posting, len(ns))
	ids := make([]string, len(ns))
	for i, n := range ns {
		ps[i], ids[i] = n.p, n.p.ID
	}
	unavailable := func(err error) error {
		return apierr.Wrap(err, apierr.Unavailable, "could not check for duplicates; try again")
	}
	prior, err := s.store.lookup(ctx, ids)
	if err != nil {
		return nil, unavailable(err)
	}
	clusters, err := s.store.clusters(ctx, ps, prior)
	if err != nil {
		return nil, unavailable(err)
	}
	outs := make([]ingestapi.Outcome, len(ns))
	as := make([]accepted, 0, len(ns))
	var evs []events.Event
	var evAt []int                // evs[j] is the event of ns[evAt[j]]
	latest := map[string]string{} // id → fingerprint, for repeats within the batch
	for i, n := range ns {
		p := n.p
		outs[i] = ingestapi.Outcome{Index: n.raw.Index, ID: p.ID, ClusterID: clusters[i], Status: outcomeDuplicate, Warnings: n.warnings}
		if prior[i].closedByEmployer() {
			outs[i].Status = outcomeClosed
			continue
		}
		prev, seenInBatch := latest[p.ID]
		if !seenInBatch {
			prev = prior[i].fingerprint
		}
		latest[p.ID] = p.Fingerprint
		a := accepted{index: i, p: p, raw: n.raw, cluster: clusters[i], known: prior[i], opens: prior[i].opens}
		if prev == p.Fingerprint {
			as = append(as, a)
			continue
		}
		topic, id := ingestapi.Posted, p.ID+":"+p.Fingerprint
		outs[i].Status = outcomePosted
		if prev != "" {
			topic, outs[i].Status = ingestapi.Updated, outcomeUpdated
		} else if prior[i].closedBySystem() && !seenInBatch {
			// Posted again after it closed: a new message id, or JetStream
			// would drop it as the first posting's duplicate.
			a.opens++
		}
		if a.opens > 0 {
			id += ":" + strconv.Itoa(a.opens)
		}
		a.changed = true
		as = append(as, a)
		ev := topic.New("", ingestapi.JobEvent{Posting: p, EmployerID: org, ClusterID: clusters[i]})
		ev.ID, ev.Source, ev.Time, ev.RequestID = id, Name, s.now(), obs.RequestID(ctx)
		evs, evAt = append(evs, ev), append(evAt, i)
	}
	// Each chunk of postings is stored as one atomic batch of events (one
	// fsync for the chunk, where an event each cost about 0.5–0.9 ms,
	// most of a bulk's time: issue 14), and then remembered in Redis.
	// Nothing is reported accepted before JetStream has stored it.
	now := s.now()
	e := 0
	for from := 0; from < len(ns); from += rememberChunk {
		to := min(from+rememberChunk, len(ns))
		end := e // the chunk's events are evs[e:end]
		for end < len(evAt) && evAt[end] < to {
			end++
		}
		acks, err := events.PublishBatch(ctx, s.js, evs[e:end])
		if err != nil {
			return nil, apierr.Wrap(err, apierr.Unavailable, "could not record the postings; try again")
		}
		for j, ack := range acks {
			i := evAt[e+j]
			outs[i].Sequence = ack.Sequence
			if ack.Duplicate { // JetStream had it: Redis had forgotten it
				outs[i].Status = outcomeDuplicate
			}
		}
		e = end
		k := 0
		for k < len(as) && as[k].index < to {
			k++
		}
		if k == 0 {
			continue
		}
		if err := s.store.rememberAll(ctx, org, as[:k], now); err != nil {
			// The events are stored: the postings are accepted. Lost version
			// keys only mean a later resend publishes harmless duplicates.
			obs.Logger(ctx, s.log).Warn().Err(err).Msg("remember posting versions")
		}
		as = as[k:]
	}
	return outs, nil
}

// rememberChunk is how many postings of a submission are stored as one
// batch of events and then remembered in one Redis transaction.
const rememberChunk = 200

// unprefix turns "records[0].title" into "title" for single submissions.
func unprefix(fs []apierr.FieldError) []apierr.FieldError {
	out := make([]apierr.FieldError, len(fs))
	for i, f := range fs {
		if j := strings.Index(f.Field, "]."); strings.HasPrefix(f.Field, "records[") && j > 0 {
			f.Field = f.Field[j+2:]
		}
		out[i] = f
	}
	return out
}
