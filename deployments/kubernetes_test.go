package deployments

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
)

const k8sDir = "kubernetes"

type kustomization struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Namespace  string `yaml:"namespace"`
	Labels     []struct {
		Pairs map[string]string `yaml:"pairs"`
	} `yaml:"labels"`
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
	} `yaml:"configMapGenerator"`
	Images []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

func strictYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// k8sObjects decodes every manifest the kustomization lists with
// client-go's scheme in strict mode: an unknown or duplicated field fails.
func k8sObjects(t *testing.T) (kustomization, []runtime.Object) {
	t.Helper()
	var k kustomization
	strictYAML(t, filepath.Join(k8sDir, "kustomization.yaml"), &k)
	if k.Kind != "Kustomization" || k.Namespace == "" {
		t.Fatalf("kustomization: kind %q namespace %q", k.Kind, k.Namespace)
	}
	files, _ := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" && !slices.Contains(k.Resources, base) {
			t.Errorf("%s is not listed in kustomization.yaml's resources", base)
		}
	}
	dec := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var objs []runtime.Object
	for _, r := range k.Resources {
		b, err := os.ReadFile(filepath.Join(k8sDir, r))
		if err != nil {
			t.Fatalf("resource %s: %v", r, err)
		}
		for i, doc := range strings.Split(string(b), "\n---\n") {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			obj, _, err := dec.Decode([]byte(doc), nil, nil)
			if err != nil {
				t.Errorf("%s document %d: %v", r, i+1, err)
				continue
			}
			objs = append(objs, obj)
		}
	}
	return k, objs
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The strict decoder is what catches a misspelt field: prove it does.
func TestStrictDecoderRefusesUnknownFields(t *testing.T) {
	dec := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	bad := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n"
	if _, _, err := dec.Decode([]byte(bad), nil, nil); err == nil || !runtime.IsStrictDecodingError(err) {
		t.Fatalf("a misspelt field decoded: %v", err)
	}
}

