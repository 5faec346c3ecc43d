package deployments

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"testing"
)

// The deployment files must agree with the binaries. This module does not
// import the services (that would pull every dependency of theirs in); it
// reads the constants it needs from the source with go/parser instead.

// goConstants returns the string and integer constants declared in the Go
// files of dir (tests excluded), evaluated.
func goConstants(t *testing.T, dir string) map[string]constant.Value {
	t.Helper()
	fset := token.NewFileSet()
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	var files []*ast.File
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", m, err)
		}
		files = append(files, f)
	}
	// Type-check with imports ignored: only the constants matter, and they
	// are untyped or of basic types.
	conf := types.Config{Importer: nil, Error: func(error) {}}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}}
	_, _ = conf.Check(dir, fset, files, info)
	out := map[string]constant.Value{}
	for _, obj := range info.Defs {
		if c, ok := obj.(*types.Const); ok && c.Parent() == c.Pkg().Scope() {
			out[c.Name()] = c.Val()
		}
	}
	return out
}

// envVars returns pkg/config's variable names: the values of its Env*
// constants.
func envVars(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	for name, v := range goConstants(t, filepath.Join("..", "pkg", "config")) {
		if strings.HasPrefix(name, "Env") && v.Kind() == constant.String {
			vars[constant.StringVal(v)] = true
		}
	}
	if len(vars) < 10 || !vars["CLERKPATH_NATS_URL"] {
		t.Fatalf("read only %d variables from pkg/config: %v", len(vars), vars)
	}
	return vars
}

// recommendedMaxPayload is natsx.RecommendedMaxPayload.
func recommendedMaxPayload(t *testing.T) int64 {
	t.Helper()
	v, ok := goConstants(t, filepath.Join("..", "pkg", "natsx"))["RecommendedMaxPayload"]
	if !ok {
		t.Fatal("natsx.RecommendedMaxPayload not found")
	}
	n, exact := constant.Int64Val(v)
	if !exact || n < 1<<20 {
		t.Fatalf("natsx.RecommendedMaxPayload = %v", v)
	}
	return n
}

func TestSourceConstantsAreRead(t *testing.T) {
	vars := envVars(t)
	for _, v := range []string{"CLERKPATH_REDIS_URL", "CLERKPATH_MEILI_KEY", "CLERKPATH_STREAM_REPLICAS", "CLERKPATH_NATS_NKEY_FILE"} {
		if !vars[v] {
			t.Errorf("%s missing from pkg/config's variables", v)
		}
	}
	if n := recommendedMaxPayload(t); n != 8<<20 {
		t.Logf("RecommendedMaxPayload is now %d", n)
	}
}
