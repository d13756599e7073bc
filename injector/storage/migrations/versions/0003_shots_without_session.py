"""Keep a gun's shots that belong to no session.

Revision ID: 0003
Revises: 0002

A session owns the shots fired after it opened. Shots the gun fired before (priming, a test
into the air, shots before Start was pressed) are still stored, so that nothing the gun sent
is lost, but with no session until the practitioner includes them in one: ``shot.session_id``
becomes nullable.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Let ``shot.session_id`` be NULL."""
    with op.batch_alter_table("shot", schema=None) as batch_op:
        batch_op.alter_column("session_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Refuse NULL again; shots of no session are deleted first, as the old schema had none."""
    op.execute("DELETE FROM shot WHERE session_id IS NULL")
    with op.batch_alter_table("shot", schema=None) as batch_op:
        batch_op.alter_column("session_id", existing_type=sa.Integer(), nullable=False)
