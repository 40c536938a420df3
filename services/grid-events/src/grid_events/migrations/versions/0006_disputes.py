"""Administrative hierarchy extras, disputes and command-centre views.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_grid_cells_parent", "grid_cells", ["parent_id"])
    op.create_index("ix_cases_cell_opened", "cases", ["cell_id", "opened_at"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cell_id", sa.String(64), sa.ForeignKey("grid_cells.id"), nullable=False),
        sa.Column("summary", sa.String(2000), nullable=False),
        sa.Column("mediator_id", sa.String(64), nullable=True),
        sa.Column("registered_by", sa.String(128), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("outcome_on", sa.Date, nullable=True),
        sa.Column("agreement_text", sa.String(4000), nullable=True),
        sa.Column("referred_to", sa.String(16), nullable=True),
        sa.Column("referred_body", sa.String(128), nullable=True),
        sa.Column("referral_reason", sa.String(2000), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_disputes_status_kind", "disputes", ["status", "kind"])
    op.create_index("ix_disputes_cell", "disputes", ["cell_id"])
    op.create_index("ix_disputes_registered_at", "disputes", ["registered_at"])
    op.create_table(
        "dispute_parties",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "dispute_id",
            sa.String(64),
            sa.ForeignKey("disputes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("name_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("name_masked", sa.String(64), nullable=False),
        sa.Column("phone_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("phone_masked", sa.String(32), nullable=True),
    )
    op.create_index("ix_dispute_parties_dispute", "dispute_parties", ["dispute_id"])
    op.create_table(
        "dispute_sessions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "dispute_id",
            sa.String(64),
            sa.ForeignKey("disputes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("mediator_id", sa.String(64), nullable=False),
        sa.Column("notes", sa.String(4000), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_dispute_sessions_dispute", "dispute_sessions", ["dispute_id"])
    op.create_table(
        "dispute_follow_ups",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "dispute_id",
            sa.String(64),
            sa.ForeignKey("disputes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("followed_up_on", sa.Date, nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("ix_dispute_follow_ups_dispute", "dispute_follow_ups", ["dispute_id"])


def downgrade() -> None:
    op.drop_table("dispute_follow_ups")
    op.drop_table("dispute_sessions")
    op.drop_table("dispute_parties")
    op.drop_table("disputes")
    op.drop_index("ix_cases_cell_opened", table_name="cases")
    op.drop_index("ix_grid_cells_parent", table_name="grid_cells")
