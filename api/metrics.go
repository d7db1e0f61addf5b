package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zhaoshang/zhaoshang/eventstore"
)

// Metrics is the server's Prometheus registry and the instruments the rest of
// the system reports through. Packages that cannot import api (nothing may)
// declare the methods they use as their own interface, for example
//
//	type appendObserver interface{ ObserveAppend(time.Duration) }
//
// and cmd hands them this *Metrics.
type Metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.HistogramVec
	appendLatency prometheus.Histogram
	projectionLag prometheus.Gauge
	position      prometheus.Gauge
}

// NewMetrics makes a registry of its own (not the global default, so tests
// and several servers in one process do not collide) with the Go runtime and
// process collectors and zhaoshang's instruments.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "zhaoshang",
			Name:      "http_request_duration_seconds",
			Help:      "HTTP request latency by method, route template and status.",
			Buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		appendLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "zhaoshang",
			Name:      "eventstore_append_duration_seconds",
			Help:      "Latency of event store appends, fsync or commit included.",
			Buckets:   []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		projectionLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "zhaoshang",
			Name:      "projection_lag_events",
			Help:      "Events recorded in the log that the in-memory views have not applied yet.",
		}),
		position: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "zhaoshang",
			Name:      "subscription_position",
			Help:      "Commit part of the global log position the views have applied.",
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.appendLatency, m.projectionLag, m.position,
	)
	return m
}

// Registerer lets other components add collectors to the same registry.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// Gatherer is the registry for scraping and tests.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// ObserveAppend records one append's latency.
func (m *Metrics) ObserveAppend(d time.Duration) { m.appendLatency.Observe(d.Seconds()) }

// SetProjectionLag records how many events the views are behind the log.
func (m *Metrics) SetProjectionLag(events uint64) { m.projectionLag.Set(float64(events)) }

// SetPosition records the position the views have applied.
func (m *Metrics) SetPosition(p eventstore.Position) { m.position.Set(float64(p.Commit)) }

// ObserveRequest records one HTTP request.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
