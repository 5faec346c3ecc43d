package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/posting"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// List limits.
const (
	defaultListLimit = 50
	maxListLimit     = 200
)

// list answers an organisation's postings, newest first.
func (s *Service) list(ctx context.Context, req ingestapi.ListRequest) (ingestapi.PostingList, error) {
	var fs apierr.Fields
	if !profile.ValidID(req.EmployerID) {
		fs.Add("employer_id", "1 to 64 letters, digits, '-' or '_'")
	}
	switch req.Status {
	case "", ingestapi.StatusOpen, ingestapi.StatusClosed, ingestapi.StatusStale:
	default:
		fs.Add("status", "open, closed or stale")
	}
	limit := req.Limit
	if limit == 0 {
		limit = defaultListLimit
	}
	if limit < 1 || limit > maxListLimit {
		fs.Add("limit", "a whole number from 1 to %d", maxListLimit)
	}
	if req.Cursor != "" && !validCursor(req.Cursor) {
		fs.Add("cursor", "use next_cursor from the previous page")
	}
	if err := fs.Err(); err != nil {
		return ingestapi.PostingList{}, err
	}
	out := ingestapi.PostingList{Postings: []ingestapi.PostingSummary{}}
	cursor := req.Cursor
	// A status filter reads pages until the page is full or the list ends.
	for len(out.Postings) < limit {
		ids, last, err := s.store.listPage(ctx, req.EmployerID, cursor, limit-len(out.Postings))
		if err != nil {
			return out, apierr.Wrap(err, apierr.Unavailable, "could not read your postings; try again")
		}
		if len(ids) == 0 {
			return out, nil
		}
		recs, err := s.store.loadAll(ctx, ids, false)
		if err != nil {
			return out, apierr.Wrap(err, apierr.Unavailable, "could not read your postings; try again")
		}
		recs = slices.DeleteFunc(recs, func(r record) bool { return r.org == "" || (req.Status != "" && r.status != req.Status) })
		sums, err := s.summaries(ctx, recs)
		if err != nil {
			return out, err
		}
		out.Postings = append(out.Postings, sums...)
		cursor = last
		out.NextCursor = last
	}
	return out, nil
}

// validCursor checks a cursor is a list member: 13 digits, ':', an id.
func validCursor(c string) bool {
	n, id, ok := strings.Cut(c, ":")
	if !ok || len(n) != 13 || id == "" {
		return false
	}
	_, err := strconv.ParseUint(n, 10, 64)
	return err == nil
}

// summaries are the records as the organisation sees them, with the open
// size of their clusters.
func (s *Service) summaries(ctx context.Context, recs []record) ([]ingestapi.PostingSummary, error) {
	clusters := make([]string, len(recs))
	for i, r := range recs {
		clusters[i] = r.cluster
	}
	sizes, err := s.store.clusterSizes(ctx, clusters)
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "could not read your postings; try again")
	}
	now := s.now()
	out := make([]ingestapi.PostingSummary, len(recs))
	for i, r := range recs {
		sum := ingestapi.PostingSummary{ID: r.id, Identifier: r.identifier, EmployerID: r.org, Title: r.title,
			Status: r.status, Reason: r.reason, Version: r.fingerprint, DatePosted: r.datePosted,
			FirstSeen: r.firstSeen, UpdatedAt: r.updatedAt, ClusterID: r.cluster, ClusterSize: sizes[i]}
		if r.status != ingestapi.StatusOpen {
			sum.ClosedAt = r.closedAt
		}
		if !r.datePosted.IsZero() && now.After(r.datePosted) {
			sum.AgeDays = int(now.Sub(r.datePosted).Hours() / 24)
		}
		out[i] = sum
	}
	return out, nil
}

func (s *Service) summary(ctx context.Context, id string) (ingestapi.PostingSummary, error) {
	r, err := s.store.load(ctx, id)
	if err != nil {
		return ingestapi.PostingSummary{}, apierr.Wrap(err, apierr.Unavailable, "could not read the posting; try again")
	}
	sums, err := s.summaries(ctx, []record{r})
	if err != nil {
		return ingestapi.PostingSummary{}, err
	}
	return sums[0], nil
}

// owned loads a posting the caller may change: not_found for a posting of
// another organisation, as for one that does not exist, so that ids of
// other organisations' postings are not confirmed.
func (s *Service) owned(ctx context.Context, c ingestapi.Caller, id string) (record, error) {
	if strings.TrimSpace(id) == "" || len(id) > 200 {
		return record{}, apierr.InvalidFields(apierr.FieldError{Field: "id", Message: "a posting id, as the submission answered it"})
	}
	r, err := s.store.load(ctx, id)
	if errors.Is(err, errNoPosting) || (err == nil && !c.Admin && r.org != c.Org) {
		return record{}, apierr.New(apierr.NotFound, "no posting %s", id)
	}
	if err != nil {
		return record{}, apierr.Wrap(err, apierr.Unavailable, "could not read the posting; try again")
	}
	return r, nil
}

