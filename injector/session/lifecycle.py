"""A session's life, written once: created, started, bound to a gun, continued, ended.

Every other module (the clinical workflow, the live session, the recorder, the TUI and the
CLI) goes through these functions to create or end a session row, so the rules live here:

- a session row is created only by :func:`create_session_row`, which gives it its place in
  the series (:func:`next_sequence_no`) and the plan's lot;
- a session ends only through :func:`end_session_row`: one that never recorded a shot ends
  **aborted** whatever was asked, and an aborted session gives up its place in the series;
- the gun's in-progress session is found by :func:`open_session_of_gun` (the TUI and headless
  ``record`` both continue it rather than start a second one for the same visit).

Each function works inside the caller's ORM session (one transaction) and writes its audit
entry through :func:`~injector.storage.audit_chain.add_created` or
:func:`~injector.storage.audit_chain.update_audited`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from injector.domain.errors import InvalidValueError
from injector.domain.vocabulary import SessionStatus
from injector.storage.audit_chain import add_created, update_audited
from injector.storage.errors import RecordNotFoundError
from injector.storage.tables import Device, Shot, TreatmentPlan, TreatmentSession, table_of

ENDED_STATUSES = frozenset({SessionStatus.COMPLETED, SessionStatus.ABORTED, SessionStatus.SKIPPED})
"""A session in one of these states records no more shots."""
END_STATUSES = frozenset({SessionStatus.COMPLETED, SessionStatus.ABORTED})
"""How a session that was in progress can end (and what can then be signed)."""
SESSION = "session"
"""The audit trail's name for a session row."""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A gun as it introduced itself (HELLO): serial, model and firmware version."""

    serial: str
    model: str
    firmware: str


@dataclass(frozen=True, slots=True)
class SessionEnding:
    """How :func:`end_session_row` ended a session, and why if not as asked."""

    session_id: int
    status: SessionStatus
    asked: SessionStatus
    shots: int

    @property
    def why(self) -> str:
        """Why the session did not end as asked ("" when it did)."""
        if self.status is self.asked:
            return ""
        return "no shot was recorded in it, so it takes no place in the series"


def upsert_device(session: Session, device: DeviceInfo, now: datetime, actor: str) -> Device:
    """The gun's row, created or brought up to date (model, firmware); changes are audited."""
    row = session.exec(select(Device).where(col(Device.serial) == device.serial)).first()
    if row is None:
        row = Device(
            serial=device.serial,
            model=device.model,
            firmware=device.firmware,
            first_seen_at=now,
            last_seen_at=now,
        )
        changes = {"serial": device.serial, "model": device.model, "firmware": device.firmware}
        add_created(session, row, actor=actor, entity="device", at=now, payload=changes)
        return row
    # A firmware update is a change of the record (which gun fired the shots); a new sighting
    # alone is not worth an audit entry.
    diff: dict[str, Any] = {
        name: {"from": getattr(row, name), "to": getattr(device, name)}
        for name in ("model", "firmware")
        if getattr(row, name) != getattr(device, name)
    }
    row.last_seen_at = now
    if diff:
        update_audited(
            session,
            row,
            {name: change["to"] for name, change in diff.items()},
            actor=actor,
            action="update",
            entity="device",
            at=now,
            payload=diff,
        )
    else:
        session.add(row)
        session.flush()
    return row


def next_sequence_no(session: Session, plan_id: int) -> int:
    """The place in the series of the next session of a plan (1 for the first).

    Aborted sessions hold no place (their number is given up when they end), so the number
    is the same one the series overview shows as "session n of N".
    """
    numbers = session.exec(
        select(TreatmentSession.sequence_no).where(
            col(TreatmentSession.plan_id) == plan_id,
            col(TreatmentSession.status) != SessionStatus.ABORTED.value,
        )
    ).all()
    return max((n for n in numbers if n is not None), default=0) + 1


def session_row(session: Session, session_id: int) -> TreatmentSession:
    """The session row, or :class:`RecordNotFoundError` naming the id."""
    row = session.get(TreatmentSession, session_id)
    if row is None:
        raise RecordNotFoundError(f"session: there is no session {session_id}")
    return row


def device_fields(device: DeviceInfo, device_row: Device) -> dict[str, Any]:
    """The session columns that say which gun recorded it."""
    return {
        "device_id": device_row.id,
        "device_serial": device.serial,
        "device_model": device.model,
        "device_firmware": device.firmware,
    }


