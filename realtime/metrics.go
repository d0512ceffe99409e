package realtime

import (
	"errors"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricsRegisterer is where the server's Prometheus metrics are registered.
type MetricsRegisterer = prometheus.Registerer

// metrics are plain atomics read by Prometheus at scrape time, so the hot
// path never touches a shared Prometheus collector.
type metrics struct {
	open          [2]atomic.Int64 // by transport
	delivered     atomic.Uint64
	writes        atomic.Uint64
	slowConsumers counter
	resumes       counter
}

type counter struct{ n atomic.Uint64 }

func (c *counter) Inc()           { c.n.Add(1) }
func (c *counter) Value() float64 { return float64(c.n.Load()) }

func newMetrics(s *Server, reg prometheus.Registerer) *metrics {
	m := &metrics{}
	if reg == nil {
		return m
	}
	for _, tr := range []Transport{TransportSSE, TransportWebSocket} {
		register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "herald_realtime_open_streams",
			Help:        "Open real-time streams by transport.",
			ConstLabels: prometheus.Labels{"transport": tr.String()},
		}, func() float64 { return float64(m.open[tr].Load()) }))
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "herald_realtime_events_delivered_total",
			Help: "Events written to real-time streams (one per recipient).",
		}, func() float64 { return float64(m.delivered.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "herald_realtime_writes_total",
			Help: "Socket writes to real-time streams (events per write shows the coalescing).",
		}, func() float64 { return float64(m.writes.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "herald_realtime_slow_consumer_disconnects_total",
			Help: "Streams cut because their queue passed its byte limit.",
		}, m.slowConsumers.Value),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "herald_realtime_resume_requests_total",
			Help: "Streams opened with a resume cursor.",
		}, m.resumes.Value),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "herald_realtime_refills_total",
			Help: "Stream refills from the log by the node (holes, bus losses, head checks).",
		}, func() float64 { return float64(s.bus.Refills()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_realtime_queued_bytes",
			Help: "Bytes waiting in real-time stream queues.",
		}, func() float64 {
			// A writer may take bytes off before the broadcast that queued
			// them adds its chunk's total: never show the dip below zero.
			return float64(max(s.queued.Load(), 0))
		}),
	} {
		register(reg, c)
	}
	return m
}

// register replaces a collector left by an earlier Server in the same
// process (tests run several), so /metrics shows the live one.
func register(reg prometheus.Registerer, c prometheus.Collector) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			reg.Unregister(are.ExistingCollector)
			_ = reg.Register(c)
		}
	}
}
