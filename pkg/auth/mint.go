package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// File names WriteKeyPair uses inside its directory.
const (
	PrivateKeyFile = "jwt_ed25519_private.pem"
	PublicKeyFile  = "jwt_ed25519_public.pem"
)

// Claims describe a token for Mint.
type Claims struct {
	Subject  string
	Role     Role
	Org      string // required for employers, empty otherwise
	Issuer   string
	Audience string
	TTL      time.Duration
}

// GenerateKey returns a new Ed25519 signing key.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	return priv, nil
}

// WriteKeyPair generates a key and writes it into dir as a PKCS #8 private
// key (mode 0600) and a PKIX public key (mode 0644), both PEM. It never
// overwrites: if either file exists the error wraps fs.ErrExist, so a caller
// can load the existing pair instead.
func WriteKeyPair(dir string) (privPath, pubPath string, err error) {
	priv, err := GenerateKey()
	if err != nil {
		return "", "", err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", fmt.Errorf("auth: encode private key: %w", err)
	}
	pubPEM, err := MarshalPublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("auth: key directory: %w", err)
	}
	privPath = filepath.Join(dir, PrivateKeyFile)
	pubPath = filepath.Join(dir, PublicKeyFile)
	if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		// A private key without its public half is of no use and would block
		// the next attempt.
		_ = os.Remove(privPath)
		return "", "", err
	}
	return privPath, pubPath, nil
}

// writeNew creates path with mode perm, failing if it exists. The mode is
// set at creation so a private key is never readable by others, not even
// briefly.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("auth: write key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("auth: write key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("auth: write key %s: %w", path, err)
	}
	return nil
}

// LoadPrivateKey reads a PEM PKCS #8 Ed25519 private key, as written by
// WriteKeyPair.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: load private key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: load private key %s: no PEM \"PRIVATE KEY\" block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: load private key %s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: load private key %s: %T is not an Ed25519 key", path, key)
	}
	return priv, nil
}

// MarshalPublicKey encodes pub as a PEM PKIX public key, the form
// Options.PublicKeyPEM takes.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("auth: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// KeyID is the RFC 7638 JWK thumbprint of pub, used as the kid of minted
// tokens. Being derived from the key, it changes exactly when the key does,
// and a JWKS built from the same key gets the same kid.
func KeyID(pub ed25519.PublicKey) string {
	// RFC 7638: the required members in lexicographic order, no whitespace.
	jwk := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Mint signs an EdDSA token for c, valid from now for c.TTL, carrying kid,
// iat, nbf, exp and a random jti. It refuses claims a Verifier would reject,
// so a development token that mints also verifies.
func Mint(priv ed25519.PrivateKey, c Claims, now time.Time) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", errors.New("auth: mint: not an Ed25519 private key")
	}
	if err := c.check(); err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("auth: mint: jti: %w", err)
	}
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    c.Issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{c.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(c.TTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti),
		},
		Role: string(c.Role),
		Org:  c.Org,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = KeyID(priv.Public().(ed25519.PublicKey))
	s, err := t.SignedString(priv)
	if err != nil {
		return "", fmt.Errorf("auth: mint: sign: %w", err)
	}
	return s, nil
}

func (c Claims) check() error {
	switch {
	case !validID(c.Subject):
		return errors.New("subject must be 1-64 characters of [A-Za-z0-9_-]")
	case !c.Role.Valid():
		return fmt.Errorf("unknown role %q", c.Role)
	case c.Role == RoleEmployer && !validID(c.Org):
		return errors.New("employer org must be 1-64 characters of [A-Za-z0-9_-]")
	case c.Role != RoleEmployer && c.Org != "":
		return errors.New("only employers have an org")
	case c.Issuer == "" || c.Audience == "":
		return errors.New("issuer and audience are required")
	case c.TTL <= 0:
		return errors.New("TTL must be positive")
	}
	return nil
}
