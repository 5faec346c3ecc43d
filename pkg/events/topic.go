package events

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// Topic is one kind of event: the subject it is published on, the stream
// that keeps it, its type and the Go type of its payload. Each topic is
// declared once, in the owning service's contract package
// (pkg/contract/<service>api); the publisher builds its events with New and
// consumers decode with Decode, so publisher and consumers cannot drift.
type Topic[T any] struct {
	// Subject is the exact subject, or, when Keyed, the prefix the entity id
	// follows ("profiles.seeker." + id): JetStream's per-subject sequence is
	// then the entity's version.
	Subject string
	Keyed   bool
	// Type is the ce-type header; empty means the subject (or, when Keyed,
	// the prefix without its final dot).
	Type string
	// Stream is the stream that stores the topic.
	Stream string
	// Sealed topics carry a payload encrypted with the entity's own key
	// (pkg/shred): T is the payload once opened.
	Sealed bool
	// Doc says in a sentence what the event means (docs/events.md).
	Doc string
}

// SubjectFor is the subject of the entity's event: the prefix plus key for
// a keyed topic, the subject otherwise (key must then be empty).
func (t Topic[T]) SubjectFor(key string) string {
	if t.Keyed {
		return t.Subject + key
	}
	return t.Subject
}

// TypeName is the event's ce-type.
func (t Topic[T]) TypeName() string {
	if t.Type != "" {
		return t.Type
	}
	if t.Keyed && len(t.Subject) > 0 && t.Subject[len(t.Subject)-1] == '.' {
		return t.Subject[:len(t.Subject)-1]
	}
	return t.Subject
}

// New is the event carrying payload about key (empty for a topic that is
// not keyed); the caller sets the id, source and request id.
func (t Topic[T]) New(key string, payload T) Event {
	return Event{Subject: t.SubjectFor(key), Type: t.TypeName(), Payload: payload}
}

// Decode reads the JSON payload of one event of the topic.
func (t Topic[T]) Decode(data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("decode %s payload: %w", t.TypeName(), err)
	}
	return v, nil
}

// Spec describes the topic for documentation and checks.
func (t Topic[T]) Spec() TopicSpec {
	return TopicSpec{Subject: t.Subject, Keyed: t.Keyed, Type: t.TypeName(), Stream: t.Stream,
		Sealed: t.Sealed, Doc: t.Doc, Payload: reflect.TypeFor[T]()}
}

// TopicSpec is a topic without its type parameter.
type TopicSpec struct {
	Subject, Type, Stream, Doc string
	Keyed, Sealed              bool
	Payload                    reflect.Type
}
