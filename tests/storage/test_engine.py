"""Opening the database: file mode, pragmas, paths, migrations, refusals."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from injector.storage import DatabaseTooNewError, StorageError, open_database
from injector.storage.engine import DB_ENV_VAR, DatabaseLocationError, resolve_url
from injector.storage.migrate import head_revision


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "clinic" / "record.sqlite3"
    path.parent.mkdir()
    db = open_database(str(path))
    try:
        with db.begin() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            # synchronous NORMAL is 1
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1
    finally:
        db.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for sidecar in path.parent.glob("record.sqlite3-*"):
        assert stat.S_IMODE(os.stat(sidecar).st_mode) & 0o077 == 0


def test_default_path_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv(DB_ENV_VAR, str(target))
    assert resolve_url(None).database == str(target)
    db = open_database(None)
    db.close()
    assert target.exists()


def test_default_path_is_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    database = resolve_url(None).database
    assert database is not None and "injector" in database


def test_migrations_reach_head_and_reopening_changes_nothing(db_url: str) -> None:
    open_database(db_url).close()
    db = open_database(db_url)
    try:
        with db.begin() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (head_revision(),)
    finally:
        db.close()


def test_migrations_and_tables_agree(db_url: str) -> None:
    db = open_database(db_url)
    try:
        with db.begin() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
            )
    finally:
        db.close()
    assert diff == []


def test_a_newer_database_is_refused(db_url: str) -> None:
    db = open_database(db_url)
    try:
        with db.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed9999'"))
    finally:
        db.close()
    with pytest.raises(DatabaseTooNewError, match="newer than this program") as refused:
        open_database(db_url)
    assert "f00dfeed9999" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_an_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(StorageError, match=r"cannot open the database at .*127\.0\.0\.1:9"):
        open_database("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")


def test_an_unwritable_place_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot create the database file"):
        open_database(str(blocker / "db.sqlite3"))


def test_unknown_url_scheme_is_refused() -> None:
    with pytest.raises(StorageError, match="unsupported database"):
        open_database("mysql://localhost/x")


def test_an_older_database_is_migrated_on_open_and_keeps_its_rows(db_url: str) -> None:
    from alembic import command

    from injector.storage.migrate import alembic_config

    # Bring a fresh database to the first revision only, as an older program would have left it.
    db = open_database(db_url, migrate=False)
    try:
        with db.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
            conn.execute(
                text(
                    "INSERT INTO device (serial, model, firmware, first_seen_at, last_seen_at) "
                    "VALUES ('SN1', 'MG-400', '2.4.1', :t, :t)"
                ),
                {"t": "2026-03-02 09:00:00.000000"},
            )
    finally:
        db.close()
    db = open_database(db_url)
    try:
        with db.begin() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (head_revision(),)
            assert conn.execute(text("SELECT serial FROM device")).scalar_one() == "SN1"
    finally:
        db.close()


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the droids\n" * 100)
    with pytest.raises(StorageError, match="file is not a database"):
        open_database(str(path))


def test_a_given_path_in_a_missing_folder_is_refused_and_nothing_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    path = tmp_path / "typo" / "dir" / "x.db"
    with pytest.raises(DatabaseLocationError) as info:
        open_database(str(path))
    assert str(info.value) == (
        f"--db: folder {path.parent} does not exist; create it first or check the path"
    )
    with pytest.raises(DatabaseLocationError):
        open_database(f"sqlite:///{path}")
    monkeypatch.setenv(DB_ENV_VAR, str(path))
    with pytest.raises(DatabaseLocationError) as info:
        open_database(None)
    assert str(info.value).startswith(f"${DB_ENV_VAR}: folder {path.parent} does not exist")
    assert not (tmp_path / "typo").exists()


def test_the_default_location_is_still_created_with_its_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    expected = tmp_path / "data" / "injector" / "injector.sqlite3"
    with pytest.raises(DatabaseLocationError) as info:
        open_database(None, must_exist=True)
    assert f"there is no database file at {expected} (the default location) yet" in str(info.value)
    open_database(None).close()
    assert expected.exists()
    assert stat.S_IMODE(os.stat(expected).st_mode) == 0o600


def test_must_exist_refuses_a_missing_file_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(DatabaseLocationError) as info:
        open_database(str(path), must_exist=True)
    assert str(info.value) == (
        f"--db: there is no database file at {path}; check the path or pass --db with the "
        "clinic's database"
    )
    assert not path.exists()
    open_database(str(path)).close()
    open_database(str(path), must_exist=True).close()
