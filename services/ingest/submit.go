package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

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
		out, err := s.accept(ctx, org, p)
		if err != nil {
			return nil, err
		}
		out.Index = raw.Index
		res.Accepted = append(res.Accepted, out)
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

// accept de-duplicates and publishes one normalised posting. The same
// posting sent twice is one posting: its fingerprint is the message id
// (JetStream drops a repeat within the hour) and Redis remembers each
// posting's current fingerprint beyond that.
func (s *Service) accept(ctx context.Context, org string, p posting.Posting) (Outcome, error) {
	// Postings of different organisations never share an id.
	p.ID = org + "-" + p.ID
	prev, err := s.dedup.version(ctx, p.ID)
	if err != nil {
		return Outcome{}, apierr.Wrap(err, apierr.Unavailable, "could not check for duplicates; try again")
	}
	cluster, err := s.dedup.cluster(ctx, p.ID, p.SimHash)
	if err != nil {
		return Outcome{}, apierr.Wrap(err, apierr.Unavailable, "could not check for duplicates; try again")
	}
	out := Outcome{ID: p.ID, ClusterID: cluster}
	if prev == p.Fingerprint {
		out.Status = "duplicate"
		return out, s.dedup.seen(ctx, p, s.now())
	}
	subject, status := events.JobsPosted, "posted"
	if prev != "" {
		subject, status = events.JobsUpdated, "updated"
	}
	ack, err := events.Publish(ctx, s.p.JS, events.Event{
		Subject: subject, ID: p.ID + ":" + p.Fingerprint, Source: Name, Time: s.now(), RequestID: obs.RequestID(ctx),
		Payload: JobEvent{Posting: p, EmployerID: org, ClusterID: cluster},
	})
	if err != nil {
		return Outcome{}, apierr.Wrap(err, apierr.Unavailable, "could not record the posting; try again")
	}
	out.Status, out.Sequence = status, ack.Sequence
	if ack.Duplicate {
		out.Status = "duplicate"
	}
	if err := s.dedup.remember(ctx, p, s.now()); err != nil {
		// The event is stored: the posting is accepted. A lost version
		// key only means a later resend publishes a harmless duplicate.
		obs.Logger(ctx, s.p.Log).Warn().Err(err).Str("posting", p.ID).Msg("remember posting version")
	}
	return out, nil
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
