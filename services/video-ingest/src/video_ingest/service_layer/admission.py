"""Admission of pushed frames: the slots (domain/admission.py), and which cameras have
priority, known in the process so that refusing a frame costs no database query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import Counter

from city_common.db.uow import UnitOfWork
from video_ingest.adapters import repository as repo
from video_ingest.domain.admission import FrameAdmission


@dataclass
class PriorityCameras:
    """The ids of the cameras whose frames go first (forest cameras: fire watch).

    Loaded from the registry at startup and again every few seconds (cameras are
    registered on any replica), and told of each camera this process registers or
    takes a frame from. A camera not yet known is taken as without priority, which
    matters only while the process is at capacity, and only until the next refresh.
    """

    kinds: frozenset[str]
    ids: set[str] = field(default_factory=set)

    def has(self, camera_id: str) -> bool:
        return camera_id in self.ids

    def note(self, camera_id: str, kind: str) -> None:
        if kind in self.kinds:
            self.ids.add(camera_id)
        else:
            self.ids.discard(camera_id)

    def replace(self, ids: Iterable[str]) -> None:
        self.ids = set(ids)

    async def refresh(self, uow: UnitOfWork) -> None:
        self.replace(await repo.camera_ids_of_kinds(uow.session, sorted(self.kinds)))


@dataclass
class FrameGate:
    """What the frame endpoint asks before it takes a frame."""

    admission: FrameAdmission
    priorities: PriorityCameras
    shed: Counter

    def try_enter(self, camera_id: str) -> bool:
        priority = self.priorities.has(camera_id)
        if self.admission.try_enter(priority=priority):
            return True
        self.shed.labels(priority="yes" if priority else "no").inc()
        return False

    def leave(self) -> None:
        self.admission.leave()
