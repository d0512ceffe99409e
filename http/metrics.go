package http

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Request metrics are labelled by route pattern and status only: no path,
// no account, nothing that identifies anyone.
var (
	requestsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_http_requests_total",
		Help: "HTTP requests served, by route pattern and status.",
	}, []string{"route", "status"})
	requestSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route"})
)

func observeRequest(route string, status int, d time.Duration) {
	requestsTotal.WithLabelValues(route, strconv.Itoa(status)).Inc()
	requestSeconds.WithLabelValues(route).Observe(d.Seconds())
}
