package deployments

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type composeFile struct {
	Name      string                    `yaml:"name"`
	XEnv      map[string]string         `yaml:"x-clerkpath-env"`
	XMeiliEnv map[string]string         `yaml:"x-meili-env"`
	XNATSNode composeService            `yaml:"x-nats-node"`
	XService  composeService            `yaml:"x-service"`
	Services  map[string]composeService `yaml:"services"`
	Volumes   map[string]struct{}       `yaml:"volumes"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Environment map[string]string `yaml:"environment"`
	EnvFile     []string          `yaml:"env_file"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Profiles    []string          `yaml:"profiles"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test     []string `yaml:"test"`
		Interval string   `yaml:"interval"`
		Timeout  string   `yaml:"timeout"`
		Retries  int      `yaml:"retries"`
	} `yaml:"healthcheck"`
	Restart string `yaml:"restart"`
	Deploy  struct {
		Replicas  *int `yaml:"replicas"`
		Resources struct {
			Limits struct {
				CPUs   string `yaml:"cpus"`
				Memory string `yaml:"memory"`
			} `yaml:"limits"`
		} `yaml:"resources"`
	} `yaml:"deploy"`
	Networks map[string]struct {
		Aliases []string `yaml:"aliases"`
	} `yaml:"networks"`
}

func TestComposeFile(t *testing.T) {
	dir := "compose"
	var c composeFile
	strictYAML(t, filepath.Join(dir, "compose.yaml"), &c)
	real := envVars(t)
	bins := serviceBinaries(t)

	// Copies of each service binary, counted over deploy.replicas.
	copies := map[string]int{}
	hostPorts := map[string]string{}
	for name, s := range c.Services {
		if !strings.HasPrefix(s.Image, "${CLERKPATH_IMAGE") {
			continue
		}
		if s.Build.Dockerfile == "" {
			t.Errorf("%s: no build", name)
		} else if _, err := os.Stat(filepath.Join(dir, s.Build.Context, s.Build.Dockerfile)); err != nil {
			t.Errorf("%s: build file: %v", name, err)
		}
		if slices.Contains(s.Profiles, "ops") {
			if len(s.Entrypoint) != 1 || s.Entrypoint[0] != "/usr/local/bin/clerkpath" {
				t.Errorf("%s: the ops container runs %v, want /usr/local/bin/clerkpath", name, s.Entrypoint)
			}
			continue
		}
		if len(s.Command) != 1 || !strings.HasPrefix(s.Command[0], "/usr/local/bin/") {
			t.Errorf("%s: command %v, want one of the image's binaries", name, s.Command)
			continue
		}
		bin, ok := bins[strings.TrimPrefix(s.Command[0], "/usr/local/bin/")]
		if !ok {
			t.Errorf("%s: %s is not a service binary", name, s.Command[0])
			continue
		}
		n := 1
		if s.Deploy.Replicas != nil {
			n = *s.Deploy.Replicas
		}
		copies[bin.name] += n
		checkEnv(t, "compose service "+name, bin, s.Environment, real)
		if limit, err := composeBytes(s.Deploy.Resources.Limits.Memory); err != nil {
			t.Errorf("%s: memory limit %q: %v", name, s.Deploy.Resources.Limits.Memory, err)
		} else {
			checkGoMemLimit(t, "compose service "+name, s.Environment, limit)
		}
		for _, v := range []string{"CLERKPATH_NATS_CA_FILE", "CLERKPATH_NATS_NKEY_FILE", "CLERKPATH_JWT_PUBLIC_KEY_FILE"} {
			if p := s.Environment[v]; p != "" && !composeMounts(s.Volumes, p) {
				t.Errorf("%s: %s=%s is not mounted", name, v, p)
			}
		}
		if bin.http {
			addr := s.Environment["CLERKPATH_HTTP_ADDR"]
			port := addr[strings.LastIndex(addr, ":")+1:]
			if len(s.Ports) != 1 || !strings.HasSuffix(s.Ports[0], ":"+port) {
				t.Errorf("%s: ports %v do not publish the listen port %s", name, s.Ports, port)
			} else if other, dup := hostPorts[strings.Split(s.Ports[0], ":")[0]]; dup {
				t.Errorf("%s and %s publish the same host port", name, other)
			} else {
				hostPorts[strings.Split(s.Ports[0], ":")[0]] = name
			}
			if n != 1 {
				t.Errorf("%s: a gateway with a host port runs once per service entry, not %d", name, n)
			}
		}
	}
	for name := range bins {
		if copies[name] < 2 {
			t.Errorf("%s runs %d copies in compose, want 2", name, copies[name])
		}
	}

	// secrets.sh makes an NKey seed for every binary (and ops), the files the
	// services' CLERKPATH_NATS_NKEY_FILE name.
	script, err := os.ReadFile(filepath.Join(dir, "secrets.sh"))
	if err != nil {
		t.Fatal(err)
	}
	loop := regexp.MustCompile(`for u in ([a-z ]+); do`).FindSubmatch(script)
	if loop == nil {
		t.Fatal("secrets.sh: no NKey loop (for u in ...; do)")
	}
	users := strings.Fields(string(loop[1]))
	for name := range bins {
		if !slices.Contains(users, name) {
			t.Errorf("secrets.sh makes no NKey for %s (secrets/nkeys/%s.nk, NATS_NKEY_%s)", name, name, strings.ToUpper(name))
		}
	}
	if !slices.Contains(users, "ops") {
		t.Error("secrets.sh makes no NKey for ops")
	}

	// Three NATS nodes reading the shipped configuration, each known by the
	// name nats.conf routes to.
	for i := range 3 {
		name := "nats-" + string(rune('0'+i))
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		if s.Environment["NATS_SERVER_NAME"] != name {
			t.Errorf("%s: NATS_SERVER_NAME %q", name, s.Environment["NATS_SERVER_NAME"])
		}
		if !slices.Contains(s.Networks["default"].Aliases, name+".nats") {
			t.Errorf("%s: no network alias %s.nats (nats.conf's route name)", name, name)
		}
		if !slices.Equal(s.Command, []string{"-c", "/etc/nats/nats.conf"}) {
			t.Errorf("%s: command %v", name, s.Command)
		}
		for _, f := range []string{"nats.conf", "accounts.conf"} {
			if !slices.Contains(s.Volumes, "../nats/"+f+":/etc/nats/"+f+":ro") {
				t.Errorf("%s does not mount deployments/nats/%s", name, f)
			}
		}
		if !slices.Contains(s.Volumes, name+":/data") {
			t.Errorf("%s: JetStream store not on its own volume", name)
		}
	}
	// Every bind mount outside the generated secrets exists.
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "./secrets/") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			}
		}
	}
	r := c.Services["redis"]
	if !strings.Contains(strings.Join(r.Command, " "), "--appendonly yes") || !slices.Contains(r.Volumes, "redis:/data") {
		t.Errorf("redis: want AOF on a volume: %v %v", r.Command, r.Volumes)
	}
	if m := c.Services["meilisearch"]; m.Environment["MEILI_MASTER_KEY"] == "" || !slices.Contains(m.Volumes, "meili:/meili_data") {
		t.Error("meilisearch: want a master key and a volume")
	}
	if _, err := indexingMemory(c.Services["meilisearch"].Environment["MEILI_MAX_INDEXING_MEMORY"]); err != nil {
		t.Errorf("meilisearch: %v", err)
	}
}

// indexingMemory reads MEILI_MAX_INDEXING_MEMORY (e.g. 1GiB), which every
// deployment sets: Meilisearch's default, two thirds of the machine's
// memory, makes every indexing task clear gigabytes of fresh memory
// (docs/operations.md, "Memory").
func indexingMemory(v string) (int64, error) {
	if v == "" {
		return 0, fmt.Errorf("MEILI_MAX_INDEXING_MEMORY is not set")
	}
	n, err := composeBytes(strings.TrimSuffix(v, "iB"))
	if err != nil || n < 256<<20 {
		return 0, fmt.Errorf("MEILI_MAX_INDEXING_MEMORY %q: want a size of at least 256MiB, like 1GiB", v)
	}
	return n, nil
}

// composeMounts reports whether path lies in one of the volumes' targets.
func composeMounts(volumes []string, path string) bool {
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			continue
		}
		if target := parts[1]; path == target || strings.HasPrefix(path, strings.TrimSuffix(target, "/")+"/") {
			return true
		}
	}
	return false
}

// composeBytes reads a Compose memory size ("512M", "1g": binary units, as
// Docker reads them).
func composeBytes(v string) (int64, error) {
	num, unit := strings.TrimSuffix(strings.ToLower(v), "b"), int64(1)
	if i := len(num) - 1; i >= 0 {
		if k := strings.IndexByte("kmg", num[i]); k >= 0 {
			num, unit = num[:i], int64(1)<<(10*(k+1))
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a size: %q", v)
	}
	return n * unit, nil
}
