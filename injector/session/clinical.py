"""The clinical workflow of a session: plan, checklist and start, end, sign-off, amendments,
adverse events. Every create, change and sign-off is written with its audit entry in one
transaction.

A signed session is never edited in place: :func:`amend_session` stores what changed (old and
new values) with a reason in its own row, and :func:`session_view` shows the amended values
next to the untouched original.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from injector.domain.errors import AcknowledgementRequiredError, InvalidValueError
from injector.domain.inputs import AdverseEventInput, Checklist, SessionChanges
from injector.domain.vocabulary import SessionStatus, label
from injector.session.lifecycle import (
    END_STATUSES,
    ENDED_STATUSES,
    DeviceInfo,
    SessionEnding,
    create_session_row,
    device_fields,
    end_session_row,
    in_progress_of_gun,
    next_planned_session,
    next_sequence_no,
    refuse_second_session,
    session_row,
    start_session_row,
    upsert_device,
)
from injector.session.practitioners import (
    confirm_pin,
    not_a_practitioner,
    practitioner_row,
    refused_pins_audited,
)
from injector.session.row_views import view_of
from injector.session.series import too_early_warning
from injector.storage.audit_chain import add_created, append_audit, canonical_json, update_audited
from injector.storage.engine import Database
from injector.storage.errors import RecordNotFoundError
from injector.storage.tables import (
    AdverseEvent,
    Patient,
    SessionAmendment,
    Shot,
    TreatmentPlan,
    TreatmentSession,
    table_of,
)

NSAID_WINDOW_DAYS = 7
SIGNABLE = END_STATUSES


@dataclass(frozen=True, slots=True)
class AmendmentView:
    """One amendment of a signed session: who, when, why, and each field's old and new value."""

    id: int
    amended_by: str
    amended_at: datetime
    reason: str
    changes: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as it stands: the signed original with any amendments applied.

    ``original`` holds the values as signed for every field an amendment changed.
    """

    id: int
    plan_id: int | None
    sequence_no: int | None
    status: str
    scheduled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    practitioner: str
    device_serial: str | None
    device_model: str | None
    device_firmware: str | None
    lot_number: str | None
    lot_expiry: date | None
    nsaid_last_7_days: bool | None
    numbing_applied: bool | None
    consent_recorded: bool | None
    before_photos_taken: bool | None
    checklist_warnings: tuple[str, ...]
    warnings_acknowledged_by: str | None
    notes: str
    signed_by: str | None
    signed_at: datetime | None
    signature_meaning: str | None
    recovered_shots: int
    lost_shots: int
    amendments: tuple[AmendmentView, ...]
    original: dict[str, Any]

    @property
    def signed(self) -> bool:
        """True once the session has been signed."""
        return self.signed_at is not None


def _now() -> datetime:
    return datetime.now(UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def check_start(
    db: Database,
    plan_id: int,
    checklist: Checklist,
    *,
    lot_number: str | None = None,
    lot_expiry: date | None = None,
    today: date | None = None,
) -> tuple[str, ...]:
    """The warnings a practitioner must acknowledge before starting a session of this plan.

    An NSAID (aspirin included) in the last 7 days, an expired lot, a lot other than the
    plan's, no consent recorded, no before-photos, and the patient's recorded contraindications
    (anticoagulants, pregnancy, allergies).
    """
    day = today or _now().date()
    with db.read_session() as session:
        plan = session.get(TreatmentPlan, plan_id)
        if plan is None:
            raise RecordNotFoundError(f"plan: there is no treatment plan {plan_id}")
        patient = session.get(Patient, plan.patient_id)
        assert patient is not None
        return _warnings(plan, patient, checklist, lot_number, lot_expiry, day) + _timing(
            session, plan, day
        )


def _timing(session: Session, plan: TreatmentPlan, day: date) -> tuple[str, ...]:
    # Too soon after the last completed session: acknowledged like the other warnings.
    early = too_early_warning(session, plan, day)
    return (early,) if early else ()


def _warnings(
    plan: TreatmentPlan,
    patient: Patient,
    checklist: Checklist,
    lot_number: str | None,
    lot_expiry: date | None,
    day: date,
) -> tuple[str, ...]:
    lot = lot_number or plan.lot_number
    expiry = lot_expiry or (plan.lot_expiry if lot == plan.lot_number else None)
    found: list[str] = []
    if checklist.nsaid_last_7_days:
        found.append(
            f"nsaid_last_7_days: aspirin or another NSAID was taken in the last "
            f"{NSAID_WINDOW_DAYS} days (bleeding and bruising risk)"
        )
    if expiry is None:
        found.append(f"lot_expiry: the expiry date of lot {lot} is not known")
    elif expiry < day:
        found.append(f"lot_expiry: lot {lot} expired on {expiry.isoformat()}")
    if lot != plan.lot_number:
        found.append(f"lot_number: lot {lot} differs from the plan's lot {plan.lot_number}")
    if not checklist.consent_recorded:
        found.append("consent_recorded: no consent is recorded")
    if not checklist.before_photos_taken:
        found.append("before_photos_taken: no before-photos were taken")
    if patient.on_anticoagulants:
        found.append("patient: the patient takes anticoagulants")
    if patient.pregnant:
        found.append("patient: the patient is pregnant")
    allergies = recorded_allergies(patient.allergies)
    if allergies:
        found.append(f"patient: allergy recorded: {allergies}")
    return tuple(found)


_NO_ALLERGY = frozenset(
    {"", "none", "none known", "no known allergies", "nka", "nkda", "no", "nil", "n/a", "na", "-"}
)


def recorded_allergies(text: str) -> str:
    """The allergies a patient record names, or "" when it says there are none ("none known",
    "NKDA", "-"): a warning must name the allergy, and "none known" warns of nothing."""
    cleaned = " ".join(text.split())
    if cleaned.casefold().strip(" .;") in _NO_ALLERGY:
        return ""
    return cleaned


_FIELD_PATH = re.compile(r"[a-z_][a-z0-9_]*(\[\d+\])?(\.[a-z_][a-z0-9_]*(\[\d+\])?)*")


def warning_text(warning: str) -> str:
    """A warning as the practitioner reads it, without the field it is stored under.

    Checklist and plan warnings are kept as ``key: text`` (``lot_expiry: lot L1 expired …``,
    ``solution.expiry: …``) so a program can tell them apart; screens and ``session show``
    print the text alone, as a sentence. Text that merely contains a colon
    (``Note: read this``) is kept.
    """
    path, sep, text = warning.partition(": ")
    if sep and _FIELD_PATH.fullmatch(path):
        return text[:1].upper() + text[1:]
    return warning


def plan_session(
    db: Database,
    plan_id: int,
    *,
    scheduled_at: datetime,
    actor: str,
    now: datetime | None = None,
) -> int:
    """Schedule the next session of a plan's series; returns its id (status planned)."""
    if scheduled_at.tzinfo is None:
        raise InvalidValueError("scheduled_at", "needs a time zone")
    when = now or _now()
    with db.session() as session:
        plan = session.get(TreatmentPlan, plan_id)
        if plan is None:
            raise RecordNotFoundError(f"plan: there is no treatment plan {plan_id}")
        sequence_no = next_sequence_no(session, plan_id)
        if sequence_no > plan.sessions_planned:
            raise InvalidValueError(
                "plan_id",
                f"plan {plan_id} has all its {plan.sessions_planned} sessions already",
            )
        row = create_session_row(
            session,
            plan,
            status=SessionStatus.PLANNED,
            actor=actor,
            at=when,
            scheduled_at=scheduled_at,
        )
        assert row.id is not None
        return row.id


