"""``injector practitioner add|list``: the people who perform, sign, amend and override.

A PIN is read from the terminal without echo (twice when it is set), or one line per PIN from
standard input when that is not a terminal (a script, a test); never from the command line,
where it would stay in the shell's history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from injector.cli.db_options import (
    actor,
    add_actor_argument,
    add_db_argument,
    database,
    refusals,
)
from injector.cli.errors import UserError
from injector.session.practitioners import (
    DEFAULT_ROLE,
    add_practitioner,
    check_pin,
    list_practitioners,
)


def register(subparsers: Any) -> None:
    """Add ``practitioner`` and its subcommands."""
    parser = subparsers.add_parser(
        "practitioner", help="add and list practitioners (who sign with a PIN)"
    )
    commands = parser.add_subparsers(dest="practitioner_command", metavar="ACTION", required=True)

    add = commands.add_parser(
        "add",
        help="add a practitioner; the PIN is asked twice (or read from standard input)",
        description="Add a practitioner by printed name. The PIN (4 to 12 digits) confirms "
        "their signatures, amendments and plan-limit overrides; only a salted hash is stored.",
    )
    add.add_argument("name", metavar="NAME", help="printed name, e.g. 'Dr Ana Lee'")
    add.add_argument(
        "--role", default=DEFAULT_ROLE, help=f"e.g. physician, nurse (default: {DEFAULT_ROLE})"
    )
    add_db_argument(add)
    add_actor_argument(add)
    add.set_defaults(handler=run_add)

    listing = commands.add_parser("list", help="list practitioners")
    add_db_argument(listing)
    listing.set_defaults(handler=run_list)


def read_pin(prompt: str) -> str:
    """One PIN: from the terminal without echo, else one line of standard input."""
    if sys.stdin.isatty():
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise UserError("no PIN given") from None
    line = sys.stdin.readline()
    if not line:
        raise UserError(
            "no PIN on standard input: give one line per PIN, or run this in a terminal"
        )
    return line.rstrip("\r\n")


def read_new_pin(name: str) -> str:
    """A new PIN, typed twice; refused with one line if the two differ or it is too weak."""
    pin = read_pin(f"PIN for {name} (4 to 12 digits): ")
    with refusals():
        check_pin(pin)
    if read_pin("The same PIN again: ") != pin:
        raise UserError("the two PINs differ; nothing was recorded, run the command again")
    return pin


def run_add(args: argparse.Namespace) -> int:
    """Add a practitioner with a PIN."""
    pin = read_new_pin(" ".join(args.name.split()) or "the practitioner")
    with database(args) as db:
        added = add_practitioner(db, args.name, pin, role=args.role, actor=actor(args))
    print(f"practitioner {added.name} ({added.role}) added")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per practitioner: name and role."""
    with database(args, must_exist=True) as db:
        people = list_practitioners(db)
    if not people:
        print("no practitioners yet; add one with: injector practitioner add NAME")
        return 0
    print("name\trole\tsince")
    for person in people:
        left = "" if person.active else " (no longer active)"
        print(f"{person.name}\t{person.role}{left}\t{person.created_at.date().isoformat()}")
    return 0
