"""Keyed audit trail: the keyed state of the records each entry vouches for, and the key's id.

Revision ID: 0006
Revises: 0002

``audit_entry.state`` holds, as canonical JSON, HMAC digests of every field of the record(s)
an entry touched, as they stood when its transaction committed (see
``injector.storage.audit_state``). ``injector audit verify`` compares them with the rows as
they are now, so a record edited directly in the database is found. Older entries have none.
``audit_key`` records the public id of the clinic key the chain is keyed with, so a room
opening a shared database with another key is refused instead of forking the chain.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import injector.storage.types

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column (adding a column fires no row trigger, so append-only still holds)."""
    op.add_column("audit_entry", sa.Column("state", sa.Text(), nullable=True))
    op.create_table(
        "audit_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", injector.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Drop the table and the column."""
    op.drop_table("audit_key")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("state")
