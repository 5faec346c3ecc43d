package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/clerkpath/clerkpath/pkg/apierr"
)

const (
	testIssuer   = "clerkpath"
	testAudience = "clerkpath-api"
	testLeeway   = 30 * time.Second
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// keys are generated once per test binary: RSA generation is slow under -race.
var keys = sync.OnceValue(func() (k struct {
	ed, otherEd ed25519.PrivateKey
	edPEM       []byte
	rsa         *rsa.PrivateKey
	rsaPEM      []byte
	rsaPKCS1PEM []byte
}) {
	var err error
	if k.ed, err = GenerateKey(); err != nil {
		panic(err)
	}
	if k.otherEd, err = GenerateKey(); err != nil {
		panic(err)
	}
	if k.edPEM, err = MarshalPublicKey(k.ed.Public().(ed25519.PublicKey)); err != nil {
		panic(err)
	}
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	if err != nil {
		panic(err)
	}
	k.rsaPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	k.rsaPKCS1PEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)})
	return k
})

func testOptions(pubPEM []byte) Options {
	return Options{
		PublicKeyPEM: pubPEM,
		Issuer:       testIssuer,
		Audience:     testAudience,
		Leeway:       testLeeway,
		Now:          func() time.Time { return testNow },
	}
}

func newTestVerifier(t *testing.T, pubPEM []byte) *Verifier {
	t.Helper()
	v, err := NewVerifier(context.Background(), testOptions(pubPEM))
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// baseClaims are the claims of a good seeker token at testNow.
func baseClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":  testIssuer,
		"aud":  []string{testAudience},
		"sub":  "user_1",
		"role": "seeker",
		"iat":  testNow.Unix(),
		"nbf":  testNow.Unix(),
		"exp":  testNow.Add(time.Hour).Unix(),
		"jti":  "j1",
	}
}

