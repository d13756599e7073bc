"""Database fixtures: a real SQLite file always, PostgreSQL when INJECTOR_TEST_PG_URL is set.

Use them from a conftest with ``from tests.db_fixtures import db, db_url  # noqa: F401``.
``db_url`` is parametrised over both back ends; each PostgreSQL test gets a schema of its own
(through ``search_path``), dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from injector.storage import Database, open_database
from injector.storage.clinic_key import KEY_ENV_VAR

PG_ENV = "INJECTOR_TEST_PG_URL"


def pg_url_or_skip() -> str:
    """The PostgreSQL URL to test against, or skip the test saying why."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    return url


def make_pg_schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with a ``search_path`` of ``schema`` only."""
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def fresh_pg_schema(base_url: str) -> Iterator[str]:
    """Create a uniquely named schema, yield a URL that uses it, drop it afterwards."""
    schema = f"injector_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_pg_schema_url(base_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def private_clinic_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep a PostgreSQL test's clinic key (and anchor) in its own folder, not the user's."""
    monkeypatch.setenv(KEY_ENV_VAR, str(tmp_path / "clinic-key" / "clinic.key"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A URL (or file path) of an empty database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "injector.sqlite3")
    else:
        url = pg_url_or_skip()
        private_clinic_key(monkeypatch, tmp_path)
        yield from fresh_pg_schema(url)


@pytest.fixture
def pg_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A URL of an empty PostgreSQL schema; skips without INJECTOR_TEST_PG_URL."""
    url = pg_url_or_skip()
    private_clinic_key(monkeypatch, tmp_path)
    yield from fresh_pg_schema(url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open, migrated database on each back end."""
    database = open_database(db_url)
    try:
        yield database
    finally:
        database.close()