def start_session(
    db: Database,
    plan_id: int,
    checklist: Checklist,
    *,
    practitioner: str,
    acknowledged: bool = False,
    session_id: int | None = None,
    device: DeviceInfo | None = None,
    lot_number: str | None = None,
    lot_expiry: date | None = None,
    now: datetime | None = None,
) -> int:
    """Start a session of a plan after its checklist; returns the session id.

    Starts the planned session ``session_id`` or creates the next one of the series. When the
    checklist raises warnings and ``acknowledged`` is False, raises
    :class:`AcknowledgementRequiredError` and stores nothing; acknowledged warnings are stored
    with the practitioner's name. With ``device`` the gun is bound to the session, so the
    recorder's :func:`~injector.session.live_session.open_or_continue` continues it.
    """
    if not practitioner.strip():
        raise InvalidValueError("practitioner", "a session needs the practitioner's name")
    when = now or _now()
    with db.session() as session:
        plan = session.get(TreatmentPlan, plan_id)
        if plan is None:
            raise RecordNotFoundError(f"plan: there is no treatment plan {plan_id}")
        patient = session.get(Patient, plan.patient_id)
        assert patient is not None
        warnings = _warnings(
            plan, patient, checklist, lot_number, lot_expiry, when.date()
        ) + _timing(session, plan, when.date())
        if warnings and not acknowledged:
            raise AcknowledgementRequiredError(warnings)
        if device is not None:
            running = in_progress_of_gun(session, device.serial)
            if running is not None:
                raise InvalidValueError(
                    "device",
                    f"gun {device.serial} is recording session {running.id}; end it first",
                )
        lot = lot_number or plan.lot_number
        # A recorded practitioner links to the record, its printed name as the record spells it;
        # the CLI and the TUI offer recorded ones only.
        named = practitioner_row(session, practitioner)
        fields: dict[str, Any] = {
            "practitioner": named.name if named is not None else " ".join(practitioner.split()),
            "practitioner_id": named.id if named is not None else None,
            "lot_number": lot,
            "lot_expiry": lot_expiry or (plan.lot_expiry if lot == plan.lot_number else None),
            "nsaid_last_7_days": checklist.nsaid_last_7_days,
            "numbing_applied": checklist.numbing_applied,
            "consent_recorded": checklist.consent_recorded,
            "before_photos_taken": checklist.before_photos_taken,
            "checklist_warnings": list(warnings),
            "warnings_acknowledged_by": practitioner if warnings else None,
        }
        if device is not None:
            fields |= device_fields(device, upsert_device(session, device, when, practitioner))
        refuse_second_session(session, plan_id)
        if session_id is None:
            # The next session of the series is the one already planned, if any: the checklist
            # announced its number, and starting it must not make another.
            planned = next_planned_session(session, plan_id)
            session_id = planned.id if planned is not None else None
        if session_id is None:
            row = create_session_row(
                session,
                plan,
                status=SessionStatus.IN_PROGRESS,
                actor=practitioner,
                at=when,
                **fields,
            )
        else:
            row = session_row(session, session_id)
            if row.plan_id != plan_id:
                raise InvalidValueError(
                    "session_id", f"session {session_id} is not a session of plan {plan_id}"
                )
            if row.status != SessionStatus.PLANNED:
                raise InvalidValueError(
                    "session_id", f"session {session_id} is {row.status}, not planned"
                )
            start_session_row(session, row, fields, actor=practitioner, at=when)
        assert row.id is not None
        return row.id