def create_session_row(
    session: Session,
    plan: TreatmentPlan | None,
    *,
    status: SessionStatus,
    actor: str,
    at: datetime,
    payload: dict[str, Any] | None = None,
    **fields: Any,
) -> TreatmentSession:
    """Create a session of ``plan`` (or of no plan) with its "create" audit entry.

    The only place a session row is made: its place in the series and the plan's lot are set
    here; ``fields`` sets any other column (and may override the lot).
    """
    values: dict[str, Any] = {
        "plan_id": plan.id if plan is not None else None,
        "sequence_no": (
            next_sequence_no(session, plan.id) if plan is not None and plan.id is not None else None
        ),
        "status": status.value,
        "lot_number": plan.lot_number if plan is not None else None,
        "lot_expiry": plan.lot_expiry if plan is not None else None,
        "created_at": at,
    }
    if status is SessionStatus.IN_PROGRESS:
        values["started_at"] = at
    values |= fields
    row = TreatmentSession(**values)
    created = row.model_dump(exclude={"id"})
    add_created(session, row, actor=actor, entity=SESSION, at=at, payload=(payload or {}) | created)
    return row


def start_session_row(
    session: Session, row: TreatmentSession, changes: dict[str, Any], *, actor: str, at: datetime
) -> None:
    """Start a planned session (or bind a gun to one in progress): audited as "start"."""
    values = dict(changes)
    if row.status == SessionStatus.PLANNED:
        values |= {"status": SessionStatus.IN_PROGRESS.value, "started_at": at}
    update_audited(session, row, values, actor=actor, action="start", entity=SESSION, at=at)


def shots_of_session(session: Session, session_id: int) -> int:
    """How many shots are stored in a session."""
    table = table_of(Shot)
    count = session.connection().execute(
        sa_select(func.count()).select_from(table).where(table.c.session_id == session_id)
    )
    return int(count.scalar_one())


def end_session_row(
    session: Session,
    row: TreatmentSession,
    *,
    status: SessionStatus,
    actor: str,
    at: datetime,
) -> SessionEnding:
    """End an in-progress session as completed or aborted, audited; the only way one ends.

    A session with no shot ends aborted whatever was asked (nothing was injected) and, like
    every aborted session, gives up its place in the series. Refuses (naming the field) a
    session that is signed, already ended or not in progress.
    """
    assert row.id is not None
    if status not in END_STATUSES:
        raise InvalidValueError("status", "a session ends as completed or aborted")
    if row.signed_at is not None:
        raise InvalidValueError(
            "session_id",
            f"session {row.id} is signed by {row.signed_by}; a signed session is not ended "
            "again (amend it instead)",
        )
    if row.status in END_STATUSES:
        raise InvalidValueError("session_id", f"session {row.id} has already ended ({row.status})")
    if row.status != SessionStatus.IN_PROGRESS:
        raise InvalidValueError("session_id", f"session {row.id} is {row.status}, not in progress")
    shots = shots_of_session(session, row.id)
    final = SessionStatus.ABORTED if shots == 0 else status
    changes: dict[str, Any] = {"status": final.value, "ended_at": at}
    if final is SessionStatus.ABORTED:
        changes["sequence_no"] = None
    payload: dict[str, Any] = {"status": final.value, "ended_at": at}
    if final is not status:
        payload["asked"] = status.value
        payload["reason"] = "no shot recorded"
    if final is SessionStatus.ABORTED and row.sequence_no is not None:
        payload["gives_up_sequence_no"] = row.sequence_no
    update_audited(
        session, row, changes, actor=actor, action="end", entity=SESSION, at=at, payload=payload
    )
    return SessionEnding(row.id, final, status, shots)


def open_session_of_plan(session: Session, plan_id: int) -> TreatmentSession | None:
    """The plan's session still in progress (a quit TUI, a crashed laptop, a headless
    ``record`` left open), if any: the one to resume, end or abort before another starts."""
    return session.exec(
        select(TreatmentSession)
        .where(
            col(TreatmentSession.plan_id) == plan_id,
            col(TreatmentSession.status) == SessionStatus.IN_PROGRESS.value,
        )
        .order_by(col(TreatmentSession.started_at).desc(), col(TreatmentSession.id).desc())
    ).first()


def next_planned_session(session: Session, plan_id: int) -> TreatmentSession | None:
    """The plan's earliest planned (scheduled, not started) session, if any."""
    return session.exec(
        select(TreatmentSession)
        .where(
            col(TreatmentSession.plan_id) == plan_id,
            col(TreatmentSession.status) == SessionStatus.PLANNED.value,
        )
        .order_by(col(TreatmentSession.sequence_no), col(TreatmentSession.id))
    ).first()


