package server

import (
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// limiter is a token bucket per client IP: rate tokens per second, up to
// burst. Buckets idle long enough to be full again are dropped when the
// map grows, so memory stays bounded by the number of recently active IPs.
type limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}, sweepAt: 1024}
}

// allow takes a token for key; when none is left it returns false and how
// long until one is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	// If nearly everyone is active, raise the threshold instead of
	// sweeping on every new key.
	l.sweepAt = max(1024, 2*len(l.buckets))
}

// clientIP is the rate-limit key: the peer address, or with
// TrustProxyHeaders the last X-Forwarded-For entry (the one our proxy added).
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxyHeaders {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			i := strings.LastIndexByte(xff, ',')
			return strings.TrimSpace(xff[i+1:])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateLimited answers 429 with Retry-After when the caller's bucket is empty.
func (s *Server) rateLimited(next http.Handler) http.Handler { return s.limitedBy(s.limit, next) }

// loginLimited is the stricter bucket of password logins: each attempt
// costs an argon2id hash, and passwords, unlike claim codes, are guessable.
func (s *Server) loginLimited(next http.Handler) http.Handler { return s.limitedBy(s.loginLimit, next) }

func (s *Server) limitedBy(l *limiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.allow(s.clientIP(r))
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			if secs < 1 {
				secs = 1
			}
			p := &Problem{
				Type: ProblemTypePrefix + probRateLimited.code, Title: bilingual(probRateLimited.title),
				Status: 429, Code: probRateLimited.code, Instance: r.URL.Path, RetryAfter: secs,
			}
			p.Message.ZH = "请求过于频繁，请稍后再试。"
			p.Message.EN = "Too many requests from this address; try again shortly."
			p.Detail = p.Message.ZH + " / " + p.Message.EN
			s.metrics.rateLimited.Inc()
			sendProblem(w, p)
			return
		}
		next.ServeHTTP(w, r)
	})
}
