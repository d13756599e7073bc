"""``injector session list|show|end|sign|amend|adverse|lot``: sessions of the clinical record."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from injector.cli.arguments import record_id
from injector.cli.db_options import (
    actor,
    add_actor_argument,
    add_db_argument,
    database,
    refusals,
)
from injector.cli.errors import UserError
from injector.cli.practitioner import read_pin
from injector.cli.terminal_text import terminal_safe
from injector.domain.errors import InvalidValueError
from injector.domain.inputs import NL_PER_ML, AdverseEventInput, SessionChanges, parse
from injector.domain.vocabulary import SessionStatus, label
from injector.session.clinical import (
    adverse_events,
    amend_session,
    end_session,
    record_adverse_event,
    session_view,
    sign_session,
    warning_text,
    why_not_signable,
)
from injector.session.history import list_sessions
from injector.session.series import compare_with_previous, session_progress
from injector.session.session_window import earlier_shots_of, earlier_summary
from injector.session.trace import sessions_with_lot
from injector.storage import RecordNotFoundError


def register(subparsers: Any) -> None:
    """Add ``session`` and its subcommands."""
    parser = subparsers.add_parser("session", help="list, show, sign and amend sessions")
    commands = parser.add_subparsers(dest="session_command", metavar="ACTION", required=True)

    listing = commands.add_parser("list", help="list sessions")
    listing.add_argument("--plan", type=record_id, metavar="ID", help="sessions of plan ID")
    listing.add_argument("--patient", metavar="ID", help="sessions of a patient identifier")
    listing.add_argument("--gun", metavar="SERIAL", help="sessions recorded with a gun")
    listing.add_argument("--status", help="planned, 'in progress', completed, aborted or skipped")
    add_db_argument(listing)
    listing.set_defaults(handler=run_list)

    show = commands.add_parser("show", help="a session: plan against actual, amendments")
    show.add_argument("session_id", type=record_id, metavar="ID")
    add_db_argument(show)
    show.set_defaults(handler=run_show)

    end = commands.add_parser(
        "end",
        help="end an in-progress session (e.g. one recorded headless) so it can be signed",
        description="End an in-progress session as completed or aborted; audited.",
    )
    end.add_argument("session_id", type=record_id, metavar="ID")
    end.add_argument(
        "--status",
        choices=[SessionStatus.COMPLETED.value, SessionStatus.ABORTED.value],
        default=SessionStatus.COMPLETED.value,
        help="how the session ended (default: completed)",
    )
    end.add_argument("--by", metavar="NAME", required=True, help="who ends it, for the audit trail")
    add_db_argument(end)
    end.set_defaults(handler=run_end)

    sign = commands.add_parser(
        "sign",
        help="sign an ended session (asks the signer's PIN)",
        description="Sign an ended session as a practitioner: their PIN is read from the "
        "terminal (or one line of standard input). The signature shows the printed name, the "
        "time and the meaning.",
    )
    sign.add_argument("session_id", type=record_id, metavar="ID")
    sign.add_argument("--name", required=True, help="the practitioner who signs")
    sign.add_argument(
        "--meaning", default="performed and reviewed", help="what the signature means"
    )
    add_db_argument(sign)
    sign.set_defaults(handler=run_sign)

    amend = commands.add_parser(
        "amend",
        help="amend a signed session (the original is kept; asks the PIN)",
        description="Amend a signed session with a reason, as a practitioner confirmed by "
        "their PIN (read from the terminal, or one line of standard input).",
    )
    amend.add_argument("session_id", type=record_id, metavar="ID")
    amend.add_argument("--by", metavar="NAME", required=True, help="the practitioner who amends")
    amend.add_argument("--reason", required=True, help="why the record is amended")
    amend.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a field and its corrected value (repeat), e.g. lot_number=LM5-24-1188",
    )
    add_db_argument(amend)
    amend.set_defaults(handler=run_amend)

    adverse = commands.add_parser("adverse", help="record an adverse event of a session")
    adverse.add_argument("session_id", type=record_id, metavar="ID")
    adverse.add_argument("--kind", required=True, help="nausea, pain, bruising, …")
    adverse.add_argument("--severity", required=True, help="mild, moderate or severe")
    adverse.add_argument(
        "--onset",
        required=True,
        metavar="TIME",
        help="ISO time with zone, e.g. 2026-03-02T10:15+01:00",
    )
    adverse.add_argument("--later-visit", action="store_true", help="reported at a later visit")
    adverse.add_argument("--notes", default="")
    add_db_argument(adverse)
    add_actor_argument(adverse)
    adverse.set_defaults(handler=run_adverse)

    lot = commands.add_parser("lot", help="every session and patient that received a lot")
    lot.add_argument("lot_number", metavar="LOT")
    add_db_argument(lot)
    lot.set_defaults(handler=run_lot)


def _say(line: str) -> None:
    """Print a line that holds names from the record or the gun, safe for a terminal."""
    print(terminal_safe(line))


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "—"


def _ml(nl: int | None) -> str:
    return "—" if nl is None else f"{nl / NL_PER_ML:g} mL"


def run_list(args: argparse.Namespace) -> int:
    """One line per session: id, plan, n, status, start, practitioner, gun, lot."""
    # The words session list prints are accepted back: "in progress" as well.
    status = "_".join(args.status.split()) if args.status else None
    if status is not None and status not in {s.value for s in SessionStatus}:
        words = ", ".join(label(s) for s in SessionStatus)
        raise UserError(f"--status: {args.status!r} is not a session status; give one of {words}")
    with database(args, must_exist=True) as db:
        sessions = list_sessions(
            db,
            plan_id=args.plan,
            patient_identifier=args.patient,
            device_serial=args.gun,
            status=status,
        )
    if not sessions:
        _say("no sessions")
        return 0
    # Tab-separated for scripts: the fields are made safe one by one, the tabs stay tabs.
    print("id\tplan\tn\tstatus\tstarted\tpractitioner\tgun\tlot")
    for s in sessions:
        signed = " signed" if s.signed else ""
        print(
            f"{s.id}\tplan {s.plan_id or '—'}\t#{s.sequence_no or '—'}\t{label(s.status)}{signed}\t"
            f"{_when(s.started_at or s.scheduled_at)}\t{terminal_safe(s.practitioner or '—')}\t"
            f"{terminal_safe(s.device_serial or '—')}\t{terminal_safe(s.lot_number or '—')}"
        )
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _value(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return repr(value) if isinstance(value, str) else str(value)


def run_show(args: argparse.Namespace) -> int:
    """The session, its plan against actual per zone, the previous session, amendments.

    The numbers are the session logic's tally (the same the live screen, the review and the
    exports give); the words are a clinician's, not the record's field names.
    """
    with database(args, must_exist=True) as db:
        view = session_view(db, args.session_id)
        progress = session_progress(db, args.session_id)
        comparison = compare_with_previous(db, args.session_id)
        events = adverse_events(db, args.session_id)
        earlier = earlier_shots_of(db, args.session_id)
    _say(
        f"session {view.id}: {label(view.status)}, plan {view.plan_id or '—'} "
        f"#{view.sequence_no or '—'}"
    )
    _say(
        f"  scheduled {_when(view.scheduled_at)}, started {_when(view.started_at)}, "
        f"ended {_when(view.ended_at)}"
    )
    _say(
        f"  practitioner {view.practitioner or '—'}; gun {view.device_serial or '—'} "
        f"{view.device_model or ''} {view.device_firmware or ''}".rstrip()
    )
    expiry = view.lot_expiry.isoformat() if view.lot_expiry else "—"
    _say(f"  lot {view.lot_number or '—'} (expires {expiry})")
    for warning in view.checklist_warnings:
        _say(
            f"  checklist warning acknowledged by {view.warnings_acknowledged_by}: "
            f"{warning_text(warning)}"
        )
    if view.signed:
        _say(f"  signed by {view.signed_by} at {_when(view.signed_at)}: {view.signature_meaning}")
    _say("  zone: points done/planned, volume done/planned")
    for zone in (*progress.zones, progress.total):
        extras = []
        if zone.max_volume_nl is not None:
            extras.append(f"maximum {_ml(zone.max_volume_nl)}")
        if zone.depth_out_of_tolerance:
            extras.append(f"{_count(zone.depth_out_of_tolerance, 'shot')} outside the depth band")
        if zone.air_shots:
            extras.append(_count(zone.air_shots, "air shot"))
        if zone.partial_shots:
            extras.append(_count(zone.partial_shots, "partial shot"))
        _say(
            f"    {zone.name}: {zone.points}/{zone.points_planned}, "
            f"{_ml(zone.volume_nl)}/{_ml(zone.volume_planned_nl)}"
            + (f" ({'; '.join(extras)})" if extras else "")
        )
    total = progress.total
    line = f"  {_count(total.shots, 'shot')} stored: {_count(total.points, 'point')}"
    flow = total.shots - total.points - total.air_shots - total.implausible_shots
    if flow:
        line += f", {_count(flow, 'continuous-flow report')}"
    if total.air_shots:
        line += (
            f", {_count(total.air_shots, 'air shot')} ({_ml(total.air_volume_nl)}, not in the dose)"
        )
    _say(line)
    if total.implausible_shots:
        _say(
            f"  {_count(total.implausible_shots, 'shot')} with values no gun can report "
            "(kept in the record, not in the dose)"
        )
    _say(f"  shots recovered {progress.recovered_shots}, lost {progress.lost_shots}")
    if earlier:
        _say(
            f"  {earlier_summary(earlier)}: left out of it, kept as shots of gun "
            f"{view.device_serial} with no session"
        )
    if comparison.previous_session_id is not None:
        delta = comparison.total
        _say(
            f"  against session {comparison.previous_session_id}: points "
            f"{delta.points_delta:+d}, volume {delta.volume_delta_nl / NL_PER_ML:+g} mL"
        )
    for amendment in view.amendments:
        fields = ", ".join(
            f"{label(name)} {_value(change['from'])} → {_value(change['to'])}"
            for name, change in amendment.changes.items()
        )
        _say(
            f"  amended by {amendment.amended_by} at {_when(amendment.amended_at)} "
            f"({amendment.reason}): {fields}"
        )
    for event in events:
        later = " (later visit)" if event.at_later_visit else ""
        _say(
            f"  adverse event: {label(event.kind)}, {event.severity}, "
            f"onset {_when(event.onset)}{later}"
        )
    return 0


def run_end(args: argparse.Namespace) -> int:
    """End an in-progress session (audited); a recorder still attached opens a new one."""
    with database(args, must_exist=True) as db:
        try:
            ending = end_session(
                db, args.session_id, actor=actor(args), status=SessionStatus(args.status)
            )
        except InvalidValueError as exc:
            raise UserError(exc.reason) from None
        except RecordNotFoundError:
            raise UserError(
                f"there is no session {args.session_id} in {db.display_url}; "
                "see: injector session list"
            ) from None
    if ending.why:
        _say(f"session {args.session_id} ended aborted, not {args.status}: {ending.why}")
        return 0
    _say(
        f"session {args.session_id} ended ({ending.status.value}); sign it with: "
        f"injector session sign {args.session_id} --name NAME"
    )
    return 0


def run_sign(args: argparse.Namespace) -> int:
    """Sign an ended session, confirmed by the signer's PIN."""
    with database(args, must_exist=True) as db:
        problem = why_not_signable(db, args.session_id)
        if problem is not None:
            raise UserError(problem)
        pin = read_pin(f"PIN of {args.name}: ")
        sign_session(db, args.session_id, name=args.name, pin=pin, meaning=args.meaning)
        view = session_view(db, args.session_id)
    _say(
        f"session {args.session_id} signed by {view.signed_by} at {_when(view.signed_at)}: "
        f"{view.signature_meaning}"
    )
    return 0


