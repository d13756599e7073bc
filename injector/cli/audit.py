"""``injector audit verify``: check the audit trail's hash chain and the signed sessions."""

from __future__ import annotations

import argparse
from typing import Any

from injector.cli.db_options import add_db_argument, database
from injector.session.audit_verify import verify_audit_trail


def register(subparsers: Any) -> None:
    """Add ``audit`` and its subcommands."""
    parser = subparsers.add_parser("audit", help="check the audit trail")
    commands = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = commands.add_parser(
        "verify",
        help="check the hash chain; name the first broken entry",
        description="Recompute every audit entry's hash and link, then check each signed "
        "session against its sign-off. Exits 1 and names the first broken entry if any.",
    )
    add_db_argument(verify)
    verify.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    """Print whether the trail holds; exit code 0 if it does, 1 if not."""
    with database(args, must_exist=True) as db:
        report = verify_audit_trail(db)
    if report.ok:
        print(
            f"audit trail intact: {report.entries} entries, "
            f"{report.signed_sessions} signed session(s) match their sign-off"
        )
        return 0
    print(f"audit trail broken at entry {report.first_broken}: {report.reason}")
    return 1
