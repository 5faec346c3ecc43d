package deployments

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
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

// endpoint is one request/reply endpoint declared in pkg/contract.
type endpoint struct {
	subject string
	owner   string // the service that serves it
}

// contractEndpoints reads the endpoints declared in pkg/contract/<svc>api
// (`X = rpc.Endpoint[Req, Rep]{Name: ..., Subject: "svc...."}`), keyed by
// "<svc>api.X".
func contractEndpoints(t *testing.T) map[string]endpoint {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "pkg", "contract", "*api"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no contract packages: %v", err)
	}
	out := map[string]endpoint{}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		pkg := filepath.Base(dir)
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatalf("parse %s: %v", file, err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				vs, ok := n.(*ast.ValueSpec)
				if !ok {
					return true
				}
				for i, v := range vs.Values {
					if subject := endpointSubject(v); subject != "" && i < len(vs.Names) {
						out[pkg+"."+vs.Names[i].Name] = endpoint{subject: subject, owner: strings.TrimSuffix(pkg, "api")}
					}
				}
				return false
			})
		}
	}
	return out
}

// endpointSubject is the Subject of an rpc.Endpoint composite literal, or "".
func endpointSubject(e ast.Expr) string {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return ""
	}
	typ := lit.Type
	switch x := typ.(type) {
	case *ast.IndexListExpr:
		typ = x.X
	case *ast.IndexExpr:
		typ = x.X
	}
	if sel, ok := typ.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Endpoint" {
		return ""
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Subject" {
			if b, ok := kv.Value.(*ast.BasicLit); ok && b.Kind == token.STRING {
				return strings.Trim(b.Value, "\"`")
			}
		}
	}
	return ""
}

// endpointUses returns the subjects of the contract endpoints that the
// non-test Go files under dir (recursively) refer to: a service naming
// another's endpoint calls it.
func endpointUses(t *testing.T, dir string, eps map[string]endpoint) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		local := map[string]string{} // local name -> contract package
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if !strings.Contains(p, "/pkg/contract/") {
				continue
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				local[imp.Name.Name] = name
			} else {
				local[name] = name
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok {
				if pkg, ok := local[id.Name]; ok {
					if ep, ok := eps[pkg+"."+sel.Sel.Name]; ok {
						out[ep.subject] = true
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
