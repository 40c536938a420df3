"""Tables of air-water's own database."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
)

metadata = MetaData()

stations = Table(
    "stations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("medium", String(8), nullable=False),  # air, water
    Column("name", String(128), nullable=False),
    Column("cell_id", String(64), nullable=False),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_stations_location", "location", postgresql_using="gist"),
    Index("ix_stations_medium_cell", "medium", "cell_id"),
)

observations = Table(
    "observations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("station_id", String(64), ForeignKey("stations.id"), nullable=False),
    Column("pollutant", String(32), nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("averaging", String(8), nullable=False),  # 1h, 24h
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A station reports one value per pollutant and period; a resend is a conflict,
    # never a silent second reading.
    UniqueConstraint(
        "station_id", "pollutant", "averaging", "observed_at", name="uq_observations_reading"
    ),
)

exceedances = Table(
    "exceedances",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("station_id", String(64), ForeignKey("stations.id"), nullable=False),
    Column("observation_id", BigInteger, ForeignKey("observations.id"), nullable=False),
    Column("cell_id", String(64), nullable=False),
    Column("medium", String(8), nullable=False),
    Column("pollutant", String(32), nullable=False),
    Column("concentration", Float, nullable=False),
    Column("limit", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("averaging", String(8), nullable=False),
    Column("standard", String(32), nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("status", String(8), nullable=False),  # open, closed
    Column("detected_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("resolution", String(2000), nullable=True),
    Column("closed_by_case", String(64), nullable=True),
    Index("ix_exceedances_location", "location", postgresql_using="gist"),
    Index("ix_exceedances_status_cell", "status", "cell_id"),
)
