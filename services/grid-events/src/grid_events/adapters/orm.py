"""Tables of grid-events' own database."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import Column, DateTime, ForeignKey, Index, MetaData, String, Table, func

metadata = MetaData()

grid_cells = Table(
    "grid_cells",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("level", String(16), nullable=False),  # district, town, village, cell
    Column("parent_id", String(64), ForeignKey("grid_cells.id"), nullable=True),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
    Index("ix_grid_cells_geom", "geom", postgresql_using="gist"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("category", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("department", String(64), nullable=True),
    Column("cell_id", String(64), ForeignKey("grid_cells.id"), nullable=True),
    Column("source_kind", String(32), nullable=False),
    Column("source_ref", String(64), nullable=False),
    Column("description", String(2000), nullable=True),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_cases_location", "location", postgresql_using="gist"),
    Index("ix_cases_source", "source_kind", "source_ref"),
    Index("ix_cases_status_category", "status", "category"),
)
