package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/clerkpath/clerkpath/pkg/apierr"
	"github.com/clerkpath/clerkpath/pkg/pathway"
	"github.com/clerkpath/clerkpath/pkg/strictjson"
)

// maxProfileBytes bounds a profile file, as the API bounds a request body.
const maxProfileBytes = 1 << 20

// cmdPathway plans a career from a profile file with the embedded catalog.
// It is pure: no server is needed, and "today" can be given.
func cmdPathway(ctx context.Context, args []string, env environment) error {
	fs := flag.NewFlagSet("pathway", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	profilePath := fs.String("profile", "", "the seeker's profile: a JSON file in the documented shape, or - for standard input")
	target := fs.String("target", "", "a credential code to plan the route to (overrides the profile's target)")
	optimize := fs.String("optimize", "", "what the route to the target minimises: time (default) or cost")
	asJSON := fs.Bool("json", false, "print JSON: eligible_now, next_steps, plan, blocked, recertification, ...")
	asCTDL := fs.Bool("ctdl", false, "print CTDL JSON-LD: the plan as a pathway, or without --profile the whole catalog")
	todayFlag := fs.String("today", "", "plan as of this date, YYYY-MM-DD (default: today)")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, pathwayUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "clerkpath pathway: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if *asJSON && *asCTDL {
		fmt.Fprintln(env.stderr, "clerkpath pathway: give --json or --ctdl, not both")
		return errUsage
	}
	today := time.Now()
	if *todayFlag != "" {
		d, err := time.Parse(time.DateOnly, *todayFlag)
		if err != nil {
			fmt.Fprintf(env.stderr, "clerkpath pathway: --today %q: want YYYY-MM-DD\n", *todayFlag)
			return errUsage
		}
		today = d
	}
	cat, err := pathway.DefaultCatalog()
	if err != nil {
		return fmt.Errorf("pathway catalog: %w", err)
	}
	if *profilePath == "" {
		if *asCTDL {
			return writeIndented(env.stdout, pathway.CTDL(cat, nil))
		}
		fmt.Fprintln(env.stderr, "clerkpath pathway: --profile is required (or --ctdl alone for the whole catalog)")
		return errUsage
	}
	plan, err := planProfile(cat, *profilePath, env, *target, *optimize, today)
	if err != nil {
		return err
	}
	switch {
	case *asCTDL:
		return writeIndented(env.stdout, pathway.CTDL(cat, &plan))
	case *asJSON:
		return writeIndented(env.stdout, plan)
	}
	return pathway.FormatText(env.stdout, plan)
}

// pathwayUsage is the help of clerkpath pathway, before its flags.
const pathwayUsage = `Usage: clerkpath pathway --profile FILE [--target CODE] [--optimize time|cost] [--json | --ctdl] [--today YYYY-MM-DD]
       clerkpath pathway --ctdl

Prints what the seeker may sit for now, ranked next steps, the route to a target credential,
what blocks every other credential, and renewal deadlines. Next steps: renewal actions first
(log CEUs, reinstate), then steps with cautions and estimates, then recurring reminders;
docs/pathways.md explains the ranking. The profile shape:
  {"education":[{"level":"high_school|certificate|associate|bachelor|master","field":"HIM|coding|other",
                 "cahiim_accredited":true,"status":"completed|final_term|in_progress"}],
   "credentials":[{"code":"RHIT","earned_on":"2024-05-01"},{"code":"CPC","apprentice":true,"membership_renewal":"2027-03-31"}],
   "experience":[{"area":"coding|privacy_security|release_of_information|records|data_analysis|billing","months":24}],
   "trainings":["aapc_80_hour_course","practicode","ahima_approved_coding_program"],
   "ceus":[{"code":"RHIT","hours":10,"on":"2025-01-10"}], "target":"RHIA", "optimize":"time|cost"}

Examples are in docs/examples/. Flags:
`

// planProfile reads the seeker's profile from path (or standard input for
// "-"), applies the --target and --optimize flags over it and plans. A
// profile the planner refuses has its problems printed to env.stderr.
func planProfile(cat *pathway.Catalog, path string, env environment, target, optimize string, today time.Time) (pathway.Plan, error) {
	data, err := readProfile(path, env.stdin)
	if err != nil {
		return pathway.Plan{}, err
	}
	var st pathway.State
	if err := strictjson.Decode(data, &st); err != nil {
		return pathway.Plan{}, invalidProfile(env.stderr, path, err)
	}
	if target != "" {
		st.Target = strings.ToUpper(strings.TrimSpace(target))
	}
	if optimize != "" {
		st.Optimize = optimize
	}
	plan, err := pathway.Recommend(cat, st, pathway.Options{Today: today})
	if err != nil {
		return pathway.Plan{}, invalidProfile(env.stderr, path, err)
	}
	return plan, nil
}

func readProfile(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		if stdin == nil {
			return nil, errors.New("--profile -: no standard input")
		}
		r = stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxProfileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read profile %s: %w", path, err)
	}
	if len(data) > maxProfileBytes {
		return nil, fmt.Errorf("profile %s is larger than %d bytes", path, maxProfileBytes)
	}
	return data, nil
}

// invalidProfile prints every bad field of the profile, one per line, in
// the words the API uses in its problem documents, and returns the error
// that makes the command exit non-zero.
func invalidProfile(w io.Writer, path string, err error) error {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("plan: %w", err)
	}
	fmt.Fprintf(w, "clerkpath pathway: %s: %s\n", path, ae.Message)
	for _, f := range ae.Fields {
		fmt.Fprintf(w, "  %s: %s\n", f.Field, f.Message)
	}
	if len(ae.Fields) == 0 {
		return fmt.Errorf("invalid profile %s: %s", path, ae.Message)
	}
	return fmt.Errorf("invalid profile %s: %d problem(s), listed above", path, len(ae.Fields))
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
