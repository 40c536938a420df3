"""Kafka messaging on aiokafka: producer, transactional outbox relay, consumer runner."""

from city_common.messaging.consumer import ConsumerRunner, Delivery, Subscription
from city_common.messaging.outbox import OutboxRelay
from city_common.messaging.producer import KafkaPublisher
from city_common.messaging.topics import ensure_topics

__all__ = [
    "ConsumerRunner",
    "Delivery",
    "KafkaPublisher",
    "OutboxRelay",
    "Subscription",
    "ensure_topics",
]
