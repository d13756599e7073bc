"""What an export reads: one session with its plan, shots and device events.

Composed only from the session layer's read functions (``clinical``, ``records``,
``history``); the exports never query storage themselves. Each part is its own read-only
snapshot, so exporting a session that is still recording gives at least every shot that was
committed when its shots were read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from injector.domain.shots import ShotFlag
from injector.session.clinical import AdverseEventView, SessionView, adverse_events, session_view
from injector.session.history import (
    DeviceEventView,
    ShotView,
    list_sessions,
    session_device_events,
    session_shots,
)
from injector.session.patients_plans import PlanView, ZoneView, get_plan
from injector.storage.engine import Database


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session as the exports see it: the session, its plan (None if it has none), its
    shots in firing order, its device events in time order and its adverse events by onset.

    ``patient_age_band`` is set only in a pseudonymised export, where ``plan`` carries the
    patient's pseudonym in place of the identifier (see :mod:`injector.export.pseudonymise`).
    """

    session: SessionView
    plan: PlanView | None
    shots: tuple[ShotView, ...]
    events: tuple[DeviceEventView, ...]
    adverse_events: tuple[AdverseEventView, ...] = ()
    patient_age_band: str | None = None

    def zone(self, zone_id: int | None) -> ZoneView | None:
        """The plan zone with this id (None for no zone or a zone not in the plan)."""
        if zone_id is None or self.plan is None:
            return None
        return next((zone for zone in self.plan.zones if zone.id == zone_id), None)

    def zone_name(self, zone_id: int | None) -> str | None:
        """The name of the plan zone with this id, None for shots with no zone."""
        zone = self.zone(zone_id)
        return zone.name if zone is not None else None

    @property
    def patient_identifier(self) -> str | None:
        """The clinic's patient number, if the session belongs to a plan."""
        return self.plan.patient_identifier if self.plan is not None else None


def fired_at(shot: ShotView) -> datetime:
    """When a shot was fired: the gun's own time mapped to wall time, else when it arrived."""
    return shot.device_time if shot.device_time is not None else shot.received_at


def flag_names(flags: int) -> list[str]:
    """The names of the IGP/1 SHOT flags set in ``flags``, lowest bit first."""
    return [flag.name for flag in ShotFlag if flag.name is not None and flags & flag.value]


def load_session_record(
    db: Database, session_id: int, *, plans: dict[int, PlanView] | None = None
) -> SessionRecord:
    """Read one session for export; :class:`~injector.storage.errors.RecordNotFoundError` if
    there is no such session. ``plans`` caches plans already read (by id) across calls."""
    view = session_view(db, session_id)
    plan: PlanView | None = None
    if view.plan_id is not None:
        cache = plans if plans is not None else {}
        plan = cache.get(view.plan_id)
        if plan is None:
            plan = cache[view.plan_id] = get_plan(db, view.plan_id)
    return SessionRecord(
        session=view,
        plan=plan,
        shots=tuple(session_shots(db, session_id)),
        events=tuple(session_device_events(db, session_id)),
        adverse_events=tuple(adverse_events(db, session_id)),
    )


def load_all_session_records(db: Database) -> list[SessionRecord]:
    """Every session in the database (by plan, place in the series, then id), for export."""
    plans: dict[int, PlanView] = {}
    return [load_session_record(db, view.id, plans=plans) for view in list_sessions(db)]
