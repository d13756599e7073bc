"""Patients and treatment plans: creating and editing them (audited), reading them as views.

The TUI, the CLI and the exports read the record through these views, never through SQL.
An edit is one audit entry (action ``update``) holding the old and the new value of each field
that changed; an edit that changes nothing writes nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PatientInput, PlanInput, ZoneInput
from injector.domain.vocabulary import SessionStatus
from injector.storage.audit_chain import add_created, append_audit, update_audited
from injector.storage.engine import Database
from injector.storage.errors import RecordNotFoundError
from injector.storage.tables import (
    Patient,
    PlanZone,
    Shot,
    TreatmentPlan,
    TreatmentSession,
    ZoneActivation,
)


@dataclass(frozen=True, slots=True)
class PatientView:
    """A patient as stored."""

    id: int
    identifier: str
    name: str
    date_of_birth: date
    contact: str
    on_anticoagulants: bool
    pregnant: bool
    allergies: str
    contraindication_notes: str


@dataclass(frozen=True, slots=True)
class ZoneView:
    """A plan zone as stored (storage units: µm, nL)."""

    id: int
    position: int
    name: str
    body_area: str
    technique: str
    depth_um: int
    depth_tolerance_um: int
    volume_per_point_nl: int
    points: int
    max_volume_nl: int
    site: str | None = None
    """An :class:`~injector.domain.vocabulary.AnatomicalSite` value; None: not placed."""


@dataclass(frozen=True, slots=True)
class PlanView:
    """A treatment plan with its zones, in plan order."""

    id: int
    patient_id: int
    patient_identifier: str
    indication: str
    indication_area: str | None
    product_name: str
    components: tuple[str, ...]
    manufacturer: str
    lot_number: str
    lot_expiry: date
    sessions_planned: int
    initial_sessions: int
    initial_interval_days: tuple[int, int]
    later_interval_days: int | None
    max_session_volume_nl: int | None
    lock_at_limit: bool
    notes: str
    created_by: str
    created_at: datetime
    zones: tuple[ZoneView, ...]


@dataclass(frozen=True, slots=True)
class PlanCreated:
    """A saved (new or edited) plan's id and the warnings its input raised (an expired lot,
    unusual depths)."""

    plan_id: int
    warnings: tuple[str, ...]


def _now() -> datetime:
    return datetime.now(UTC)


def _plan_columns(plan: PlanInput) -> dict[str, Any]:
    """The plan's own columns (not its patient, zones or creation) in storage units."""
    series = plan.series
    return {
        "indication": plan.indication.value,
        "indication_area": plan.indication_area,
        "product_name": plan.solution.product_name,
        "components": list(plan.solution.components),
        "manufacturer": plan.solution.manufacturer,
        "lot_number": plan.solution.lot_number,
        "lot_expiry": plan.solution.expiry,
        "sessions_planned": series.sessions,
        "initial_sessions": (
            series.initial_sessions
            if series.initial_sessions is not None
            else series.sessions
            if series.later_interval_days is None
            else min(3, series.sessions)
        ),
        "initial_interval_min_days": series.initial_interval_days[0],
        "initial_interval_max_days": series.initial_interval_days[1],
        "later_interval_days": series.later_interval_days,
        "max_session_volume_nl": plan.max_session_volume_nl,
        "lock_at_limit": plan.lock_at_limit,
        "notes": plan.notes,
    }


def _zone_columns(zone: ZoneInput) -> dict[str, Any]:
    """A zone's columns (not its plan or position) in storage units."""
    return {
        "name": zone.name,
        "body_area": zone.body_area.value,
        "technique": zone.technique.value,
        "depth_um": zone.depth_um,
        "depth_tolerance_um": zone.tolerance_um,
        "volume_per_point_nl": zone.volume_per_point_nl,
        "points": zone.points,
        "max_volume_nl": zone.max_volume_nl,
        "site": zone.site.value if zone.site is not None else None,
    }


