"""Opening the database: a SQLite file by default, PostgreSQL by URL.

:func:`open_database` resolves where the database is, creates a SQLite file with mode 0600
(patient data is health data), sets the SQLite pragmas (WAL, foreign keys, synchronous=NORMAL,
a busy timeout), applies the Alembic migrations up to head and refuses a database that a newer
program has migrated. There is no global engine: the returned :class:`Database` is passed to
whoever needs it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlmodel import Session

from injector.storage.errors import DatabaseTooNewError, StorageError
from injector.storage.migrate import (
    current_revisions,
    head_revision,
    known_revisions,
    migrate_to_head,
)

DB_ENV_VAR = "INJECTOR_DB"
DEFAULT_FILE_NAME = "injector.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Execution option marking a connection that only reads (see Database.read).
READ_ONLY_OPTION = "injector_read_only"


@dataclass(frozen=True, slots=True)
class Database:
    """An open database: the engine plus what kind it is. Pass it around; close it once."""

    engine: Engine
    url: URL
    read_only: bool = False
    """A SQLite file this user may not write: opened for reading only, never migrated."""

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL without its password, fit for messages."""
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success, rolled back on error.

        On SQLite the transaction is ``BEGIN IMMEDIATE`` so that writers queue on the busy
        timeout instead of failing when two of them upgrade a read lock at once.
        """
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An ORM session inside one transaction, committed on success."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading only, in one consistent snapshot.

        On SQLite this is a deferred ``BEGIN``: in WAL mode readers then never wait for the
        recorder's writes, nor hold them up, which ``BEGIN IMMEDIATE`` would.
        """
        with self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """An ORM session for reading only (see :meth:`read`); nothing is committed."""
        with self.read() as conn, Session(bind=conn, expire_on_commit=False) as session:
            yield session

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


class DatabaseLocationError(StorageError):
    """A SQLite path that names a folder or file that does not exist where it must.

    A mistyped path must not silently become a new, empty clinical record.
    """


def default_database_path() -> Path:
    """The default SQLite file: ``$INJECTOR_DB`` if it is a path, else the user data dir."""
    return Path(platformdirs.user_data_dir("injector")) / DEFAULT_FILE_NAME


def resolve_url(url: str | None) -> URL:
    """The SQLAlchemy URL for a URL, a plain file path or None (``$INJECTOR_DB``, default)."""
    if url is None:
        url = os.environ.get(DB_ENV_VAR) or None
    if url is None:
        return _sqlite_url(default_database_path())
    if "://" not in url:
        return _sqlite_url(Path(url).expanduser())
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"database URL is not valid: {exc}") from None
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_url(path: Path) -> URL:
    return URL.create("sqlite", database=str(path.absolute()))


