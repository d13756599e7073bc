"""Reading what was recorded: sessions, their shots, device events and zone changes.

For the exports and the TUI; read-only snapshots that never hold up a recorder's writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from injector.session.clinical import SessionView, load_session_view
from injector.session.row_views import view_of
from injector.storage.engine import Database
from injector.storage.tables import (
    DeviceEvent,
    Patient,
    Shot,
    TreatmentPlan,
    TreatmentSession,
    ZoneActivation,
    table_of,
)


@dataclass(frozen=True, slots=True)
class ShotView:
    """A stored shot (storage units: µm, nL; times UTC)."""

    id: int
    session_id: int
    zone_id: int | None
    serial: str
    boot_id: int
    shot_no: int
    uptime_ms: int
    received_at: datetime
    device_time: datetime | None
    depth_um: int
    volume_nl: int
    flags: int
    syringe_remaining_nl: int
    retransmitted: bool


@dataclass(frozen=True, slots=True)
class DeviceEventView:
    """A stored device event (``session_id`` None: logged after its session ended)."""

    id: int
    session_id: int | None
    serial: str
    boot_id: int | None
    kind: str
    at: datetime
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ZoneChange:
    """From ``at`` on, shots went to ``zone_id`` (None: no zone)."""

    at: datetime
    zone_id: int | None


def list_sessions(
    db: Database,
    *,
    plan_id: int | None = None,
    patient_identifier: str | None = None,
    device_serial: str | None = None,
    status: str | None = None,
) -> list[SessionView]:
    """Sessions matching every filter given, by plan and place in the series, then id."""
    with db.read_session() as session:
        query = select(TreatmentSession.id)
        if plan_id is not None:
            query = query.where(col(TreatmentSession.plan_id) == plan_id)
        if device_serial is not None:
            query = query.where(col(TreatmentSession.device_serial) == device_serial)
        if status is not None:
            query = query.where(col(TreatmentSession.status) == status)
        if patient_identifier is not None:
            query = (
                query.join(TreatmentPlan, col(TreatmentPlan.id) == col(TreatmentSession.plan_id))
                .join(Patient, col(Patient.id) == col(TreatmentPlan.patient_id))
                .where(col(Patient.identifier) == patient_identifier)
            )
        query = query.order_by(
            col(TreatmentSession.plan_id),
            col(TreatmentSession.sequence_no),
            col(TreatmentSession.id),
        )
        ids = [i for i in session.exec(query).all() if i is not None]
        return [load_session_view(session, i) for i in ids]


def session_shots(db: Database, session_id: int) -> list[ShotView]:
    """Every shot of a session in firing order (per gun and boot, by shot number)."""
    table = table_of(Shot)
    with db.read() as conn:
        rows = conn.execute(
            sa_select(table)
            .where(table.c.session_id == session_id)
            .order_by(table.c.received_at, table.c.serial, table.c.boot_id, table.c.shot_no)
        ).mappings()
        return [ShotView(**dict(row)) for row in rows]


def session_device_events(db: Database, session_id: int) -> list[DeviceEventView]:
    """A session's device events (faults, link, reboots, recovered/lost, locks), by time."""
    with db.read_session() as session:
        rows = session.exec(
            select(DeviceEvent)
            .where(col(DeviceEvent.session_id) == session_id)
            .order_by(col(DeviceEvent.at), col(DeviceEvent.id))
        ).all()
        return [view_of(DeviceEventView, r, detail=dict(r.detail)) for r in rows]


def zone_changes(db: Database, session_id: int) -> list[ZoneChange]:
    """When each zone became active in a session, in time order."""
    with db.read_session() as session:
        rows = session.exec(
            select(ZoneActivation)
            .where(col(ZoneActivation.session_id) == session_id)
            .order_by(col(ZoneActivation.at), col(ZoneActivation.id))
        ).all()
        return [view_of(ZoneChange, r) for r in rows]
