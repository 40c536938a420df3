"""Outbox and inbox tables, present in every service's own database.

The outbox holds events written in the same transaction as the state change that
caused them; the relay publishes them. The inbox holds the ids of events whose
effect a consumer group has committed, so that a redelivery has no second effect.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

messaging_metadata = MetaData()

outbox = Table(
    "outbox",
    messaging_metadata,
    # The bigserial id is the publication order; per key, the relay never
    # publishes a row while an earlier row of that key is unpublished.
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("topic", String(249), nullable=False),
    Column("key", String(256), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # After a failed publication the row waits (exponential backoff) before the
    # relay tries its key again, so one undeliverable event holds back only its key.
    Column("available_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text, nullable=True),
    Index(
        "ix_outbox_pending_key",
        "key",
        "id",
        postgresql_where=text("published_at IS NULL"),
    ),
    Index("ix_outbox_published_at", "published_at"),
)

inbox = Table(
    "inbox",
    messaging_metadata,
    Column("consumer_group", String(128), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("topic", String(249), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer_group", "event_id", name="pk_inbox"),
)
