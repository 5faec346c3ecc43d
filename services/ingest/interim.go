package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/rpc"
)

// posting is the minimal posting of the first slice.
type posting struct {
	ID          string `json:"id"`
	Identifier  string `json:"identifier,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Employer    string `json:"employer"`
	EmployerID  string `json:"employer_id"`
	PostalCode  string `json:"postal_code,omitempty"`
	WorkMode    string `json:"work_mode,omitempty"`
	Status      string `json:"status"`
}

func (s *Service) submit(ctx context.Context, r rpc.Request) (any, error) {
	var in posting
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var fs apierr.Fields
	if strings.TrimSpace(in.Title) == "" {
		fs.Add("title", "required")
	}
	if strings.TrimSpace(in.Description) == "" {
		fs.Add("description", "required")
	}
	if strings.TrimSpace(in.Employer) == "" {
		fs.Add("employer", "required")
	}
	in.EmployerID = r.Header.Get(HeaderEmployerOrg)
	if in.EmployerID == "" {
		fs.Add("employer_id", "the submitting organisation is required (the gateway sets it from the caller's token)")
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(strings.ToLower(in.Employer + "\x00" + in.Title + "\x00" + in.Description)))
	in.ID = "p_" + hex.EncodeToString(h[:8])
	in.Status = "open"
	_, seq, dup, err := s.publish(ctx, events.JobsPosted, in.ID, in)
	if err != nil {
		return nil, apierr.Wrap(err, apierr.Unavailable, "could not record the posting; try again")
	}
	st := "posted"
	if dup {
		st = "duplicate"
	}
	return Result{Accepted: []Outcome{{Index: 0, ID: in.ID, Status: st, Sequence: seq}}, Rejected: []Rejected{}}, nil
}
