"""Storage errors: each carries a one-line message the CLI can print as is."""

from __future__ import annotations


class StorageError(Exception):
    """The database could not be opened or used; the message says what and why, in one line."""


class DatabaseTooNewError(StorageError):
    """The database was migrated by a newer version of the program than this one."""


class RecordNotFoundError(StorageError):
    """A record asked for by id does not exist."""
