package auth

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds arbitrary strings to a Verifier: none may panic, and none
// may verify except the one genuine token among the seeds.
func FuzzVerify(f *testing.F) {
	k := keys()
	v, err := NewVerifier(f.Context(), testOptions(k.edPEM))
	if err != nil {
		f.Fatal(err)
	}
	genuine, err := Mint(k.ed, Claims{Subject: "u1", Role: RoleSeeker, Issuer: testIssuer, Audience: testAudience, TTL: time.Hour}, testNow)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(genuine, ".")
	for _, s := range []string{
		"", ".", "..", "...", "a.b.c", genuine, genuine + "x", genuine + ".", "x" + genuine,
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".." + parts[2],
		sign(f, jwt.SigningMethodEdDSA, k.otherEd, baseClaims(), nil),
		sign(f, jwt.SigningMethodHS256, k.edPEM, baseClaims(), nil),
		sign(f, jwt.SigningMethodHS256, []byte(k.ed.Public().(ed25519.PublicKey)), baseClaims(), nil),
		sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, baseClaims(), nil),
		unsigned(`{"alg":"EdDSA"}`, `null`, nil),
		unsigned(`{"alg":"EdDSA"}`, `[]`, nil),
		unsigned(`{"alg":"EdDSA","kid":{}}`, `{"exp":1e400}`, make([]byte, 64)),
		unsigned(`null`, `{}`, nil),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(token)
		if token == genuine {
			if err != nil {
				t.Fatalf("genuine token rejected: %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("forged token %q verified as %+v", token, p)
		}
		if !p.IsAnonymous() {
			t.Fatalf("rejected token gave principal %+v", p)
		}
	})
}
