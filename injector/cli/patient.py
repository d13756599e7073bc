"""``injector patient add|list``: patients of the clinical record."""

from __future__ import annotations

import argparse
from typing import Any

from injector.cli.db_options import actor, add_actor_argument, add_db_argument, database
from injector.cli.errors import UserError
from injector.cli.terminal_text import terminal_safe
from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PatientInput, parse
from injector.session.clinical import recorded_allergies
from injector.session.patients_plans import create_patient, find_patients


def register(subparsers: Any) -> None:
    """Add ``patient`` and its subcommands."""
    parser = subparsers.add_parser("patient", help="add and list patients")
    commands = parser.add_subparsers(dest="patient_command", metavar="ACTION", required=True)

    add = commands.add_parser("add", help="add a patient")
    add.add_argument("--id", dest="identifier", required=True, help="the clinic's patient number")
    add.add_argument("--name", required=True, help="full name")
    add.add_argument("--born", required=True, metavar="YYYY-MM-DD", help="date of birth")
    add.add_argument("--contact", default="", help="phone or e-mail")
    add.add_argument("--anticoagulants", action="store_true", help="takes anticoagulants")
    add.add_argument("--pregnant", action="store_true", help="is pregnant")
    add.add_argument("--allergies", default="", help="known allergies")
    add.add_argument("--contraindications", default="", help="other contraindication notes")
    add_db_argument(add)
    add_actor_argument(add)
    add.set_defaults(handler=run_add)

    listing = commands.add_parser(
        "list", help="list patients, or find them by part of a name or identifier"
    )
    listing.add_argument(
        "find",
        nargs="?",
        default="",
        metavar="TEXT",
        help="only patients whose name or identifier contains TEXT (accents and case aside)",
    )
    add_db_argument(listing)
    listing.set_defaults(handler=run_list)


_OPTION_OF_FIELD = {"identifier": "--id", "date_of_birth": "--born"}


def run_add(args: argparse.Namespace) -> int:
    """Validate and record a patient; prints its id."""
    data = {
        "identifier": args.identifier,
        "name": args.name,
        "date_of_birth": args.born,
        "contact": args.contact,
        "on_anticoagulants": args.anticoagulants,
        "pregnant": args.pregnant,
        "allergies": args.allergies,
        "contraindication_notes": args.contraindications,
    }
    try:
        patient = parse(PatientInput, data)
    except ValueError as exc:
        raise UserError(_with_options(str(exc))) from None
    with database(args) as db:
        try:
            patient_id = create_patient(db, patient, actor=actor(args))
        except InvalidValueError as exc:
            raise UserError(_with_options(str(exc))) from None
    print(terminal_safe(f"patient {patient.identifier} added (record {patient_id})"))
    return 0


def _with_options(message: str) -> str:
    for field, option in _OPTION_OF_FIELD.items():
        if message.startswith(f"{field}:") or f"; {field}:" in message:
            message = message.replace(f"{field}:", f"{option} ({field}):")
    return message


def run_list(args: argparse.Namespace) -> int:
    """Print one line per patient: identifier, name, date of birth, contraindication flags."""
    with database(args, must_exist=True) as db:
        patients = find_patients(db, args.find)
    if not patients:
        print(f"no patient matches {args.find!r}" if args.find else "no patients")
        return 0
    for p in patients:
        flags = [
            flag
            for flag, present in (
                ("anticoagulants", p.on_anticoagulants),
                ("pregnant", p.pregnant),
                ("allergies", bool(recorded_allergies(p.allergies))),
            )
            if present
        ]
        columns = [terminal_safe(p.identifier), terminal_safe(p.name), p.date_of_birth.isoformat()]
        print("\t".join(columns) + (f"\t[{', '.join(flags)}]" if flags else ""))
    return 0
