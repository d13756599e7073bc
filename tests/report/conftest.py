"""Database fixtures for the report tests (SQLite always, PostgreSQL with INJECTOR_TEST_PG_URL)."""

from tests.db_fixtures import db, db_url, pg_url

__all__ = ["db", "db_url", "pg_url"]
