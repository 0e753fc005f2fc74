package server

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are per Server (own registry), so tests can make many servers.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	verification *prometheus.CounterVec
	issued       *prometheus.CounterVec
	rateLimited  prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "zhengxin_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "zhengxin_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		// Verify is expected in single milliseconds, PDF signing in tens to hundreds.
		Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route", "method"})
	m.verification = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "zhengxin_verifications_total", Help: "Verifications by verdict, reason code and kind.",
	}, []string{"verdict", "reason", "kind"})
	m.issued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "zhengxin_licenses_issued_total", Help: "Licenses issued by license type.",
	}, []string{"type"})
	m.rateLimited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "zhengxin_rate_limited_total", Help: "Requests refused with 429 by the per-IP rate limit.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.verification, m.issued, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observe records a finished request under its route pattern (never the
// raw path, which would make one series per license ID).
func (m *metrics) observe(r *http.Request, status int, seconds float64) {
	route := "unmatched"
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			route = p
		}
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, r.Method).Observe(seconds)
}