def name_practitioner(
    db: Database, session_id: int, name: str, *, actor: str, now: datetime | None = None
) -> str:
    """Name the recorded practitioner ``name`` on a session not yet signed (audited with the
    old and new names); returns the printed name. Refuses (field ``practitioner``) a name that
    is not a practitioner's: the record names people, not logins."""
    when = now or _now()
    with db.session() as session:
        person = practitioner_row(session, name)
        if person is None or not person.active:
            raise not_a_practitioner(name)
        row = session_row(session, session_id)
        if row.signed_at is not None:
            raise InvalidValueError("session_id", f"session {session_id} is signed already")
        if row.practitioner_id != person.id or row.practitioner != person.name:
            diff = {
                "practitioner": {"from": row.practitioner, "to": person.name},
                "practitioner_id": {"from": row.practitioner_id, "to": person.id},
            }
            update_audited(
                session,
                row,
                {"practitioner": person.name, "practitioner_id": person.id},
                actor=actor,
                action="update",
                entity="session",
                at=when,
                payload=diff,
            )
        return person.name


def update_session(db: Database, session_id: int, changes: SessionChanges, *, actor: str) -> None:
    """Change fields of a session not yet signed (audited with old and new values)."""
    given = changes.given()
    if not given:
        raise InvalidValueError("changes", "nothing to change")
    when = _now()
    with db.session() as session:
        row = session_row(session, session_id)
        if row.signed_at is not None:
            raise InvalidValueError(
                "session_id", f"session {session_id} is signed; amend it with a reason instead"
            )
        diff = {
            name: {"from": _jsonable(getattr(row, name)), "to": _jsonable(value)}
            for name, value in given.items()
        }
        update_audited(
            session,
            row,
            given,
            actor=actor,
            action="update",
            entity="session",
            at=when,
            payload=diff,
        )


