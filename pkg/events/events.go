// Package events defines clerkpath's event log: the JetStream streams, their
// subjects, the envelope every event carries, and publishing and consuming
// with the durability rules the architecture asks for.
//
// Events are the system of record; Redis and Meilisearch hold projections that
// a replay rebuilds.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// Stream names.
const (
	StreamProfiles    = "PROFILES"
	StreamCredentials = "CREDENTIALS"
	StreamJobs        = "JOBS"
	StreamMatches     = "MATCHES"
	StreamAudit       = "AUDIT"
	StreamDLQ         = "DLQ"
)

// Event subjects, "<domain>.<verb-in-past-tense>", sometimes followed by the
// entity id so that per-entity order and versions come from JetStream's
// per-subject sequence. Request/reply subjects live under "svc." and never
// overlap a stream.
const (
	JobsPosted   = "jobs.posted"
	JobsUpdated  = "jobs.updated"
	JobsClosed   = "jobs.closed"
	JobsRejected = "jobs.rejected"
	JobsStale    = "jobs.stale"

	// SeekerSubjectPrefix + the seeker's pseudonym (pkg/shred; the id in
	// events written before pseudonyms): the seeker's profile events
	// (types ProfileSeekerUpdated, ProfileSeekerDeleted).
	SeekerSubjectPrefix = "profiles.seeker."

	CredentialsEarned    = "credentials.earned"
	CredentialsCEULogged = "credentials.ceu_logged"
	CredentialsExpiring  = "credentials.expiring"

	MatchesFound = "matches.found"
	// MatchesFoundBatch carries many seekers' announcements in one message
	// (pkg/contract/matchingapi.FoundBatch); matches.found is only read.
	MatchesFoundBatch = "matches.found.batch"

	// DLQPrefix + original subject: poison messages with their reason.
	DLQPrefix = "dlq."
)

// Event types (the ce-type header); for most events equal to the subject.
const (
	TypeSeekerUpdated           = "profiles.seeker.updated"
	TypeSeekerContactUpdated    = "profiles.seeker.contact_updated"
	TypeSeekerConsentGranted    = "profiles.seeker.consent_granted"
	TypeSeekerConsentRevoked    = "profiles.seeker.consent_revoked"
	TypeSeekerCounselorLinked   = "profiles.seeker.counselor_linked"
	TypeSeekerCounselorUnlinked = "profiles.seeker.counselor_unlinked"
	TypeSeekerNoteAdded         = "profiles.seeker.note_added"
	TypeSeekerDeleted           = "profiles.seeker.deleted"
	TypeEmployerUpdated         = "profiles.employer.updated"
)

// AuditSeekerPrefix + the seeker's pseudonym (the id in records written
// before pseudonyms): reads of the seeker's data by someone else.
const AuditSeekerPrefix = "audit.seeker."

// TypeAuditSeekerRead is the type of an access record.
const TypeAuditSeekerRead = "audit.seeker.read"

// EmployerSubjectPrefix + organisation id: the organisation's events.
const EmployerSubjectPrefix = "profiles.employer."

// DuplicateWindow is how long JetStream remembers message ids to drop
// duplicates. Longer windows are covered by de-duplication keys in Redis.
const DuplicateWindow = time.Hour

// Limits of the MATCHES stream (derived data).
const (
	MatchesMaxAge        = 30 * 24 * time.Hour
	MatchesMaxPerSubject = 1_000_000
)