def _create_private_file(path: Path) -> None:
    """Create the SQLite file (and its directory) readable by the owner only.

    An existing empty file (``touch clinic.db``) is a new database too: it gets the same mode
    before the schema goes into it. A file that already holds data keeps the mode it has.
    """
    _make_private_folders(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        if path.is_file() and path.stat().st_size == 0 and os.access(path, os.W_OK):
            os.chmod(path, 0o600)
        return
    os.close(fd)
    # The umask may have removed bits but never adds any; make the mode exact anyway.
    os.chmod(path, 0o600)


def _make_private_folders(folder: Path) -> None:
    """Create ``folder`` and missing parents 0700, whatever the umask (mkdir's mode is masked)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)
        os.chmod(created, 0o700)


def _writable(path: Path) -> bool:
    """Whether this user may change the SQLite file at ``path`` (missing: may create it)."""
    return not path.exists() or os.access(path, os.W_OK)


def _read_only_url(path: Path) -> URL:
    """A URL opening ``path`` for reading only.

    ``mode=ro`` still needs the WAL index beside the file (``-shm``), which a folder this user
    may not write cannot take; the file is then opened ``immutable``: nothing this program does
    could change it anyway.
    """
    try:
        probe = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchall()
            mode = "mode=ro"
        finally:
            probe.close()
    except sqlite3.Error:
        mode = "immutable=1"
    return URL.create(
        "sqlite",
        database=f"{path.absolute().as_uri()}?{mode}",
        query={"uri": "true"},
    )


def _sqlite_engine(url: URL, *, read_only: bool = False) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's own
        # deferred BEGIN (the SQLAlchemy-documented recipe for pysqlite transactions).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if read_only or conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _check_location(url: str | None, path: Path, must_exist: bool) -> None:
    """Refuse a SQLite path whose folder (or, if ``must_exist``, file) is missing.

    Only the default location in the user data directory is created with its folders; a
    path the user gave (``url``, as ``--db``, or ``$INJECTOR_DB``) is taken as given, typos
    included. The message starts with where the path came from.
    """
    if url is not None:
        source: str | None = "--db"
    elif os.environ.get(DB_ENV_VAR):
        source = f"${DB_ENV_VAR}"
    else:
        source = None
    if source is not None and not path.parent.exists():
        raise DatabaseLocationError(
            f"{source}: folder {path.parent} does not exist; create it first or check the path"
        )
    if path.is_dir():
        raise DatabaseLocationError(
            f"{source or 'the default database'}: {path} is a folder; name a database file "
            f"(e.g. {path / DEFAULT_FILE_NAME})"
        )
    if path.exists() and not path.is_file():
        raise DatabaseLocationError(
            f"{source or 'the default database'}: {path} is not a regular file (a device or "
            "pipe); name a database file"
        )
    if must_exist and not path.exists():
        if source is None:
            raise DatabaseLocationError(
                f"there is no database file at {path} (the default location) yet; pass --db "
                "with the clinic's database"
            )
        raise DatabaseLocationError(
            f"{source}: there is no database file at {path}; check the path or pass --db "
            "with the clinic's database"
        )


def database_error_reason(exc: BaseException) -> str:
    """One line saying why the database refused, without the SQL or its parameters.

    SQLAlchemy's own message quotes the statement and the values bound to it, which may be a
    patient's name or notes; the driver's first line (``database is locked``, ``connection
    refused``) says what matters.
    """
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        lines = str(exc.orig).strip().splitlines()
        if lines:
            return f"{type(exc.orig).__name__}: {lines[0]}"
    if isinstance(exc, SQLAlchemyError):
        return type(exc).__name__
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def open_database(
    url: str | None = None, *, migrate: bool = True, must_exist: bool = False
) -> Database:
    """Open (creating if needed) the database and bring its schema to this program's head.

    ``url`` is a SQLAlchemy URL (``postgresql+psycopg://user@host/db``, ``sqlite:///path``), a
    plain file path, or None for ``$INJECTOR_DB`` or the default file in the user data
    directory. A SQLite file is created if missing, but only the default location gets its
    folders created: a given path in a folder that does not exist raises
    :class:`DatabaseLocationError`, as does a missing file when ``must_exist`` (commands that
    only read). Raises :class:`StorageError` (one-line message) when the database cannot be
    reached, and :class:`DatabaseTooNewError` when a newer program has migrated it.
    """
    resolved = resolve_url(url)
    if resolved.get_backend_name() == "sqlite":
        if not resolved.database or resolved.database == ":memory:":
            raise StorageError("an in-memory SQLite database cannot be shared; give a file path")
        path = Path(resolved.database)
        _check_location(url, path, must_exist)
        if not _writable(path):
            return _open_read_only(path, resolved)
        # Before the engine connects: its first connection switches the file to WAL.
        _refuse_another_programs(_sqlite_tables(path), str(path))
        try:
            _create_private_file(path)
        except OSError as exc:
            raise StorageError(
                f"cannot create the database file {resolved.database}: {exc.strerror}"
            ) from None
        engine = _sqlite_engine(resolved)
    elif resolved.get_backend_name() == "postgresql":
        try:
            engine = create_engine(resolved, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StorageError(f"cannot use the database URL: {exc}") from None
    else:
        raise StorageError(
            f"unsupported database {resolved.get_backend_name()!r}: use a SQLite file path "
            "or a postgresql+psycopg:// URL"
        )
    database = Database(engine=engine, url=resolved)
    if migrate:
        try:
            if database.dialect == "postgresql":
                with engine.connect() as conn:
                    tables = set(inspect(conn).get_table_names())
                _refuse_another_programs(tables, database.display_url)
            migrate_to_head(database.engine)
        except (OperationalError, DBAPIError) as exc:
            engine.dispose()
            raise StorageError(
                f"cannot open the database at {database.display_url}: {_first_line(exc)}"
            ) from None
        except StorageError:
            engine.dispose()
            raise
        # The audit chain's clinic key (created on first open); imported here because the
        # audit chain itself is built on this module's Database.
        from injector.storage.audit_chain import attach_clinic_key

        try:
            attach_clinic_key(database)
        except StorageError:
            engine.dispose()
            raise
    return database


def _first_line(exc: DBAPIError) -> str:
    """The driver's first line (``file is not a database``): no SQL, no values."""
    lines = str(exc.orig).strip().splitlines() if exc.orig is not None else []
    return lines[0] if lines else type(exc).__name__


def _refuse_another_programs(tables: set[str], where: str) -> None:
    """Refuse a database that holds tables but no injector schema (another program's).

    Migrating it would put a clinical record among another program's tables: a mistyped
    ``--db`` (a browser's history, a photo catalogue) must not become a patient record.
    """
    if tables and "alembic_version" not in tables:
        shown = ", ".join(sorted(tables)[:3]) + (", …" if len(tables) > 3 else "")
        raise StorageError(
            f"the database at {where} holds another program's tables ({shown}), not an "
            "injector record; name the clinic's database or a new file"
        )


def _sqlite_tables(path: Path) -> set[str]:
    """The tables of the SQLite file at ``path``, read without changing it (none if empty).

    A file that is not a database is left for the migration to refuse in its own words.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return set()
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return set()
    return {str(name) for (name,) in rows}


def _open_read_only(path: Path, url: URL) -> Database:
    """Open a SQLite file this user may not write, for reading; its schema must be current."""
    engine = _sqlite_engine(_read_only_url(path), read_only=True)
    database = Database(engine=engine, url=url, read_only=True)
    try:
        with engine.connect() as conn:
            revisions = current_revisions(conn)
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise StorageError(f"cannot read the database at {path}: {_first_line(exc)}") from None
    head = head_revision()
    if revisions != (head,):
        engine.dispose()
        found = ", ".join(revisions) or "none"
        if set(revisions) - known_revisions():
            raise DatabaseTooNewError(
                f"the database at {path} is at schema revision {found}, newer than this "
                f"program knows (up to {head}): upgrade injector to use it"
            )
        raise StorageError(
            f"the database at {path} is read-only and at schema revision {found}, not this "
            f"program's {head}; open it once with write access to bring it up to date"
        )
    from injector.storage.audit_chain import attach_clinic_key_for_reading

    attach_clinic_key_for_reading(database)
    return database