def skip_session(
    db: Database, session_id: int, *, actor: str, reason: str, now: datetime | None = None
) -> None:
    """Mark a planned session as skipped, with the reason (audited)."""
    if not reason.strip():
        raise InvalidValueError("reason", "skipping a session needs a reason")
    when = now or _now()
    with db.session() as session:
        row = session_row(session, session_id)
        if row.status != SessionStatus.PLANNED:
            raise InvalidValueError(
                "session_id", f"session {session_id} is {row.status}; only a planned one is skipped"
            )
        update_audited(
            session,
            row,
            {
                "status": SessionStatus.SKIPPED.value,
                "notes": (row.notes + "\n" if row.notes else "") + f"skipped: {reason}",
            },
            actor=actor,
            action="skip",
            entity="session",
            at=when,
            payload={"status": SessionStatus.SKIPPED.value, "reason": reason},
        )


def end_session(
    db: Database,
    session_id: int,
    *,
    actor: str,
    status: SessionStatus = SessionStatus.COMPLETED,
    now: datetime | None = None,
) -> SessionEnding:
    """End an in-progress session as completed or aborted (audited); returns how it ended.

    The rule is :func:`~injector.session.lifecycle.end_session_row` (a session without a shot
    ends aborted). A recorder attached to it should use :meth:`LiveSession.end` instead, which
    also stops it.
    """
    when = now or _now()
    with db.session() as session:
        row = session_row(session, session_id)
        return end_session_row(session, row, status=status, actor=actor, at=when)


def shots_digest(conn: Connection, session_id: int) -> tuple[int, str]:
    """The number of a session's shots and a SHA-256 over all their stored values.

    Put in the sign-off's audit entry, it lets a verification show that no shot of a signed
    session was added, removed or changed afterwards.
    """
    table = table_of(Shot)
    columns = [c for c in table.c if c.name != "id"]
    digest = hashlib.sha256()
    count = 0
    rows = conn.execute(
        sa_select(*columns)
        .where(table.c.session_id == session_id)
        .order_by(table.c.serial, table.c.boot_id, table.c.shot_no)
    )
    for row in rows:
        count += 1
        digest.update(canonical_json({"v": [_jsonable(v) for v in row]}).encode())
        digest.update(b"\n")
    return count, digest.hexdigest()


def _not_signable(row: TreatmentSession) -> str | None:
    if row.signed_at is not None:
        return f"session {row.id} was signed by {row.signed_by} already"
    if row.status not in SIGNABLE:
        return f"session {row.id} is {label(row.status)}; end it before signing"
    return None


def why_not_signable(db: Database, session_id: int) -> str | None:
    """Why the session cannot be signed now (None: it can), so a command asks for no PIN in
    vain; :func:`sign_session` applies the same rule."""
    with db.read_session() as session:
        return _not_signable(session_row(session, session_id))