// StreamConfigs returns the configuration of every stream, with file storage
// and the given replica count.
func StreamConfigs(replicas int) []jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	mk := func(name, desc string, subjects ...string) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name:        name,
			Description: desc,
			Subjects:    subjects,
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Replicas:    replicas,
			Duplicates:  DuplicateWindow,
			Discard:     jetstream.DiscardOld,
			// Streams are the system of record: no age or size limit by
			// default; operators cap them deliberately (docs/operations.md).
			MaxAge:            0,
			MaxBytes:          -1,
			MaxMsgsPerSubject: -1,
		}
	}
	// Match announcements are derived data (the match lists in Redis are
	// the record): they expire after MatchesMaxAge, and at most
	// MatchesMaxPerSubject are kept.
	matches := mk(StreamMatches, "match results", "matches.>")
	matches.MaxAge, matches.MaxMsgsPerSubject = MatchesMaxAge, MatchesMaxPerSubject
	// Postings arrive in bulk: ingest stores a bulk's events as atomic
	// batches (PublishBatch), one fsync a batch instead of one an event.
	jobs := mk(StreamJobs, "job postings lifecycle", JobsPosted, JobsUpdated, JobsClosed, JobsRejected, JobsStale)
	jobs.AllowAtomicPublish = true
	return []jetstream.StreamConfig{
		mk(StreamProfiles, "seekers, employers, counselors, caseloads, consent", "profiles.>"),
		mk(StreamCredentials, "seekers' credential records and CEUs", "credentials.>"),
		jobs,
		matches,
		mk(StreamAudit, "reads of personal data by someone else", "audit.>"),
		mk(StreamDLQ, "poison messages with the reason they were refused", DLQPrefix+">"),
	}
}

// EnsureStreams creates missing streams with the given replica count and
// brings the other settings of existing streams up to date; it is
// idempotent and safe to call from every service at start.
//
// It never changes an existing stream's replica count. When the count
// differs from replicas it returns a *ReplicaMismatch, and the service
// refuses to start: one copy started without CLERKPATH_STREAM_REPLICAS
// must not quietly take a cluster from R3 to R1 (nor one copy from R1 to
// R3). Replication changes only through SetReplicas (`clerkpath streams
// --replicas N`), an operator's deliberate act.
//
// A stream whose configuration already matches is left alone: updating a
// stream while consumers are being created races inside nats-server, and
// every service calls this at start.
//
// A cluster that has just formed may not place a replicated stream at once
// ("no suitable peers for placement" while its peers are still being
// counted, no meta leader yet, a request timing out while every service's
// copies start together): such failures are retried for up to
// ensureRetryFor, or until ctx ends, as shred.Open does for the keyring. A
// replica mismatch is refused at once.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, replicas int) error {
	deadline := time.Now().Add(ensureRetryFor)
	delay := 200 * time.Millisecond
	for {
		err := ensureStreams(ctx, js, replicas)
		var mismatch *ReplicaMismatch
		if err == nil || errors.As(err, &mismatch) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// ensureRetryFor bounds how long EnsureStreams retries streams it cannot
// create or update yet.
const ensureRetryFor = time.Minute

func ensureStreams(ctx context.Context, js jetstream.JetStream, replicas int) error {
	mismatch := &ReplicaMismatch{Want: max(replicas, 1), Have: map[string]int{}}
	for _, cfg := range StreamConfigs(replicas) {
		_, err := js.CreateStream(ctx, cfg)
		if err == nil {
			continue
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
		st, err := js.Stream(ctx, cfg.Name)
		if err != nil {
			return fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
		have := st.CachedInfo().Config
		if have.Replicas != cfg.Replicas {
			mismatch.Have[cfg.Name] = have.Replicas
			cfg.Replicas = have.Replicas
		}
		if sameConfig(have, cfg) {
			continue
		}
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("update stream %s: %w", cfg.Name, err)
		}
	}
	if len(mismatch.Have) > 0 {
		return mismatch
	}
	return nil
}

// ReplicaMismatch says that existing streams are replicated differently
// from the configured count.
type ReplicaMismatch struct {
	Want int
	Have map[string]int // stream → its replicas
}

func (e *ReplicaMismatch) Error() string {
	names := slices.Sorted(maps.Keys(e.Have))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s has %d", n, e.Have[n])
	}
	return fmt.Sprintf("CLERKPATH_STREAM_REPLICAS is %d but stream %s replicas: set CLERKPATH_STREAM_REPLICAS to match, or change the streams deliberately with `clerkpath streams --replicas %d`",
		e.Want, strings.Join(parts, ", "), e.Want)
}

// SetReplicas changes the replica count of every event stream to n (and
// creates missing ones with it). It is the one place replication changes.
func SetReplicas(ctx context.Context, js jetstream.JetStream, n int) error {
	for _, cfg := range StreamConfigs(n) {
		st, err := js.Stream(ctx, cfg.Name)
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			if _, err := js.CreateStream(ctx, cfg); err != nil {
				return fmt.Errorf("create stream %s: %w", cfg.Name, err)
			}
			continue
		case err != nil:
			return fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
		have := st.CachedInfo().Config
		if have.Replicas == cfg.Replicas {
			continue
		}
		have.Replicas = cfg.Replicas
		if _, err := js.UpdateStream(ctx, have); err != nil {
			return fmt.Errorf("set replicas of stream %s to %d: %w", cfg.Name, n, err)
		}
	}
	return nil
}

func sameConfig(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) && have.Duplicates == want.Duplicates &&
		have.Replicas == want.Replicas && have.Storage == want.Storage && have.Retention == want.Retention &&
		have.MaxAge == want.MaxAge && have.MaxBytes == want.MaxBytes && have.Discard == want.Discard &&
		have.MaxMsgsPerSubject == want.MaxMsgsPerSubject &&
		have.AllowAtomicPublish == want.AllowAtomicPublish &&
		have.Description == want.Description
}

