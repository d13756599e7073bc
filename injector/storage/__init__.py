"""Storage: SQLModel tables, the engine (SQLite file or PostgreSQL URL), Alembic migrations.

Open with :func:`injector.storage.engine.open_database`; it returns a
:class:`~injector.storage.engine.Database` to pass around (there is no global engine) and
raises :class:`~injector.storage.errors.StorageError` with a one-line message when it cannot.
"""

from injector.storage.engine import Database, open_database
from injector.storage.errors import DatabaseTooNewError, RecordNotFoundError, StorageError

__all__ = [
    "Database",
    "DatabaseTooNewError",
    "RecordNotFoundError",
    "StorageError",
    "open_database",
]