def sign_session(
    db: Database,
    session_id: int,
    *,
    name: str,
    pin: str,
    meaning: str = "performed and reviewed",
    now: datetime | None = None,
) -> None:
    """Sign an ended session as the practitioner ``name``, confirmed by their PIN.

    The signature records the printed name (as the practitioner record spells it), the time
    and the meaning; the audit entry carries the session as signed and a digest of its shots.
    A session is signed once; later changes are amendments. A wrong PIN changes nothing and is
    itself audited.
    """
    if not name.strip():
        raise InvalidValueError("name", "a signature needs the signer's name")
    if not meaning.strip():
        raise InvalidValueError("meaning", "a signature needs its meaning")
    when = now or _now()
    with refused_pins_audited(db), db.session() as session:
        row = session_row(session, session_id)
        problem = _not_signable(row)
        if problem is not None:
            raise InvalidValueError("session_id", problem)
        signer = confirm_pin(session.connection(), name, pin, purpose="signature", at=when)
        row.signed_by = signer.name
        row.signed_by_id = signer.id
        row.signed_at = when
        row.signature_meaning = meaning
        session.add(row)
        session.flush()
        count, digest = shots_digest(session.connection(), session_id)
        append_audit(
            session.connection(),
            actor=signer.name,
            action="sign",
            entity="session",
            entity_id=session_id,
            payload={
                "session": row.model_dump(exclude={"id"}),
                "shots": count,
                "shots_sha256": digest,
                "meaning": meaning,
                "signer": {"id": signer.id, "name": signer.name, "role": signer.role},
            },
            at=when,
        )