func TestKubernetesManifests(t *testing.T) {
	k, objs := k8sObjects(t)
	real := envVars(t)
	bins := serviceBinaries(t)
	routes := gatewayRoutes(t)

	image := ""
	for _, im := range k.Images {
		if im.Name == "clerkpath" {
			image = im.Name
			if im.NewName == "" || im.NewTag == "" {
				t.Errorf("kustomization image clerkpath has no newName/newTag")
			}
		}
	}
	if image == "" {
		t.Fatal("kustomization.yaml does not set the clerkpath image")
	}

	deployments := map[string]*appsv1.Deployment{}
	statefulSets := map[string]*appsv1.StatefulSet{}
	services := map[string]*corev1.Service{}
	var pdbs []*policyv1.PodDisruptionBudget
	var netpols []*networkingv1.NetworkPolicy
	for _, o := range objs {
		switch v := o.(type) {
		case *appsv1.Deployment:
			deployments[v.Name] = v
		case *appsv1.StatefulSet:
			statefulSets[v.Name] = v
		case *corev1.Service:
			services[v.Name] = v
		case *policyv1.PodDisruptionBudget:
			pdbs = append(pdbs, v)
		case *networkingv1.NetworkPolicy:
			netpols = append(netpols, v)
		case *corev1.Namespace:
			if v.Name != k.Namespace {
				t.Errorf("namespace %s, kustomization uses %s", v.Name, k.Namespace)
			}
		default:
			t.Errorf("unexpected object %T", o)
		}
	}

	for name, bin := range bins {
		d, ok := deployments[name]
		if !ok {
			t.Errorf("no Deployment for service %s", name)
			continue
		}
		checkDeployment(t, d, bin, image, real, routes)
		if !hasPDB(pdbs, d.Spec.Template.Labels) {
			t.Errorf("Deployment %s has no PodDisruptionBudget", name)
		}
	}
	if d := deployments["notifications"]; d != nil {
		checkWebhookEgress(t, netpols, d.Spec.Template.Labels)
	}
	for name := range deployments {
		if _, ok := bins[name]; !ok {
			t.Errorf("Deployment %s runs no known service binary", name)
		}
	}

	// NATS: three nodes named as nats.conf's routes, behind a headless
	// Service that publishes not-ready pods, each with its own volume.
	nats := statefulSets["nats"]
	if nats == nil || nats.Spec.Replicas == nil || *nats.Spec.Replicas != 3 {
		t.Fatalf("want a NATS StatefulSet of 3, have %+v", nats)
	}
	if svc := services[nats.Spec.ServiceName]; svc == nil || svc.Spec.ClusterIP != "None" || !svc.Spec.PublishNotReadyAddresses || svc.Name != "nats" {
		t.Errorf("NATS StatefulSet's Service %q must be the headless Service \"nats\" publishing not-ready addresses", nats.Spec.ServiceName)
	}
	conf, _ := os.ReadFile(filepath.Join("nats", "nats.conf"))
	for i := range 3 {
		if route := "nats-route://nats-" + strconv.Itoa(i) + ".nats:6222"; !strings.Contains(string(conf), route) {
			t.Errorf("nats.conf has no route %s for pod nats-%d", route, i)
		}
	}
	nc := nats.Spec.Template.Spec.Containers[0]
	if !hasEnvFrom(nc.Env, "NATS_SERVER_NAME", "metadata.name") {
		t.Error("NATS_SERVER_NAME must come from the pod name (nats.conf's server_name)")
	}
	// The configuration and the TLS files are sibling mounts (a volume
	// mounted inside a ConfigMap's read-only volume can fail to mount).
	if !slices.Equal(nc.Args, []string{"-c", "/etc/nats/config/nats.conf"}) || !mounts(nc, "config", "/etc/nats/config") || !mounts(nc, "tls", "/etc/nats/tls") || !mounts(nc, "data", "/data") {
		t.Errorf("NATS container must read /etc/nats/config/nats.conf, TLS files in /etc/nats/tls (nats.conf's paths) and store in /data: %v %+v", nc.Args, nc.VolumeMounts)
	}
	if !strings.Contains(string(conf), `cert_file: "/etc/nats/tls/`) {
		t.Error("nats.conf's TLS files are not under /etc/nats/tls, where the Secret is mounted")
	}
	if !strings.Contains(string(conf), "store_dir: /data/jetstream") {
		t.Error("nats.conf's store_dir is not on the /data volume")
	}
	if !hasClaim(nats, "data") || !hasPDB(pdbs, nats.Spec.Template.Labels) {
		t.Error("NATS needs a volume claim per node and a disruption budget")
	}
	for _, cm := range k.ConfigMapGenerator {
		if cm.Name != "nats-config" {
			continue
		}
		for _, f := range cm.Files {
			copied, err1 := os.ReadFile(filepath.Join(k8sDir, f))
			orig, err2 := os.ReadFile(filepath.Join("nats", filepath.Base(f)))
			if err1 != nil || err2 != nil || !bytes.Equal(copied, orig) {
				t.Errorf("kubernetes/%s differs from nats/%s (copy it: cp deployments/nats/*.conf deployments/kubernetes/nats-config/)", f, filepath.Base(f))
			}
		}
	}

	// Redis with AOF, Meilisearch, each on a volume.
	if r := statefulSets["redis"]; r == nil || !hasClaim(r, "data") || !slices.Contains(r.Spec.Template.Spec.Containers[0].Args, "--appendonly") ||
		!strings.Contains(strings.Join(r.Spec.Template.Spec.Containers[0].Args, " "), "--appendonly yes") {
		t.Error("want a Redis StatefulSet with --appendonly yes on a volume")
	}
	if m := statefulSets["meilisearch"]; m == nil || !hasClaim(m, "data") || !mounts(m.Spec.Template.Spec.Containers[0], "data", "/meili_data") {
		t.Error("want a Meilisearch StatefulSet with its data on a volume")
	} else {
		c := m.Spec.Template.Spec.Containers[0]
		var v string
		for _, e := range c.Env {
			if e.Name == "MEILI_MAX_INDEXING_MEMORY" {
				v = e.Value
			}
		}
		n, err := indexingMemory(v)
		if limit := c.Resources.Limits.Memory(); err != nil {
			t.Errorf("meilisearch: %v", err)
		} else if limit.IsZero() || 2*n > limit.Value() {
			t.Errorf("meilisearch: indexing memory %s is more than half its memory limit %s", v, limit)
		}
	}
	for _, host := range []string{"redis", "meilisearch"} {
		if services[host] == nil {
			t.Errorf("no Service %s (the services' URLs name it)", host)
		}
	}
}

