"""Fixtures of the report tests: databases on SQLite always (PostgreSQL with
INJECTOR_TEST_PG_URL), and the recorded series on them."""

import pytest

from injector.storage import open_database
from tests.db_fixtures import db, db_url, pg_url
from tests.report.recorded_series import RecordedSeries, record_series

__all__ = ["db", "db_url", "pg_url", "recorded"]


@pytest.fixture
def recorded(db_url: str) -> tuple[str, RecordedSeries]:
    """The face plan's two sessions, recorded from the seeded gun model."""
    database = open_database(db_url)
    try:
        return db_url, record_series(database)
    finally:
        database.close()
