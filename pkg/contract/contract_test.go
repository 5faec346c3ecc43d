package contract_test

import (
	"bytes"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clerkpath/clerkpath/pkg/contract"
	"github.com/clerkpath/clerkpath/pkg/events"
)

var update = flag.Bool("update", false, "rewrite docs/asyncapi.json from the declarations")

const repoRoot = "../.."

func TestEachSubjectIsDeclaredOnceByItsOwner(t *testing.T) {
	for subject, pkgs := range contract.Subjects() {
		if len(pkgs) != 1 {
			t.Errorf("%s is declared %d times (%v)", subject, len(pkgs), pkgs)
		}
	}
	for _, svc := range contract.Services() {
		names := map[string]bool{}
		for _, e := range svc.Endpoints {
			if want := "svc." + svc.Name + "."; !strings.HasPrefix(e.Subject, want) {
				t.Errorf("%s endpoint %s: subject %q is outside %s*", svc.Name, e.Name, e.Subject, want)
			}
			if names[e.Name] {
				t.Errorf("%s: endpoint name %q twice", svc.Name, e.Name)
			}
			names[e.Name] = true
			if e.Doc == "" {
				t.Errorf("%s endpoint %s has no Doc", svc.Name, e.Name)
			}
		}
	}
}

func TestEachTopicIsStoredByItsStream(t *testing.T) {
	streams := map[string][]string{}
	for _, c := range events.StreamConfigs(1) {
		streams[c.Name] = c.Subjects
	}
	for _, svc := range contract.Services() {
		for _, tp := range svc.Topics {
			subject := tp.Subject
			if tp.Keyed {
				subject += "some-id"
			}
			filters, ok := streams[tp.Stream]
			if !ok {
				t.Errorf("%s: topic %s names stream %q, which does not exist", svc.Name, tp.Subject, tp.Stream)
				continue
			}
			if !anyMatch(filters, subject) {
				t.Errorf("%s: topic %s is not among stream %s's subjects %v", svc.Name, subject, tp.Stream, filters)
			}
			if tp.Doc == "" {
				t.Errorf("%s: topic %s has no Doc", svc.Name, tp.Subject)
			}
		}
	}
}

func anyMatch(filters []string, subject string) bool {
	for _, f := range filters {
		if subjectMatches(f, subject) {
			return true
		}
	}
	return false
}

// subjectMatches is NATS subject matching: * is one token, > the rest.
func subjectMatches(filter, subject string) bool {
	ft, st := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, f := range ft {
		if f == ">" {
			return len(st) > i
		}
		if i >= len(st) || (f != "*" && f != st[i]) {
			return false
		}
	}
	return len(ft) == len(st)
}

// TestNoSubjectLiteralOutsideItsDeclaration reads every Go file of the
// repository: a declared subject written as a string literal anywhere but
// its one declaration is a second definition that can drift.
func TestNoSubjectLiteralOutsideItsDeclaration(t *testing.T) {
	declared := contract.Subjects()
	seen := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".tools", "node_modules", "testdata", "var", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			if _, ok := declared[s]; ok {
				seen[s] = append(seen[s], fset.Position(lit.Pos()).String())
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for s, at := range seen {
		if len(at) > 1 {
			t.Errorf("subject %q is written %d times: %s", s, len(at), strings.Join(at, ", "))
		}
	}
}

func TestEventsDocNamesEverySubject(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	for subject := range contract.Subjects() {
		if !bytes.Contains(doc, []byte("`"+subject)) {
			t.Errorf("docs/events.md does not name `%s`", subject)
		}
	}
}

func TestAsyncAPIDocumentIsUpToDate(t *testing.T) {
	got, err := contract.AsyncAPI("1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(repoRoot, "docs", "asyncapi.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it: cd pkg && go test ./contract -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/asyncapi.json is out of date with pkg/contract: cd pkg && go test ./contract -update")
	}
}