func checkDeployment(t *testing.T, d *appsv1.Deployment, bin binary, image string, real map[string]bool, routes string) {
	t.Helper()
	where := "Deployment " + d.Name
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("%s: want at least 2 copies", where)
	}
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers", where, len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != image {
		t.Errorf("%s: image %q, want %q (set by kustomization images)", where, c.Image, image)
	}
	if !slices.Equal(c.Command, []string{"/usr/local/bin/" + bin.name}) {
		t.Errorf("%s: command %v, want /usr/local/bin/%s (the Dockerfile's install path)", where, c.Command, bin.name)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: want CPU and memory requests and a memory limit", where)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("%s: %s set twice", where, e.Name)
		}
		env[e.Name] = e.Value
		if e.ValueFrom != nil {
			env[e.Name] = "(from " + e.ValueFrom.String() + ")"
		}
	}
	checkEnv(t, where, bin, env, real)
	checkGoMemLimit(t, where, env, c.Resources.Limits.Memory().Value())
	// Files named by the environment must be mounted.
	for _, v := range []string{"CLERKPATH_NATS_CA_FILE", "CLERKPATH_NATS_NKEY_FILE", "CLERKPATH_JWT_PUBLIC_KEY_FILE"} {
		path := env[v]
		if path == "" {
			continue
		}
		if !mountedFile(spec, c, path) {
			t.Errorf("%s: %s=%s is not in a mounted volume's items", where, v, path)
		}
	}
	if !bin.http {
		if len(c.Ports) > 0 || c.LivenessProbe != nil || c.ReadinessProbe != nil {
			t.Errorf("%s: %s serves no HTTP, yet has ports or HTTP probes", where, bin.name)
		}
		return
	}
	port := env["CLERKPATH_HTTP_ADDR"]
	port = port[strings.LastIndex(port, ":")+1:]
	named := map[string]int32{}
	for _, p := range c.Ports {
		named[p.Name] = p.ContainerPort
	}
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: no HTTP %s probe", where, p.kind)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s: %s probe on %s, want %s", where, p.kind, p.probe.HTTPGet.Path, p.path)
		}
		if !strings.Contains(routes, `"GET `+p.path+`"`) {
			t.Errorf("%s: the gateway registers no GET %s", where, p.path)
		}
		if got := probePort(p.probe.HTTPGet.Port, named); strconv.Itoa(int(got)) != port {
			t.Errorf("%s: %s probe on port %d, the gateway listens on %s", where, p.kind, got, port)
		}
	}
}

func probePort(p intstr.IntOrString, named map[string]int32) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	return named[p.StrVal]
}

func mountedFile(spec corev1.PodSpec, c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			if len(v.Secret.Items) == 0 {
				return true
			}
			for _, it := range v.Secret.Items {
				if it.Path == rel {
					return true
				}
			}
		}
	}
	return false
}

func mounts(c corev1.Container, volume, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.Name == volume && m.MountPath == path {
			return true
		}
	}
	return false
}

func hasClaim(s *appsv1.StatefulSet, name string) bool {
	for _, c := range s.Spec.VolumeClaimTemplates {
		if c.Name == name && !c.Spec.Resources.Requests.Storage().IsZero() {
			return slices.ContainsFunc(s.Spec.Template.Spec.Containers[0].VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == name })
		}
	}
	return false
}

func hasEnvFrom(env []corev1.EnvVar, name, field string) bool {
	for _, e := range env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == field {
			return true
		}
	}
	return false
}

func hasPDB(pdbs []*policyv1.PodDisruptionBudget, labels map[string]string) bool {
	for _, p := range pdbs {
		if p.Spec.Selector == nil || (p.Spec.MinAvailable == nil && p.Spec.MaxUnavailable == nil) {
			continue
		}
		match := len(p.Spec.Selector.MatchLabels) > 0
		for k, v := range p.Spec.Selector.MatchLabels {
			match = match && labels[k] == v
		}
		if match {
			return true
		}
	}
	return false
}

