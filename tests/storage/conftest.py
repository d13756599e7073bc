"""Database fixtures for these tests (shared with other packages' tests)."""

from tests.db_fixtures import db, db_url, pg_url

__all__ = ["db", "db_url", "pg_url"]