def run_amend(args: argparse.Namespace) -> int:
    """Amend a signed session with a reason; the original stays as signed."""
    changes: dict[str, str] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set: {item!r} is not FIELD=VALUE")
        field = name.strip()
        if field not in SessionChanges.model_fields:
            raise UserError(
                f"--set: {field!r} is not a field of a session; amend one of "
                f"{', '.join(SessionChanges.model_fields)}"
            )
        changes[field] = value
    if not changes:
        raise UserError("--set: give at least one FIELD=VALUE to amend")
    with refusals():
        parsed = parse(SessionChanges, changes)
    with database(args, must_exist=True) as db:
        if not session_view(db, args.session_id).signed:
            raise UserError(f"session {args.session_id} is not signed; update it directly")
        pin = read_pin(f"PIN of {args.by}: ")
        amendment = amend_session(
            db, args.session_id, parsed, by=args.by, pin=pin, reason=args.reason
        )
    _say(f"session {args.session_id} amended (amendment {amendment})")
    return 0


def run_adverse(args: argparse.Namespace) -> int:
    """Record an adverse event against a session."""
    with refusals():
        event = parse(
            AdverseEventInput,
            {
                "kind": args.kind,
                "severity": args.severity,
                "onset": args.onset,
                "notes": args.notes,
                "at_later_visit": args.later_visit,
            },
        )
    with database(args, must_exist=True) as db:
        event_id = record_adverse_event(db, args.session_id, event, actor=actor(args))
    _say(f"adverse event {event_id} recorded for session {args.session_id}")
    return 0


def run_lot(args: argparse.Namespace) -> int:
    """Every session and patient that received the lot."""
    with database(args, must_exist=True) as db:
        uses = sessions_with_lot(db, args.lot_number)
    if not uses:
        _say(f"no session used lot {args.lot_number}")
        return 0
    for use in uses:
        amended = " (lot amended)" if use.amended else ""
        print(
            f"session {use.session_id}\t{_when(use.started_at)}\t{label(use.status)}\t"
            f"patient {terminal_safe(use.patient_identifier)}\t{terminal_safe(use.patient_name)}"
            f"\tplan {use.plan_id}{amended}"
        )
    return 0
