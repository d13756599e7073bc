"""``injector report session ID`` and ``injector report series PLAN_ID``: the reports a
practitioner reads and a patient can be shown, as HTML (self-contained) or PDF."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from injector.cli.db_options import add_db_argument, database
from injector.cli.errors import UserError
from injector.storage import RecordNotFoundError

FORMATS = ("html", "pdf")
PAPERS = ("a4", "letter")


def register(subparsers: Any) -> None:
    """Add ``report`` and its two kinds."""
    parser = subparsers.add_parser(
        "report",
        help="write a session's or a series' report (HTML or PDF)",
        description="Write a report a practitioner reads in ten seconds and a patient can be "
        "shown: one session (plan against actual, zone map, depth and time charts, events, "
        "sign-off) or a plan's whole series. HTML opens anywhere with nothing from the "
        "network; PDF needs the system's Pango.",
    )
    kinds = parser.add_subparsers(dest="report_kind", metavar="KIND", required=True)
    session = kinds.add_parser("session", help="the report of one session")
    session.add_argument("record_id", metavar="ID", help="the session's id")
    series = kinds.add_parser("series", help="the report of a plan's series of sessions")
    series.add_argument("record_id", metavar="PLAN_ID", help="the plan's id")
    for kind in (session, series):
        kind.add_argument(
            "--format", metavar="FORMAT", default="html", help="html (default) or pdf"
        )
        kind.add_argument(
            "--output",
            metavar="FILE",
            help="write to FILE (mode 0600); default: a name in the current folder",
        )
        kind.add_argument(
            "--paper", metavar="SIZE", default="a4", help="page size when printed: a4 or letter"
        )
        add_db_argument(kind)
        kind.set_defaults(handler=run_report)


def _choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    cleaned = value.strip().lower()
    if cleaned not in choices:
        raise UserError(f"{option}: unknown value {value!r}; use {' or '.join(choices)}")
    return cleaned


def _record_id(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise UserError(f"{value!r} is not a {what} id (a whole number)") from None
    if number < 1:
        raise UserError(f"{number} is not a {what} id (ids start at 1)")
    return number


def run_report(args: argparse.Namespace) -> int:
    """Render the report and write it; prints where it went."""
    # Imported here: matplotlib and Jinja2 are only needed when a report is written.
    from injector.report.files import ReportFormat, ReportKind, write_report
    from injector.report.page import PageSize
    from injector.report.pdf import PdfUnavailableError

    kind = ReportKind(args.report_kind)
    what = "session" if kind is ReportKind.SESSION else "plan"
    record_id = _record_id(args.record_id, what)
    report_format = ReportFormat(_choice("--format", args.format, FORMATS))
    page_size = PageSize(_choice("--paper", args.paper, PAPERS))
    output = Path(args.output).expanduser() if args.output else None
    with database(args, must_exist=True) as db:
        try:
            path = write_report(
                db,
                kind,
                record_id,
                report_format=report_format,
                page_size=page_size,
                output=output,
            )
        except RecordNotFoundError:
            listing = "injector session list" if what == "session" else "injector patient list"
            raise UserError(
                f"there is no {what} {record_id} in {db.display_url}; see: {listing}"
            ) from None
        except PdfUnavailableError as exc:
            raise UserError(f"--format pdf: {exc}") from None
    print(f"{kind.value} report written to {path}")
    return 0
