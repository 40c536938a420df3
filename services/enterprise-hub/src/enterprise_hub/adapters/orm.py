"""Tables of enterprise-hub's own database."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

enterprises = Table(
    "enterprises",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    # GB 32100-2015: one code per legal entity, so one row per code.
    Column("credit_code", String(18), nullable=False, unique=True),
    Column("industry", String(64), nullable=False),
    Column("size", String(8), nullable=False),  # micro, small, medium, large
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_enterprises_location", "location", postgresql_using="gist"),
    Index("ix_enterprises_industry", "industry"),
)

# Distances are geodesic (geography); this index serves ST_DWithin on geography.
Index("ix_enterprises_geography", func.geography(enterprises.c.location), postgresql_using="gist")

policies = Table(
    "policies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(256), nullable=False),
    Column("department", String(128), nullable=False),
    # Empty: the policy applies to every industry.
    Column("industries", ARRAY(String(64)), nullable=False),
    Column("summary", Text, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_policies_industries", "industries", postgresql_using="gin"),
)

compliance_notices = Table(
    "compliance_notices",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("enterprise_id", String(64), ForeignKey("enterprises.id"), nullable=False),
    Column("exceedance_id", String(64), nullable=False),
    Column("cell_id", String(64), nullable=False),
    Column("medium", String(8), nullable=False),
    Column("pollutant", String(32), nullable=False),
    Column("concentration", Float, nullable=False),
    Column("limit", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("observed_hour", DateTime(timezone=True), nullable=False),
    Column("distance_m", Float, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("exceedance_id", "enterprise_id", name="uq_compliance_notices_exceedance"),
    Index("ix_compliance_notices_enterprise", "enterprise_id", "issued_at"),
)