// SchemaVersion is the version of every payload schema defined in this
// module; bump it with a note in docs/events.md when a payload changes shape.
const SchemaVersion = "1"

// CloudEvents attributes carried as headers, per the NATS protocol binding.
const (
	HeaderID            = "ce-id"
	HeaderType          = "ce-type"
	HeaderSource        = "ce-source"
	HeaderTime          = "ce-time"
	HeaderSpecVersion   = "ce-specversion"
	HeaderSchemaVersion = "ce-schemaversion"
	HeaderTraceParent   = "traceparent"
	HeaderRequestID     = "X-Request-Id"
)

// Envelope is the metadata of one event.
type Envelope struct {
	ID            string
	Type          string
	Source        string
	Time          time.Time
	SchemaVersion string
	RequestID     string
	Subject       string
	Sequence      uint64 // stream sequence, set when read from a stream
}

// Event to publish: the payload is marshalled to JSON.
type Event struct {
	Subject   string
	ID        string // the message id: equal ids within DuplicateWindow are one event
	Type      string // defaults to Subject
	Source    string // the publishing service
	Time      time.Time
	RequestID string
	Payload   any
	// ExpectLastSubjectSeq, when non-nil, makes the publish fail unless the
	// subject's last sequence equals the value: optimistic concurrency.
	ExpectLastSubjectSeq *uint64
}

// ErrWrongLastSequence reports an optimistic-concurrency conflict.
var ErrWrongLastSequence = errors.New("wrong last sequence")

// Publish publishes ev and returns once JetStream has stored it (with
// SyncAlways servers: fsynced). Duplicate tells whether JetStream had already
// seen the id.
func Publish(ctx context.Context, js jetstream.JetStream, ev Event) (*jetstream.PubAck, error) {
	msg, opts, err := build(ev)
	if err != nil {
		return nil, err
	}
	ack, err := js.PublishMsg(ctx, msg, opts...)
	if inProcess(err) {
		return republish(ctx, js, msg)
	}
	if err != nil {
		return nil, publishErr(ev.Subject, err)
	}
	return ack, nil
}

// errCodeDuplicateInProcess is JetStream's "duplicate message id is in
// process": the same id is being stored by another publish at this moment.
const errCodeDuplicateInProcess jetstream.ErrorCode = 10158

func inProcess(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeDuplicateInProcess
}

