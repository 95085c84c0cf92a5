"""applications: one row per person applying to a trial, unique per (trial, fingerprint)

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("trial", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("prescreen_result", sa.String(20), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("trial", "fingerprint", name="uq_applications_trial_fingerprint"),
    )
    op.create_index("ix_applications_trial", "applications", ["trial"])


def downgrade() -> None:
    op.drop_index("ix_applications_trial", table_name="applications")
    op.drop_table("applications")
