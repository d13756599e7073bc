from tests.db_fixtures import db, db_url  # noqa: F401
from tests.recorder.private_pg import private_pg  # noqa: F401
