package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	libredis "github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	sredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"kaifang/datasets"
)

// Route groups with their own limits.
const (
	GroupDownloads = "downloads"
	GroupRecords   = "records"
	GroupSearch    = "search"
	GroupDefault   = "default" // every other public route
)

// Limits are the anonymous request rates per client IP for each route group.
// A zero Rate takes the default.
type Limits struct {
	Downloads limiter.Rate
	Records   limiter.Rate
	Search    limiter.Rate
	Default   limiter.Rate
}

// DefaultLimits are used for any group left zero.
var DefaultLimits = Limits{
	Downloads: limiter.Rate{Period: time.Minute, Limit: 60},
	Records:   limiter.Rate{Period: time.Minute, Limit: 600},
	Search:    limiter.Rate{Period: time.Minute, Limit: 300},
	Default:   limiter.Rate{Period: time.Minute, Limit: 1200},
}

func (l Limits) withDefaults() Limits {
	pick := func(r, d limiter.Rate) limiter.Rate {
		if r.Limit <= 0 || r.Period <= 0 {
			return d
		}
		return r
	}
	return Limits{
		Downloads: pick(l.Downloads, DefaultLimits.Downloads),
		Records:   pick(l.Records, DefaultLimits.Records),
		Search:    pick(l.Search, DefaultLimits.Search),
		Default:   pick(l.Default, DefaultLimits.Default),
	}
}

// ParseLimits reads "downloads=60/m,records=600/m,search=300/m,default=1200/m".
// Units: s, m, h, d, optionally with a count ("100/10s"). Groups left out keep
// their defaults.
func ParseLimits(spec string) (Limits, error) {
	var l Limits
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return Limits{}, datasets.Errorf(datasets.EINVALID, "rate limit %q: want group=N/unit", part)
		}
		r, err := parseRate(strings.TrimSpace(val))
		if err != nil {
			return Limits{}, datasets.Errorf(datasets.EINVALID, "rate limit %q: %v", part, err)
		}
		switch strings.TrimSpace(name) {
		case GroupDownloads:
			l.Downloads = r
		case GroupRecords:
			l.Records = r
		case GroupSearch:
			l.Search = r
		case GroupDefault:
			l.Default = r
		default:
			return Limits{}, datasets.Errorf(datasets.EINVALID, "rate limit %q: unknown group (downloads, records, search, default)", part)
		}
	}
	return l.withDefaults(), nil
}

func parseRate(s string) (limiter.Rate, error) {
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return limiter.Rate{}, fmt.Errorf("want N/unit")
	}
	limit, err := strconv.ParseInt(n, 10, 64)
	if err != nil || limit <= 0 {
		return limiter.Rate{}, fmt.Errorf("count must be a positive integer")
	}
	mult := int64(1)
	if i := strings.IndexFunc(per, func(r rune) bool { return r < '0' || r > '9' }); i > 0 {
		mult, err = strconv.ParseInt(per[:i], 10, 64)
		if err != nil || mult <= 0 || mult > 1_000_000 {
			return limiter.Rate{}, fmt.Errorf("bad period count")
		}
		per = per[i:]
	}
	var unit time.Duration
	switch strings.ToLower(per) {
	case "s", "sec", "second":
		unit = time.Second
	case "m", "min", "minute":
		unit = time.Minute
	case "h", "hour":
		unit = time.Hour
	case "d", "day":
		unit = 24 * time.Hour
	default:
		return limiter.Rate{}, fmt.Errorf("unit must be s, m, h or d")
	}
	return limiter.Rate{Period: time.Duration(mult) * unit, Limit: limit, Formatted: s}, nil
}

// RedisStore opens a ulule/limiter Redis store from redis://[:pass@]host:port/db.
// A "prefix" query parameter sets the key prefix (default "kaifang:rl").
func RedisStore(rawURL string) (limiter.Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "rate store URL is not a URL")
	}
	prefix := u.Query().Get("prefix")
	if prefix == "" {
		prefix = "kaifang:rl"
	}
	q := u.Query()
	q.Del("prefix")
	u.RawQuery = q.Encode()
	opt, err := libredis.ParseURL(u.String())
	if err != nil {
		return nil, datasets.Wrap(err, datasets.EINVALID, "rate store URL is not a redis:// URL")
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = 2*time.Second, time.Second, time.Second
	client := libredis.NewClient(opt)
	store, err := sredis.NewStoreWithOptions(newPipelinedRedis(client), limiter.StoreOptions{Prefix: prefix, MaxRetry: 3})
	if err != nil {
		_ = client.Close()
		return nil, datasets.Wrap(err, datasets.EUNAVAILABLE, "rate store unreachable")
	}
	return store, nil
}

