"""Tables of video-ingest's own database."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

# Every frame updates its camera's row (last_frame_at, frame_due_by): no index may
# cover those columns, and the pages keep room (fillfactor 70, migration 0004), so
# that the update stays on its page and writes no index entry.
cameras = Table(
    "cameras",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("elevation_m", Float, nullable=False),
    Column("heading_deg", Float, nullable=False),
    Column("hfov_deg", Float, nullable=False),
    # Pan azimuths the camera patrols between, degrees from north.
    Column("presets", ARRAY(Float), nullable=False),
    Column("snapshot_url", String(2048), nullable=True),
    Column("status", String(16), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_frame_at", DateTime(timezone=True), nullable=True),
    # Seconds between frames a pushing camera promises; NULL: it is judged by its
    # cruise if it has a snapshot URL, else never.
    Column("expected_interval_s", Float, nullable=True),
    # Seconds per pose of this camera's cruise; NULL: the service's default.
    Column("cruise_interval_s", Float, nullable=True),
    # Without a frame by then, an online camera goes offline; NULL: never judged.
    Column("frame_due_by", DateTime(timezone=True), nullable=True),
    # The cruise schedule, kept here so that any replica, or a restarted one, carries
    # on where the last poll left off. NULL next_poll_at: not cruised. While a poll is
    # in flight it holds a lease: next_poll_at is pushed past the poll's timeout.
    Column("next_poll_at", DateTime(timezone=True), nullable=True),
    Column("next_preset", SmallInteger, nullable=False, server_default="0"),
    Column("poll_failures", Integer, nullable=False, server_default="0"),
    Column("last_polled_at", DateTime(timezone=True), nullable=True),
    Column("last_poll_error", String(500), nullable=True),
    Column("last_poll_error_at", DateTime(timezone=True), nullable=True),
    # The grid-events cell the camera stands in, by its id there; NULL: none assigned.
    # Not checked against grid-events: the cell is that service's, not ours.
    Column("cell_id", String(64), nullable=True),
    CheckConstraint("heading_deg >= 0 AND heading_deg < 360", name="ck_cameras_heading"),
    CheckConstraint("hfov_deg > 0 AND hfov_deg <= 180", name="ck_cameras_hfov"),
    CheckConstraint("expected_interval_s > 0", name="ck_cameras_expected_interval"),
    CheckConstraint("cruise_interval_s > 0", name="ck_cameras_cruise_interval"),
    Index("ix_cameras_location", "location", postgresql_using="gist"),
    Index("ix_cameras_kind_status", "kind", "status"),
    Index("ix_cameras_next_poll_at", "next_poll_at"),
    Index("ix_cameras_cell_id", "cell_id"),
)

# The latest frame of each camera, served as its snapshot. Replaced on every frame:
# fillfactor 50, and the image stored out of line uncompressed (migration 0004).
camera_frames = Table(
    "camera_frames",
    metadata,
    Column(
        "camera_id",
        String(64),
        ForeignKey("cameras.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("content_type", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("pan_deg", Float, nullable=False),
    Column("captured_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("image", LargeBinary, nullable=False),
)

# Fire alarms raised on a camera's view, as fire-detect announces them.
camera_alarms = Table(
    "camera_alarms",
    metadata,
    Column("alarm_id", String(64), primary_key=True),
    Column(
        "camera_id",
        String(64),
        ForeignKey("cameras.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),
    Column("danger_level", SmallInteger, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_camera_alarms_camera_status", "camera_id", "status"),
)
