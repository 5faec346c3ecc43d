package profiles

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/shred"
)

// legacySubjects are the subjects that named a seeker's id before
// pseudonyms existed (docs/privacy.md), with their streams.
func legacySubjects(id string) []struct{ stream, subject string } {
	return []struct{ stream, subject string }{
		{events.StreamProfiles, events.SeekerSubjectPrefix + id},
		{events.StreamAudit, events.AuditSeekerPrefix + id},
		{events.StreamDLQ, events.DLQPrefix + events.SeekerSubjectPrefix + id},
	}
}

// eraseLegacy securely erases the messages a deleted seeker's legacy
// subjects still hold (their data was already unreadable: the subject
// named the id). before, when not 0, keeps PROFILES messages from that
// sequence on: a legacy deletion event being applied stays for the other
// consumers to read. A seeker created after pseudonyms has none: each
// subject costs one lookup.
func (s *Service) eraseLegacy(ctx context.Context, id string, before uint64) error {
	for _, l := range legacySubjects(id) {
		st, err := s.js.Stream(ctx, l.stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("erase legacy subjects: %w", err)
		}
		upTo := uint64(0)
		if l.stream == events.StreamProfiles {
			upTo = before
		}
		if _, err := shred.EraseSubject(ctx, st, l.subject, upTo); err != nil {
			return fmt.Errorf("erase legacy subjects: %w", err)
		}
	}
	return nil
}
