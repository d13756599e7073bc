"""``injector export``: a session's record (or every session's) as JSON, CSV or FHIR R4."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from injector.cli.arguments import MAX_RECORD_ID
from injector.cli.db_options import add_db_argument, database
from injector.cli.errors import UserError
from injector.cli.terminal_text import terminal_safe
from injector.export import ExportFormat, NoSessionsError, export_text
from injector.export.fhir import PATIENT_IDENTIFIER_SYSTEM
from injector.output_files import check_output_path, write_private_file
from injector.storage import RecordNotFoundError

_FORMATS = ", ".join(f.value for f in ExportFormat)


def register(subparsers: Any) -> None:
    """Add ``export``."""
    parser = subparsers.add_parser(
        "export",
        # --format is required; the check is ours, so a missing one is one line, not usage.
        usage="%(prog)s --format {json,csv,adverse-events-csv,fhir} [--session ID] "
        "[--output FILE] [--db URL] [--patient-system URI] [--pseudonymise [--include-notes]]",
        help="write sessions as JSON, CSV or a FHIR R4 bundle",
        description="Write a session's record, or every session's (JSON and CSV), to standard "
        "output or a file. json: the whole record (docs/export.md gives the schema); csv: one "
        "row per shot; adverse-events-csv: one row per adverse event; fhir: one session as a "
        "FHIR R4 Bundle (needs --session).",
    )
    add_db_argument(parser)
    parser.add_argument("--session", metavar="ID", help="the session to export (default: all)")
    parser.add_argument("--format", metavar="FORMAT", help=f"required: one of {_FORMATS}")
    parser.add_argument(
        "--output", metavar="FILE", help="write to FILE (mode 0600) instead of standard output"
    )
    parser.add_argument(
        "--patient-system",
        metavar="URI",
        default=PATIENT_IDENTIFIER_SYSTEM,
        help="FHIR: the identifier system of the clinic's patient numbers "
        f"(default: {PATIENT_IDENTIFIER_SYSTEM})",
    )
    parser.add_argument(
        "--pseudonymise",
        action="store_true",
        help="for outputs that leave the clinic: the patient by a stable keyed pseudonym and "
        "age band (no number, name, contact or date of birth), free-text notes left out",
    )
    parser.add_argument(
        "--include-notes",
        action="store_true",
        help="with --pseudonymise: keep the free-text notes (check them for names first)",
    )
    parser.set_defaults(handler=run_export)


def _format(value: str | None) -> ExportFormat:
    if value is None:
        raise UserError(f"--format: say which format to write ({_FORMATS})")
    try:
        return ExportFormat(value.strip().lower())
    except ValueError:
        raise UserError(f"--format: unknown format {value!r}; use one of {_FORMATS}") from None


def _session_id(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        session_id = int(value)
    except ValueError:
        raise UserError(f"--session: {value!r} is not a session id (a whole number)") from None
    if not 1 <= session_id <= MAX_RECORD_ID:
        raise UserError(
            f"--session: {session_id} is not a session id (ids run from 1 to {MAX_RECORD_ID})"
        )
    return session_id


def _system(value: str) -> str:
    scheme, colon, rest = value.partition(":")
    if not colon or not scheme or not rest or any(ch.isspace() for ch in value):
        raise UserError(
            f"--patient-system: {value!r} is not a URI (e.g. https://clinic.example/patients)"
        )
    return value


def run_export(args: argparse.Namespace) -> int:
    """Render the export and write it to standard output or ``--output``."""
    export_format = _format(args.format)
    session_id = _session_id(args.session)
    patient_system = _system(args.patient_system)
    if args.include_notes and not args.pseudonymise:
        raise UserError(
            "--include-notes: notes are always in an export that is not pseudonymised; "
            "use it with --pseudonymise"
        )
    if export_format == ExportFormat.FHIR and session_id is None:
        raise UserError(
            "--session: a FHIR export is one session's record; name it with --session ID"
        )
    output = Path(args.output).expanduser() if args.output is not None else None
    if output is not None:
        # Refused before the work, not after it.
        check_output_path(output)
    with database(args, must_exist=True) as db:
        try:
            text = export_text(
                db,
                export_format,
                session_id=session_id,
                patient_identifier_system=patient_system,
                pseudonymise=args.pseudonymise,
                include_notes=args.include_notes,
            )
        except RecordNotFoundError:
            raise UserError(
                f"--session: there is no session {session_id} in {db.display_url}"
            ) from None
        except NoSessionsError:
            raise UserError(
                f"the database at {db.display_url} holds no sessions yet; nothing to export"
            ) from None
    if output is None:
        if sys.stdout.isatty():
            # A person reads it: what the record holds is shown, never obeyed. Piped or
            # redirected, the export goes out as it is.
            text = terminal_safe(text, keep="\r\n\t")
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (``| head``); keep Python from complaining at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    else:
        write_private_file(output, text)
    return 0
