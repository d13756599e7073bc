"""Alembic, run from the program: migrations live in this package, no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, text

from injector.storage.errors import DatabaseTooNewError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every program sharing the database.
_PG_MIGRATION_LOCK = 0x1A7EC7


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this program knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every schema revision this program knows."""
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The schema revisions recorded in the database (empty for a new database)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


def migrate_to_head(engine: Engine) -> None:
    """Apply every missing migration in one transaction; refuse a database newer than us.

    Several programs may open a shared PostgreSQL database at once (one per treatment room):
    a transaction-scoped advisory lock makes them migrate one after the other. On SQLite the
    engine's ``BEGIN IMMEDIATE`` does the same.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config = alembic_config(conn)
        script = ScriptDirectory.from_config(config)
        known = {rev.revision for rev in script.walk_revisions()}
        for revision in current_revisions(conn):
            if revision not in known:
                raise DatabaseTooNewError(
                    f"the database is at schema revision {revision}, newer than this program "
                    f"knows (up to {script.get_current_head()}): upgrade injector to use it"
                )
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            raise DatabaseTooNewError(f"cannot migrate the database: {exc}") from None
