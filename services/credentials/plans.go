package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/matchingapi"
	"github.com/clerkpath/clerkpath/pkg/obs"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

func (s *Service) plan(ctx context.Context, req credentialsapi.PlanRequest) (json.RawMessage, error) {
	if err := checkFormat(req.Format); err != nil {
		return nil, err
	}
	st, err := parseState(req.State)
	if err != nil {
		return nil, err
	}
	override(&st, req.Target, req.Optimize)
	plan, err := pathway.Recommend(s.cat, st, pathway.Options{Today: s.now()})
	if err != nil {
		return nil, err
	}
	if req.Format == credentialsapi.FormatCTDL {
		return marshalReply(pathway.CTDL(s.cat, &plan))
	}
	return marshalReply(plan)
}

// marshalReply encodes a reply whose type depends on the format asked.
func marshalReply(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal reply: %w", err)
	}
	return b, nil
}

func (s *Service) ctdl(ctx context.Context, req credentialsapi.CTDLRequest) (json.RawMessage, error) {
	if isAbsent(req.State) {
		return s.catCTDL, nil
	}
	st, err := parseState(req.State)
	if err != nil {
		return nil, err
	}
	override(&st, req.Target, req.Optimize)
	plan, err := pathway.Recommend(s.cat, st, pathway.Options{Today: s.now()})
	if err != nil {
		return nil, err
	}
	return marshalReply(pathway.CTDL(s.cat, &plan))
}

func (s *Service) seekerPlan(ctx context.Context, req credentialsapi.SeekerPlanRequest) (json.RawMessage, error) {
	if err := validSeeker(req.SeekerID); err != nil {
		return nil, err
	}
	if err := checkFormat(req.Format); err != nil {
		return nil, err
	}
	sk, err := s.seeker(ctx, req.SeekerID)
	if err != nil {
		return nil, err
	}
	rec, err := s.store.load(ctx, req.SeekerID)
	if err != nil {
		return nil, err
	}
	if rec.deleted {
		return nil, apierr.New(apierr.NotFound, "no seeker %s", req.SeekerID)
	}
	out := credentialsapi.SeekerPlanReply{SeekerID: req.SeekerID}
	st := profile.PathwayState(sk, rec.creds, rec.ceus)
	st, out.ProfileNotes = s.usableState(st, req.Target != "")
	override(&st, req.Target, req.Optimize)
	st, notes, err := s.dropInvalid(st)
	if err != nil {
		return nil, err
	}
	out.ProfileNotes = append(out.ProfileNotes, notes...)

	held := make([]string, 0, len(st.Credentials))
	for _, c := range st.Credentials {
		held = append(held, c.Code)
	}
	var demand pathway.Demand
	out.Demand, out.DemandNote = s.marketDemand(ctx, sk, held)
	if out.Demand != nil {
		demand = toDemand(*out.Demand)
	}
	if out.Plan, err = pathway.Recommend(s.cat, st, pathway.Options{Today: s.now(), Demand: demand}); err != nil {
		return nil, err
	}
	if req.Format == credentialsapi.FormatCTDL {
		return marshalReply(pathway.CTDL(s.cat, &out.Plan))
	}
	return marshalReply(out)
}

// marketDemand asks the matching service for the demand near the seeker.
// Without a location, or when matching does not answer in time, the plan
// is ranked without it and the note says why.
func (s *Service) marketDemand(ctx context.Context, sk profile.Seeker, held []string) (*matchingapi.MarketDemand, string) {
	loc := sk.Location
	if loc == nil || (loc.PostalCode == "" && (loc.Lat == nil || loc.Lon == nil)) {
		return nil, "your profile has no location, so next steps are ranked without local job-market demand; add a postal code to see it"
	}
	req := matchingapi.MarketRequest{RadiusMiles: sk.RadiusMiles, Held: held}
	if loc.PostalCode != "" {
		req.PostalCode = loc.PostalCode
	} else {
		req.Lat, req.Lon = loc.Lat, loc.Lon
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.MarketTimeout)
	defer cancel()
	d, err := matchingapi.Market.Call(ctx, s.nc, req)
	if err != nil {
		e := apierr.As(err)
		if e.Code == apierr.Invalid {
			// Field messages only: no location value reaches the log.
			obs.Logger(ctx, s.log).Warn().Str("code", string(e.Code)).Msg("market demand refused the seeker's location; planning without it")
			return nil, "local job-market demand could not be computed for your location (" + e.Error() + "), so next steps are ranked without it"
		}
		obs.Logger(ctx, s.log).Warn().Err(err).Msg("market demand unavailable; planning without it")
		return nil, "local job-market demand is unavailable right now (" + e.Message + "), so next steps are ranked without it"
	}
	if !validDemand(d) {
		obs.Logger(ctx, s.log).Warn().Msg("market demand with negative or non-finite numbers; planning without it")
		return nil, "local job-market demand could not be used, so next steps are ranked without it"
	}
	return &d, ""
}

