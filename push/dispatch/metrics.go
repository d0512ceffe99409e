package dispatch

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Push metrics: counts only, no endpoint, account or channel.
var (
	sent = promauto.NewCounter(prometheus.CounterOpts{
		Name: "herald_push_sent_total",
		Help: "Web Push messages accepted by push services.",
	})
	failed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_push_failed_total",
		Help: "Web Push attempts that failed, by class: retry (429, 5xx), transport, gone (404, 410), rejected (other answers), invalid, gave-up.",
	}, []string{"class"})
	retried = promauto.NewCounter(prometheus.CounterOpts{
		Name: "herald_push_retries_scheduled_total",
		Help: "Web Push messages scheduled to be tried again.",
	})
	removed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "herald_push_subscriptions_removed_total",
		Help: "Push subscriptions deleted because their push service said they are gone.",
	})
	jobLag = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "herald_push_job_lag_seconds",
		Help:    "Time from an update's post (or edit) to the last page of its push job sent.",
		Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900},
	})
)