_ZONE_FIELDS = (
    "position",
    "name",
    "body_area",
    "technique",
    "depth_um",
    "depth_tolerance_um",
    "volume_per_point_nl",
    "points",
    "max_volume_nl",
    "site",
)
_PATIENT_FIELDS = tuple(PatientInput.model_fields)


def patient_view(row: Patient) -> PatientView:
    """The view of a patient row."""
    assert row.id is not None
    return PatientView(
        id=row.id,
        identifier=row.identifier,
        name=row.name,
        date_of_birth=row.date_of_birth,
        contact=row.contact,
        on_anticoagulants=row.on_anticoagulants,
        pregnant=row.pregnant,
        allergies=row.allergies,
        contraindication_notes=row.contraindication_notes,
    )


def create_patient(
    db: Database, patient: PatientInput, *, actor: str, now: datetime | None = None
) -> int:
    """Record a new patient; returns its id. Refuses an identifier already in use."""
    try:
        with db.session() as session:
            return add_patient(session, patient, actor=actor, now=now or _now())
    except IntegrityError:
        # Another room added the same identifier between our check and our insert.
        raise InvalidValueError(
            "identifier", f"a patient with identifier {patient.identifier} already exists"
        ) from None


def add_patient(session: Session, patient: PatientInput, *, actor: str, now: datetime) -> int:
    """:func:`create_patient` inside the caller's ORM session (and transaction)."""
    if _patient_by_identifier(session, patient.identifier) is not None:
        raise InvalidValueError(
            "identifier", f"a patient with identifier {patient.identifier} already exists"
        )
    row = Patient(**patient.model_dump(), created_at=now)
    return add_created(
        session, row, actor=actor, entity="patient", at=now, payload=patient.model_dump(mode="json")
    )


