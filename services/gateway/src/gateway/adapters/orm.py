"""The gateway's own data: the audit trail of changes made through the public API."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, func

metadata = MetaData()

api_audit = Table(
    "api_audit",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("subject", String(128), nullable=False),
    Column("roles", String(256), nullable=False),
    Column("method", String(8), nullable=False),
    Column("service", String(64), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("status", Integer, nullable=False),
    Column("trace_id", String(32), nullable=True),
    Index("ix_api_audit_subject_at", "subject", "at"),
)
