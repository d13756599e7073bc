"""Practitioners as records: name, role, PIN hash; who performed, signed and amended a session.

Revision ID: 0004
Revises: 0002

The printed names stay in ``treatment_session.practitioner``, ``signed_by`` and
``session_amendment.amended_by`` (a signature shows them as signed); the new id columns link
each to the practitioner record whose PIN confirmed it. Rows from before stay without a link.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import injector.storage.types

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the practitioner table and the links to it."""
    op.create_table(
        "practitioner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("pin_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_practitioner_name"),
    )
    with op.batch_alter_table("treatment_session") as batch_op:
        batch_op.add_column(sa.Column("practitioner_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("signed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_treatment_session_practitioner_id", "practitioner", ["practitioner_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_treatment_session_signed_by_id", "practitioner", ["signed_by_id"], ["id"]
        )
    with op.batch_alter_table("session_amendment") as batch_op:
        batch_op.add_column(sa.Column("amended_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_session_amendment_amended_by_id", "practitioner", ["amended_by_id"], ["id"]
        )


def downgrade() -> None:
    """Drop the links and the table."""
    with op.batch_alter_table("session_amendment") as batch_op:
        batch_op.drop_constraint("fk_session_amendment_amended_by_id", type_="foreignkey")
        batch_op.drop_column("amended_by_id")
    with op.batch_alter_table("treatment_session") as batch_op:
        batch_op.drop_constraint("fk_treatment_session_signed_by_id", type_="foreignkey")
        batch_op.drop_constraint("fk_treatment_session_practitioner_id", type_="foreignkey")
        batch_op.drop_column("signed_by_id")
        batch_op.drop_column("practitioner_id")
    op.drop_table("practitioner")