def update_patient(
    db: Database,
    identifier: str,
    data: PatientInput,
    *,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Change the patient with ``identifier`` to ``data`` (audited with old and new values).

    The identifier itself may change: plans and sessions refer to the patient's row, not to
    its identifier, so they follow. An identifier another patient has is refused (field
    ``identifier``) and nothing changes. :class:`RecordNotFoundError` if there is no patient
    with ``identifier``.
    """
    when = now or _now()
    try:
        with db.session() as session:
            row = session.exec(
                select(Patient).where(col(Patient.identifier) == identifier).with_for_update()
            ).first()
            if row is None or row.id is None:
                raise RecordNotFoundError(
                    f"patient: there is no patient with identifier {identifier}"
                )
            if data.identifier != identifier and (
                _patient_by_identifier(session, data.identifier) is not None
            ):
                raise InvalidValueError(
                    "identifier", f"a patient with identifier {data.identifier} already exists"
                )
            new = data.model_dump()
            old = {name: getattr(row, name) for name in _PATIENT_FIELDS}
            changed = [name for name in _PATIENT_FIELDS if old[name] != new[name]]
            if not changed:
                return
            update_audited(
                session,
                row,
                {name: new[name] for name in changed},
                actor=actor,
                action="update",
                entity="patient",
                at=when,
                payload={
                    "old": {name: old[name] for name in changed},
                    "new": {name: new[name] for name in changed},
                },
            )
    except IntegrityError:
        # Another room gave a patient this identifier between our check and our update.
        raise InvalidValueError(
            "identifier", f"a patient with identifier {data.identifier} already exists"
        ) from None


def _patient_by_identifier(session: Session, identifier: str) -> Patient | None:
    return session.exec(select(Patient).where(col(Patient.identifier) == identifier)).first()


def list_patients(db: Database) -> list[PatientView]:
    """Every patient, by identifier."""
    with db.read_session() as session:
        rows = session.exec(select(Patient).order_by(col(Patient.identifier))).all()
        return [patient_view(row) for row in rows]


def search_key(text: str) -> str:
    """``text`` as a search compares it: accents dropped, case folded, spaces collapsed, so
    ``zoe`` finds Zoë and ``muller`` finds Müller."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def find_patients(db: Database, query: str) -> list[PatientView]:
    """Patients whose name or identifier contains ``query``, ignoring accents and case (every
    patient when it is empty), by identifier."""
    needle = search_key(query)
    return [
        p
        for p in list_patients(db)
        if needle in search_key(p.name) or needle in search_key(p.identifier)
    ]


def get_patient(db: Database, identifier: str) -> PatientView:
    """The patient with this identifier; :class:`RecordNotFoundError` if there is none."""
    with db.read_session() as session:
        row = _patient_by_identifier(session, identifier)
        if row is None:
            raise RecordNotFoundError(f"patient: there is no patient with identifier {identifier}")
        return patient_view(row)


def create_plan(
    db: Database, plan: PlanInput, *, actor: str, now: datetime | None = None
) -> PlanCreated:
    """Record a plan and its zones for the patient it names; returns the id and warnings.

    Warnings (an expired lot, a depth outside 1–4 mm) do not stop the plan; the caller shows
    them. A patient that does not exist is refused (field ``patient``).
    """
    with db.session() as session:
        return add_plan(session, plan, actor=actor, now=now or _now())


def add_plan(session: Session, plan: PlanInput, *, actor: str, now: datetime) -> PlanCreated:
    """:func:`create_plan` inside the caller's ORM session (and transaction)."""
    when = now
    patient = _patient_by_identifier(session, plan.patient)
    if patient is None or patient.id is None:
        raise InvalidValueError("patient", f"there is no patient with identifier {plan.patient}")
    row = TreatmentPlan(
        patient_id=patient.id, **_plan_columns(plan), created_by=actor, created_at=when
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for position, zone in enumerate(plan.zones):
        session.add(PlanZone(plan_id=row.id, position=position, **_zone_columns(zone)))
    session.flush()
    append_audit(
        session.connection(),
        actor=actor,
        action="create",
        entity="plan",
        entity_id=row.id,
        payload=plan.model_dump(mode="json"),
        at=when,
    )
    return PlanCreated(plan_id=row.id, warnings=plan.warnings(when.date()))


def update_plan(
    db: Database,
    plan_id: int,
    data: PlanInput,
    *,
    actor: str,
    now: datetime | None = None,
    zone_ids: Sequence[int | None] | None = None,
) -> PlanCreated:
    """Change plan ``plan_id`` and its zones to ``data``; returns the id and the warnings.

    ``zone_ids`` says, for each zone of ``data``, which stored zone it edits (None: a new
    zone); stored zones it does not name are removed. Without it the zones are matched by
    position: ``data.zones[i]`` edits the plan's i-th zone, zones past the stored ones are
    added and stored zones past ``data``'s are removed. A zone keeps its id (and so its
    shots) when renamed or retuned.

    Refused, naming the field, with nothing changed: another patient (field ``patient``: a
    plan stays with its patient), a zone id that is not of this plan, and removing a zone
    that shots or a session already refer to, or any zone while a session of the plan is in
    progress (field ``zones``). The audit entry (action ``update``) holds the old and the new
    value of every changed field, and the whole zone list before and after if any zone
    changed. :class:`RecordNotFoundError` if there is no plan ``plan_id``.
    """
    when = now or _now()
    try:
        with db.session() as session:
            _update_plan(session, plan_id, data, actor=actor, when=when, zone_ids=zone_ids)
    except IntegrityError:
        # A recorder attributed a shot to a zone being removed, after our check.
        raise InvalidValueError(
            "zones", "a zone being removed was just used by a session; nothing was changed"
        ) from None
    return PlanCreated(plan_id=plan_id, warnings=data.warnings(when.date()))


def _zone_snapshot(zone: PlanZone) -> dict[str, Any]:
    return {"id": zone.id} | {name: getattr(zone, name) for name in _ZONE_FIELDS}


def _update_plan(
    session: Session,
    plan_id: int,
    data: PlanInput,
    *,
    actor: str,
    when: datetime,
    zone_ids: Sequence[int | None] | None,
) -> None:
    row = session.exec(
        select(TreatmentPlan).where(col(TreatmentPlan.id) == plan_id).with_for_update()
    ).first()
    if row is None or row.id is None:
        raise RecordNotFoundError(f"plan: there is no treatment plan {plan_id}")
    patient = session.get(Patient, row.patient_id)
    assert patient is not None
    if data.patient != patient.identifier:
        raise InvalidValueError(
            "patient",
            f"a plan stays with its patient ({patient.identifier}); "
            f"make a new plan for {data.patient}",
        )
    stored = list(
        session.exec(
            select(PlanZone)
            .where(col(PlanZone.plan_id) == plan_id)
            .order_by(col(PlanZone.position))
        ).all()
    )
    by_id = {zone.id: zone for zone in stored}
    if zone_ids is None:
        zone_ids = [stored[i].id if i < len(stored) else None for i in range(len(data.zones))]
    if len(zone_ids) != len(data.zones):
        raise InvalidValueError(
            "zones", f"{len(zone_ids)} zone ids given for {len(data.zones)} zones"
        )
    seen: set[int] = set()
    for index, zone_id in enumerate(zone_ids):
        if zone_id is None:
            continue
        if zone_id not in by_id or zone_id in seen:
            raise InvalidValueError(
                f"zones[{index}]", f"zone {zone_id} is not a zone of plan {plan_id} (any more)"
            )
        seen.add(zone_id)
    removed = [zone for zone in stored if zone.id not in seen]
    if removed:
        _check_removable(session, plan_id, removed)

    old_plan = {name: getattr(row, name) for name in _plan_columns(data)}
    new_plan = _plan_columns(data)
    changed = [name for name in new_plan if old_plan[name] != new_plan[name]]
    old_zones = [_zone_snapshot(zone) for zone in stored]

    for zone in removed:
        session.delete(zone)
    session.flush()
    for name in changed:
        setattr(row, name, new_plan[name])
    session.add(row)
    kept: list[PlanZone] = []
    for position, (zone_id, zone_input) in enumerate(zip(zone_ids, data.zones, strict=True)):
        values = {"position": position, **_zone_columns(zone_input)}
        if zone_id is None:
            target = PlanZone(plan_id=plan_id, **values)
        else:
            target = by_id[zone_id]
            for name, value in values.items():
                setattr(target, name, value)
        session.add(target)
        kept.append(target)
    session.flush()
    new_zones = [_zone_snapshot(zone) for zone in kept]

    old: dict[str, Any] = {name: old_plan[name] for name in changed}
    new: dict[str, Any] = {name: new_plan[name] for name in changed}
    if old_zones != new_zones:
        old["zones"], new["zones"] = old_zones, new_zones
    if not new:
        return
    append_audit(
        session.connection(),
        actor=actor,
        action="update",
        entity="plan",
        entity_id=plan_id,
        payload={"old": old, "new": new},
        at=when,
    )


def _check_removable(session: Session, plan_id: int, removed: Sequence[PlanZone]) -> None:
    """Refuse removing zones that the record already refers to (field ``zones``)."""
    running = session.exec(
        select(TreatmentSession.id).where(
            col(TreatmentSession.plan_id) == plan_id,
            col(TreatmentSession.status) == SessionStatus.IN_PROGRESS.value,
        )
    ).first()
    if running is not None:
        names = ", ".join(zone.name for zone in removed)
        raise InvalidValueError(
            "zones",
            f"zone {names} cannot be removed while session {running} of this plan is in progress",
        )
    for zone in removed:
        shots = session.exec(
            select(func.count()).select_from(Shot).where(col(Shot.zone_id) == zone.id)
        ).one()
        if shots:
            raise InvalidValueError(
                "zones",
                f"zone {zone.name} has {shots} shot(s) recorded against it and cannot be "
                "removed (rename or retune it instead)",
            )
        used = (
            session.exec(
                select(ZoneActivation.session_id).where(col(ZoneActivation.zone_id) == zone.id)
            ).first()
            or session.exec(
                select(TreatmentSession.id).where(col(TreatmentSession.active_zone_id) == zone.id)
            ).first()
        )
        if used is not None:
            raise InvalidValueError(
                "zones",
                f"zone {zone.name} was used in session {used} and cannot be removed "
                "(rename or retune it instead)",
            )


def _zone_view(row: PlanZone) -> ZoneView:
    assert row.id is not None
    return ZoneView(
        id=row.id,
        position=row.position,
        name=row.name,
        body_area=row.body_area,
        technique=row.technique,
        depth_um=row.depth_um,
        depth_tolerance_um=row.depth_tolerance_um,
        volume_per_point_nl=row.volume_per_point_nl,
        points=row.points,
        max_volume_nl=row.max_volume_nl,
        site=row.site,
    )


def load_plan(session: Session, plan_id: int) -> PlanView:
    """The plan with its zones, inside an open ORM session."""
    row = session.get(TreatmentPlan, plan_id)
    if row is None or row.id is None:
        raise RecordNotFoundError(f"plan: there is no treatment plan {plan_id}")
    patient = session.get(Patient, row.patient_id)
    assert patient is not None
    zones = session.exec(
        select(PlanZone).where(col(PlanZone.plan_id) == plan_id).order_by(col(PlanZone.position))
    ).all()
    return PlanView(
        id=row.id,
        patient_id=row.patient_id,
        patient_identifier=patient.identifier,
        indication=row.indication,
        indication_area=row.indication_area,
        product_name=row.product_name,
        components=tuple(row.components),
        manufacturer=row.manufacturer,
        lot_number=row.lot_number,
        lot_expiry=row.lot_expiry,
        sessions_planned=row.sessions_planned,
        initial_sessions=row.initial_sessions,
        initial_interval_days=(row.initial_interval_min_days, row.initial_interval_max_days),
        later_interval_days=row.later_interval_days,
        max_session_volume_nl=row.max_session_volume_nl,
        lock_at_limit=row.lock_at_limit,
        notes=row.notes,
        created_by=row.created_by,
        created_at=row.created_at,
        zones=tuple(_zone_view(zone) for zone in zones),
    )


def get_plan(db: Database, plan_id: int) -> PlanView:
    """The plan with its zones; :class:`RecordNotFoundError` if there is none."""
    with db.read_session() as session:
        return load_plan(session, plan_id)


def identical_plans(db: Database, plan: PlanInput) -> list[int]:
    """Ids of the patient's plans that hold exactly what ``plan`` would store, zones included.

    An import repeated by mistake would otherwise make a second, identical plan.
    """
    wanted = _plan_columns(plan)
    wanted_zones = [
        {"position": position, **_zone_columns(zone)} for position, zone in enumerate(plan.zones)
    ]
    found: list[int] = []
    with db.read_session() as session:
        patient = _patient_by_identifier(session, plan.patient)
        if patient is None:
            return []
        rows = session.exec(
            select(TreatmentPlan)
            .where(col(TreatmentPlan.patient_id) == patient.id)
            .order_by(col(TreatmentPlan.id))
        ).all()
        for row in rows:
            if {key: getattr(row, key) for key in wanted} != wanted:
                continue
            zones = session.exec(
                select(PlanZone)
                .where(col(PlanZone.plan_id) == row.id)
                .order_by(col(PlanZone.position))
            ).all()
            if [{f: getattr(z, f) for f in _ZONE_FIELDS} for z in zones] == wanted_zones:
                assert row.id is not None
                found.append(row.id)
    return found


def plans_of_patient(db: Database, identifier: str) -> list[PlanView]:
    """Every plan of a patient, oldest first."""
    with db.read_session() as session:
        patient = _patient_by_identifier(session, identifier)
        if patient is None:
            raise RecordNotFoundError(f"patient: there is no patient with identifier {identifier}")
        ids = session.exec(
            select(TreatmentPlan.id)
            .where(col(TreatmentPlan.patient_id) == patient.id)
            .order_by(col(TreatmentPlan.id))
        ).all()
        return [load_plan(session, plan_id) for plan_id in ids if plan_id is not None]
