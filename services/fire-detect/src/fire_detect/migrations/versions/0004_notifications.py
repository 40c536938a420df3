"""Notification subscriptions, channels and delivery records.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_subscriptions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("person", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("area", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("min_danger_level", sa.SmallInteger, nullable=True),
        sa.Column("alarm_statuses", ARRAY(sa.String(16)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('webhook', 'sms')", name="ck_notification_subscriptions_channel"
        ),
        sa.CheckConstraint(
            "min_danger_level BETWEEN 1 AND 5", name="ck_notification_subscriptions_min_danger"
        ),
        sa.CheckConstraint(
            "cardinality(alarm_statuses) > 0", name="ck_notification_subscriptions_statuses"
        ),
    )
    op.create_index(
        "ix_notification_subscriptions_area",
        "notification_subscriptions",
        ["area"],
        postgresql_using="gist",
    )
    op.create_index("ix_notification_subscriptions_role", "notification_subscriptions", ["role"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "alarm_id",
            sa.String(64),
            sa.ForeignKey("fire_alarms.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "subscription_id",
            sa.String(64),
            sa.ForeignKey("notification_subscriptions.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("alarm_status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("message", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "alarm_id",
            "subscription_id",
            "alarm_status",
            name="uq_notification_deliveries_alarm_subscription_status",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'gave_up')",
            name="ck_notification_deliveries_status",
        ),
    )
    op.create_index(
        "ix_notification_deliveries_due", "notification_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_notification_deliveries_subscription", "notification_deliveries", ["subscription_id"]
    )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_table("notification_subscriptions")
