"""Which pushed frames are taken when video-ingest is at capacity.

A frame costs a request, a transaction and an outbox row carrying the image. When
more arrive than the process can take (a deployment sized for fewer cameras, a
replica down, a burst after a network outage), queueing them all would delay every
frame alike, the forest cameras' too, and with them the fire alarms: a fire-watch
frame is the one whose delay matters. So the frames in flight are bounded, and
frames of cameras without priority (traffic, public safety) are refused first:
they may use only part of the slots, and the rest stays free for priority cameras.
A refused frame is answered at once (503, Retry-After) and costs little; the
camera's next frame comes a second later anyway.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class FrameAdmission:
    """Slots for frames in flight in one process (one event loop: no lock needed)."""

    max_in_flight: int
    max_low_priority: int
    in_flight: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.max_low_priority <= self.max_in_flight:
            raise ValueError("need 1 <= max_low_priority <= max_in_flight")

    def try_enter(self, *, priority: bool) -> bool:
        """Take a slot for a frame; False when it must be refused."""
        limit = self.max_in_flight if priority else self.max_low_priority
        if self.in_flight >= limit:
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        """Give back the slot of a frame that was answered."""
        if self.in_flight <= 0:
            raise RuntimeError("leave() without a slot taken")
        self.in_flight -= 1
