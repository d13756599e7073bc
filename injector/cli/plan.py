"""``injector plan add|import|show``: treatment plans, from options or from a plan file."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from injector.cli.arguments import record_id
from injector.cli.db_options import (
    actor,
    add_actor_argument,
    add_db_argument,
    database,
)
from injector.cli.errors import UserError
from injector.cli.terminal_text import terminal_safe
from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PlanInput, RefusedInputError, parse
from injector.domain.planfile import read_plan_file
from injector.domain.vocabulary import label
from injector.session.patients_plans import create_plan, get_plan, identical_plans
from injector.session.plan_import import check_plan_import, import_plan
from injector.session.series import series_status
from injector.storage.engine import Database, DatabaseLocationError, open_database
from injector.storage.errors import StorageError

# --zone keys and the plan fields they fill.
ZONE_KEYS = {
    "name": "name",
    "area": "body_area",
    "technique": "technique",
    "depth": "depth_mm",
    "tolerance": "tolerance_mm",
    "volume": "volume_per_point_ml",
    "points": "points",
    "max": "max_volume_ml",
    "site": "site",
}
ZONE_HELP = (
    "a zone as key=value pairs: name=,area=,technique=,depth= (mm),tolerance= (mm),"
    "volume= (mL per point),points=,max= (mL),site= (optional, e.g. cheek_left); "
    "repeat for each zone"
)


def register(subparsers: Any) -> None:
    """Add ``plan`` and its subcommands."""
    parser = subparsers.add_parser("plan", help="add, import and show treatment plans")
    commands = parser.add_subparsers(dest="plan_command", metavar="ACTION", required=True)

    add = commands.add_parser("add", help="add a plan from options")
    add.add_argument("--patient", required=True, metavar="ID", help="the patient's identifier")
    add.add_argument("--indication", required=True, help="fat_reduction, cellulite, …")
    add.add_argument("--area", help="the named area (needed for fat_reduction)")
    add.add_argument("--product", required=True, help="product name of the solution")
    add.add_argument("--component", action="append", default=[], help="a component (repeat)")
    add.add_argument("--manufacturer", default="")
    add.add_argument("--lot", required=True, help="lot/batch number")
    add.add_argument("--expiry", required=True, metavar="YYYY-MM-DD", help="lot expiry date")
    add.add_argument("--sessions", required=True, type=_int, help="sessions in the series (3–15)")
    add.add_argument("--initial-sessions", type=_int, help="sessions at the first interval")
    add.add_argument("--interval", default="7-10", metavar="MIN-MAX", help="days (default 7-10)")
    add.add_argument("--then", type=_int, metavar="DAYS", help="later interval in days")
    add.add_argument("--zone", action="append", default=[], metavar="SPEC", help=ZONE_HELP)
    add.add_argument("--max-session-ml", type=float, help="maximum volume of one session (mL)")
    add.add_argument(
        "--lock-at-limit", action="store_true", help="lock the gun when a maximum is reached"
    )
    add.add_argument("--notes", default="")
    add_db_argument(add)
    add_actor_argument(add)
    add.set_defaults(handler=run_add)

    imp = commands.add_parser("import", help="add a plan (and its patient) from a plan file")
    imp.add_argument("file", type=Path, help="a .toml or .json plan file (docs/plan-format.md)")
    imp.add_argument("--check", action="store_true", help="only validate the file; record nothing")
    imp.add_argument(
        "--force",
        action="store_true",
        help="import even if the patient already has an identical plan (a second copy)",
    )
    add_db_argument(imp)
    add_actor_argument(imp)
    imp.set_defaults(handler=run_import)

    show = commands.add_parser("show", help="show a plan, its zones and its series")
    show.add_argument("plan_id", type=record_id, metavar="ID")
    add_db_argument(show)
    show.set_defaults(handler=run_show)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _zone(spec: str, index: int) -> dict[str, str]:
    zone: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise UserError(f"--zone {index + 1}: {part!r} is not key=value")
        field = ZONE_KEYS.get(key.strip())
        if field is None:
            raise UserError(
                f"--zone {index + 1}: unknown key {key.strip()!r}; use {', '.join(ZONE_KEYS)}"
            )
        zone[field] = value.strip()
    return zone


# Plan fields as ``plan add`` takes them: refusals name the option the user typed.
_OPTION_OF_FIELD = {
    "patient": "--patient",
    "indication": "--indication",
    "indication_area": "--area",
    "solution.product_name": "--product",
    "solution.components": "--component",
    "solution.manufacturer": "--manufacturer",
    "solution.lot_number": "--lot",
    "solution.expiry": "--expiry",
    "series.sessions": "--sessions",
    "series.initial_sessions": "--initial-sessions",
    "series.initial_interval_days": "--interval",
    "series.later_interval_days": "--then",
    "max_session_volume_ml": "--max-session-ml",
    "lock_at_limit": "--lock-at-limit",
    "notes": "--notes",
    "zones": "--zone",
}
_KEY_OF_ZONE_FIELD = {field: key for key, field in ZONE_KEYS.items()}
_ZONE_FIELD = re.compile(r"zones\[(\d+)\]\.(\w+)")
_PYDANTIC_WORDS = {
    "Input should be a valid number, unable to parse string as a number": "is not a number",
    "Input should be a valid integer, unable to parse string as an integer": (
        "is not a whole number"
    ),
}


def _problems(exc: InvalidValueError) -> list[tuple[str, str]]:
    if isinstance(exc, RefusedInputError):
        return list(exc.problems)
    return [(exc.field, exc.reason)]


def _plain(reason: str) -> str:
    return _PYDANTIC_WORDS.get(reason, reason)


def _option_of(field: str) -> str:
    zone = _ZONE_FIELD.fullmatch(field)
    if zone is not None:
        index, name = int(zone.group(1)), zone.group(2)
        key = _KEY_OF_ZONE_FIELD.get(name, name)
        return f"--zone {index + 1} {key}="
    base = re.sub(r"\[\d+\]$", "", field)
    return _OPTION_OF_FIELD.get(base, field)


def _in_option_terms(exc: InvalidValueError) -> str:
    """A refusal of ``plan add`` naming the options and zone keys, not the stored fields."""
    return "; ".join(f"{_option_of(field)}: {_plain(reason)}" for field, reason in _problems(exc))


def _warning_in_option_terms(warning: str) -> str:
    field, sep, rest = warning.partition(": ")
    option = _option_of(field)
    return f"{option}: {rest}" if sep and option != field else warning


def _in_file_terms(path: Path, exc: InvalidValueError) -> str:
    """A refusal of a plan file naming the file, then the place in it."""
    problems = [
        (reason if field == "file" else f"{field}: {_plain(reason)}")
        for field, reason in _problems(exc)
    ]
    return f"{path}: " + "; ".join(problems)


def _interval(text: str) -> list[str]:
    low, sep, high = text.partition("-")
    return [low, high] if sep else [low, low]


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def run_add(args: argparse.Namespace) -> int:
    """Validate the options as a plan and record it; prints the id and any warnings."""
    if not args.zone:
        raise UserError("zones: give at least one --zone")
    data: dict[str, Any] = {
        "patient": args.patient,
        "indication": args.indication,
        "indication_area": args.area,
        "solution": {
            "product_name": args.product,
            "components": args.component,
            "manufacturer": args.manufacturer,
            "lot_number": args.lot,
            "expiry": args.expiry,
        },
        "series": {
            "sessions": args.sessions,
            "initial_interval_days": _interval(args.interval),
        },
        "zones": [_zone(spec, i) for i, spec in enumerate(args.zone)],
        "lock_at_limit": args.lock_at_limit,
        "notes": args.notes,
    }
    if args.initial_sessions is not None:
        data["series"]["initial_sessions"] = args.initial_sessions
    if args.then is not None:
        data["series"]["later_interval_days"] = args.then
    if args.max_session_ml is not None:
        data["max_session_volume_ml"] = args.max_session_ml
    try:
        plan = parse(PlanInput, data)
    except InvalidValueError as exc:
        raise UserError(_in_option_terms(exc)) from None
    with database(args) as db:
        try:
            created = create_plan(db, plan, actor=actor(args))
        except InvalidValueError as exc:
            raise UserError(_in_option_terms(exc)) from None
    _warn(tuple(_warning_in_option_terms(w) for w in created.warnings))
    _say(f"plan {created.plan_id} added for patient {plan.patient}")
    return 0


def _existing_database(args: argparse.Namespace) -> Database | None:
    """The database of ``--db`` if it exists (never created by a check), else None."""
    try:
        return open_database(args.db, must_exist=True)
    except (DatabaseLocationError, StorageError):
        return None


def run_import(args: argparse.Namespace) -> int:
    """Validate a plan file and record its patient (if new) and plan."""
    try:
        plan_file = read_plan_file(args.file)
    except InvalidValueError as exc:
        raise UserError(_in_file_terms(args.file, exc)) from None
    if args.check:
        # The same warnings the import would give: against the database when there is one
        # (read only; a missing one is not created), else those of the file alone.
        db = _existing_database(args)
        try:
            warnings = check_plan_import(db, plan_file)
            same = identical_plans(db, plan_file.plan) if db is not None else []
        except InvalidValueError as exc:
            raise UserError(_in_file_terms(args.file, exc)) from None
        finally:
            if db is not None:
                db.close()
        if same:
            warnings = (
                f"patient {plan_file.plan.patient} already has this plan (plan {same[-1]}); "
                "importing it needs --force",
                *warnings,
            )
        _warn(warnings)
        _say(f"{args.file}: valid" + (f", {len(warnings)} warning(s)" if warnings else ""))
        return 0
    with database(args) as db:
        same = identical_plans(db, plan_file.plan)
        if same and not args.force:
            raise UserError(
                f"{args.file}: patient {plan_file.plan.patient} already has this plan "
                f"(plan {same[-1]}); it was imported before. Pass --force to add a second copy"
            )
        try:
            imported = import_plan(db, plan_file, actor=actor(args))
        except InvalidValueError as exc:
            raise UserError(_in_file_terms(args.file, exc)) from None
    if same:
        _warn((f"plan {imported.plan.plan_id} is a copy of plan {same[-1]} (--force)",))
    _warn(imported.warnings)
    if imported.patient_created:
        _say(f"patient {plan_file.plan.patient} added (record {imported.patient_id})")
    _say(f"plan {imported.plan.plan_id} added for patient {plan_file.plan.patient}")
    return 0


def _say(line: str) -> None:
    """Print a line that holds names from the record, safe for a terminal."""
    print(terminal_safe(line))


def _ml(nl: int | None) -> str:
    return "—" if nl is None else f"{nl / 1_000_000:g} mL"


def run_show(args: argparse.Namespace) -> int:
    """Print a plan: indication, solution, series with its status, zones."""
    with database(args, must_exist=True) as db:
        plan = get_plan(db, args.plan_id)
        series = series_status(db, args.plan_id)
    area = f" ({plan.indication_area})" if plan.indication_area else ""
    _say(f"plan {plan.id} for patient {plan.patient_identifier}: {label(plan.indication)}{area}")
    components = f" [{', '.join(plan.components)}]" if plan.components else ""
    maker = f" by {plan.manufacturer}" if plan.manufacturer else ""
    _say(f"  solution: {plan.product_name}{components}{maker}")
    _say(f"  lot {plan.lot_number}, expires {plan.lot_expiry.isoformat()}")
    low, high = plan.initial_interval_days
    later = f", then every {plan.later_interval_days} days" if plan.later_interval_days else ""
    _say(
        f"  series: {plan.sessions_planned} sessions, the first {plan.initial_sessions} every "
        f"{low}–{high} days{later}"
    )
    status = f"  {series.label}; {series.completed} completed, {series.skipped} skipped"
    if series.next_due is not None:
        status += f"; due {series.next_due[0].isoformat()} – {series.next_due[1].isoformat()}"
    if series.overdue:
        status += f" (overdue by {series.overdue_days} days)"
    if series.missed:
        status += f"; missed: session(s) {', '.join(map(str, series.missed))}"
    _say(status)
    limit = _ml(plan.max_session_volume_nl)
    lock = ", locks the gun at a limit" if plan.lock_at_limit else ""
    _say(f"  session maximum: {limit}{lock}")
    _say("  zones:")
    for zone in plan.zones:
        _say(
            f"    {zone.position + 1}. {zone.name} ({label(zone.body_area)}, "
            f"{label(zone.technique)}): "
            f"{zone.depth_um / 1000:g} ± {zone.depth_tolerance_um / 1000:g} mm, "
            f"{zone.points} × {_ml(zone.volume_per_point_nl)}, max {_ml(zone.max_volume_nl)}"
            + (f", site {zone.site}" if zone.site else "")
        )
    return 0
