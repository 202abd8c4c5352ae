package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is the resolved configuration of one kaifang process.
type Config struct {
	Addr           string
	Data           string
	DB             string
	Blob           string
	Search         string
	RateStore      string
	RateLimits     string
	Secret         string
	TrustedProxies string
	MaxUpload      int64
	LogFormat      string
	LogLevel       string
	PresignDL      bool
	SecureCookies  bool
	Calendar       string
	AdminEmail     string
	AdminPassword  string
}

// option describes one setting: its flag, its variable and its default.
type option struct {
	name, env, usage string
	secret           bool
	ptr              *string
	def              func(c *Config) string
}

func (c *Config) options() []option {
	return []option{
		{name: "addr", env: "KAIFANG_ADDR", usage: "listen address", ptr: &c.Addr, def: func(*Config) string { return ":8080" }},
		{name: "data", env: "KAIFANG_DATA", usage: "data directory for the embedded stores", ptr: &c.Data, def: func(*Config) string { return "./data" }},
		{name: "db", env: "KAIFANG_DB", usage: "catalogue database: sqlite://PATH or postgres://…", ptr: &c.DB, secret: true,
			def: func(c *Config) string { return "sqlite://" + filepath.Join(c.Data, "kaifang.db") }},
		{name: "blob", env: "KAIFANG_BLOB", usage: "file store: file://DIR or s3://key:secret@host:port/bucket?secure=false", ptr: &c.Blob, secret: true,
			def: func(c *Config) string { return "file://" + filepath.Join(c.Data, "blobs") }},
		{name: "search", env: "KAIFANG_SEARCH", usage: "search index: bleve://DIR or meilisearch://host:port?key=…", ptr: &c.Search, secret: true,
			def: func(c *Config) string { return "bleve://" + filepath.Join(c.Data, "index") }},
		{name: "rate-store", env: "KAIFANG_RATE_STORE", usage: "rate-limit counters: memory:// or redis://host:port/db", ptr: &c.RateStore, secret: true,
			def: func(*Config) string { return "memory://" }},
		{name: "rate-limits", env: "KAIFANG_RATE_LIMITS", usage: "anonymous limits per client IP and route group, e.g. downloads=60/m,records=600/m,search=300/m", ptr: &c.RateLimits,
			def: func(*Config) string { return "" }},
		{name: "secret", env: "KAIFANG_SECRET", usage: "HMAC key for tokens and API keys (default: generated once into DATA/secret)", ptr: &c.Secret, secret: true,
			def: func(*Config) string { return "" }},
		{name: "trusted-proxies", env: "KAIFANG_TRUSTED_PROXIES", usage: "comma-separated IPs/CIDRs whose X-Forwarded-For is believed", ptr: &c.TrustedProxies,
			def: func(*Config) string { return "" }},
		{name: "log-format", env: "KAIFANG_LOG_FORMAT", usage: "log format: text or json", ptr: &c.LogFormat, def: func(*Config) string { return "text" }},
		{name: "log-level", env: "KAIFANG_LOG_LEVEL", usage: "log level: debug, info, warn, error", ptr: &c.LogLevel, def: func(*Config) string { return "info" }},
		{name: "calendar", env: "KAIFANG_CALENDAR", usage: "directory of YEAR.json working-day calendars overriding the built-in 2026 and 2027", ptr: &c.Calendar, def: func(*Config) string { return "" }},
		{name: "admin-email", env: "KAIFANG_ADMIN_EMAIL", usage: "create this admin account at start if it does not exist", ptr: &c.AdminEmail, def: func(*Config) string { return "" }},
		{name: "admin-password", env: "KAIFANG_ADMIN_PASSWORD", usage: "password of the admin created at start", ptr: &c.AdminPassword, secret: true, def: func(*Config) string { return "" }},
	}
}

// bindFlags registers every option on fs, and the non-string ones.
func (c *Config) bindFlags(fs *flag.FlagSet) (maxUpload, presign *string) {
	for _, o := range c.options() {
		fs.StringVar(o.ptr, o.name, "", o.usage+" (env "+o.env+")")
	}
	maxUpload = fs.String("max-upload", "", "largest file accepted, e.g. 2GiB (env KAIFANG_MAX_UPLOAD; default 2GiB)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark session cookies Secure (set when served over HTTPS; env KAIFANG_SECURE_COOKIES)")
	presign = fs.String("presign-downloads", "", "on S3, redirect downloads to presigned URLs: true/false (env KAIFANG_PRESIGN_DOWNLOADS)")
	return
}

