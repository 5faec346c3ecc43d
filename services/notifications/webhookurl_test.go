package notifications

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestInternalAddressesAreRefused(t *testing.T) {
	for _, c := range []struct {
		ip            string
		allowLoopback bool
		internal      bool
	}{
		{"127.0.0.1", false, true}, {"127.0.0.1", true, false}, {"::1", false, true},
		{"10.1.2.3", false, true}, {"10.1.2.3", true, true}, {"172.16.0.1", false, true}, {"192.168.1.1", false, true},
		{"100.64.0.1", false, true}, {"169.254.169.254", false, true}, {"fe80::1", false, true}, {"fd00::1", false, true},
		{"0.0.0.0", false, true}, {"224.0.0.1", false, true}, {"::ffff:10.0.0.1", false, true},
		{"93.184.216.34", false, false}, {"2606:2800:220:1:248:1893:25c8:1946", false, false}, {"100.128.0.1", false, false},
	} {
		if got := internalAddr(netip.MustParseAddr(c.ip), c.allowLoopback); got != c.internal {
			t.Errorf("internalAddr(%s, loopback allowed %v) = %v, want %v", c.ip, c.allowLoopback, got, c.internal)
		}
	}
}

// A host name is resolved only when a delivery connects: the guard runs on
// the address dialled, so "localhost" (a name, which CheckURL cannot judge
// beyond its spelling) is refused unless loopback is allowed.
func TestDeliveryRefusesANameThatResolvesInternally(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	t.Setenv("HTTPS_PROXY", "")
	t.Setenv("https_proxy", "")

	guarded := &http.Client{Transport: deliveryTransport(false)}
	if res, err := guarded.Get(url); err == nil {
		res.Body.Close()
		t.Fatalf("delivery to %s connected; want refused", url)
	} else if !strings.Contains(err.Error(), "internal address") {
		t.Fatalf("delivery to %s: %v; want the internal-address refusal", url, err)
	}
	allowed := &http.Client{Transport: deliveryTransport(true)}
	res, err := allowed.Get(url)
	if err != nil {
		t.Fatalf("with loopback allowed: %v", err)
	}
	res.Body.Close()
}