// republish sends msg again, after the concurrent publish of the same id
// has settled: the answer is then that one's outcome (a duplicate ack once
// it is stored). Two identical submissions at the same moment are one
// posting, and both callers hear so, rather than one hearing 503.
func republish(ctx context.Context, js jetstream.JetStream, msg *nats.Msg) (*jetstream.PubAck, error) {
	delay := 5 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("publish %s: %w", msg.Subject, ctx.Err())
		case <-time.After(delay):
		}
		ack, err := js.PublishMsg(ctx, msg)
		if !inProcess(err) {
			if err != nil {
				return nil, publishErr(msg.Subject, err)
			}
			return ack, nil
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// PublishAsync publishes ev without waiting; the future resolves once
// JetStream stored it. Callers wait for every future before telling anyone
// the events are accepted.
func PublishAsync(js jetstream.JetStream, ev Event) (jetstream.PubAckFuture, error) {
	msg, opts, err := build(ev)
	if err != nil {
		return nil, err
	}
	f, err := js.PublishMsgAsync(msg, opts...)
	if err != nil {
		return nil, publishErr(ev.Subject, err)
	}
	return f, nil
}

// Await waits for an asynchronous publish made on js.
func Await(ctx context.Context, js jetstream.JetStream, subject string, f jetstream.PubAckFuture) (*jetstream.PubAck, error) {
	select {
	case ack := <-f.Ok():
		return ack, nil
	case err := <-f.Err():
		if inProcess(err) {
			return republish(ctx, js, f.Msg())
		}
		return nil, publishErr(subject, err)
	case <-ctx.Done():
		return nil, fmt.Errorf("publish %s: %w", subject, ctx.Err())
	}
}

func build(ev Event) (*nats.Msg, []jetstream.PublishOpt, error) {
	if ev.ID == "" {
		return nil, nil, errors.New("publish: event id is required")
	}
	data, err := json.Marshal(ev.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("publish %s: marshal: %w", ev.Subject, err)
	}
	msg := nats.NewMsg(ev.Subject)
	msg.Data = data
	typ := ev.Type
	if typ == "" {
		typ = ev.Subject
	}
	t := ev.Time
	if t.IsZero() {
		t = time.Now()
	}
	msg.Header.Set(HeaderID, ev.ID)
	msg.Header.Set(HeaderType, typ)
	msg.Header.Set(HeaderSource, ev.Source)
	msg.Header.Set(HeaderTime, t.UTC().Format(time.RFC3339Nano))
	msg.Header.Set(HeaderSpecVersion, "1.0")
	msg.Header.Set(HeaderSchemaVersion, SchemaVersion)
	msg.Header.Set("content-type", "application/json")
	if ev.RequestID != "" {
		msg.Header.Set(HeaderRequestID, ev.RequestID)
	}
	opts := []jetstream.PublishOpt{jetstream.WithMsgID(ev.ID)}
	if ev.ExpectLastSubjectSeq != nil {
		opts = append(opts, jetstream.WithExpectLastSequencePerSubject(*ev.ExpectLastSubjectSeq))
	}
	return msg, opts, nil
}

// BatchMax is the most events PublishBatch stores as one batch: nats-server
// refuses atomic batches of more than 1,000 messages by default, and a
// batch is staged in the server's memory until it commits.
const BatchMax = 500

// PublishBatch stores evs and returns each one's ack, in order, once
// JetStream has stored them all. Up to BatchMax events at a time go as one
// atomic batch (nats-server 2.12 and later, on a stream with
// AllowAtomicPublish): JetStream stores all of them or none, contiguously,
// and a SyncAlways server fsyncs once for the batch instead of once an
// event, which is most of what storing a bulk costs (issue 14).
//
// A batch JetStream will not take as one (an id it already has or is
// storing at this moment, a stream or server without atomic publish, too
// many batches in flight) is published event by event, as PublishAsync
// and Await do: a repeat is then reported as a duplicate (Duplicate set,
// the sequence the first copy has), and the others stored. Any other error
// is returned, and part of evs may then be stored: their ids make a retry
// of the same events harmless.
func PublishBatch(ctx context.Context, js jetstream.JetStream, evs []Event) ([]*jetstream.PubAck, error) {
	acks := make([]*jetstream.PubAck, 0, len(evs))
	for from := 0; from < len(evs); from += BatchMax {
		part := evs[from:min(from+BatchMax, len(evs))]
		got, err := publishAtomic(ctx, js, part)
		if errors.Is(err, errNotAtomic) {
			got, err = publishEach(ctx, js, part)
		}
		if err != nil {
			return acks, err
		}
		acks = append(acks, got...)
	}
	return acks, nil
}

// errNotAtomic: JetStream refused the batch as a whole, for a reason
// publishing its events one by one does not have.
var errNotAtomic = errors.New("not storable as one batch")

// Error codes of an atomic batch that publishEach gets past.
const (
	errCodeBatchNotEnabled        jetstream.ErrorCode = 10174
	errCodeBatchUnsupportedHeader jetstream.ErrorCode = 10177
	errCodeBatchTooLarge          jetstream.ErrorCode = 10199
	errCodeBatchDuplicate         jetstream.ErrorCode = 10201
	errCodeBatchTooManyInflight   jetstream.ErrorCode = 10210
)

func publishAtomic(ctx context.Context, js jetstream.JetStream, evs []Event) ([]*jetstream.PubAck, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	msgs := make([]*nats.Msg, len(evs))
	for i, ev := range evs {
		msg, _, err := build(ev)
		if err != nil {
			return nil, err
		}
		// In a batch the options travel as the headers they stand for.
		msg.Header.Set(jetstream.MsgIDHeader, ev.ID)
		if ev.ExpectLastSubjectSeq != nil {
			msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(*ev.ExpectLastSubjectSeq, 10))
		}
		msgs[i] = msg
	}
	ack, err := jetstreamext.PublishMsgBatch(ctx, js, msgs)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) {
			switch apiErr.ErrorCode {
			case errCodeBatchNotEnabled, errCodeBatchUnsupportedHeader, errCodeBatchTooLarge,
				errCodeBatchDuplicate, errCodeBatchTooManyInflight, errCodeDuplicateInProcess:
				return nil, fmt.Errorf("%w: %w", errNotAtomic, err)
			}
		}
		return nil, publishErr(evs[0].Subject, fmt.Errorf("batch of %d: %w", len(evs), err))
	}
	// A committed batch is stored contiguously and ends at ack.Sequence.
	first := ack.Sequence - uint64(len(evs)) + 1
	acks := make([]*jetstream.PubAck, len(evs))
	for i := range evs {
		acks[i] = &jetstream.PubAck{Stream: ack.Stream, Sequence: first + uint64(i), Domain: ack.Domain}
	}
	return acks, nil
}

