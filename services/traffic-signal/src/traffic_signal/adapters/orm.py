"""Tables of traffic-signal's own database."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
    func,
)

metadata = MetaData()

intersections = Table(
    "intersections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    # Independently timed movements of the controller (NEMA-style signal groups).
    Column("signal_groups", SmallInteger, nullable=False),
    # The green-wave road the intersection is coordinated along, if any.
    Column("corridor_id", String(64), nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("signal_groups BETWEEN 1 AND 32", name="ck_intersections_signal_groups"),
    Index("ix_intersections_location", "location", postgresql_using="gist"),
    Index("ix_intersections_corridor", "corridor_id"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("severity", SmallInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("intersection_id", String(64), ForeignKey("intersections.id"), nullable=True),
    Column("reported_by", String(128), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("cleared_at", DateTime(timezone=True), nullable=True),
    Column("cleared_by", String(128), nullable=True),
    # The grid case that grid-events opened for the incident, as it last reported it.
    Column("case_id", String(64), nullable=True),
    Column("case_status", String(32), nullable=True),
    Column("case_updated_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("severity BETWEEN 1 AND 5", name="ck_incidents_severity"),
    Index("ix_incidents_location", "location", postgresql_using="gist"),
    Index("ix_incidents_status_detected", "status", "detected_at"),
    Index("ix_incidents_intersection", "intersection_id"),
)
