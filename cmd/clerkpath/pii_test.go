package main

import (
	"strings"
	"testing"
)

// TestNoPersonalDataInLogs seeds unique names, e-mail addresses and phone
// numbers, drives every route that touches them (including failures), and
// scans every log line of every service for them.
func TestNoPersonalDataInLogs(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	w := newWorld(t, s, true)
	x := randomSuffix()
	name := "Quillon Ferreday" + x
	email := "quillon.ferreday." + x + "@example.org"
	phone := "+1 555 01" + x[:2]
	me := w.tokens["seeker"]
	s.do(t, "PUT", "/v1/seekers/"+w.seeker+"/contact", "application/json", `{"display_name":"`+name+`","email":"`+email+`","phone":"`+phone+`"}`, me...)
	// An invalid one too: the rejected value must not be logged either.
	s.do(t, "PUT", "/v1/seekers/"+w.seeker+"/contact", "application/json", `{"display_name":"`+name+`","email":"not-an-email `+email+`"}`, me...)
	s.do(t, "GET", "/v1/seekers/"+w.seeker+"/contact", "", "", w.tokens["counselor"]...)
	s.do(t, "GET", "/v1/seekers/"+w.seeker+"/contact", "", "", w.tokens["employer"]...)
	s.do(t, "GET", "/v1/seekers/"+w.seeker+"/export", "", "", me...)
	s.do(t, "GET", "/v1/seekers/"+w.seeker+"?email="+email, "", "", w.tokens["counselor"]...)
	s.do(t, "DELETE", "/v1/seekers/"+w.seeker, "", "", me...)
	logs := s.logs.String()
	if !strings.Contains(logs, `"route":"GET /v1/seekers/{id}/contact"`) {
		t.Fatalf("the test did not capture the services' logs:\n%s", logs)
	}
	for _, secret := range []string{name, "Quillon", email, strings.Split(email, "@")[0], phone} {
		if strings.Contains(logs, secret) {
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, secret) {
					t.Errorf("log line carries personal data %q: %s", secret, line)
				}
			}
		}
	}
}
