"""Tables of fire-detect's own database."""

from __future__ import annotations

from geoalchemy2 import Geography, Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
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
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()

# Geography, not geometry: the one question asked of these is "how many metres
# away", and a geography index answers nearest-first (<->) in metres directly.
forest_resources = Table(
    "forest_resources",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("location", Geography("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # From a GeoJSON import: what kind of hazard (village, fuel_depot, power_line...), the
    # feature's other properties as given, and its full shape (a road's line, a
    # compartment's polygon); ``location`` then holds a point on that shape.
    Column("subtype", String(32), nullable=True),
    Column("properties", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("shape", Geography("GEOMETRY", srid=4326, spatial_index=False), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Index("ix_forest_resources_location", "location", postgresql_using="gist"),
    Index("ix_forest_resources_shape", "shape", postgresql_using="gist"),
    Index("ix_forest_resources_kind", "kind"),
)

fire_alarms = Table(
    "fire_alarms",
    metadata,
    Column("id", String(64), primary_key=True),
    # flame, smoke, flame_and_smoke (from frames) or reported (by a ranger)
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("uncertainty_m", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("danger_level", SmallInteger, nullable=False),
    Column("camera_id", String(64), nullable=True),
    Column("reported_by", String(128), nullable=True),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # A camera's alarm: the bearing it was seen along, from where, how wide, and the
    # area that leaves open (a wedge; a small area once a second camera crossed it).
    Column("bearing_deg", Float, nullable=True),
    Column("bearing_half_width_deg", Float, nullable=True),
    Column("camera_location", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
    Column("area", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=True),
    # Where in the frame, in the frame's pixels: {"x", "y", "w", "h", "width", "height"}.
    Column("evidence", JSONB, nullable=True),
    Column("crossed_by_camera_id", String(64), nullable=True),
    # Set when raised (and again when a second camera moves it): the nearest forest
    # resources of each kind and the response plan drawn from them (domain/response.py).
    Column("resources", JSONB, nullable=True),
    Column("plan", JSONB, nullable=True),
    CheckConstraint("danger_level BETWEEN 1 AND 5", name="ck_fire_alarms_danger_level"),
    CheckConstraint("confidence >= 0 AND confidence <= 1", name="ck_fire_alarms_confidence"),
    Index("ix_fire_alarms_location", "location", postgresql_using="gist"),
    Index("ix_fire_alarms_status_raised", "status", "raised_at"),
    # The alarm list filtered by time alone, and the KPIs of a period.
    Index("ix_fire_alarms_raised", "raised_at"),
)

# Every status an alarm took, who moved it there and why: the alarm's timeline.
alarm_transitions = Table(
    "alarm_transitions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "alarm_id",
        String(64),
        ForeignKey("fire_alarms.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("note", String(2000), nullable=True),
    Index("ix_alarm_transitions_alarm", "alarm_id", "id"),
)

# The image of the frame that raised a camera's alarm, as the camera sent it.
alarm_frames = Table(
    "alarm_frames",
    metadata,
    Column(
        "alarm_id",
        String(64),
        ForeignKey("fire_alarms.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("content_type", String(32), nullable=False),
    Column("image", LargeBinary, nullable=False),
    Column("captured_at", DateTime(timezone=True), nullable=False),
)

# What the frame stream has shown of each camera; detection builds on it.
frame_stats = Table(
    "frame_stats",
    metadata,
    Column("camera_id", String(64), primary_key=True),
    Column("camera_kind", String(32), nullable=False),
    Column("frames_seen", BigInteger, nullable=False),
    Column("last_frame_at", DateTime(timezone=True), nullable=False),
    Column("last_pan_deg", Float, nullable=False),
    Column("last_content_type", String(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Where each forest camera stands and how wide it sees: what a bearing needs.
camera_views = Table(
    "camera_views",
    metadata,
    Column("camera_id", String(64), primary_key=True),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("hfov_deg", Float, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("hfov_deg > 0 AND hfov_deg < 180", name="ck_camera_views_hfov"),
)

# The sequence tracker of each camera pose (pan/tilt preset): what it saw lately, as
# JSON, so that a restart or another replica carries on where this one stopped.
pose_tracks = Table(
    "pose_tracks",
    metadata,
    Column("camera_id", String(64), primary_key=True),
    Column("pose", String(32), primary_key=True),
    Column("state", JSONB, nullable=False),
    Column("last_frame_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# One row a day: the noon weather and the FWI System's components it gave.
fire_weather_days = Table(
    "fire_weather_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("temp_c", Float, nullable=False),
    Column("rh_pct", Float, nullable=False),
    Column("wind_kmh", Float, nullable=False),
    Column("rain_24h_mm", Float, nullable=False),
    Column("ffmc", Float, nullable=False),
    Column("dmc", Float, nullable=False),
    Column("dc", Float, nullable=False),
    Column("isi", Float, nullable=False),
    Column("bui", Float, nullable=False),
    Column("fwi", Float, nullable=False),
    Column("danger_level", SmallInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("danger_level BETWEEN 1 AND 5", name="ck_fire_weather_days_danger_level"),
)

# Who hears of which alarms: a person in a role, the area they answer for, and the
# channel and target that reach them (notifications, domain/notify.py).
notification_subscriptions = Table(
    "notification_subscriptions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("person", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("area", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("target", String(2048), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("min_danger_level", SmallInteger, nullable=True),
    Column("alarm_statuses", ARRAY(String(16)), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("channel IN ('webhook', 'sms')", name="ck_notification_subscriptions_channel"),
    CheckConstraint(
        "min_danger_level BETWEEN 1 AND 5", name="ck_notification_subscriptions_min_danger"
    ),
    CheckConstraint(
        "cardinality(alarm_statuses) > 0", name="ck_notification_subscriptions_statuses"
    ),
    Index("ix_notification_subscriptions_area", "area", postgresql_using="gist"),
    Index("ix_notification_subscriptions_role", "role"),
)

# One message to one subscriber about one step of one alarm, written in the same
# transaction as that step, and worked by the delivery worker until sent or given up.
notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "alarm_id",
        String(64),
        ForeignKey("fire_alarms.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Kept (set to null) when the subscription is deleted: the record of what was sent stays.
    Column(
        "subscription_id",
        String(64),
        ForeignKey("notification_subscriptions.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("alarm_status", String(16), nullable=False),
    # Channel and target as they were when the delivery was made.
    Column("channel", String(16), nullable=False),
    Column("target", String(2048), nullable=False),
    # What is said: the alarm as it was at this step (domain/notify.py AlarmNotice).
    Column("message", JSONB, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "alarm_id",
        "subscription_id",
        "alarm_status",
        name="uq_notification_deliveries_alarm_subscription_status",
    ),
    CheckConstraint(
        "status IN ('pending', 'sent', 'failed', 'gave_up')",
        name="ck_notification_deliveries_status",
    ),
    # The worker's claim: open deliveries whose next attempt is due.
    Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
    Index("ix_notification_deliveries_subscription", "subscription_id"),
)
