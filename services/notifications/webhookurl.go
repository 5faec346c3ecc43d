package notifications

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// MaxURLLength bounds a webhook URL.
const MaxURLLength = 2048

// CheckURL parses a webhook URL and says what is wrong with it, or "" when
// it may be used: an absolute https URL with a host name or a public
// address, no user name or password and no fragment; or, when
// allowLoopbackHTTP is set, an http URL on a loopback host (127.0.0.0/8,
// ::1 or localhost). Private, link-local and unspecified addresses are
// refused so that a webhook cannot reach the service's own network by
// address (a host name is not resolved here).
func CheckURL(raw string, allowLoopbackHTTP bool) string {
	if raw == "" {
		return "required: an https URL"
	}
	if len(raw) > MaxURLLength {
		return "at most 2048 characters"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return "not an absolute URL"
	}
	if u.User != nil {
		return "must not carry a user name or password"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not have a fragment"
	}
	host := u.Hostname()
	if host == "" {
		return "has no host"
	}
	loopback := isLoopback(host)
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !(allowLoopbackHTTP && loopback) {
			if allowLoopbackHTTP {
				return "must be https (http only to a loopback host)"
			}
			return "must be https"
		}
		return ""
	default:
		return "must be https"
	}
	if addr, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addr = addr.Unmap()
		if loopback && allowLoopbackHTTP {
			return ""
		}
		if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
			addr.IsUnspecified() || addr.IsMulticast() || addr.IsInterfaceLocalMulticast() {
			return "must not be a loopback, private, link-local or multicast address"
		}
	} else if loopback && !allowLoopbackHTTP {
		return "must not be a loopback host"
	}
	return ""
}

func isLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// internalAddr reports whether a webhook delivery must not connect to ip:
// loopback (unless allowLoopback), private, carrier-grade NAT, link-local
// (cloud metadata services live there), unspecified or multicast.
func internalAddr(ip netip.Addr, allowLoopback bool) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return !allowLoopback
	}
	return ip.IsPrivate() || cgnat.Contains(ip) || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast()
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// dialGuard is a net.Dialer Control function that refuses connections to
// internal addresses. CheckURL refuses such addresses written in a URL, but
// a host name is only resolved when a delivery connects: this check runs on
// the address actually dialled, so a name that resolves (or is re-pointed)
// to the service's own network is refused too.
func dialGuard(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook delivery: unexpected address %q: %w", address, err)
		}
		if internalAddr(ap.Addr(), allowLoopback) {
			return fmt.Errorf("webhook delivery: %s is an internal address: refused", ap.Addr())
		}
		return nil
	}
}
