package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/auth"
	"github.com/clerkpath/clerkpath/pkg/contract/gatewayapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/events"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/profile"
)

// relation is who may reach a seeker's object besides admins.
type relation uint8

const (
	relSelf      relation = 1 << iota // the seeker themself
	relCaseload                       // a counselor the seeker linked
	relConsented                      // an employer the seeker shared contact details with
)

// access is a route's whole authorization rule. Every route has one (the
// route table in routes.go), and authorize is the only code that reads it:
// object-level authorization lives in this one place, not in handlers.
type access struct {
	public    bool        // anyone, without a token
	roles     []auth.Role // who may call at all; admin always may
	seeker    string      // path value naming a seeker the caller must be related to
	rel       relation    // which relations open that seeker
	counselor string      // path value that must be the caller, when the caller is a counselor
	org       string      // path value that must be the caller's organisation, when the caller is an employer
	posting   string      // path value naming a posting the calling employer's organisation must own
	audit     string      // what a read means, recorded in AUDIT when someone other than the seeker reads
	unlimited bool        // exempt from rate limits (health and metrics probes)
}

var allRoles = []auth.Role{auth.RoleSeeker, auth.RoleEmployer, auth.RoleCounselor, auth.RoleAdmin}

// authorize decides whether p may call the route with rule a on request r.
// A caller who may not see a seeker gets 404, as if the seeker did not
// exist, so ids cannot be probed.
func (s *server) authorize(ctx context.Context, p auth.Principal, r *http.Request, a access) error {
	if a.public {
		return nil
	}
	if p.IsAnonymous() {
		return apierr.New(apierr.Unauthenticated, "sign in: this route needs a bearer token")
	}
	if p.Role != auth.RoleAdmin && !slices.Contains(a.roles, p.Role) {
		return apierr.New(apierr.Forbidden, "%s may not use this route: it is for %s", withArticle(string(p.Role)), roleList(a.roles))
	}
	if a.counselor != "" && p.Role == auth.RoleCounselor && p.Subject != r.PathValue(a.counselor) {
		return apierr.New(apierr.Forbidden, "a counselor acts only for themselves: the path names counselor %s, and you are %s", r.PathValue(a.counselor), p.Subject)
	}
	if a.org != "" && p.Role == auth.RoleEmployer && p.Org != r.PathValue(a.org) {
		return apierr.New(apierr.Forbidden, "an employer acts only for their own organisation: the path names %s, and yours is %s", r.PathValue(a.org), p.Org)
	}
	if a.posting != "" && p.Role != auth.RoleAdmin {
		owner, err := s.postingOwner(ctx, r.PathValue(a.posting))
		if err != nil {
			return err
		}
		if p.Role != auth.RoleEmployer || owner != p.Org {
			return apierr.New(apierr.NotFound, "no posting %s", r.PathValue(a.posting))
		}
	}
	if a.seeker != "" {
		id := r.PathValue(a.seeker)
		if !profile.ValidID(id) {
			return apierr.InvalidFields(apierr.FieldError{Field: a.seeker, Message: "1 to 64 letters, digits, '-' or '_'"})
		}
		if err := s.authorizeSeeker(ctx, p, id, a.rel); err != nil {
			return err
		}
		if a.audit != "" && !(p.Role == auth.RoleSeeker && p.Subject == id) {
			if err := s.recordAccess(ctx, p, id, a.audit); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *server) authorizeSeeker(ctx context.Context, p auth.Principal, id string, rel relation) error {
	notFound := apierr.New(apierr.NotFound, "no seeker %s", id)
	switch p.Role {
	case auth.RoleAdmin:
		return nil
	case auth.RoleSeeker:
		if rel&relSelf != 0 && p.Subject == id {
			return nil
		}
		return notFound
	case auth.RoleCounselor:
		if rel&relCaseload == 0 {
			return notFound
		}
		r, err := s.relations(ctx, id)
		if err != nil {
			return err
		}
		if slices.Contains(r.Counselors, p.Subject) {
			return nil
		}
		return notFound
	case auth.RoleEmployer:
		if rel&relConsented == 0 {
			return notFound
		}
		r, err := s.relations(ctx, id)
		if err != nil {
			return err
		}
		if slices.Contains(r.Employers, p.Org) {
			return nil
		}
		return notFound
	}
	return notFound
}

func (s *server) relations(ctx context.Context, id string) (profile.Relations, error) {
	return profilesapi.Relations.Call(ctx, s.nc, profilesapi.SeekerRef{ID: id})
}

// postingOwner returns the organisation that owns a posting.
func (s *server) postingOwner(ctx context.Context, id string) (string, error) {
	out, err := matchingapi.Posting.Call(ctx, s.nc, matchingapi.PostingRequest{ID: id})
	if err != nil {
		return "", err
	}
	return out.EmployerID, nil
}

// recordAccess writes the audit event before the data is served: a read
// that cannot be audited is not served.
func (s *server) recordAccess(ctx context.Context, p auth.Principal, seeker, action string) error {
	return s.recordAccesses(ctx, p, []string{seeker}, action)
}

// recordAccesses writes one access record per seeker, on
// audit.seeker.<pseudonym>, all published at once and each awaited, before
// the data is served. The message id is
// random: it must not name the seeker (ids outlive a purge in the stream's
// duplicate window), and a client that reuses a request id must not have
// its second read dropped as a duplicate.
func (s *server) recordAccesses(ctx context.Context, p auth.Principal, seekers []string, action string) error {
	rec := gatewayapi.AccessRecord{Actor: p.Subject, Role: p.Role, Org: p.Org, Action: action, At: time.Now().UTC(), RequestID: obs.RequestID(ctx)}
	names, err := s.pseudonyms(ctx, seekers)
	if err != nil {
		return apierr.Wrap(err, apierr.Unavailable, "could not record the access; try again")
	}
	futures := make([]jetstream.PubAckFuture, 0, len(seekers))
	for _, seeker := range names {
		ev := gatewayapi.SeekerRead.New(seeker, rec)
		ev.ID, ev.Source, ev.Time, ev.RequestID = "audit-"+obs.NewRequestID(), Name, rec.At, rec.RequestID
		f, err := events.PublishAsync(s.js, ev)
		if err != nil {
			return apierr.Wrap(err, apierr.Unavailable, "could not record the access; try again")
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		if _, err := events.Await(ctx, s.js, gatewayapi.SeekerRead.SubjectFor(names[i]), f); err != nil {
			return apierr.Wrap(err, apierr.Unavailable, "could not record the access; try again")
		}
	}
	return nil
}

// recordCandidates records a read of each seeker a candidates reply shows
// (the candidates endpoint's JSON), in that seeker's access log.
func (s *server) recordCandidates(ctx context.Context, reply json.RawMessage) error {
	var shown struct {
		Candidates []struct {
			SeekerID string `json:"seeker_id"`
		} `json:"candidates"`
	}
	if err := json.Unmarshal(reply, &shown); err != nil {
		return fmt.Errorf("read the candidates to record: %w", err)
	}
	ids := make([]string, 0, len(shown.Candidates))
	for _, c := range shown.Candidates {
		ids = append(ids, c.SeekerID)
	}
	return s.recordAccesses(ctx, auth.PrincipalFrom(ctx), ids, gatewayapi.ActionCandidate)
}

// roleList names who may use a route, in the plural, admins last:
// "seekers, counselors and admins".
func roleList(roles []auth.Role) string {
	names := make([]string, 0, len(roles)+1)
	for _, r := range roles {
		if r != auth.RoleAdmin {
			names = append(names, string(r)+"s")
		}
	}
	names = append(names, "admins")
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// withArticle puts "a" or "an" before a role name: "an employer".
func withArticle(role string) string {
	if role != "" && strings.ContainsRune("aeiou", rune(role[0])) {
		return "an " + role
	}
	return "a " + role
}
