package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkpath/clerkpath/pkg/config"
	"github.com/clerkpath/clerkpath/pkg/testenv"
)

func runCLI(t *testing.T, getenv func(string) string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, environment{getenv: getenv, stdout: &out, stderr: &errb})
	return out.String(), errb.String(), err
}

// writeFiles writes one file per format, each with a bad record, dated today.
func writeFiles(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	d := time.Now().UTC().Format("2006-01-02")
	files := map[string]string{
		"a.json": `[{"identifier":"J1","title":"Coder I","description":"CCA or CPC-A required.","employer":"Prairie View","date_posted":"` + d + `","postal_code":"73102"},
			{"identifier":"J2","title":"","description":"no title","employer":"X","date_posted":"` + d + `","postal_code":"73102"}]`,
		"b.ndjson": `{"identifier":"N1","title":"ROI Specialist","description":"RHIT preferred.","employer":"Chartwell","date_posted":"` + d + `","work_mode":"remote"}` + "\n" +
			`{"identifier":"N2","title":"Scanning Clerk","description":"Salary $9,000,000 an hour.","employer":"Chartwell","date_posted":"` + d + `","postal_code":"10001","salary_min":9000000,"salary_unit":"HOUR"}` + "\n",
		"c.csv": "title,description,employer,identifier,date_posted,postal_code\n" +
			"Medical Records Clerk,\"High school diploma required.\nScanning and indexing.\",Lakeside,C1," + d + ",60601\n",
		"d.jsonld": `{"@context":"https://schema.org","@type":"JobPosting","title":"Cancer Registrar","description":"<p>CTR required.</p>","datePosted":"` + d + `","identifier":"L1",
			"hiringOrganization":{"@type":"Organization","name":"Mercy"},"jobLocation":{"@type":"Place","address":{"@type":"PostalAddress","postalCode":"95814"}}}`,
	}
	var names []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, p)
	}
	return names
}

func TestIngestDryRunPrintsNormalisedPostings(t *testing.T) {
	t.Parallel()
	files := writeFiles(t)
	stdout, stderr, err := runCLI(t, func(string) string { return "" }, append([]string{"ingest", "--dry-run"}, files...)...)
	if err == nil || !strings.Contains(err.Error(), "2 records rejected") {
		t.Fatalf("err %v (want 2 rejected)\nstderr: %s", err, stderr)
	}
	var postings []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var p map[string]any
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("stdout line is not JSON: %s", sc.Text())
		}
		postings = append(postings, p)
	}
	if len(postings) != 4 {
		t.Fatalf("%d postings on stdout, want 4:\n%s", len(postings), stdout)
	}
	for _, p := range postings {
		for _, k := range []string{"credentials_required", "credentials_preferred", "credentials_or_eligible", "education_min", "experience_months_min",
			"experience_in_lieu_of_education", "code_sets", "ehr_systems", "skills", "soc_code", "location", "work_mode"} {
			if _, ok := p[k]; !ok {
				t.Errorf("normalised posting lacks %s: %v", k, p)
			}
		}
	}
	var rejected int
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var r rejectedLine
		if json.Unmarshal([]byte(line), &r) == nil && len(r.Errors) > 0 {
			rejected++
			if r.File == "" || r.Errors[0].Field == "" {
				t.Errorf("rejection without file or field: %s", line)
			}
		}
	}
	if rejected != 2 {
		t.Fatalf("%d rejections on stderr, want 2:\n%s", rejected, stderr)
	}
}

func TestIngestSameFilesTwiceLeavesOneCopy(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	files := writeFiles(t)
	getenv := func(k string) string {
		switch k {
		case config.EnvNATSURL:
			return s.cfg.NATSURL
		case config.EnvZCTAFile:
			return s.cfg.ZCTAFile
		}
		return ""
	}
	args := append([]string{"ingest", "--org", "mercy"}, files...)
	_, stderr, _ := runCLI(t, getenv, args...)
	if !strings.Contains(stderr, "4 posted, 0 updated, 0 duplicate, 2 rejected") {
		t.Fatalf("first run: %s", stderr)
	}
	_, stderr, _ = runCLI(t, getenv, args...)
	if !strings.Contains(stderr, "0 posted, 0 updated, 4 duplicate, 2 rejected") {
		t.Fatalf("second run: %s", stderr)
	}
	// 30 s, not 10: the package's tests share one Meilisearch, which runs
	// every index's tasks one at a time, and under make test's load this
	// test once timed out at 10 s behind the others' batches.
	testenv.Eventually(t, 30*time.Second, func() error {
		_, _, b := s.do(t, "GET", "/v1/postings/search?q=&limit=100", "", "")
		var res struct {
			Hits []struct{ ID string } `json:"hits"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			return err
		}
		if len(res.Hits) != 4 {
			return fmt.Errorf("%d postings searchable, want 4", len(res.Hits))
		}
		return nil
	})
}

func TestIngestTodayJudgesDatesForDryRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "old.json")
	if err := os.WriteFile(p, []byte(`{"title":"Clerk","description":"Filing.","employer":"Mercy","date_posted":"2025-05-20","postal_code":"10001"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	none := func(string) string { return "" }
	if _, stderr, err := runCLI(t, none, "ingest", "--dry-run", p); err == nil || !strings.Contains(stderr, "stale") {
		t.Fatalf("an old posting judged today: %v %s", err, stderr)
	}
	if out, stderr, err := runCLI(t, none, "ingest", "--dry-run", "--today", "2025-06-01", p); err != nil || !strings.Contains(out, `"title":"Clerk"`) {
		t.Fatalf("judged as of 2025-06-01: %v %s %s", err, out, stderr)
	}
	if _, _, err := runCLI(t, none, "ingest", "--today", "2025-06-01", "--org", "x", p); err == nil || !strings.Contains(err.Error(), "--dry-run") {
		t.Fatalf("--today without --dry-run: %v", err)
	}
}