type rateLimits struct {
	store   limiter.Store
	groups  map[string]*limiter.Limiter
	metrics *metrics
	log     *slog.Logger
	// failing is set while the store errors, cleared on its next success;
	// readiness reports it.
	failing atomic.Pointer[string]
}

func newRateLimits(store limiter.Store, l Limits, m *metrics, log *slog.Logger) *rateLimits {
	return &rateLimits{
		store: store, metrics: m, log: log,
		groups: map[string]*limiter.Limiter{
			GroupDownloads: limiter.New(store, l.Downloads),
			GroupRecords:   limiter.New(store, l.Records),
			GroupSearch:    limiter.New(store, l.Search),
			GroupDefault:   limiter.New(store, l.Default),
		},
	}
}

// check reports an error while the store has been failing.
func (r *rateLimits) check(context.Context) error {
	if msg := r.failing.Load(); msg != nil {
		return datasets.Errorf(datasets.EUNAVAILABLE, "rate-limit store failing: %s", *msg)
	}
	return nil
}

// limit is written around limiter.Get rather than the library's fiber
// middleware, whose default error handler panics when the store fails.
// A store failure lets the request through: losing rate limiting for a
// while is better than losing the API.
func (s *Server) limit(group string) fiber.Handler {
	lim := s.rl.groups[group]
	w := int64(lim.Rate.Period / time.Second)
	policy := fmt.Sprintf("%q;q=%d;w=%d", group, lim.Rate.Limit, max(w, 1))
	charge := func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		lc, err := lim.Get(ctx, group+":"+s.clientIP(c))
		cancel()
		if err != nil {
			s.metrics.rateErrors.Inc()
			msg := err.Error()
			s.rl.failing.Store(&msg)
			s.log.Warn("rate-limit store failed; letting request through", "group", group, "request_id", requestID(c), "err", err)
			return nil
		}
		s.rl.failing.Store(nil)
		reset := max(lc.Reset-time.Now().Unix(), 0)
		c.Set("RateLimit-Policy", policy)
		c.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", group, lc.Remaining, reset))
		c.Set("X-RateLimit-Limit", strconv.FormatInt(lc.Limit, 10))
		c.Set("X-RateLimit-Remaining", strconv.FormatInt(lc.Remaining, 10))
		c.Set("X-RateLimit-Reset", strconv.FormatInt(lc.Reset, 10))
		if lc.Reached {
			s.metrics.limited.WithLabelValues(group).Inc()
			c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(max(reset, 1), 10))
			return datasets.Errorf(datasets.ERATELIMIT, "the %s limit of %d requests per %s is spent for this address; retry after %d s",
				group, lc.Limit, lim.Rate.Period, max(reset, 1))
		}
		return nil
	}
	keyed := group == GroupRecords || group == GroupDownloads
	return func(c *fiber.Ctx) error {
		if rec, ok := s.d.Authorizer.(KeyRecognizer); ok && keyed && rec.Recognizes(c) {
			// A key this process has admitted recently: its grant's own
			// rate and quota apply instead of the address's, if the
			// request turns out to use it (see settleAddressLimit).
			d := &deferredLimit{charge: func() error { return charge(c) }}
			c.Locals(localDeferredLimit, d)
			err := c.Next()
			if !d.settled {
				// Never reached authorize (an unknown entry, say): count
				// the request against the address after all.
				d.settled = true
				_ = d.charge()
			}
			return err
		}
		if err := charge(c); err != nil {
			return err
		}
		return c.Next()
	}
}

// KeyRecognizer is implemented by authorizers that can tell, without any
// store, that a request carries a key they admitted recently. Such requests
// are limited by the key's grant instead of by the caller's address.
type KeyRecognizer interface {
	Recognizes(c *fiber.Ctx) bool
}

const localDeferredLimit = "kaifang.limit.deferred"

// deferredLimit is the address limit of a request with a recognized key,
// held back until the request is known to use that key.
type deferredLimit struct {
	charge  func() error
	settled bool
}

// settleAddressLimit decides a held-back address limit: waived when the
// key admitted the request (its grant's limits were spent instead),
// charged otherwise — an open entry, a refused key — before any work.
func settleAddressLimit(c *fiber.Ctx, keyAdmitted bool) error {
	d, ok := c.Locals(localDeferredLimit).(*deferredLimit)
	if !ok || d.settled {
		return nil
	}
	d.settled = true
	if keyAdmitted {
		return nil
	}
	return d.charge()
}