// with returns baseClaims changed by edit; a nil value deletes the claim.
func with(edits map[string]any) jwt.MapClaims {
	c := baseClaims()
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func sign(t testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	maps.Copy(tok.Header, header)
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

// unsigned builds a token by hand, for headers golang-jwt would not sign.
func unsigned(header, claims string, sig []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(sig)
}

// assertRejected checks that err is Unauthenticated, that nothing of the
// token leaks into the message and that no principal came out.
func assertRejected(t *testing.T, token string, p Principal, err error, wantMsg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("token verified as %+v; want rejection", p)
	}
	if !p.IsAnonymous() || p != (Principal{}) {
		t.Errorf("rejected token still gave principal %+v", p)
	}
	e := apierr.As(err)
	if e.Code != apierr.Unauthenticated {
		t.Fatalf("code %q (%v); want unauthenticated", e.Code, err)
	}
	if wantMsg != "" && !strings.Contains(e.Message, wantMsg) {
		t.Errorf("message %q; want it to contain %q", e.Message, wantMsg)
	}
	if len(e.Message) > 80 {
		t.Errorf("message %q is not short", e.Message)
	}
	for seg := range strings.SplitSeq(token, ".") {
		if len(seg) >= 4 && strings.Contains(e.Message, seg) {
			t.Errorf("message %q echoes part of the token", e.Message)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	k := keys()
	ed, rsaKey := k.ed, k.rsa
	edPEM := k.edPEM
	good := sign(t, jwt.SigningMethodEdDSA, ed, baseClaims(), nil)
	goodParts := strings.Split(good, ".")
	tampered := goodParts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"clerkpath","aud":["clerkpath-api"],"sub":"user_1","role":"admin","exp":9999999999}`)) + "." + goodParts[2]

	cases := []struct {
		name    string
		pubPEM  []byte // verifier key; Ed25519 when nil
		token   string
		wantMsg string
	}{
		{"empty", nil, "", "missing"},
		{"garbage", nil, "not-a-token", "malformed"},
		{"two segments", nil, "a.b", "malformed"},
		{"four segments", nil, good + ".x", "malformed"},
		{"too long", nil, strings.Repeat("a", maxTokenLen+1), "too long"},
		{"bad base64 header", nil, "!!!." + goodParts[1] + "." + goodParts[2], "malformed"},
		{"header not JSON", nil, unsigned("nope", `{}`, nil), "malformed"},

		// Algorithm attacks.
		{"alg none", nil, sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, baseClaims(), nil), "algorithm"},
		{"alg none by hand", nil, unsigned(`{"alg":"none","typ":"JWT"}`, `{"sub":"user_1"}`, nil), "algorithm"},
		{"alg NONE by hand", nil, unsigned(`{"alg":"NONE"}`, `{"sub":"user_1"}`, nil), "verified"},
		{"alg missing", nil, unsigned(`{"typ":"JWT"}`, `{"sub":"user_1"}`, []byte("sig")), "verified"},
		{"HS256 with Ed25519 public key PEM", nil, sign(t, jwt.SigningMethodHS256, edPEM, baseClaims(), nil), "algorithm"},
		{"HS256 with Ed25519 raw public key", nil, sign(t, jwt.SigningMethodHS256, []byte(ed.Public().(ed25519.PublicKey)), baseClaims(), nil), "algorithm"},
		{"HS256 with RSA public key PEM", k.rsaPEM, sign(t, jwt.SigningMethodHS256, k.rsaPEM, baseClaims(), nil), "algorithm"},
		{"RS256 to Ed25519 verifier", nil, sign(t, jwt.SigningMethodRS256, rsaKey, baseClaims(), nil), "algorithm"},
		{"PS256 to RSA verifier", k.rsaPEM, sign(t, jwt.SigningMethodPS256, rsaKey, baseClaims(), nil), "algorithm"},
		{"EdDSA to RSA verifier", k.rsaPEM, good, "algorithm"},
		{"crit header", nil, sign(t, jwt.SigningMethodEdDSA, ed, baseClaims(), map[string]any{"crit": []string{"exp"}}), "verified"},

		// Signatures.
		{"other key", nil, sign(t, jwt.SigningMethodEdDSA, k.otherEd, baseClaims(), nil), "signature"},
		{"tampered payload", nil, tampered, "signature"},
		{"signature stripped", nil, goodParts[0] + "." + goodParts[1] + ".", "signature"},
		{"RSA other key", k.rsaPEM, func() string {
			other, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			return sign(t, jwt.SigningMethodRS256, other, baseClaims(), nil)
		}(), "signature"},

		// Time.
		{"expired", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"exp": testNow.Add(-testLeeway - time.Second).Unix()}), nil), "expired"},
		{"expired at exactly now minus leeway", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"exp": testNow.Add(-testLeeway).Unix()}), nil), "expired"},
		{"missing exp", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"exp": nil}), nil), "required claim"},
		{"exp not a number", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"exp": "tomorrow"}), nil), "malformed"},
		{"nbf in the future", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"nbf": testNow.Add(testLeeway + time.Second).Unix()}), nil), "not valid yet"},
		{"iat in the future", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"nbf": nil, "iat": testNow.Add(testLeeway + time.Second).Unix()}), nil), "not valid yet"},

		// Issuer and audience.
		{"wrong issuer", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"iss": "evil"}), nil), "issuer"},
		{"missing issuer", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"iss": nil}), nil), "required claim"},
		{"wrong audience", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"aud": []string{"other-api"}}), nil), "audience"},
		{"wrong audience string", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"aud": "other-api"}), nil), "audience"},
		{"missing audience", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"aud": nil}), nil), "required claim"},

		// clerkpath claims.
		{"missing role", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"role": nil}), nil), "role"},
		{"unknown role", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"role": "root"}), nil), "role"},
		{"role wrong case", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"role": "Admin"}), nil), "role"},
		{"role not a string", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"role": 1}), nil), "malformed"},
		{"employer without org", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"role": "employer"}), nil), "org"},
		{"employer with bad org", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"role": "employer", "org": "acme corp"}), nil), "org"},
		{"employer with long org", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"role": "employer", "org": strings.Repeat("o", 65)}), nil), "org"},
		{"seeker with org", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"org": "acme"}), nil), "org"},
		{"missing subject", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"sub": nil}), nil), "subject"},
		{"empty subject", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"sub": ""}), nil), "subject"},
		{"subject with slash", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"sub": "a/b"}), nil), "subject"},
		{"subject with dot", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"sub": "a.b"}), nil), "subject"},
		{"subject with space", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"sub": "a b"}), nil), "subject"},
		{"subject non-ASCII", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"sub": "usér"}), nil), "subject"},
		{"subject with NUL", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"sub": "a\x00"}), nil), "subject"},
		{"subject 65 chars", nil, sign(t, jwt.SigningMethodEdDSA, ed, with(map[string]any{"sub": strings.Repeat("s", 65)}), nil), "subject"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := tc.pubPEM
			if pub == nil {
				pub = edPEM
			}
			v := newTestVerifier(t, pub)
			p, err := v.Verify(tc.token)
			assertRejected(t, tc.token, p, err, tc.wantMsg)
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	k := keys()
	mint := func(c Claims, now time.Time) string {
		t.Helper()
		c.Issuer, c.Audience = testIssuer, testAudience
		if c.TTL == 0 {
			c.TTL = time.Hour
		}
		s, err := Mint(k.ed, c, now)
		if err != nil {
			t.Fatalf("Mint: %v", err)
		}
		return s
	}
	cases := []struct {
		name   string
		pubPEM []byte
		token  string
		want   Principal
	}{
		{"seeker", nil, mint(Claims{Subject: "u1", Role: RoleSeeker}, testNow), Principal{Subject: "u1", Role: RoleSeeker}},
		{"employer", nil, mint(Claims{Subject: "u2", Role: RoleEmployer, Org: "acme-co_1"}, testNow), Principal{Subject: "u2", Role: RoleEmployer, Org: "acme-co_1"}},
		{"counselor", nil, mint(Claims{Subject: "u3", Role: RoleCounselor}, testNow), Principal{Subject: "u3", Role: RoleCounselor}},
		{"admin", nil, mint(Claims{Subject: "u4", Role: RoleAdmin}, testNow), Principal{Subject: "u4", Role: RoleAdmin}},
		{"subject of 64 chars", nil, mint(Claims{Subject: strings.Repeat("s", 64), Role: RoleSeeker}, testNow), Principal{Subject: strings.Repeat("s", 64), Role: RoleSeeker}},
		{"expired within leeway", nil, mint(Claims{Subject: "u5", Role: RoleSeeker, TTL: time.Minute}, testNow.Add(-time.Minute-testLeeway+time.Second)), Principal{Subject: "u5", Role: RoleSeeker}},
		{"issued slightly in the future", nil, mint(Claims{Subject: "u6", Role: RoleSeeker}, testNow.Add(testLeeway)), Principal{Subject: "u6", Role: RoleSeeker}},
		{"audience among several", nil, sign(t, jwt.SigningMethodEdDSA, k.ed, with(map[string]any{"aud": []string{"other", testAudience}}), nil), Principal{Subject: "user_1", Role: RoleSeeker}},
		{"audience as a string", nil, sign(t, jwt.SigningMethodEdDSA, k.ed, with(map[string]any{"aud": testAudience}), nil), Principal{Subject: "user_1", Role: RoleSeeker}},
		{"no nbf or iat", nil, sign(t, jwt.SigningMethodEdDSA, k.ed, with(map[string]any{"nbf": nil, "iat": nil}), nil), Principal{Subject: "user_1", Role: RoleSeeker}},
		{"RSA RS256 PKIX", k.rsaPEM, sign(t, jwt.SigningMethodRS256, k.rsa, with(map[string]any{"role": "admin"}), nil), Principal{Subject: "user_1", Role: RoleAdmin}},
		{"RSA RS256 PKCS1", k.rsaPKCS1PEM, sign(t, jwt.SigningMethodRS256, k.rsa, with(map[string]any{"role": "employer", "org": "acme"}), nil), Principal{Subject: "user_1", Role: RoleEmployer, Org: "acme"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pub := tc.pubPEM
			if pub == nil {
				pub = k.edPEM
			}
			p, err := newTestVerifier(t, pub).Verify(tc.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p != tc.want {
				t.Fatalf("principal %+v; want %+v", p, tc.want)
			}
			if p.IsAnonymous() {
				t.Fatal("verified principal is anonymous")
			}
		})
	}
}

// Without Options.Now the verifier uses the wall clock.
func TestVerifyWallClock(t *testing.T) {
	k := keys()
	opts := testOptions(k.edPEM)
	opts.Now = nil
	v, err := NewVerifier(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	tok, err := Mint(k.ed, Claims{Subject: "u", Role: RoleSeeker, Issuer: testIssuer, Audience: testAudience, TTL: time.Minute}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	old, _ := Mint(k.ed, Claims{Subject: "u", Role: RoleSeeker, Issuer: testIssuer, Audience: testAudience, TTL: time.Minute}, time.Now().Add(-time.Hour))
	if _, err := v.Verify(old); apierr.CodeOf(err) != apierr.Unauthenticated {
		t.Fatalf("hour-old token: %v", err)
	}
}

func TestNewVerifierRefusesBadOptions(t *testing.T) {
	k := keys()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	privDER, _ := x509.MarshalPKCS8PrivateKey(k.ed)
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }

	cases := map[string]func(*Options){
		"no key source":        func(o *Options) { o.PublicKeyPEM = nil },
		"both key sources":     func(o *Options) { o.JWKSURL = "https://idp.example/jwks" },
		"no issuer":            func(o *Options) { o.Issuer = "" },
		"no audience":          func(o *Options) { o.Audience = "" },
		"negative leeway":      func(o *Options) { o.Leeway = -time.Second },
		"not PEM":              func(o *Options) { o.PublicKeyPEM = []byte("hello") },
		"private key":          func(o *Options) { o.PublicKeyPEM = pemOf("PRIVATE KEY", privDER) },
		"two keys":             func(o *Options) { o.PublicKeyPEM = append(append([]byte{}, k.edPEM...), k.rsaPEM...) },
		"RSA 1024":             func(o *Options) { o.PublicKeyPEM = pemOf("PUBLIC KEY", smallDER) },
		"ECDSA":                func(o *Options) { o.PublicKeyPEM = pemOf("PUBLIC KEY", ecDER) },
		"certificate":          func(o *Options) { o.PublicKeyPEM = pemOf("CERTIFICATE", []byte{1}) },
		"corrupt PKIX":         func(o *Options) { o.PublicKeyPEM = pemOf("PUBLIC KEY", []byte{1, 2, 3}) },
		"JWKS over plain http": func(o *Options) { o.PublicKeyPEM = nil; o.JWKSURL = "http://idp.example/jwks" },
		"JWKS bad scheme":      func(o *Options) { o.PublicKeyPEM = nil; o.JWKSURL = "file:///etc/jwks.json" },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			o := testOptions(k.edPEM)
			edit(&o)
			v, err := NewVerifier(context.Background(), o)
			if err == nil {
				v.Close()
				t.Fatal("NewVerifier accepted bad options")
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []Role{RoleSeeker, RoleEmployer, RoleCounselor, RoleAdmin} {
		got, err := ParseRole(string(r))
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "Seeker", "root", " admin"} {
		if _, err := ParseRole(s); apierr.CodeOf(err) != apierr.Invalid {
			t.Errorf("ParseRole(%q): %v; want invalid", s, err)
		}
	}
}

func TestPrincipalContext(t *testing.T) {
	ctx := context.Background()
	if p := PrincipalFrom(ctx); !p.IsAnonymous() {
		t.Fatalf("empty context gave %+v", p)
	}
	want := Principal{Subject: "u1", Role: RoleEmployer, Org: "acme"}
	if got := PrincipalFrom(WithPrincipal(ctx, want)); got != want {
		t.Fatalf("got %+v; want %+v", got, want)
	}
}

func TestRejectionIsUnauthenticatedAndWrapsCause(t *testing.T) {
	v := newTestVerifier(t, keys().edPEM)
	expired := sign(t, jwt.SigningMethodEdDSA, keys().ed, with(map[string]any{"exp": testNow.Add(-time.Hour).Unix()}), nil)
	_, err := v.Verify(expired)
	if !errors.Is(err, jwt.ErrTokenExpired) {
		t.Fatalf("cause not kept for logs: %v", err)
	}
}
