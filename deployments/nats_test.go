package deployments

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"go/constant"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nkeys"
)

// natsUsers are the users of the CLERKPATH account in accounts.conf.
var natsUsers = []string{"gateway", "profiles", "credentials", "ingest", "matching", "notifications", "ops"}

// natsRig is the shipped configuration made runnable on loopback: TLS files
// generated where the placeholders point, NKeys and a system password in the
// environment the configuration reads them from.
type natsRig struct {
	dir   string
	seeds map[string]nkeys.KeyPair
	caPEM string
}

func newNATSRig(t *testing.T) *natsRig {
	t.Helper()
	r := &natsRig{dir: t.TempDir(), seeds: map[string]nkeys.KeyPair{}}
	tlsDir := filepath.Join(r.dir, "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.caPEM = writeTestPKI(t, tlsDir)
	for _, u := range natsUsers {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		t.Setenv("NATS_NKEY_"+strings.ToUpper(u), pub)
		r.seeds[u] = kp
	}
	t.Setenv("NATS_SYS_PASSWORD", "sys-test-password")
	for _, f := range []string{"nats.conf", "accounts.conf"} {
		b, err := os.ReadFile(filepath.Join("nats", f))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "/etc/nats/tls/", tlsDir+"/")
		if err := os.WriteFile(filepath.Join(r.dir, f), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// parse parses the configuration as node name would.
func (r *natsRig) parse(t *testing.T, name string) *server.Options {
	t.Helper()
	t.Setenv("NATS_SERVER_NAME", name)
	opts, err := server.ProcessConfigFile(filepath.Join(r.dir, "nats.conf"))
	if err != nil {
		t.Fatalf("nats.conf as %s: %v", name, err)
	}
	return opts
}

func TestNATSConfigParses(t *testing.T) {
	r := newNATSRig(t)
	want := recommendedMaxPayload(t)
	for _, name := range []string{"nats-0", "nats-1", "nats-2"} {
		o := r.parse(t, name)
		if o.ServerName != name {
			t.Errorf("server_name %q, want %q", o.ServerName, name)
		}
		if int64(o.MaxPayload) < want {
			t.Errorf("max_payload %d is below what clerkpath needs (%d)", o.MaxPayload, want)
		}
		if !o.JetStream || !o.SyncAlways {
			t.Errorf("JetStream %v, sync_interval always %v; want both", o.JetStream, o.SyncAlways)
		}
		if o.StoreDir == "" {
			t.Error("no JetStream store_dir")
		}
		if o.SystemAccount != "SYS" {
			t.Errorf("system account %q", o.SystemAccount)
		}
		if o.TLSConfig == nil || o.Cluster.TLSConfig == nil {
			t.Error("TLS missing on clients or routes")
		} else if o.Cluster.TLSConfig.ClientAuth != 4 { // tls.RequireAndVerifyClientCert
			t.Errorf("routes do not verify each other's certificates (ClientAuth %v)", o.Cluster.TLSConfig.ClientAuth)
		}
		if o.Cluster.Name != "clerkpath" || len(o.Routes) != 3 {
			t.Errorf("cluster %q with %d routes; want clerkpath with 3", o.Cluster.Name, len(o.Routes))
		}
		users := map[string]bool{}
		for _, u := range o.Nkeys {
			if u.Account == nil || u.Account.Name != "CLERKPATH" {
				t.Errorf("nkey user %s is not in CLERKPATH", u.Nkey)
			}
			users[u.Nkey] = true
			for _, svc := range natsUsers[:len(natsUsers)-1] { // all but ops
				pub, _ := r.seeds[svc].PublicKey()
				if u.Nkey == pub && u.Permissions == nil {
					t.Errorf("%s has no permissions: it could publish anything", svc)
				}
			}
		}
		if len(users) != len(natsUsers) {
			t.Errorf("%d NKey users, want %d (%v)", len(users), len(natsUsers), natsUsers)
		}
	}
}

// TestNATSConfigClusterPermissions starts the three nodes in-process from
// the shipped configuration (ports moved to free loopback ones) and checks
// that the cluster forms with TLS routes, replicated streams work, and each
// service user can do its own work and is refused another service's.
func TestNATSConfigClusterPermissions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	r := newNATSRig(t)
	ports := make([][2]int, 3)
	for i := range ports {
		ports[i] = [2]int{freePort(t), freePort(t)}
	}
	var servers []*server.Server
	for i := range 3 {
		o := r.parse(t, fmt.Sprintf("nats-%d", i))
		o.Host, o.Port = "127.0.0.1", ports[i][0]
		o.HTTPPort = 0
		o.Cluster.Host, o.Cluster.Port = "127.0.0.1", ports[i][1]
		o.Routes = nil
		for j := range 3 {
			if j != i {
				o.Routes = append(o.Routes, mustURL(t, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[j][1])))
			}
		}
		o.StoreDir = filepath.Join(r.dir, fmt.Sprintf("js-%d", i))
		o.NoSigs, o.NoLog = true, true
		ns, err := server.NewServer(o)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		ns.Start()
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatalf("node %d not ready", i)
		}
		servers = append(servers, ns)
	}
	eventually(t, 30*time.Second, func() error {
		leader := false
		for _, ns := range servers {
			if ns.NumRoutes() < 2 {
				return fmt.Errorf("%s has %d routes", ns.Name(), ns.NumRoutes())
			}
			if !ns.JetStreamIsClustered() || !ns.JetStreamIsCurrent() {
				return fmt.Errorf("%s: JetStream not current", ns.Name())
			}
			leader = leader || ns.JetStreamIsLeader()
		}
		if !leader {
			return errors.New("no JetStream meta leader")
		}
		return nil
	})
	urls := func(i int) string { return fmt.Sprintf("tls://127.0.0.1:%d", ports[i%3][0]) }
	conns := map[string]*userConn{}
	for i, u := range natsUsers {
		conns[u] = r.connect(t, u, urls(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Event subjects as pkg/events declares them.
	evc := goConstants(t, filepath.Join("..", "pkg", "events"))
	ev := func(name string) string {
		v, ok := evc[name]
		if !ok {
			t.Fatalf("events.%s not found", name)
		}
		return constant.StringVal(v)
	}
	jobsPosted := ev("JobsPosted")
	// Streams at R3, created by the services as they do at start.
	for svc, cfg := range map[string]jetstream.StreamConfig{
		"profiles": {Name: "PROFILES", Subjects: []string{"profiles.>"}},
		"ingest":   {Name: "JOBS", Subjects: []string{jobsPosted, ev("JobsUpdated"), ev("JobsClosed"), ev("JobsRejected"), ev("JobsStale")}},
		"gateway":  {Name: "AUDIT", Subjects: []string{"audit.>"}},
	} {
		cfg.Replicas, cfg.Storage = 3, jetstream.FileStorage
		// Retried: right after the meta leader is elected, a peer may not
		// yet count as available for placement.
		eventually(t, 20*time.Second, func() error {
			if _, err := conns[svc].js.CreateOrUpdateStream(ctx, cfg); err != nil {
				return fmt.Errorf("%s creates stream %s at R3: %w", svc, cfg.Name, err)
			}
			return nil
		})
	}

	// Each service publishes its own events.
	for svc, subj := range map[string]string{"profiles": "profiles.seeker.s1", "ingest": jobsPosted, "gateway": "audit.seeker.s1"} {
		if _, err := conns[svc].js.Publish(ctx, subj, []byte(`{}`)); err != nil {
			t.Errorf("%s publishes %s: %v", svc, subj, err)
		}
	}
	// ... and not another's.
	eps := contractEndpoints(t)
	subjectOf := func(name string) string {
		ep, ok := eps[name]
		if !ok {
			t.Fatalf("pkg/contract declares no endpoint %s", name)
		}
		return ep.subject
	}
	seekerGet := subjectOf("profilesapi.SeekerGet")
	for _, c := range []struct{ user, subject string }{
		{"profiles", jobsPosted}, {"ingest", "profiles.seeker.s1"}, {"matching", ev("CredentialsEarned")},
		{"credentials", ev("MatchesFound")}, {"credentials", ev("MatchesFoundBatch")}, {"gateway", "profiles.seeker.s1"}, {"ingest", subjectOf("profilesapi.Delete")},
	} {
		conns[c.user].expectDenied(t, "Publish", c.subject, func(nc *nats.Conn) error { return nc.Publish(c.subject, []byte(`{}`)) })
	}
	// Subscribing to another service's endpoints is refused.
	for _, c := range []struct{ user, subject string }{
		{"matching", seekerGet}, {"profiles", subjectOf("ingestapi.Submit")}, {"gateway", subjectOf("matchingapi.Search")},
		{"credentials", "profiles.>"},
	} {
		conns[c.user].expectDenied(t, "Subscription", c.subject, func(nc *nats.Conn) error { _, err := nc.Subscribe(c.subject, func(*nats.Msg) {}); return err })
	}
	// No service may delete a stream; the operator may.
	conns["ingest"].expectDenied(t, "Publish", "$JS.API.STREAM.DELETE.PROFILES", func(nc *nats.Conn) error {
		return nc.Publish("$JS.API.STREAM.DELETE.PROFILES", nil)
	})

	// Request/reply: the gateway asks profiles, which answers through
	// allow_responses; credentials may ask profiles too, ingest may not.
	sub, err := conns["profiles"].nc.QueueSubscribe(seekerGet, "q", func(m *nats.Msg) { _ = m.Respond([]byte("seeker")) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	_ = conns["profiles"].nc.Flush()
	for _, u := range []string{"gateway", "credentials"} {
		// The users sit on other nodes: the subscription reaches them
		// over the routes a moment after profiles' server has it.
		eventually(t, 10*time.Second, func() error {
			res, err := conns[u].nc.Request(seekerGet, []byte(`{}`), 2*time.Second)
			if err != nil {
				return fmt.Errorf("%s asks profiles: %w", u, err)
			}
			if string(res.Data) != "seeker" {
				return fmt.Errorf("%s asks profiles: answer %q", u, res.Data)
			}
			return nil
		})
	}
	conns["ingest"].expectDenied(t, "Publish", seekerGet, func(nc *nats.Conn) error {
		return nc.PublishRequest(seekerGet, nc.NewRespInbox(), nil)
	})

	// The gateway's /readyz asks each service for its micro INFO (a PING
	// is answered before a service's endpoints are added); the service
	// answers it through allow_responses.
	info, err := micro.AddService(conns["profiles"].nc, micro.Config{Name: "profiles", Version: "0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = info.Stop() }()
	_ = conns["profiles"].nc.Flush()
	eventually(t, 10*time.Second, func() error {
		res, err := conns["gateway"].nc.Request("$SRV.INFO.profiles", nil, 2*time.Second)
		if err != nil {
			return fmt.Errorf("gateway asks profiles for its INFO: %w", err)
		}
		if !strings.Contains(string(res.Data), `"name":"profiles"`) {
			return fmt.Errorf("INFO answer %s", res.Data)
		}
		return nil
	})

	// Matching follows PROFILES with a durable consumer and acknowledges.
	cons, err := conns["matching"].js.CreateOrUpdateConsumer(ctx, "PROFILES", jetstream.ConsumerConfig{Durable: "matching-seeker-changes", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("matching creates its consumer: %v", err)
	}
	// The new consumer's leader may take a moment to answer pulls.
	eventually(t, 20*time.Second, func() error {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if err := m.DoubleAck(ctx); err != nil {
				t.Errorf("matching acknowledges %s: %v", m.Subject(), err)
			}
		}
		if n != 1 {
			return fmt.Errorf("matching fetched %d events, want 1 (%v)", n, batch.Error())
		}
		return nil
	})
	// Ingest may not acknowledge on PROFILES (it does not follow it).
	conns["ingest"].expectDenied(t, "Publish", "$JS.ACK.PROFILES.x.1.1.1.1.0", func(nc *nats.Conn) error {
		return nc.Publish("$JS.ACK.PROFILES.x.1.1.1.1.0", nil)
	})
	// The operator deletes a stream.
	if err := conns["ops"].js.DeleteStream(ctx, "AUDIT"); err != nil {
		t.Errorf("ops deletes a stream: %v", err)
	}
	// A client without credentials is refused.
	if nc, err := nats.Connect(urls(0), nats.RootCAs(r.caPEM)); err == nil {
		nc.Close()
		t.Error("an anonymous client connected")
	}
}

// userConn is one user's connection, with the permission errors the server
// sent it.
type userConn struct {
	user string
	nc   *nats.Conn
	js   jetstream.JetStream
	errs chan error
}

func (r *natsRig) connect(t *testing.T, user, url string) *userConn {
	t.Helper()
	kp := r.seeds[user]
	pub, _ := kp.PublicKey()
	c := &userConn{user: user, errs: make(chan error, 64)}
	nc, err := nats.Connect(url,
		nats.Nkey(pub, kp.Sign),
		nats.RootCAs(r.caPEM),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case c.errs <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatalf("%s connects with its NKey over TLS: %v", user, err)
	}
	t.Cleanup(nc.Close)
	c.nc = nc
	if c.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	return c
}

// expectDenied does op and waits for the server's permissions violation
// naming kind ("Publish" or "Subscription") and subject.
func (c *userConn) expectDenied(t *testing.T, kind, subject string, op func(*nats.Conn) error) {
	t.Helper()
	for len(c.errs) > 0 {
		<-c.errs
	}
	if err := op(c.nc); err != nil {
		t.Fatalf("%s %s %s: %v", c.user, kind, subject, err)
	}
	_ = c.nc.Flush()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case err := <-c.errs:
			if strings.Contains(err.Error(), "Permissions Violation for "+kind) && strings.Contains(err.Error(), subject) {
				return
			}
		case <-deadline:
			t.Errorf("%s: %s to %q was not refused", c.user, kind, subject)
			return
		}
	}
}

// writeTestPKI writes a CA and one certificate for loopback (server and
// client use, as a route certificate needs both) under the placeholder
// names the configuration uses, and returns the CA file.
func writeTestPKI(t *testing.T, dir string) string {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clerkpath test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost", "nats-0.nats", "nats-1.nats", "nats-2.nats"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.crt", "CERTIFICATE", caDER)
	for _, n := range []string{"server", "route"} {
		write(n+".crt", "CERTIFICATE", der)
		write(n+".key", "EC PRIVATE KEY", keyDER)
	}
	return filepath.Join(dir, "ca.crt")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func eventually(t *testing.T, wait time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", wait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNATSPermissionsFollowTheCode checks accounts.conf against the
// subjects in the source: each service may subscribe to its own endpoints
// (those its contract package, pkg/contract/<svc>api, declares), publish the
// requests it makes (the other services' endpoints its code names) and its
// own events, and every event
// subject is published by exactly one service.
func TestNATSPermissionsFollowTheCode(t *testing.T) {
	r := newNATSRig(t)
	o := r.parse(t, "nats-0")
	perms := map[string]*server.Permissions{}
	for _, u := range o.Nkeys {
		for name, kp := range r.seeds {
			if pub, _ := kp.PublicKey(); pub == u.Nkey {
				perms[name] = u.Permissions
			}
		}
	}
	may := func(user, kind, subject string) bool {
		p := perms[user]
		if p == nil {
			return true // ops: the whole account
		}
		sp := p.Publish
		if kind == "sub" {
			sp = p.Subscribe
		}
		if sp == nil {
			return true
		}
		ok := len(sp.Allow) == 0
		for _, a := range sp.Allow {
			ok = ok || server.SubjectMatchesFilter(subject, a)
		}
		for _, d := range sp.Deny {
			ok = ok && !server.SubjectMatchesFilter(subject, d)
		}
		return ok
	}
	services := []string{"gateway", "profiles", "credentials", "ingest", "matching", "notifications"}
	eps := contractEndpoints(t)
	owner := map[string]string{} // endpoint subject -> service
	for _, ep := range eps {
		owner[ep.subject] = ep.owner
	}
	calls := map[string][]string{}
	for _, s := range services {
		for subj := range endpointUses(t, filepath.Join("..", "services", s), eps) {
			if owner[subj] != s {
				calls[s] = append(calls[s], subj)
			}
		}
	}
	if len(owner) < 20 || len(calls["gateway"]) < 20 {
		t.Fatalf("read %d endpoints and %d gateway calls from the source", len(owner), len(calls["gateway"]))
	}
	for subj, s := range owner {
		for _, other := range services {
			if got := may(other, "sub", subj); got != (other == s) {
				t.Errorf("%s subscribing to %s's endpoint %s: allowed %v", other, s, subj, got)
			}
		}
	}
	for s, subs := range calls {
		for _, subj := range subs {
			if !may(s, "pub", subj) {
				t.Errorf("%s may not publish its request %s", s, subj)
			}
		}
	}
	ev := goConstants(t, filepath.Join("..", "pkg", "events"))
	str := func(name string) string {
		v, ok := ev[name]
		if !ok {
			t.Fatalf("events.%s not found", name)
		}
		return constant.StringVal(v)
	}
	for _, c := range []struct{ subject, publisher string }{
		{str("JobsPosted"), "ingest"}, {str("JobsUpdated"), "ingest"}, {str("JobsClosed"), "ingest"},
		{str("JobsRejected"), "ingest"}, {str("JobsStale"), "ingest"},
		{str("SeekerSubjectPrefix") + "s1", "profiles"}, {str("EmployerSubjectPrefix") + "o1", "profiles"},
		{str("CredentialsEarned"), "credentials"}, {str("CredentialsCEULogged"), "credentials"}, {str("CredentialsExpiring"), "credentials"},
		{str("MatchesFound"), "matching"}, {str("MatchesFoundBatch"), "matching"}, {str("AuditSeekerPrefix") + "s1", "gateway"},
	} {
		for _, s := range services {
			if got := may(s, "pub", c.subject); got != (s == c.publisher) {
				t.Errorf("%s publishing %s: allowed %v (its publisher is %s)", s, c.subject, got, c.publisher)
			}
		}
	}
}