func validDemand(d matchingapi.MarketDemand) bool {
	ok := func(f float64) bool { return f >= 0 && !math.IsInf(f, 0) && !math.IsNaN(f) }
	if d.RadiusMiles < 0 || d.Postings < 0 || !ok(d.QualifiedMedianHourly) {
		return false
	}
	for _, c := range d.Credentials {
		if c.Postings < 0 || !ok(c.MedianHourly) {
			return false
		}
	}
	return true
}

func toDemand(d matchingapi.MarketDemand) pathway.Demand {
	out := pathway.Demand{RadiusMiles: d.RadiusMiles, QualifiedMedianHourly: d.QualifiedMedianHourly, Credentials: map[string]pathway.CredentialDemand{}}
	for code, c := range d.Credentials {
		out.Credentials[code] = pathway.CredentialDemand{Postings: c.Postings, MedianHourly: c.MedianHourly}
	}
	return out
}

// usableState fixes what a stored profile may hold that the engine's
// stricter state does not accept: an area listed twice (its months are
// added up) and a target that is a role rather than a credential code
// (left out, with a note; an explicit target overrides it anyway).
func (s *Service) usableState(st pathway.State, targetGiven bool) (pathway.State, []string) {
	var notes []string
	var exp []pathway.Experience
	at := map[string]int{}
	for _, e := range st.Experience {
		if i, ok := at[e.Area]; ok {
			exp[i].Months = min(exp[i].Months+e.Months, profile.MaxMonths)
			continue
		}
		at[e.Area] = len(exp)
		exp = append(exp, e)
	}
	st.Experience = exp
	if st.Target != "" && !targetGiven {
		if code := strings.ToUpper(st.Target); s.cat.Credential(code) != nil {
			st.Target = code
		} else {
			notes = append(notes, fmt.Sprintf("your profile's target %q is not a credential code, so the plan has no target route; targets are one of %s", st.Target, strings.Join(s.codes(), ", ")))
			st.Target = ""
		}
	}
	return st, notes
}

var entryPath = regexp.MustCompile(`^(education|experience|trainings|credentials|ceus)\[(\d+)\]`)

// dropInvalid leaves out the entries of st the engine rejects, with a note
// for each, so that one bad profile entry does not cost the seeker the
// whole plan. Errors in what the caller asked for (target, optimize) are
// returned as they are.
func (s *Service) dropInvalid(st pathway.State) (pathway.State, []string, error) {
	err := st.Validate(s.cat, s.now())
	var ae *apierr.Error
	if err == nil || !errors.As(err, &ae) || ae.Code != apierr.Invalid {
		return st, nil, err
	}
	drop := map[string]map[int]bool{}
	var notes []string
	for _, f := range ae.Fields {
		m := entryPath.FindStringSubmatch(f.Field)
		if m == nil {
			return st, nil, err
		}
		i, _ := strconv.Atoi(m[2])
		if drop[m[1]] == nil {
			drop[m[1]] = map[int]bool{}
		}
		drop[m[1]][i] = true
		notes = append(notes, "left out "+f.Field+": "+f.Message)
	}
	keep := func(list string) func(int) bool { return func(i int) bool { return !drop[list][i] } }
	st.Education = filter(st.Education, keep("education"))
	st.Experience = filter(st.Experience, keep("experience"))
	st.Trainings = filter(st.Trainings, keep("trainings"))
	st.Credentials = filter(st.Credentials, keep("credentials"))
	held := map[string]bool{}
	for _, c := range st.Credentials {
		held[c.Code] = true
	}
	// CEUs toward a credential left out would be rejected next.
	st.CEUs = filter(st.CEUs, func(i int) bool { return keep("ceus")(i) && held[st.CEUs[i].Code] })
	if err := st.Validate(s.cat, s.now()); err != nil {
		return st, nil, err
	}
	return st, notes, nil
}

func filter[T any](list []T, keep func(int) bool) []T {
	var out []T
	for i, v := range list {
		if keep(i) {
			out = append(out, v)
		}
	}
	return out
}

// parseState reads the documented state shape strictly: a misspelt key is
// an error naming it. (strictjson rather than pathway.ParseState, whose
// unknown-field error does not name the field.)
func parseState(raw json.RawMessage) (pathway.State, error) {
	var st pathway.State
	if isAbsent(raw) {
		return st, apierr.InvalidFields(apierr.FieldError{Field: "state", Message: "required: the seeker's education, credentials, experience and trainings"})
	}
	err := strictjson.Decode(raw, &st)
	return st, err
}

func isAbsent(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "null"
}

// override applies a target and goal given outside the state (query
// parameters). Codes are matched without regard to case.
func override(st *pathway.State, target, optimize string) {
	if target != "" {
		st.Target = strings.ToUpper(strings.TrimSpace(target))
	}
	if optimize != "" {
		st.Optimize = optimize
	}
}

func checkFormat(f string) error {
	if f == "" || slices.Contains([]string{credentialsapi.FormatJSON, credentialsapi.FormatCTDL}, f) {
		return nil
	}
	return apierr.InvalidFields(apierr.FieldError{Field: "format", Message: fmt.Sprintf("unknown format %q; allowed: json, ctdl", f)})
}
