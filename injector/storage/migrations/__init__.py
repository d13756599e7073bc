"""Alembic migrations of the injector database (run by :mod:`injector.storage.migrate`)."""
