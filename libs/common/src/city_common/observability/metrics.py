"""Prometheus metrics of one service process, in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# How long an event took to get somewhere (through an outbox, to a consumer): fine
# steps below a second, where the alarm path's target lies, coarse ones above.
_DELIVERY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
    1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0,
)  # fmt: skip


class Metrics:
    """Built by ``bootstrap()``; a registry per app keeps tests independent."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_request_seconds = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.events_produced = Counter(
            "events_produced_total", "Events published to Kafka", ["topic"], registry=self.registry
        )
        self.events_consumed = Counter(
            "events_consumed_total",
            "Events consumed, by outcome: applied, duplicate (already applied) "
            "or skipped (not for this service)",
            ["topic", "outcome"],
            registry=self.registry,
        )
        self.events_failed = Counter(
            "events_failed_total",
            "Handler attempts that raised",
            ["topic"],
            registry=self.registry,
        )
        self.events_dead_lettered = Counter(
            "events_dead_lettered_total",
            "Events sent to <topic>.dlq",
            ["topic"],
            registry=self.registry,
        )
        self.consumer_batch_seconds = Histogram(
            "consumer_batch_duration_seconds",
            "Time to apply one fetch's batch of a topic (inbox, handler, commit), by topic",
            ["topic"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        # How old an event is when its consumer receives it: from the producing
        # service's emit (the CloudEvent's time, inside the producer's transaction)
        # through the outbox relay and Kafka to this service. Clocks of two hosts
        # enter it; on one host (or NTP-synchronised ones) it is the delivery delay.
        self.event_age_seconds = Histogram(
            "event_age_at_receipt_seconds",
            "Time from an event's CloudEvent time to its receipt by this consumer, by topic",
            ["topic"],
            registry=self.registry,
            buckets=_DELIVERY_BUCKETS,
        )
        self.consumer_lag = Gauge(
            "consumer_lag_messages",
            "High-water mark minus committed position per partition",
            ["topic", "partition"],
            registry=self.registry,
        )
        # From the start of the transaction that wrote an outbox row (its created_at)
        # to the broker's acknowledgement of it: the outbox's share of an event's age.
        self.outbox_publish_delay = Histogram(
            "outbox_publish_delay_seconds",
            "Time from an outbox row's transaction to the broker's acknowledgement, by topic",
            ["topic"],
            registry=self.registry,
            buckets=_DELIVERY_BUCKETS,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog_events", "Outbox rows not yet published", registry=self.registry
        )
        self.outbox_failing = Gauge(
            "outbox_failing_events",
            "Unpublished outbox rows whose publication failed at least once (alert on this)",
            registry=self.registry,
        )
