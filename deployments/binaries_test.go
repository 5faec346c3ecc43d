package deployments

import (
	"go/constant"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

var (
	needsRe = regexp.MustCompile(`platform\.Needs\{([^}]*)\}`)
	// httpRe finds a read of the listen address (cfg.HTTPAddr,
	// p.Config.HTTPAddr): the package serves HTTP.
	httpRe = regexp.MustCompile(`\.HTTPAddr\b`)
)

// serviceNames are the services the deployments run; a service binary
// the source has and this list lacks (or the reverse) fails the tests, so
// that a new service is not left out of compose and Kubernetes.
var serviceNames = []string{"gateway", "profiles", "credentials", "ingest", "matching", "notifications"}

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
			b.http = b.http || httpRe.Match(s)
		}
		out[name] = b
	}
	for _, want := range serviceNames {
		if _, ok := out[want]; !ok {
			t.Fatalf("service binary %s not found among %v", want, out)
		}
	}
	for name := range out {
		if !slices.Contains(serviceNames, name) {
			t.Fatalf("service binary %s (services/%s/cmd/%s) is not in serviceNames: add it, and to the deployments", name, name, name)
		}
	}
	if !out["gateway"].http || out["profiles"].http || out["notifications"].http {
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
	devOnly := devOnlyVars(t)
	for k := range env {
		if devOnly[k] {
			t.Errorf("%s: %s is for development and tests only (it lets webhooks reach loopback over plain http)", where, k)
			continue
		}
		if strings.HasPrefix(k, "CLERKPATH_") && !real[k] {
			t.Errorf("%s: %s is not a setting clerkpath reads (pkg/config)", where, k)
		}
		if !strings.HasPrefix(k, "CLERKPATH_") && k != "GOMEMLIMIT" {
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

// devOnlyVars are the variables a service reads outside pkg/config that
// must never be set in a deployment: notifications'
// EnvAllowLoopbackHTTP (CLERKPATH_WEBHOOK_ALLOW_LOOPBACK_HTTP).
func devOnlyVars(t *testing.T) map[string]bool {
	t.Helper()
	v, ok := goConstants(t, filepath.Join("..", "services", "notifications"))["EnvAllowLoopbackHTTP"]
	if !ok || v.Kind() != constant.String || !strings.HasPrefix(constant.StringVal(v), "CLERKPATH_") {
		t.Fatalf("notifications.EnvAllowLoopbackHTTP not found: %v", v)
	}
	return map[string]bool{constant.StringVal(v): true}
}

// The image must build every service binary and copy every workspace
// module's go.mod and go.sum before `go mod download` (a module left out
// there fails the build, which no test here runs: there is no Docker).
func TestDockerfileBuildsEveryBinary(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	docker := string(b)
	loop := regexp.MustCompile(`for s in ([a-z ]+); do`).FindStringSubmatch(docker)
	if loop == nil || !strings.Contains(docker, "-o /out/$s ./services/$s/cmd/$s") {
		t.Fatal("the Dockerfile's build loop (for s in ...; do go build ... ./services/$s/cmd/$s) is not there")
	}
	built := strings.Fields(loop[1])
	for name := range serviceBinaries(t) {
		if !slices.Contains(built, name) {
			t.Errorf("the Dockerfile does not build %s (/usr/local/bin/%s, which the manifests run)", name, name)
		}
	}
	work, err := os.ReadFile(filepath.Join("..", "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	modules := regexp.MustCompile(`(?m)^\s+\./(\S+)\s*$`).FindAllStringSubmatch(string(work), -1)
	if len(modules) < len(serviceNames) {
		t.Fatalf("read %d modules from go.work", len(modules))
	}
	for _, m := range modules {
		dir := m[1]
		if want := "COPY " + dir + "/go.mod " + dir + "/go.sum " + dir + "/"; !strings.Contains(docker, want) {
			t.Errorf("the Dockerfile does not copy %s's module files (%q)", dir, want)
		}
	}
}

// checkGoMemLimit requires GOMEMLIMIT, Go's soft memory limit, between 80
// and 95% of the container's memory limit (bytes): under it the collector
// works harder before the kernel kills the process; above the container's
// limit it would never act.
func checkGoMemLimit(t *testing.T, where string, env map[string]string, limit int64) {
	t.Helper()
	v, ok := env["GOMEMLIMIT"]
	if !ok {
		t.Errorf("%s: no GOMEMLIMIT (90%% of the container's memory limit)", where)
		return
	}
	n, unit := v, int64(1)
	for _, u := range []struct {
		suffix string
		bytes  int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			n, unit = rest, u.bytes
			break
		}
	}
	x, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		t.Errorf("%s: GOMEMLIMIT %q is not a size Go reads", where, v)
		return
	}
	if b := x * unit; b < limit*80/100 || b > limit*95/100 {
		t.Errorf("%s: GOMEMLIMIT %s is %d%% of the memory limit, want 80–95%%", where, v, b*100/limit)
	}
}
