package profile

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

// Contact is a seeker's personal data: who they are and how to reach them.
// It is sealed with the seeker's key in events (see pkg/shred), never
// indexed, never logged, and shown to an employer only after consent.
type Contact struct {
	DisplayName string `json:"display_name"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
}

var phonePattern = regexp.MustCompile(`^\+?[0-9 ().-]{7,25}$`)

// Validate checks the contact details.
func (c *Contact) Validate() error {
	var fs apierr.Fields
	c.DisplayName = strings.TrimSpace(c.DisplayName)
	if c.DisplayName == "" || len(c.DisplayName) > 100 {
		fs.Add("display_name", "1 to 100 characters")
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 254 {
			fs.Add("email", "a plain e-mail address like name@example.org")
		}
	}
	if c.Phone != "" && !phonePattern.MatchString(c.Phone) {
		fs.Add("phone", "7 to 25 digits, spaces, '+', '(', ')', '.', '-'")
	}
	return fs.Err()
}

// Employer is an employer organisation and the users who act for it.
type Employer struct {
	Org     string   `json:"org"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
	Version uint64   `json:"version"`
}

// Validate checks the organisation record.
func (e *Employer) Validate() error {
	var fs apierr.Fields
	if !ValidID(e.Org) {
		fs.Add("org", "1 to 64 letters, digits, '-' or '_'")
	}
	e.Name = strings.TrimSpace(e.Name)
	if e.Name == "" || len(e.Name) > 200 {
		fs.Add("name", "1 to 200 characters")
	}
	if len(e.Members) > 1000 {
		fs.Add("members", "at most 1000")
	}
	for i, m := range e.Members {
		if !ValidID(m) {
			fs.Add("members["+strconv.Itoa(i)+"]", "a user id of 1 to 64 letters, digits, '-' or '_'")
		}
	}
	if e.Members == nil {
		e.Members = []string{}
	}
	return fs.Err()
}

// Relations is what the gateway needs to decide object-level access to a
// seeker: whether they exist, their consent, and who is linked to them.
type Relations struct {
	Exists          bool     `json:"exists"`
	OpenToEmployers bool     `json:"open_to_employers"`
	Counselors      []string `json:"counselors"`
	Employers       []string `json:"employers"` // organisations the seeker shared contact details with
}

// Change is the body of an event about a seeker, sealed with the seeker's
// key in the PROFILES stream (the event type says which field is set).
// SeekerID is the seeker's id: the event's subject and Sealed name only
// their pseudonym (events before pseudonyms existed have no SeekerID and
// name the id in their subject). The deletion event is the only one in the
// clear, and it carries only the pseudonym.
type Change struct {
	SeekerID  string   `json:"seeker_id,omitempty"`
	Seeker    *Seeker  `json:"seeker,omitempty"`
	Contact   *Contact `json:"contact,omitempty"`
	Employer  string   `json:"employer,omitempty"`  // consent granted or revoked to this organisation
	Counselor string   `json:"counselor,omitempty"` // counselor linked or unlinked
	Note      *Note    `json:"note,omitempty"`
}

// Note is a counselor's note about a client, optionally suggesting a
// target credential for their plan. It is about the seeker, so it is sealed
// with the seeker's key like the rest of their data.
type Note struct {
	Author string `json:"author"`
	Text   string `json:"text"`
	Target string `json:"target,omitempty"`
	At     string `json:"at"` // RFC 3339
}

var targetPattern = regexp.MustCompile(`^[A-Z][A-Z-]{1,11}$`)

// Validate checks a note.
func (n *Note) Validate() error {
	var fs apierr.Fields
	n.Text = strings.TrimSpace(n.Text)
	if n.Text == "" || len(n.Text) > 2000 {
		fs.Add("text", "1 to 2000 characters")
	}
	if n.Target != "" && !targetPattern.MatchString(n.Target) {
		fs.Add("target", "a credential code such as RHIT or CCS-P")
	}
	return fs.Err()
}