// closeByEmployer closes an open posting for a reason the employer gives.
// Closing a posting already closed answers its state and publishes
// nothing (a retry).
func (s *Service) closeByEmployer(ctx context.Context, req ingestapi.CloseRequest) (ingestapi.PostingSummary, error) {
	if !slices.Contains(ingestapi.CloseReasons, req.Reason) {
		return ingestapi.PostingSummary{}, apierr.InvalidFields(apierr.FieldError{Field: "reason", Message: "filled, withdrawn or on_hold"})
	}
	r, err := s.owned(ctx, req.Caller, req.ID)
	if err != nil {
		return ingestapi.PostingSummary{}, err
	}
	if r.status == ingestapi.StatusOpen {
		if err := s.close(ctx, r, ingestapi.StatusClosed, req.Reason); err != nil {
			return ingestapi.PostingSummary{}, apierr.Wrap(err, apierr.Unavailable, "could not close the posting; try again")
		}
	}
	return s.summary(ctx, r.id)
}

// reopen opens a posting the employer closed as withdrawn or on hold
// again. A filled posting stays filled: a new opening is a new posting
// (a new identifier), so that "filled" in the list stays true. Postings
// the system closed (expired, stale, removed from the feed) come back by
// being submitted again, with their dates checked.
func (s *Service) reopen(ctx context.Context, req ingestapi.ReopenRequest) (ingestapi.PostingSummary, error) {
	r, err := s.owned(ctx, req.Caller, req.ID)
	if err != nil {
		return ingestapi.PostingSummary{}, err
	}
	switch {
	case r.status == ingestapi.StatusOpen:
		return s.summary(ctx, r.id)
	case r.reason == ingestapi.ReasonFilled:
		return ingestapi.PostingSummary{}, apierr.New(apierr.Conflict, "posting %s was closed as filled; post a new opening with its own identifier", r.id)
	case r.reason != ingestapi.ReasonWithdrawn && r.reason != ingestapi.ReasonOnHold:
		return ingestapi.PostingSummary{}, apierr.New(apierr.Conflict, "posting %s closed as %s; submit it again to reopen it", r.id, r.reason)
	}
	if len(r.raw) == 0 {
		return ingestapi.PostingSummary{}, errNoFieldsKept(r.id)
	}
	n, err := s.revalidate(r, r.raw)
	if err != nil {
		return ingestapi.PostingSummary{}, err
	}
	a := accepted{p: n.p, raw: n.raw, cluster: r.cluster, changed: true, opens: r.opens + 1,
		known: known{firstSeen: strconv.FormatInt(r.firstSeen.Unix(), 10)}}
	ev := ingestapi.Posted.New("", ingestapi.JobEvent{Posting: n.p, EmployerID: r.org, ClusterID: r.cluster})
	ev.ID = n.p.ID + ":" + n.p.Fingerprint + ":" + strconv.Itoa(a.opens)
	if err := s.publishAndRemember(ctx, r.org, a, ev); err != nil {
		return ingestapi.PostingSummary{}, err
	}
	sum, err := s.summary(ctx, r.id)
	sum.Warnings = n.warnings
	return sum, err
}

// revalidate normalises a posting's submitted fields again, as a new
// posting now: its dates and ZIP code are checked as on submission.
// Field errors name the fields as sent ("valid_through").
func (s *Service) revalidate(r record, raw []byte) (normalized, error) {
	var rec posting.Raw
	if err := json.Unmarshal(raw, &rec); err != nil {
		return normalized{}, apierr.Wrap(err, apierr.Internal, "the stored posting cannot be read")
	}
	n, err := s.normalize(rec, r.org)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) && len(ae.Fields) > 0 {
			return normalized{}, apierr.InvalidFields(unprefix(ae.Fields)...)
		}
		return normalized{}, err
	}
	n.warnings = unprefix(n.warnings)
	if rec.Identifier == "" {
		// Without an identifier the id came from the first content: a
		// changed posting keeps it.
		n.p.ID = r.id
	}
	if n.p.ID != r.id {
		return normalized{}, apierr.InvalidFields(apierr.FieldError{Field: "employer", Message: "the employer and identifier name the posting; they cannot change"})
	}
	return n, nil
}

// publishAndRemember publishes one posting's event and then records it as
// open.
func (s *Service) publishAndRemember(ctx context.Context, org string, a accepted, ev events.Event) error {
	ev.Source, ev.Time, ev.RequestID = Name, s.now(), obs.RequestID(ctx)
	if _, err := events.Publish(ctx, s.js, ev); err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "could not record the posting; try again")
	}
	if err := s.store.rememberAll(ctx, org, []accepted{a}, s.now()); err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "the posting's event is stored but its record is not; try again")
	}
	return nil
}

