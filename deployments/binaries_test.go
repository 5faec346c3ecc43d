package deployments

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// binary is one program the image ships, as the source defines it.
type binary struct {
	name      string
	needRedis bool
	needMeili bool
	http      bool // listens on CLERKPATH_HTTP_ADDR
}

var needsRe = regexp.MustCompile(`platform\.Needs\{([^}]*)\}`)

// serviceBinaries reads services/*/cmd/*/main.go: each service binary and
// the servers it requires (platform.Needs), and whether its package serves
// HTTP.
func serviceBinaries(t *testing.T) map[string]binary {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join("..", "services", "*", "cmd", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no service binaries found: %v", err)
	}
	out := map[string]binary{}
	for _, m := range mains {
		src, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(m))
		b := binary{name: name}
		if n := needsRe.FindSubmatch(src); n != nil {
			b.needRedis = strings.Contains(string(n[1]), "Redis: true")
			b.needMeili = strings.Contains(string(n[1]), "Meili: true")
		} else {
			t.Fatalf("%s: no platform.Needs", m)
		}
		pkgFiles, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(m))), "*.go"))
		for _, f := range pkgFiles {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			s, _ := os.ReadFile(f)
			b.http = b.http || strings.Contains(string(s), "Config.HTTPAddr")
		}
		out[name] = b
	}
	for _, want := range []string{"gateway", "profiles", "credentials", "ingest", "matching"} {
		if _, ok := out[want]; !ok {
			t.Fatalf("service binary %s not found among %v", want, out)
		}
	}
	if !out["gateway"].http || out["profiles"].http {
		t.Fatalf("HTTP detection wrong: %+v", out)
	}
	return out
}

// gatewayRoutes returns the probe routes the gateway registers.
func gatewayRoutes(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "services", "gateway", "routes.go"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkEnv checks the CLERKPATH_* variables one copy of bin is given: every
// one a real setting, and the ones the binary cannot start without present.
func checkEnv(t *testing.T, where string, bin binary, env map[string]string, real map[string]bool) {
	t.Helper()
	for k := range env {
		if strings.HasPrefix(k, "CLERKPATH_") && !real[k] {
			t.Errorf("%s: %s is not a setting clerkpath reads (pkg/config)", where, k)
		}
		if !strings.HasPrefix(k, "CLERKPATH_") {
			t.Errorf("%s: unexpected variable %s", where, k)
		}
	}
	required := []string{"CLERKPATH_NATS_URL", "CLERKPATH_STREAM_REPLICAS"}
	if bin.needRedis {
		required = append(required, "CLERKPATH_REDIS_URL")
	}
	if bin.needMeili {
		required = append(required, "CLERKPATH_MEILI_URL", "CLERKPATH_MEILI_KEY")
	}
	if bin.http {
		required = append(required, "CLERKPATH_HTTP_ADDR", "CLERKPATH_JWT_PUBLIC_KEY_FILE")
	}
	for _, r := range required {
		if _, ok := env[r]; !ok {
			t.Errorf("%s: %s missing", where, r)
		}
	}
	if v, ok := env["CLERKPATH_STREAM_REPLICAS"]; ok && v != "3" {
		t.Errorf("%s: CLERKPATH_STREAM_REPLICAS=%q, want 3 (the streams are R3)", where, v)
	}
	if v := env["CLERKPATH_NATS_URL"]; v != "" {
		for _, n := range []string{"nats-0.nats:4222", "nats-1.nats:4222", "nats-2.nats:4222"} {
			if !strings.Contains(v, "tls://"+n) {
				t.Errorf("%s: CLERKPATH_NATS_URL %q does not name tls://%s", where, v, n)
			}
		}
	}
	if v := env["CLERKPATH_NATS_NKEY_FILE"]; !strings.HasSuffix(v, "/"+bin.name+".nk") {
		t.Errorf("%s: CLERKPATH_NATS_NKEY_FILE %q is not %s's own NKey", where, v, bin.name)
	}
	if env["CLERKPATH_NATS_CA_FILE"] == "" {
		t.Errorf("%s: no CLERKPATH_NATS_CA_FILE: the server's TLS certificate would go unchecked", where)
	}
}
