"""Tables of health-record's own database."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

facilities = Table(
    "facilities",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("level", String(16), nullable=False),  # tertiary, secondary, primary, kiosk
    Column("emergency_beds", Integer, nullable=False),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_facilities_location", "location", postgresql_using="gist"),
    Index("ix_facilities_level", "level"),
)

# Distances are geodesic (geography); this index serves ST_DWithin on geography.
Index(
    "ix_facilities_geography",
    func.geography(facilities.c.location),
    postgresql_using="gist",
)

readiness_notices = Table(
    "readiness_notices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("alarm_id", String(64), nullable=False),
    Column("facility_id", String(64), ForeignKey("facilities.id"), nullable=False),
    Column("distance_m", Float, nullable=False),
    Column("danger_level", SmallInteger, nullable=False),
    Column("alarm_location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("status", String(8), nullable=False),  # open, closed
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_because", String(16), nullable=True),  # the alarm's final state
    UniqueConstraint("alarm_id", "facility_id", name="uq_readiness_notices_alarm_facility"),
    Index("ix_readiness_notices_facility_status", "facility_id", "status"),
)

# Written in the transaction of the access it records: no access without its record.
access_audit = Table(
    "access_audit",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Text: whatever a valid token names must be recordable, or the access fails.
    Column("subject", Text, nullable=False),
    Column("roles", ARRAY(Text), nullable=False),
    Column("action", String(16), nullable=False),
    Column("resource", String(32), nullable=False),
    Column("resource_id", Text, nullable=True),
    Column("trace_id", String(32), nullable=False),
    Index("ix_access_audit_subject_at", "subject", "at"),
    Index("ix_access_audit_at", "at"),
)
