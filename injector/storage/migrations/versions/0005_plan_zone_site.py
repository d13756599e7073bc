"""Plan zones gain an optional anatomical site (where the zone sits on the body).

Revision ID: 0005
Revises: 0002

Nullable, with no default: zones of existing plans were never placed, and the report lists
them beside its map rather than guessing where they belong.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``plan_zone.site``."""
    with op.batch_alter_table("plan_zone", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    """Drop ``plan_zone.site``."""
    with op.batch_alter_table("plan_zone", schema=None) as batch_op:
        batch_op.drop_column("site")
