package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves a key set that a test can swap, on loopback.
type jwksServer struct {
	*httptest.Server
	body    atomic.Pointer[[]byte]
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, jwks ...map[string]string) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(t, jwks...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t *testing.T, jwks ...map[string]string) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": jwks})
	if err != nil {
		t.Fatal(err)
	}
	s.body.Store(&b)
}

func edJWK(pub ed25519.PublicKey, withAlg bool) map[string]string {
	j := map[string]string{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub), "kid": KeyID(pub), "use": "sig"}
	if withAlg {
		j["alg"] = "EdDSA"
	}
	return j
}

func rsaJWK(pub *rsa.PublicKey, kid string) map[string]string {
	return map[string]string{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func jwksOptions(url string) Options {
	o := testOptions(nil)
	o.JWKSURL = url
	o.OnRefreshError = func(error) {}
	return o
}

func TestJWKS(t *testing.T) {
	k := keys()
	edPub := k.ed.Public().(ed25519.PublicKey)
	srv := newJWKSServer(t, edJWK(edPub, true), rsaJWK(&k.rsa.PublicKey, "rsa-1"))
	v, err := NewVerifier(context.Background(), jwksOptions(srv.URL))
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	defer v.Close()

	minted, err := Mint(k.ed, Claims{Subject: "u1", Role: RoleEmployer, Org: "acme", Issuer: testIssuer, Audience: testAudience, TTL: time.Hour}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	rsaTok := sign(t, jwt.SigningMethodRS256, k.rsa, baseClaims(), map[string]any{"kid": "rsa-1"})

	for name, tc := range map[string]struct {
		token string
		want  Principal
	}{
		"EdDSA by kid": {minted, Principal{Subject: "u1", Role: RoleEmployer, Org: "acme"}},
		"RS256 by kid": {rsaTok, Principal{Subject: "user_1", Role: RoleSeeker}},
	} {
		p, err := v.Verify(tc.token)
		if err != nil || p != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", name, p, err, tc.want)
		}
	}

	rejects := map[string]string{
		"no kid":             sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), nil),
		"unknown kid":        sign(t, jwt.SigningMethodEdDSA, k.otherEd, baseClaims(), map[string]any{"kid": "nope"}),
		"kid not a string":   sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": 7}),
		"other key, our kid": sign(t, jwt.SigningMethodEdDSA, k.otherEd, baseClaims(), map[string]any{"kid": KeyID(edPub)}),
		// The RSA key's JWK says RS256; an EdDSA token naming it must not get
		// it, nor may an HS256 token use its public modulus as a secret.
		"alg differs from JWK":  sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "rsa-1"}),
		"HS256 with JWK bytes":  sign(t, jwt.SigningMethodHS256, k.rsa.N.Bytes(), baseClaims(), map[string]any{"kid": "rsa-1"}),
		"PS256 with RSA kid":    sign(t, jwt.SigningMethodPS256, k.rsa, baseClaims(), map[string]any{"kid": "rsa-1"}),
		"alg none with Ed kid":  sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, baseClaims(), map[string]any{"kid": KeyID(edPub)}),
		"expired with good kid": sign(t, jwt.SigningMethodRS256, k.rsa, with(map[string]any{"exp": testNow.Add(-time.Hour).Unix()}), map[string]any{"kid": "rsa-1"}),
	}
	for name, tok := range rejects {
		t.Run(name, func(t *testing.T) {
			p, err := v.Verify(tok)
			assertRejected(t, tok, p, err, "")
		})
	}
}

// A JWK without "alg" must still not let an RSA key verify an EdDSA token or
// the reverse: golang-jwt checks the key type for the algorithm.
func TestJWKSWithoutAlgStillBindsKeyType(t *testing.T) {
	k := keys()
	jwk := rsaJWK(&k.rsa.PublicKey, "rsa-noalg")
	delete(jwk, "alg")
	srv := newJWKSServer(t, jwk)
	v, err := NewVerifier(context.Background(), jwksOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok := sign(t, jwt.SigningMethodEdDSA, k.ed, baseClaims(), map[string]any{"kid": "rsa-noalg"})
	p, err := v.Verify(tok)
	assertRejected(t, tok, p, err, "")
	if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, k.rsa, baseClaims(), map[string]any{"kid": "rsa-noalg"})); err != nil {
		t.Fatalf("RS256 with alg-less JWK: %v", err)
	}
}

// When the identity provider rotates keys, a token with the new kid causes
// one refetch and then verifies.
func TestJWKSRotation(t *testing.T) {
	k := keys()
	srv := newJWKSServer(t, edJWK(k.ed.Public().(ed25519.PublicKey), true))
	v, err := NewVerifier(context.Background(), jwksOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches at start; want 1", n)
	}
	srv.set(t, edJWK(k.otherEd.Public().(ed25519.PublicKey), false))
	tok, err := Mint(k.otherEd, Claims{Subject: "u9", Role: RoleCounselor, Issuer: testIssuer, Audience: testAudience, TTL: time.Hour}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(tok); err != nil || p.Subject != "u9" {
		t.Fatalf("token of rotated key: %+v, %v", p, err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after rotation; want 2", n)
	}
}

func TestJWKSUnreachableFailsAtStart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	before := refreshGoroutines()
	if v, err := NewVerifier(context.Background(), jwksOptions(srv.URL)); err == nil {
		v.Close()
		t.Fatal("NewVerifier succeeded with a failing JWKS endpoint")
	}
	// The library starts its refresh goroutine before the first fetch; a
	// failed start must not leak it.
	eventually(t, func() error {
		if n := refreshGoroutines(); n > before {
			return fmt.Errorf("%d JWKS refresh goroutines still running", n-before)
		}
		return nil
	})
}

// The refresh goroutine belongs to the Verifier: Close stops it, and so does
// cancelling the context it was built with.
func TestJWKSRefreshGoroutineIsOwned(t *testing.T) {
	k := keys()
	srv := newJWKSServer(t, edJWK(k.ed.Public().(ed25519.PublicKey), true))
	before := refreshGoroutines()

	v, err := NewVerifier(context.Background(), jwksOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if n := refreshGoroutines(); n != before+1 {
		t.Fatalf("%d refresh goroutines; want %d", n, before+1)
	}
	v.Close()
	v.Close() // idempotent
	waitGoroutines(t, before)

	tok, _ := Mint(k.ed, Claims{Subject: "u1", Role: RoleSeeker, Issuer: testIssuer, Audience: testAudience, TTL: time.Hour}, testNow)
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("Verify after Close uses the last key set: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	v2, err := NewVerifier(ctx, jwksOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	cancel()
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	eventually(t, func() error {
		if n := refreshGoroutines(); n != want {
			return fmt.Errorf("%d refresh goroutines; want %d", n, want)
		}
		return nil
	})
}

// refreshGoroutines counts jwkset's refresh loops in this process.
func refreshGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "jwkset.NewStorageFromHTTP.func")
}

// eventually polls fn for up to two seconds; goroutines stop asynchronously
// after their context is cancelled.
func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
