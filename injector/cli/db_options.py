"""What the clinical-record subcommands share: the --db and --by options, opening the
database, and turning refusals into the one-line :class:`UserError`."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError

from injector.cli.errors import UserError
from injector.domain.errors import AcknowledgementRequiredError, InvalidValueError
from injector.domain.inputs import control_characters
from injector.storage import Database, StorageError, open_database
from injector.storage.engine import DatabaseLocationError


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--db URL``, the same option ``injector record`` takes."""
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLite file path or database URL (default: $INJECTOR_DB, else a file in the user "
        "data directory)",
    )


def add_actor_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--by NAME``: who does it, for the audit trail (default: the login name)."""
    parser.add_argument(
        "--by", metavar="NAME", help="who does this, for the audit trail (default: login name)"
    )


def actor(args: argparse.Namespace) -> str:
    """The name recorded in the audit trail."""
    name = getattr(args, "by", None) or getpass.getuser()
    if not name.strip():
        raise UserError("--by: give your name for the audit trail")
    found = control_characters(name)
    if found:
        raise UserError(f"--by: holds control characters ({', '.join(found)}); type plain text")
    return str(name)


@contextmanager
def database(args: argparse.Namespace, *, must_exist: bool = False) -> Iterator[Database]:
    """The database of ``--db``, closed afterwards; refusals become one-line errors.

    Commands that only read pass ``must_exist``: a mistyped path then is refused instead of
    showing an empty new database. A path in a folder that does not exist is always refused.
    """
    try:
        db = open_database(args.db, must_exist=must_exist)
    except DatabaseLocationError as exc:
        raise UserError(str(exc)) from None
    except StorageError as exc:
        raise UserError(f"{exc}; check the URL or pass --db with another SQLite file") from None
    try:
        with refusals():
            yield db
    except OperationalError as exc:
        if db.read_only and "readonly" in str(exc.orig):
            raise UserError(
                f"--db: {db.url.database} is read-only for you, and this command changes the "
                "record; ask for write access, or work on a copy you may write"
            ) from None
        raise
    finally:
        db.close()


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a refusal of the record (field and reason) into a :class:`UserError`."""
    try:
        yield
    except InvalidValueError as exc:
        raise UserError(str(exc)) from None
    except AcknowledgementRequiredError as exc:
        raise UserError(str(exc)) from None
    except StorageError as exc:
        raise UserError(str(exc)) from None


Handler = Callable[[argparse.Namespace], int]
