package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/clerkpath/clerkpath/pkg/contract/credentialsapi"
	"github.com/clerkpath/clerkpath/pkg/contract/ingestapi"
	"github.com/clerkpath/clerkpath/pkg/contract/profilesapi"
	"github.com/clerkpath/clerkpath/pkg/geo"
	"github.com/clerkpath/clerkpath/pkg/profile"
	"github.com/clerkpath/clerkpath/pkg/rpc"
	"github.com/clerkpath/clerkpath/pkg/seedgen"
)

// remoteCoder is the demo's remote posting.
var remoteCoder = seedgen.Template{Title: "Remote Medical Coder", Description: "Fully remote. CPC or CCS required. Three years of outpatient coding; HCPCS and CPT."}

// seedTemplates are demo postings in the words real ones use (the first
// nine of seedgen's, then a remote one); seed places them around a ZIP code
// with today's date.
var seedTemplates = append(slices.Clip(seedgen.Templates[:9]), remoteCoder)

func cmdSeed(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	zip := fs.String("zip", "10001", "US ZIP code the demo postings and seekers are placed around")
	n := fs.Int("postings", 60, "how many demo postings")
	org := fs.String("org", "demo-health", "the employer organisation that owns them")
	popSeekers := fs.Int("seekers", 0, "population mode: this many generated seekers (ids bench-000000 on), and --postings generated postings, through the HTTP API")
	popSeed := fs.Uint64("seed", 1, "population mode: the random seed (the same seed gives the same population)")
	api := fs.String("api", "http://localhost:8080", "population mode: the gateway's base URL")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "Usage: clerkpath seed [--zip 10001] [--postings 60] [--org demo-health]\n       clerkpath seed --postings N --seekers M [--seed 1] [--org demo-health] [--api http://localhost:8080]\n\nLoads demo postings (dated today, within 30 miles of the ZIP code) and three demo seekers")
		fmt.Fprintln(env.stderr, "(demo-ana, demo-ben, demo-cho) into a running backend, through the same NATS endpoints the API uses.")
		fmt.Fprintln(env.stderr, "\nWith --seekers it loads a seeded population instead (pkg/seedgen, as `clerkpath bench` does): seekers at every")
		fmt.Fprintln(env.stderr, "pathway stage with their credentials and postings in employers' words with alternative routes, placed at ZIP")
		fmt.Fprintln(env.stderr, "codes weighted by ZIP density with a 15% remote share, through the HTTP API with tokens from the local")
		fmt.Fprintln(env.stderr, "development key ($CLERKPATH_DATA_DIR/dev-keys, the key `clerkpath run` trusts).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	population := false
	fs.Visit(func(f *flag.Flag) { population = population || f.Name == "seekers" || f.Name == "seed" })
	if population {
		return seedPopulation(ctx, env, *api, *org, *n, *popSeekers, *popSeed)
	}
	if *n < 1 || *n > 1000 {
		return errors.New("--postings: from 1 to 1000")
	}
	c, err := connectOps(ctx, env)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	z, err := geo.LoadZCTAFile(c.cfg.ZCTAFile)
	if err != nil {
		return fmt.Errorf("ZIP centroids (run deployments/local/install.sh): %w", err)
	}
	at, ok := z.Lookup(*zip)
	if !ok {
		return fmt.Errorf("--zip %s: not a known US ZIP code", *zip)
	}
	body, _ := json.Marshal(demoPostings(at, *n, time.Now().UTC()))
	h := nats.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(ingestapi.HeaderEmployerOrg, *org)
	res, err := ingestapi.Submit.Call(ctx, c.nc, rpc.Raw{Data: body, Header: h})
	if err != nil {
		return fmt.Errorf("submit demo postings: %w", err)
	}
	fmt.Fprintf(env.stdout, "%d demo postings accepted (%d rejected) for organisation %s\n", len(res.Accepted), len(res.Rejected), *org)
	if err := seedDemoSeekers(ctx, c.nc, *zip, at); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, "demo seekers: demo-ana (high school, CCA), demo-ben (CAHIIM associate, final term), demo-cho (RHIT, 30 months coding); matches appear within seconds, once matching has indexed the postings")
	fmt.Fprintln(env.stdout, "try: TOKEN=$(bin/clerkpath token --role seeker --sub demo-ana); curl -s localhost:8080/v1/seekers/demo-ana/matches -H \"Authorization: Bearer $TOKEN\"")
	return nil
}

