"""Tables of grid-events' own database."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
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
from sqlalchemy.dialects.postgresql import JSONB

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
    # The hierarchy is walked down (a subtree for the map, children for export).
    Index("ix_grid_cells_parent", "parent_id"),
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
    # De-duplication: how many reports the case holds, and when the latest came.
    Column("report_count", Integer, nullable=False, server_default=text("1")),
    Column("last_reported_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Workflow: priority 1 (most urgent) to 4 sets the due time; who holds the case
    # (a department, optionally one grid worker); how far up the hierarchy it has
    # been escalated; when it was resolved and closed.
    Column("priority", SmallInteger, nullable=False, server_default=text("3")),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("assignee_worker_id", String(64), nullable=True),
    Column("escalation_level", SmallInteger, nullable=False, server_default=text("0")),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Index("ix_cases_location", "location", postgresql_using="gist"),
    Index("ix_cases_due", "due_at", postgresql_where=text("closed_at IS NULL")),
    Index("ix_cases_opened_at", "opened_at"),
    Index("ix_cases_source", "source_kind", "source_ref"),
    Index("ix_cases_status_category", "status", "category"),
    # The map and the statistics of one area's subtree.
    Index("ix_cases_cell_opened", "cell_id", "opened_at"),
)

# Every report of an incident: the one that opened its case and those merged into
# it. An automatic source's report is closed when its incident clears.
case_reports = Table(
    "case_reports",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("case_id", String(64), ForeignKey("cases.id"), nullable=False),
    Column("source_kind", String(32), nullable=False),
    Column("source_ref", String(64), nullable=False),
    Column("description", String(2000), nullable=True),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Index("ix_case_reports_case", "case_id"),
    Index("ix_case_reports_source", "source_kind", "source_ref"),
)

# --- workflow: departments, grid workers, dispatch rules, the lifecycle ---------------

# A department sits at one level of the hierarchy: a district bureau (area NULL:
# the whole district) or a town's station. One department of a kind per area, so
# the same kind one area up is its superior (the vertical link) and the other
# kinds of the same area are its peers (the horizontal one).
departments = Table(
    "departments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("area_id", String(64), ForeignKey("grid_cells.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(
        "uq_departments_kind_area",
        "kind",
        "area_id",
        unique=True,
        postgresql_nulls_not_distinct=True,
    ),
)

# Grid workers' names and phones are personal data: sealed and masked like residents'.
# The id is the subject of the worker's login, so a worker acts on their own cases.
grid_workers = Table(
    "grid_workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name_ciphertext", LargeBinary, nullable=False),
    Column("name_masked", String(64), nullable=False),
    Column("phone_ciphertext", LargeBinary, nullable=True),
    Column("phone_masked", String(32), nullable=True),
    Column("role", String(16), nullable=False),
    Column("duty_status", String(16), nullable=False, server_default=text("'off_duty'")),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_grid_workers_role_duty", "role", "duty_status"),
)

# The cells a worker covers (a leader: the village or town they lead).
grid_worker_areas = Table(
    "grid_worker_areas",
    metadata,
    Column("worker_id", String(64), ForeignKey("grid_workers.id"), primary_key=True),
    Column("area_id", String(64), ForeignKey("grid_cells.id"), primary_key=True),
    Index("ix_grid_worker_areas_area", "area_id"),
)

# Category ("*": any) and area (NULL: anywhere; else that node's subtree) to a
# department, a priority, and optionally the cell's on-duty worker.
dispatch_rules = Table(
    "dispatch_rules",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("category", String(64), nullable=False),
    Column("area_id", String(64), ForeignKey("grid_cells.id"), nullable=True),
    Column("priority", SmallInteger, nullable=False),
    Column("department_id", String(64), ForeignKey("departments.id"), nullable=False),
    Column("assign_cell_worker", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(
        "uq_dispatch_rules_category_area",
        "category",
        "area_id",
        unique=True,
        postgresql_nulls_not_distinct=True,
    ),
)

# Every step of a case's lifecycle, escalations included: who, when, from and to
# which status, who held the case after it. ``missed_due_at`` is the due time an
# escalation answered: unique per case, so no due time escalates twice.
case_transitions = Table(
    "case_transitions",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("case_id", String(64), ForeignKey("cases.id"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(32), nullable=True),
    Column("to_status", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", String(1000), nullable=True),
    Column("department", String(64), nullable=True),
    Column("assignee_worker_id", String(64), nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("missed_due_at", DateTime(timezone=True), nullable=True),
    Index("ix_case_transitions_case", "case_id", "id"),
    Index(
        "uq_case_transitions_escalation",
        "case_id",
        "missed_due_at",
        unique=True,
        postgresql_where=text("missed_due_at IS NOT NULL"),
    ),
)

# --- base data: collect once, share everywhere -------------------------------------

# Identity numbers, names and phone numbers are never stored in the clear: a keyed
# HMAC pseudonym for lookup, AES-256-GCM envelopes for recovery by an admin, and
# the masked forms every response shows. ``fingerprint`` is a keyed digest of the
# whole record, so a re-import can tell "unchanged" without decrypting.
residents = Table(
    "residents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("cell_id", String(64), ForeignKey("grid_cells.id"), nullable=False),
    Column("id_hmac", LargeBinary(32), nullable=False),
    Column("id_ciphertext", LargeBinary, nullable=False),
    Column("id_masked", String(18), nullable=False),
    Column("name_ciphertext", LargeBinary, nullable=False),
    Column("name_masked", String(64), nullable=False),
    Column("phone_ciphertext", LargeBinary, nullable=True),
    Column("phone_masked", String(32), nullable=True),
    Column("sex", String(8), nullable=False),
    Column("birth_year", SmallInteger, nullable=False),
    Column("residence", String(16), nullable=False),
    Column("address", String(256), nullable=True),
    Column("fingerprint", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("id_hmac", name="uq_residents_id_hmac"),
    Index("ix_residents_cell", "cell_id"),
)

housing = Table(
    "housing",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("cell_id", String(64), ForeignKey("grid_cells.id"), nullable=False),
    Column("address", String(256), nullable=False),
    Column("use", String(16), nullable=False),
    Column("floors", SmallInteger, nullable=True),
    Column("area_m2", Float, nullable=True),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
    Column("fingerprint", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("address", name="uq_housing_address"),
    Index("ix_housing_cell", "cell_id"),
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("cell_id", String(64), ForeignKey("grid_cells.id"), nullable=False),
    Column("name", String(256), nullable=False),
    Column("uscc", String(18), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("address", String(256), nullable=True),
    Column("employees", Integer, nullable=True),
    Column("fingerprint", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The natural key: the credit code where there is one, else the name in its cell.
    # Unique indexes treat NULLs as distinct: every organisation without a code fits.
    Index("uq_organisations_uscc", "uscc", unique=True),
    Index(
        "uq_organisations_name_cell",
        "name",
        "cell_id",
        unique=True,
        postgresql_where=text("uscc IS NULL"),
    ),
    Index("ix_organisations_cell", "cell_id"),
)

# Who recovered or looked up whose identity: written in the same transaction as the read.
pii_access_audit = Table(
    "pii_access_audit",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("subject", String(128), nullable=False),
    Column("roles", String(256), nullable=False),
    Column("action", String(32), nullable=False),
    Column("resident_id", String(64), nullable=True),
    Column("trace_id", String(32), nullable=True),
    Index("ix_pii_access_audit_at", "at"),
    Index("ix_pii_access_audit_resident", "resident_id"),
)

# --- Open311 GeoReport v2 ------------------------------------------------------------

# Partner systems' keys for posting requests. Keys are random 256-bit tokens, so
# one SHA-256 is enough to store them: there is no dictionary to try.
open311_api_keys = Table(
    "open311_api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("key_hash", name="uq_open311_api_keys_key_hash"),
)

# One posted request; its case is where the city works on it. The reporter's
# contact details are sealed (AES-GCM) and never shown through Open311.
service_requests = Table(
    "service_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("token", String(64), nullable=False),
    Column("case_id", String(64), ForeignKey("cases.id"), nullable=False),
    Column("service_code", String(64), nullable=False),
    Column("api_key_id", String(64), ForeignKey("open311_api_keys.id"), nullable=False),
    Column("description", String(4000), nullable=True),
    Column("address", String(256), nullable=True),
    Column("address_id", String(64), nullable=True),
    Column("media_url", String(2048), nullable=True),
    Column("attributes", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("location", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    Column("contact_ciphertext", LargeBinary, nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("token", name="uq_service_requests_token"),
    Index("ix_service_requests_requested_at", "requested_at"),
    Index("ix_service_requests_case", "case_id"),
)

# --- disputes (mediated by the grid) ------------------------------------------------

disputes = Table(
    "disputes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("cell_id", String(64), ForeignKey("grid_cells.id"), nullable=False),
    Column("summary", String(2000), nullable=False),
    Column("mediator_id", String(64), nullable=True),
    Column("registered_by", String(128), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The outcome: an agreement (text, date) or a referral (to whom, why, date).
    Column("outcome", String(16), nullable=True),
    Column("outcome_on", Date, nullable=True),
    Column("agreement_text", String(4000), nullable=True),
    Column("referred_to", String(16), nullable=True),
    Column("referred_body", String(128), nullable=True),
    Column("referral_reason", String(2000), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Index("ix_disputes_status_kind", "status", "kind"),
    Index("ix_disputes_cell", "cell_id"),
    Index("ix_disputes_registered_at", "registered_at"),
)

# Parties' names and phones are personal data: sealed for recovery, masked for show.
dispute_parties = Table(
    "dispute_parties",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name_ciphertext", LargeBinary, nullable=False),
    Column("name_masked", String(64), nullable=False),
    Column("phone_ciphertext", LargeBinary, nullable=True),
    Column("phone_masked", String(32), nullable=True),
    Index("ix_dispute_parties_dispute", "dispute_id"),
)

dispute_sessions = Table(
    "dispute_sessions",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id", ondelete="CASCADE"), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("mediator_id", String(64), nullable=False),
    Column("notes", String(4000), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_dispute_sessions_dispute", "dispute_id"),
)

dispute_follow_ups = Table(
    "dispute_follow_ups",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("dispute_id", String(64), ForeignKey("disputes.id", ondelete="CASCADE"), nullable=False),
    Column("followed_up_on", Date, nullable=False),
    Column("note", String(2000), nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_dispute_follow_ups_dispute", "dispute_id"),
)