def amend_session(
    db: Database,
    session_id: int,
    changes: SessionChanges,
    *,
    by: str,
    pin: str,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Amend a signed session as the practitioner ``by``, confirmed by their PIN: the original
    row stays as signed; returns the amendment id. A wrong PIN changes nothing (audited)."""
    if not by.strip():
        raise InvalidValueError("by", "an amendment needs the name of who makes it")
    if not reason.strip():
        raise InvalidValueError("reason", "an amendment needs a reason")
    given = changes.given()
    if not given:
        raise InvalidValueError("changes", "nothing to amend")
    when = now or _now()
    with refused_pins_audited(db), db.session() as session:
        row = session_row(session, session_id)
        if row.signed_at is None:
            raise InvalidValueError(
                "session_id", f"session {session_id} is not signed; update it directly"
            )
        amender = confirm_pin(session.connection(), by, pin, purpose="amendment", at=when)
        current = _effective_values(row, _amendments(session, session_id))
        diff = {
            name: {"from": _jsonable(current[name]), "to": _jsonable(value)}
            for name, value in given.items()
        }
        amendment = SessionAmendment(
            session_id=session_id,
            amended_by=amender.name,
            amended_by_id=amender.id,
            amended_at=when,
            reason=reason,
            changes=diff,
        )
        session.add(amendment)
        session.flush()
        assert amendment.id is not None
        append_audit(
            session.connection(),
            actor=amender.name,
            action="amend",
            entity="session",
            entity_id=session_id,
            payload={"amendment": amendment.id, "reason": reason, "changes": diff},
            at=when,
        )
        return amendment.id


def _amendments(session: Session, session_id: int) -> list[SessionAmendment]:
    return list(
        session.exec(
            select(SessionAmendment)
            .where(col(SessionAmendment.session_id) == session_id)
            .order_by(col(SessionAmendment.id))
        ).all()
    )


_DATETIME_FIELDS = frozenset({"scheduled_at", "started_at", "ended_at"})


def _effective_values(row: TreatmentSession, amendments: list[SessionAmendment]) -> dict[str, Any]:
    values = row.model_dump()
    for amendment in amendments:
        for name, change in amendment.changes.items():
            value = change["to"]
            if value is not None and name in _DATETIME_FIELDS:
                value = datetime.fromisoformat(value)
            elif value is not None and name == "lot_expiry":
                value = date.fromisoformat(value)
            values[name] = value
    return values


def session_view(db: Database, session_id: int) -> SessionView:
    """A session with its amendments applied, the signed original kept in ``original``."""
    with db.read_session() as session:
        return load_session_view(session, session_id)


def load_session_view(session: Session, session_id: int) -> SessionView:
    """:func:`session_view` inside an open ORM session."""
    row = session_row(session, session_id)
    amendments = _amendments(session, session_id)
    values = _effective_values(row, amendments)
    original = {name: getattr(row, name) for amendment in amendments for name in amendment.changes}
    return SessionView(
        id=session_id,
        plan_id=row.plan_id,
        sequence_no=row.sequence_no,
        status=row.status,
        scheduled_at=values["scheduled_at"],
        started_at=values["started_at"],
        ended_at=values["ended_at"],
        practitioner=values["practitioner"],
        device_serial=row.device_serial,
        device_model=row.device_model,
        device_firmware=row.device_firmware,
        lot_number=values["lot_number"],
        lot_expiry=values["lot_expiry"],
        nsaid_last_7_days=values["nsaid_last_7_days"],
        numbing_applied=values["numbing_applied"],
        consent_recorded=values["consent_recorded"],
        before_photos_taken=values["before_photos_taken"],
        checklist_warnings=tuple(row.checklist_warnings),
        warnings_acknowledged_by=row.warnings_acknowledged_by,
        notes=values["notes"],
        signed_by=row.signed_by,
        signed_at=row.signed_at,
        signature_meaning=row.signature_meaning,
        recovered_shots=row.recovered_shots,
        lost_shots=row.lost_shots,
        amendments=tuple(view_of(AmendmentView, a, changes=dict(a.changes)) for a in amendments),
        original=original,
    )


@dataclass(frozen=True, slots=True)
class AdverseEventView:
    """An adverse event as stored."""

    id: int
    session_id: int
    kind: str
    severity: str
    onset: datetime
    recorded_at: datetime
    recorded_by: str
    at_later_visit: bool
    lot_number: str | None
    notes: str


def record_adverse_event(
    db: Database,
    session_id: int,
    event: AdverseEventInput,
    *,
    actor: str,
    now: datetime | None = None,
) -> int:
    """Record a side effect against a session (signed or not: it does not edit the session).

    The onset cannot be before the session started nor in the future. The session's lot is
    kept with the event, so a lot's adverse events can be found.
    """
    when = now or _now()
    if event.onset > when + timedelta(minutes=5):
        raise InvalidValueError("onset", "is in the future")
    with db.session() as session:
        row = session_row(session, session_id)
        if row.status in (SessionStatus.PLANNED, SessionStatus.SKIPPED):
            raise InvalidValueError(
                "session_id", f"session {session_id} is {row.status}; nothing was injected"
            )
        if row.started_at is not None and event.onset < row.started_at:
            raise InvalidValueError(
                "onset", f"is before the session started ({row.started_at.isoformat()})"
            )
        lot = _effective_values(row, _amendments(session, session_id))["lot_number"]
        adverse = AdverseEvent(
            session_id=session_id,
            kind=event.kind.value,
            severity=event.severity.value,
            onset=event.onset,
            recorded_at=when,
            recorded_by=actor,
            at_later_visit=event.at_later_visit,
            lot_number=lot,
            notes=event.notes,
        )
        return add_created(session, adverse, actor=actor, entity="adverse_event", at=when)


def adverse_events(db: Database, session_id: int) -> list[AdverseEventView]:
    """A session's adverse events, by onset."""
    with db.read_session() as session:
        rows = session.exec(
            select(AdverseEvent)
            .where(col(AdverseEvent.session_id) == session_id)
            .order_by(col(AdverseEvent.onset))
        ).all()
        return [view_of(AdverseEventView, r) for r in rows]


__all__ = [
    "ENDED_STATUSES",
    "AdverseEventView",
    "AmendmentView",
    "SessionView",
    "adverse_events",
    "amend_session",
    "check_start",
    "end_session",
    "load_session_view",
    "plan_session",
    "record_adverse_event",
    "recorded_allergies",
    "session_view",
    "shots_digest",
    "sign_session",
    "skip_session",
    "start_session",
    "update_session",
    "warning_text",
    "why_not_signable",
]