// publishEach publishes evs one by one, all in flight together.
func publishEach(ctx context.Context, js jetstream.JetStream, evs []Event) ([]*jetstream.PubAck, error) {
	futures := make([]jetstream.PubAckFuture, len(evs))
	for i, ev := range evs {
		f, err := PublishAsync(js, ev)
		if err != nil {
			return nil, err
		}
		futures[i] = f
	}
	acks := make([]*jetstream.PubAck, len(evs))
	for i, f := range futures {
		ack, err := Await(ctx, js, evs[i].Subject, f)
		if err != nil {
			return acks[:i], err
		}
		acks[i] = ack
	}
	return acks, nil
}

func publishErr(subject string, err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return fmt.Errorf("publish %s: %w", subject, ErrWrongLastSequence)
	}
	return fmt.Errorf("publish %s: %w", subject, err)
}

// EnvelopeOf reads the envelope of a message consumed from a stream.
func EnvelopeOf(msg jetstream.Msg) Envelope {
	h := msg.Headers()
	env := Envelope{
		ID:            h.Get(HeaderID),
		Type:          h.Get(HeaderType),
		Source:        h.Get(HeaderSource),
		SchemaVersion: h.Get(HeaderSchemaVersion),
		RequestID:     h.Get(HeaderRequestID),
		Subject:       msg.Subject(),
	}
	if env.Type == "" {
		env.Type = msg.Subject()
	}
	if t, err := time.Parse(time.RFC3339Nano, h.Get(HeaderTime)); err == nil {
		env.Time = t
	}
	if md, err := msg.Metadata(); err == nil {
		env.Sequence = md.Sequence.Stream
	}
	return env
}
