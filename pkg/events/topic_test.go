package events

import (
	"testing"
)

type posted struct {
	ID string `json:"id"`
}

func TestTopicBuildsAndDecodesItsEvents(t *testing.T) {
	keyed := Topic[posted]{Subject: SeekerSubjectPrefix, Keyed: true, Stream: StreamProfiles, Doc: "d"}
	ev := keyed.New("s1", posted{ID: "s1"})
	if ev.Subject != "profiles.seeker.s1" || ev.Type != "profiles.seeker" {
		t.Errorf("keyed event = %s (%s)", ev.Subject, ev.Type)
	}
	plain := Topic[posted]{Subject: JobsPosted, Stream: StreamJobs, Doc: "d"}
	if ev := plain.New("", posted{ID: "p"}); ev.Subject != JobsPosted || ev.Type != JobsPosted {
		t.Errorf("event = %s (%s)", ev.Subject, ev.Type)
	}
	got, err := plain.Decode([]byte(`{"id":"p1"}`))
	if err != nil || got.ID != "p1" {
		t.Errorf("Decode = %+v, %v", got, err)
	}
	if _, err := plain.Decode([]byte(`{"id":`)); err == nil {
		t.Error("Decode of broken JSON: no error")
	}
	if s := plain.Spec(); s.Payload.Name() != "posted" || s.Stream != StreamJobs {
		t.Errorf("Spec = %+v", s)
	}
}