def refuse_second_session(session: Session, plan_id: int) -> None:
    """Refuse to start a session of a plan that has one still open (naming it and what to do).

    One visit is one session: the TUI and headless ``record`` both continue the open one.
    """
    running = open_session_of_plan(session, plan_id)
    if running is None:
        return
    since = f" since {running.started_at.astimezone():%Y-%m-%d %H:%M}" if running.started_at else ""
    raise InvalidValueError(
        "plan_id",
        f"session {running.id} of plan {plan_id} is still open{since}: resume it, or end or "
        f"abort it first (injector session end {running.id} --by NAME)",
    )


def in_progress_of_gun(session: Session, serial: str) -> TreatmentSession | None:
    """The gun's most recent in-progress session, if any."""
    return session.exec(
        select(TreatmentSession)
        .where(
            col(TreatmentSession.device_serial) == serial,
            col(TreatmentSession.status) == SessionStatus.IN_PROGRESS.value,
        )
        .order_by(col(TreatmentSession.started_at).desc(), col(TreatmentSession.id).desc())
    ).first()


def open_session_of_gun(
    session: Session,
    device: DeviceInfo,
    device_row: Device,
    plan_id: int | None,
    session_id: int | None,
    actor: str,
    now: datetime,
) -> TreatmentSession:
    """The session a gun records into: the one named (started if planned), else the gun's
    in-progress one (a restart or a reopened screen continues it), else the plan's open one
    (one visit, one session), else a new one.

    Refuses (naming the field) an ended or signed session, one recording with another gun,
    and a ``plan_id`` other than the session's.
    """
    if session_id is not None:
        row = session_row(session, session_id)
        if row.status in ENDED_STATUSES or row.signed_at is not None:
            raise InvalidValueError(
                "session_id", f"session {session_id} is {row.status}; it cannot record shots"
            )
        if row.status == SessionStatus.IN_PROGRESS and row.device_serial not in (
            None,
            device.serial,
        ):
            raise InvalidValueError(
                "session_id",
                f"session {session_id} is recording with gun {row.device_serial}, "
                f"not {device.serial}",
            )
        if plan_id is not None and row.plan_id != plan_id:
            raise InvalidValueError(
                "plan_id", f"session {session_id} belongs to plan {row.plan_id}, not {plan_id}"
            )
        changes = {} if row.device_serial == device.serial else device_fields(device, device_row)
        if changes or row.status == SessionStatus.PLANNED:
            start_session_row(session, row, changes, actor=actor, at=now)
        return row

    running = in_progress_of_gun(session, device.serial)
    if running is not None:
        if plan_id is not None and running.plan_id != plan_id:
            raise InvalidValueError(
                "plan_id",
                f"gun {device.serial} is still recording session {running.id} of plan "
                f"{running.plan_id}; end that session first",
            )
        return running

    plan = None
    if plan_id is not None:
        plan = session.get(TreatmentPlan, plan_id)
        if plan is None:
            raise RecordNotFoundError(f"plan_id: there is no plan {plan_id}")
        # The plan's visit is already open (started from the checklist, or by another program
        # whose gun has not connected since): continue it rather than start a second one.
        visit = open_session_of_plan(session, plan_id)
        if visit is not None:
            if visit.device_serial not in (None, device.serial):
                raise InvalidValueError(
                    "plan_id",
                    f"session {visit.id} of plan {plan_id} is open with gun "
                    f"{visit.device_serial}; end it first, or record with that gun",
                )
            if visit.device_serial is None:
                start_session_row(
                    session, visit, device_fields(device, device_row), actor=actor, at=now
                )
            return visit
    return create_session_row(
        session,
        plan,
        status=SessionStatus.IN_PROGRESS,
        actor=actor,
        at=now,
        practitioner="",
        **device_fields(device, device_row),
    )


def continue_ended_session(
    session: Session, old: TreatmentSession, active_zone_id: int | None, actor: str, at: datetime
) -> TreatmentSession:
    """A new in-progress session for shots that arrive after ``old`` ended (audited).

    The gun still fired: its shots are kept in a session of the same plan, gun and
    practitioner rather than refused or added to an ended (perhaps signed) one.
    """
    plan = session.get(TreatmentPlan, old.plan_id) if old.plan_id is not None else None
    return create_session_row(
        session,
        plan,
        status=SessionStatus.IN_PROGRESS,
        actor=actor,
        at=at,
        payload={"continues_session": old.id},
        practitioner=old.practitioner,
        device_id=old.device_id,
        device_serial=old.device_serial,
        device_model=old.device_model,
        device_firmware=old.device_firmware,
        lot_number=old.lot_number,
        lot_expiry=old.lot_expiry,
        active_zone_id=active_zone_id,
        notes=f"continues session {old.id}, which ended while the gun still fired",
    )