// demoPostings are n demo postings from seedTemplates, dated today and
// scattered within about 30 miles of at.
func demoPostings(at geo.Point, n int, now time.Time) []map[string]any {
	r := rand.New(rand.NewPCG(uint64(at.Lat*1000), uint64(n)))
	today := now.Format("2006-01-02")
	var recs []map[string]any
	for i := range n {
		t := seedTemplates[i%len(seedTemplates)]
		rec := map[string]any{
			"identifier": fmt.Sprintf("DEMO-%04d", i), "title": t.Title, "description": t.Description,
			"employer": "Demo Health " + []string{"North", "South", "East", "West"}[i%4], "date_posted": today,
			"latitude": at.Lat + (r.Float64()-0.5)*0.8, "longitude": at.Lon + (r.Float64()-0.5)*0.8,
			"salary_min": 18 + r.IntN(12), "salary_unit": "HOUR",
		}
		rec["salary_max"] = rec["salary_min"].(int) + 2 + r.IntN(8)
		if t == remoteCoder {
			rec["work_mode"] = "remote"
		}
		recs = append(recs, rec)
	}
	return recs
}

// seedDemoSeekers records the three demo seekers and their credentials.
func seedDemoSeekers(ctx context.Context, nc *nats.Conn, zip string, at geo.Point) error {
	lat, lon := at.Lat, at.Lon
	seekers := []struct {
		sk    profile.Seeker
		creds []profile.CredentialRecord
	}{
		{profile.Seeker{ID: "demo-ana", Education: []profile.Education{{Level: "high_school", Status: "completed"}},
			Experience: []profile.Experience{{Area: "records", Months: 14}}, Skills: []string{"scanning_indexing", "release_of_information"},
			Location: &profile.Location{PostalCode: zip}, RadiusMiles: 25, Target: "RHIT", OpenToEmployers: true},
			[]profile.CredentialRecord{{Code: "CCA", EarnedOn: "2025-06-01"}}},
		{profile.Seeker{ID: "demo-ben", Education: []profile.Education{{Level: "high_school", Status: "completed"}, {Level: "associate", Field: "HIM", CAHIIMAccredited: true, Status: "final_term"}},
			Experience: []profile.Experience{{Area: "records", Months: 6}}, Skills: []string{"chart_analysis", "mpi"}, EHRSystems: []string{"Epic"},
			Location: &profile.Location{Lat: &lat, Lon: &lon}, RadiusMiles: 15, OpenToEmployers: true}, nil},
		{profile.Seeker{ID: "demo-cho", Education: []profile.Education{{Level: "associate", Field: "HIM", CAHIIMAccredited: true, Status: "completed"}},
			Experience: []profile.Experience{{Area: "coding", Months: 30}}, CodeSets: []string{"ICD-10-CM", "ICD-10-PCS", "CPT"},
			Location: &profile.Location{PostalCode: zip}, RadiusMiles: 40, RemotePref: "any", Target: "CCS"},
			[]profile.CredentialRecord{{Code: "RHIT", EarnedOn: "2024-05-01"}}},
	}
	for _, s := range seekers {
		if _, err := profilesapi.SeekerPut.Call(ctx, nc, profilesapi.PutSeekerRequest{Seeker: s.sk}); err != nil {
			return fmt.Errorf("seeker %s: %w", s.sk.ID, err)
		}
		for _, cr := range s.creds {
			if _, err := credentialsapi.Earn.Call(ctx, nc, credentialsapi.EarnRequest{SeekerID: s.sk.ID, Credential: cr}); err != nil {
				return fmt.Errorf("seeker %s credential %s: %w", s.sk.ID, cr.Code, err)
			}
		}
	}
	return nil
}
