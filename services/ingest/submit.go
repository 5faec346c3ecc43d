package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// JobEvent is the payload of jobs.posted and jobs.updated.
type JobEvent struct {
	posting.Posting
	EmployerID string `json:"employer_id"`
	// ClusterID groups near-duplicates (the same job re-posted with small
	// edits, or by an agency): the id of the first posting of the cluster.
	ClusterID string `json:"cluster_id"`
}

// Rejection is the payload of jobs.rejected: where and why, never the
// record's content.
type Rejection struct {
	EmployerID string              `json:"employer_id"`
	Index      int                 `json:"index"`
	Line       int                 `json:"line,omitempty"`
	Errors     []apierr.FieldError `json:"errors"`
	RequestID  string              `json:"request_id,omitempty"`
}

// Outcome of one accepted record.
type Outcome struct {
	Index     int    `json:"index"`
	ID        string `json:"id"`
	Status    string `json:"status"` // posted, updated, duplicate
	Sequence  uint64 `json:"sequence,omitempty"`
	ClusterID string `json:"cluster_id"`
}

// Rejected record with its reasons.
type Rejected struct {
	Index  int                 `json:"index"`
	Line   int                 `json:"line,omitempty"`
	Errors []apierr.FieldError `json:"errors"`
}

// Result of a submission.
type Result struct {
	Accepted []Outcome  `json:"accepted"`
	Rejected []Rejected `json:"rejected"`
}

func (s *Service) submit(ctx context.Context, r rpc.Request) (any, error) {
	org := r.Header.Get(HeaderEmployerOrg)
	if !profile.ValidID(org) {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "employer_id", Message: "the submitting organisation is required (the gateway sets it from the caller's token)"})
	}
	var opt posting.DecodeOptions
	if cols := r.Header.Get(HeaderColumns); cols != "" {
		if err := json.Unmarshal([]byte(cols), &opt.Columns); err != nil {
			return nil, apierr.InvalidFields(apierr.FieldError{Field: "columns", Message: `a JSON object mapping your CSV headers to ours, like {"Job Title":"title"}`})
		}
	}
	batch, err := posting.Decode(r.Header.Get("Content-Type"), bytes.NewReader(r.Data), opt)
	if err != nil {
		return nil, err
	}
	single := r.Header.Get(HeaderMode) == "single"
	if single && len(batch.Records)+len(batch.Errors) != 1 {
		return nil, apierr.InvalidFields(apierr.FieldError{Field: "body", Message: "send exactly one posting here; use POST /v1/postings:bulk for several"})
	}
	if single && len(batch.Errors) == 1 {
		return nil, apierr.InvalidFields(unprefix(batch.Errors[0].Fields)...)
	}
	res := Result{Accepted: []Outcome{}, Rejected: []Rejected{}}
	for _, e := range batch.Errors {
		res.Rejected = append(res.Rejected, Rejected{Index: e.Index, Line: e.Line, Errors: e.Fields})
	}
	now := s.now()
	var good []posting.Posting
	var goodIdx []int
	for _, raw := range batch.Records {
		p, err := posting.Normalize(raw, posting.NormalizeOptions{Now: now, Geo: s.zcta, StaleAfterDays: s.p.Config.StaleAfterDays, Extractor: s.x})
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				return nil, err
			}
			if single {
				return nil, apierr.InvalidFields(unprefix(ae.Fields)...)
			}
			res.Rejected = append(res.Rejected, Rejected{Index: raw.Index, Line: raw.Line, Errors: ae.Fields})
			continue
		}
		good = append(good, p)
		goodIdx = append(goodIdx, raw.Index)
	}
	outs, err := s.accept(ctx, org, good)
	if err != nil {
		return nil, err
	}
	for i, o := range outs {
		o.Index = goodIdx[i]
		res.Accepted = append(res.Accepted, o)
	}
	for _, rj := range res.Rejected {
		// Recorded for operators and the employer's dashboards; content-free.
		ev := events.Event{Subject: events.JobsRejected, ID: obs.NewRequestID(), Source: Name, Time: now, RequestID: obs.RequestID(ctx),
			Payload: Rejection{EmployerID: org, Index: rj.Index, Line: rj.Line, Errors: rj.Errors, RequestID: obs.RequestID(ctx)}}
		if _, err := events.Publish(ctx, s.p.JS, ev); err != nil {
			return nil, apierr.Wrap(err, apierr.Unavailable, "could not record the rejected records; try again")
		}
	}
	return res, nil
}

// accept de-duplicates and publishes a batch of normalised postings, with
// a handful of round trips for the whole batch: what Redis remembers of
// them, their near-duplicate clusters, the events published together and
// awaited together, and one transaction to remember them. The same posting
// sent twice is one posting: its fingerprint is in the message id
// (JetStream drops a repeat within the hour) and Redis remembers each
// posting's current fingerprint beyond that.
func (s *Service) accept(ctx context.Context, org string, ps []posting.Posting) ([]Outcome, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ps))
	for i := range ps {
		ps[i].ID = org + "-" + ps[i].ID // postings of different organisations never share an id
		ids[i] = ps[i].ID
	}
	unavailable := func(err error) error {
		return apierr.Wrap(err, apierr.Unavailable, "could not check for duplicates; try again")
	}
	kn, err := s.dedup.lookup(ctx, ids)
	if err != nil {
		return nil, unavailable(err)
	}
	clusters, err := s.dedup.clusters(ctx, ps, kn)
	if err != nil {
		return nil, unavailable(err)
	}
	outs := make([]Outcome, len(ps))
	changed := make([]bool, len(ps))
	futures := make([]jetstream.PubAckFuture, len(ps))
	subjects := make([]string, len(ps))
	latest := map[string]string{} // id → fingerprint, for repeats within the batch
	for i, p := range ps {
		prev, seenInBatch := latest[p.ID]
		if !seenInBatch {
			prev = kn[i].fingerprint
		}
		latest[p.ID] = p.Fingerprint
		outs[i] = Outcome{ID: p.ID, ClusterID: clusters[i], Status: "duplicate"}
		if prev == p.Fingerprint {
			continue
		}
		subjects[i], outs[i].Status = events.JobsPosted, "posted"
		if prev != "" {
			subjects[i], outs[i].Status = events.JobsUpdated, "updated"
		}
		changed[i] = true
		f, err := events.PublishAsync(s.p.JS, events.Event{
			Subject: subjects[i], ID: p.ID + ":" + p.Fingerprint, Source: Name, Time: s.now(), RequestID: obs.RequestID(ctx),
			Payload: JobEvent{Posting: p, EmployerID: org, ClusterID: clusters[i]},
		})
		if err != nil {
			return nil, apierr.Wrap(err, apierr.Unavailable, "could not record the postings; try again")
		}
		futures[i] = f
	}
	// Nothing is reported accepted before JetStream has stored it.
	for i, f := range futures {
		if f == nil {
			continue
		}
		ack, err := events.Await(ctx, s.p.JS, subjects[i], f)
		if err != nil {
			return nil, apierr.Wrap(err, apierr.Unavailable, "could not record the postings; try again")
		}
		outs[i].Sequence = ack.Sequence
		if ack.Duplicate {
			outs[i].Status = "duplicate"
		}
	}
	if err := s.dedup.rememberAll(ctx, ps, clusters, changed, s.now()); err != nil {
		// The events are stored: the postings are accepted. Lost version
		// keys only mean a later resend publishes harmless duplicates.
		obs.Logger(ctx, s.p.Log).Warn().Err(err).Msg("remember posting versions")
	}
	return outs, nil
}

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
