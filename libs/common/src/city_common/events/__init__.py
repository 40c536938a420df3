"""The event contract: CloudEvents envelope and the registry of cross-service events."""

from city_common.events.envelope import CloudEvent, EnvelopeError
from city_common.events.registry import EVENTS, TOPICS, EventSpec, spec_for_type

__all__ = ["EVENTS", "TOPICS", "CloudEvent", "EnvelopeError", "EventSpec", "spec_for_type"]
