from tests.db_fixtures import db, db_url  # noqa: F401
