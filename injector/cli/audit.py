"""``injector audit verify``: find tampering with the audit trail and the records it vouches for."""

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
        help="check the keyed chain and every record; name the first broken entry",
        description="Recompute every audit entry's keyed hash and link, compare the chain with "
        "its anchor, check each signed session against its sign-off, every record against its "
        "last audited state and the append-only triggers. Exits 1, naming the first broken "
        "entry and each kind of tampering found.",
    )
    add_db_argument(verify)
    verify.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    """Print whether the trail holds, or each kind of tampering found; exit 0 or 1."""
    with database(args, must_exist=True) as db:
        report = verify_audit_trail(db)
    if report.ok:
        print(
            f"audit trail intact: {report.entries} entries, "
            f"{report.signed_sessions} signed session(s) match their sign-off, every record "
            "matches its last audited state"
        )
        if report.anchor is not None:
            print(f"anchored: {report.anchor.describe()}")
        if report.unsealed_shots:
            print(
                f"{report.unsealed_shots} shot(s) of sessions still in progress are not yet "
                "sealed (they are when the zone changes or the session ends)"
            )
        return 0
    first, *rest = report.findings
    where = "" if first.entry_id is None else f" at entry {first.entry_id}"
    print(f"audit trail broken{where}: {first.kind}: {first.reason}")
    for finding in rest:
        where = "" if finding.entry_id is None else f" (entry {finding.entry_id})"
        print(f"  also{where}: {finding.kind}: {finding.reason}")
    return 1