// resolve fills unset options from the environment, then defaults, and
// validates every one; it returns all problems at once, one line each.
func (c *Config) resolve(getenv func(string) string, maxUpload, presign string) error {
	for _, o := range c.options() {
		if *o.ptr == "" {
			*o.ptr = getenv(o.env)
		}
	}
	// data first: other defaults derive from it
	for _, o := range c.options() {
		if *o.ptr == "" {
			*o.ptr = o.def(c)
		}
	}
	if maxUpload == "" {
		maxUpload = getenv("KAIFANG_MAX_UPLOAD")
	}
	if presign == "" {
		presign = getenv("KAIFANG_PRESIGN_DOWNLOADS")
	}
	var errs []string
	bad := func(flagName, env, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("--%s / %s: %s", flagName, env, fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "KAIFANG_ADDR", "%q is not host:port (e.g. :8080 or 127.0.0.1:8080)", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("addr", "KAIFANG_ADDR", "port %q is not a number from 0 to 65535", port)
	}
	checkURL := func(flagName, env, val string, schemes ...string) {
		u, err := url.Parse(val)
		if err != nil {
			bad(flagName, env, "not a URL: %v", maskErr(err, val))
			return
		}
		for _, s := range schemes {
			if u.Scheme == s {
				return
			}
		}
		bad(flagName, env, "scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
	}
	checkURL("db", "KAIFANG_DB", c.DB, "sqlite", "postgres", "postgresql")
	checkURL("blob", "KAIFANG_BLOB", c.Blob, "file", "s3")
	checkURL("search", "KAIFANG_SEARCH", c.Search, "bleve", "meilisearch")
	checkURL("rate-store", "KAIFANG_RATE_STORE", c.RateStore, "memory", "redis")
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log-format", "KAIFANG_LOG_FORMAT", "%q is not text or json", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("log-level", "KAIFANG_LOG_LEVEL", "%v", err)
	}
	c.MaxUpload = 2 << 30
	if maxUpload != "" {
		n, err := parseSize(maxUpload)
		if err != nil || n <= 0 {
			bad("max-upload", "KAIFANG_MAX_UPLOAD", "%q is not a size like 500MiB or 2GiB", maxUpload)
		}
		c.MaxUpload = n
	}
	if presign != "" {
		b, err := strconv.ParseBool(presign)
		if err != nil {
			bad("presign-downloads", "KAIFANG_PRESIGN_DOWNLOADS", "%q is not true or false", presign)
		}
		c.PresignDL = b
	}
	if v := getenv("KAIFANG_SECURE_COOKIES"); v != "" && !c.SecureCookies {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("secure-cookies", "KAIFANG_SECURE_COOKIES", "%q is not true or false", v)
		}
		c.SecureCookies = b
	}
	for _, p := range splitList(c.TrustedProxies) {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				bad("trusted-proxies", "KAIFANG_TRUSTED_PROXIES", "%q is not an IP address or CIDR", p)
			}
		}
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		bad("admin-email", "KAIFANG_ADMIN_EMAIL", "admin email and password go together")
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		bad("secret", "KAIFANG_SECRET", "must be at least 32 characters")
	}
	if len(errs) > 0 {
		return errors.New("invalid configuration:\n  " + strings.Join(errs, "\n  "))
	}
	return nil
}

// ensureSecret loads or generates the HMAC secret kept in the data directory.
func (c *Config) ensureSecret() error {
	if c.Secret != "" {
		return nil
	}
	p := filepath.Join(c.Data, "secret")
	if b, err := os.ReadFile(p); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			c.Secret = s
			return nil
		}
		return fmt.Errorf("secret file %s is shorter than 32 characters", p)
	}
	if err := os.MkdirAll(c.Data, 0o755); err != nil {
		return err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.Secret = hex.EncodeToString(b)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing secret: %w", err)
	}
	defer f.Close()
	_, err = f.WriteString(c.Secret + "\n")
	return err
}

// LogValue makes the configuration loggable with every secret masked.
func (c *Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, o := range c.options() {
		v := *o.ptr
		if o.secret {
			v = maskSecret(o.name, v)
		}
		attrs = append(attrs, slog.String(o.env, v))
	}
	attrs = append(attrs, slog.Int64("KAIFANG_MAX_UPLOAD", c.MaxUpload), slog.Bool("KAIFANG_PRESIGN_DOWNLOADS", c.PresignDL))
	return slog.GroupValue(attrs...)
}

// maskSecret hides passwords in URLs and whole values of plain secrets.
func maskSecret(name, v string) string {
	if v == "" {
		return ""
	}
	if name == "secret" || name == "admin-password" {
		return "********"
	}
	u, err := url.Parse(v)
	if err != nil {
		return "********"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	for _, k := range []string{"key", "password", "secret", "token"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func maskErr(err error, raw string) string {
	return strings.ReplaceAll(err.Error(), raw, maskSecret("url", raw))
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

// parseSize reads sizes like 1024, 500KB, 500KiB, 2GiB, 1.5GB.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * mult), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
