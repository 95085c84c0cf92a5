"""site workspace: users, trials, sessions, candidates, record resources, screenings, decisions, audit

The audit table is append-only in the database itself: triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL), so not even a bug in the application can rewrite history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint("role in ('admin', 'coordinator', 'investigator')", name="ck_site_users_role"),
    )
    op.create_table(
        "site_user_trials",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("site_users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("trial", sa.String(16), primary_key=True),
    )
    op.create_table(
        "site_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("site_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_index("ix_site_sessions_user_id", "site_sessions", ["user_id"])
    op.create_table(
        "site_candidates",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("trial", sa.String(16), nullable=False),
        sa.Column("application_id", sa.String(36), sa.ForeignKey("applications.id"), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("application_id", name="uq_site_candidates_application"),
    )
    op.create_index("ix_site_candidates_trial", "site_candidates", ["trial"])
    op.create_table(
        "site_resources",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("candidate_id", sa.String(36), sa.ForeignKey("site_candidates.id"), nullable=False),
        sa.Column("upload", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("site_users.id"), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_site_resources_candidate_id", "site_resources", ["candidate_id"])
    op.create_table(
        "site_screenings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("candidate_id", sa.String(36), sa.ForeignKey("site_candidates.id"), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("eligible_from", sa.Date(), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("site_users.id"), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_site_screenings_candidate_id", "site_screenings", ["candidate_id"])
    op.create_table(
        "site_decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("candidate_id", sa.String(36), sa.ForeignKey("site_candidates.id"), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("site_screenings.id"), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("site_users.id"), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint(
            "decision in ('enrolled', 'screen_failure', 'withdrawn')", name="ck_site_decisions_decision"
        ),
    )
    op.create_index("ix_site_decisions_candidate_id", "site_decisions", ["candidate_id"])
    op.create_table(
        "site_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("trial", sa.String(16), nullable=True),
        sa.Column("candidate_id", sa.String(36), nullable=True),
        sa.Column("application_id", sa.String(36), nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
    )
    op.create_index("ix_site_audit_at", "site_audit", ["at"])
    op.create_index("ix_site_audit_candidate_id", "site_audit", ["candidate_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER site_audit_no_{verb.lower()} BEFORE {verb} ON site_audit "
                "BEGIN SELECT RAISE(ABORT, 'site_audit is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION site_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'site_audit is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER site_audit_no_change BEFORE UPDATE OR DELETE ON site_audit "
            "FOR EACH ROW EXECUTE FUNCTION site_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER site_audit_no_truncate BEFORE TRUNCATE ON site_audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION site_audit_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS site_audit_no_truncate ON site_audit")
        op.execute("DROP TRIGGER IF EXISTS site_audit_no_change ON site_audit")
        op.execute("DROP FUNCTION IF EXISTS site_audit_append_only()")
    for table in (
        "site_audit",
        "site_decisions",
        "site_screenings",
        "site_resources",
        "site_candidates",
        "site_sessions",
        "site_user_trials",
        "site_users",
    ):
        op.drop_table(table)
