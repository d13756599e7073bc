"""Keyed audit trail: each entry may carry the keyed state of the records it vouches for.

Revision ID: 0006
Revises: 0002

``audit_entry.state`` holds, as canonical JSON, HMAC digests of every field of the record(s)
an entry touched, as they stood when its transaction committed (see
``injector.storage.audit_state``). ``injector audit verify`` compares them with the rows as
they are now, so a record edited directly in the database is found. Older entries have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column (adding a column fires no row trigger, so append-only still holds)."""
    op.add_column("audit_entry", sa.Column("state", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("state")