// checkWebhookEgress checks the egress policy of the pods that deliver
// webhooks (notifications): they reach NATS, Redis and the cluster DNS by
// pod, and beyond that only public addresses, so that a webhook host name
// resolving to a cluster, node or metadata address is not reached.
func checkWebhookEgress(t *testing.T, pols []*networkingv1.NetworkPolicy, labels map[string]string) {
	t.Helper()
	var p *networkingv1.NetworkPolicy
	for _, c := range pols {
		if selects(c.Spec.PodSelector.MatchLabels, labels) && slices.Contains(c.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
			if p != nil {
				t.Errorf("NetworkPolicies %s and %s both restrict the webhook pods' egress", p.Name, c.Name)
			}
			p = c
		}
	}
	if p == nil {
		t.Error("no egress NetworkPolicy selects the notifications pods (webhooks must not reach private addresses)")
		return
	}
	reaches := func(app string, port int32, proto corev1.Protocol) bool {
		for _, r := range p.Spec.Egress {
			for _, peer := range r.To {
				if peer.PodSelector == nil || peer.PodSelector.MatchLabels["app.kubernetes.io/name"] != app && peer.PodSelector.MatchLabels["k8s-app"] != app {
					continue
				}
				for _, rp := range r.Ports {
					if rp.Port != nil && rp.Port.IntVal == port && (rp.Protocol == nil || *rp.Protocol == proto) {
						return true
					}
				}
			}
		}
		return false
	}
	for _, want := range []struct {
		app   string
		port  int32
		proto corev1.Protocol
	}{{"nats", 4222, corev1.ProtocolTCP}, {"redis", 6379, corev1.ProtocolTCP}, {"kube-dns", 53, corev1.ProtocolUDP}, {"kube-dns", 53, corev1.ProtocolTCP}} {
		if !reaches(want.app, want.port, want.proto) {
			t.Errorf("%s: the notifications pods cannot reach %s on %d/%s", p.Name, want.app, want.port, want.proto)
		}
	}
	// Every address block leaves out the addresses a webhook must not reach.
	forbidden := []string{"10.0.0.1", "172.16.0.1", "192.168.0.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
		"::1", "::", "fd00::1", "fe80::1", "ff02::1", "::ffff:10.0.0.1"}
	public := map[string]bool{"93.184.215.14": false, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": false}
	for _, r := range p.Spec.Egress {
		for _, peer := range r.To {
			if peer.IPBlock == nil {
				continue
			}
			if len(r.Ports) > 0 {
				t.Errorf("%s: the address rule limits ports %v; a webhook URL may name any port", p.Name, r.Ports)
			}
			block, err := netip.ParsePrefix(peer.IPBlock.CIDR)
			if err != nil {
				t.Errorf("%s: cidr %q: %v", p.Name, peer.IPBlock.CIDR, err)
				continue
			}
			var except []netip.Prefix
			for _, e := range peer.IPBlock.Except {
				pe, err := netip.ParsePrefix(e)
				if err != nil || !block.Contains(pe.Addr()) || pe.Bits() < block.Bits() {
					t.Errorf("%s: except %q is not a block inside %s", p.Name, e, block)
					continue
				}
				except = append(except, pe)
			}
			allowed := func(a netip.Addr) bool {
				return block.Contains(a) && !slices.ContainsFunc(except, func(e netip.Prefix) bool { return e.Contains(a) })
			}
			for _, f := range forbidden {
				if allowed(netip.MustParseAddr(f)) {
					t.Errorf("%s: %s lets webhooks reach %s", p.Name, block, f)
				}
			}
			for a := range public {
				public[a] = public[a] || allowed(netip.MustParseAddr(a))
			}
		}
	}
	for a, ok := range public {
		if !ok {
			t.Errorf("%s: webhooks cannot reach the public address %s", p.Name, a)
		}
	}
}

// selects reports whether a label selector's matchLabels pick labels.
func selects(match, labels map[string]string) bool {
	if len(match) == 0 {
		return false
	}
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}