// patch applies a JSON Merge Patch (RFC 7396) to an open posting's
// submitted fields. If-Match, when given, must name the current version
// (as for a seeker's PATCH, a merge patch without it applies to the
// current version: it only touches the fields it names); the merged
// posting is validated as a new one and published as jobs.updated.
//
// The record is written only if the posting is still at the version the
// patch was merged onto (rememberIf); otherwise the patch is merged again
// onto the new version and published again, as a seeker's PATCH is
// retried on a concurrent write. The last jobs.updated then carries every
// patch.
func (s *Service) patch(ctx context.Context, req ingestapi.PatchRequest) (ingestapi.PostingSummary, error) {
	for range maxPatchAttempts {
		sum, err := s.patchOnce(ctx, req)
		if !errors.Is(err, errVersionChanged) {
			return sum, err
		}
	}
	return ingestapi.PostingSummary{}, apierr.New(apierr.Conflict, "posting %s is being changed by many requests at once; try again", req.ID)
}

// patchOnce merges the patch onto the posting's current version and
// publishes it; errVersionChanged when the posting changed meanwhile.
func (s *Service) patchOnce(ctx context.Context, req ingestapi.PatchRequest) (ingestapi.PostingSummary, error) {
	r, err := s.owned(ctx, req.Caller, req.ID)
	if err != nil {
		return ingestapi.PostingSummary{}, err
	}
	switch {
	case r.status != ingestapi.StatusOpen:
		return ingestapi.PostingSummary{}, apierr.New(apierr.Conflict, "posting %s is %s (%s); reopen it before changing it", r.id, r.status, r.reason)
	case req.IfMatch != "" && req.IfMatch != "*" && req.IfMatch != r.fingerprint:
		return ingestapi.PostingSummary{}, apierr.New(apierr.PreconditionFail, "posting %s changed since version %s (now %s); read it again and patch that", r.id, req.IfMatch, r.fingerprint)
	}
	if len(r.raw) == 0 {
		return ingestapi.PostingSummary{}, errNoFieldsKept(r.id)
	}
	merged, err := MergePatch(r.raw, req.Patch)
	if err != nil {
		return ingestapi.PostingSummary{}, err
	}
	if err := checkPatchedFields(r.raw, merged); err != nil {
		return ingestapi.PostingSummary{}, err
	}
	n, err := s.revalidate(r, merged)
	if err != nil {
		return ingestapi.PostingSummary{}, err
	}
	if n.p.Fingerprint == r.fingerprint {
		sum, err := s.summary(ctx, r.id)
		sum.Warnings = n.warnings
		return sum, err
	}
	seq, err := s.store.nextPatch(ctx, r.id)
	if err != nil {
		return ingestapi.PostingSummary{}, apierr.Wrap(err, apierr.Unavailable, "could not change the posting; try again")
	}
	a := accepted{p: n.p, raw: n.raw, cluster: r.cluster, changed: true, opens: r.opens,
		known: known{firstSeen: strconv.FormatInt(r.firstSeen.Unix(), 10)}}
	ev := ingestapi.Updated.New("", ingestapi.JobEvent{Posting: n.p, EmployerID: r.org, ClusterID: r.cluster})
	ev.ID = "patch:" + n.p.ID + ":" + n.p.Fingerprint + ":" + strconv.FormatInt(seq, 10)
	ev.Source, ev.Time, ev.RequestID = Name, s.now(), obs.RequestID(ctx)
	if _, err := events.Publish(ctx, s.js, ev); err != nil {
		return ingestapi.PostingSummary{}, apierr.Wrap(err, apierr.Unavailable, "could not record the posting; try again")
	}
	if err := s.store.rememberIf(ctx, r.org, a, r.fingerprint, s.now()); err != nil {
		if errors.Is(err, errVersionChanged) {
			return ingestapi.PostingSummary{}, err
		}
		return ingestapi.PostingSummary{}, apierr.Wrap(err, apierr.Unavailable, "the posting's event is stored but its record is not; try again")
	}
	sum, err := s.summary(ctx, r.id)
	sum.Warnings = n.warnings
	return sum, err
}

// errNoFieldsKept refuses to change a posting accepted before ingest kept
// the submitted fields (backfill.go): there is nothing to merge onto.
func errNoFieldsKept(id string) error {
	return apierr.New(apierr.Conflict, "posting %s was accepted before its submitted fields were kept; submit it again to change it", id)
}

// checkPatchedFields refuses a patch that changes what names the posting,
// or that leaves fields which are not posting fields: each is a field
// error naming it.
func checkPatchedFields(before, after []byte) error {
	var rec posting.Raw
	if err := strictjson.Decode(after, &rec); err != nil {
		return err
	}
	var old posting.Raw
	if err := json.Unmarshal(before, &old); err != nil {
		return apierr.Wrap(err, apierr.Internal, "the stored posting cannot be read")
	}
	var fs apierr.Fields
	if rec.Identifier != old.Identifier {
		fs.Add("identifier", "names the posting and cannot change; submit a new posting instead")
	}
	if old.Identifier != "" && rec.Employer != old.Employer {
		fs.Add("employer", "with the identifier, names the posting and cannot change; submit a new posting instead")
	}
	return fs.Err()
}
