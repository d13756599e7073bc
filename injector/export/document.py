"""The JSON export: pydantic models of the document (its schema) and how to build it.

The models are the boundary: :func:`json_document` validates what it builds, and a reader can
parse an export back with ``ExportDocument.model_validate_json(text)``. Storage units
throughout (depth in µm, volume in nL); times are UTC, ISO 8601. ``docs/export.md`` documents
every field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt

from injector.domain.shot_rules import shot_kind
from injector.domain.vocabulary import DeviceEventKind
from injector.export.device_faults import event_fault
from injector.export.snapshot import SessionRecord, flag_names
from injector.export.zones import session_tally
from injector.session.session_window import fold_earlier

FORMAT_NAME: Final = "injector-export"
SCHEMA_VERSION: Final = 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceOut(_Out):
    """The gun that recorded the session, as it introduced itself."""

    serial: str
    model: str | None
    firmware: str | None


class LotOut(_Out):
    """The lot of solution injected in the session."""

    number: str
    expiry: date | None


class ZoneOut(_Out):
    """One zone of the plan: where, how, how deep (± tolerance), how much."""

    id: int
    position: NonNegativeInt
    name: str
    body_area: str
    technique: str
    depth_um: NonNegativeInt
    depth_tolerance_um: NonNegativeInt
    volume_per_point_nl: NonNegativeInt
    points: NonNegativeInt
    max_volume_nl: NonNegativeInt


class PlanOut(_Out):
    """The treatment plan the session belongs to."""

    id: int
    indication: str
    indication_area: str | None
    product_name: str
    components: list[str]
    manufacturer: str
    sessions_planned: int
    zones: list[ZoneOut]


class ShotOut(_Out):
    """One shot as the gun reported it; (serial, boot_id, shot_no) identifies it."""

    serial: str
    boot_id: NonNegativeInt
    shot_no: NonNegativeInt
    uptime_ms: NonNegativeInt = Field(description="the gun's uptime when it fired, in ms")
    received_at: AwareDatetime
    device_time: AwareDatetime | None
    depth_um: NonNegativeInt
    volume_nl: NonNegativeInt
    flags: NonNegativeInt
    flag_names: list[str]
    counted_as: str = Field(description="point, flow, air or implausible")
    zone_id: int | None
    zone: str | None
    syringe_remaining_nl: NonNegativeInt
    retransmitted: bool


class EventOut(_Out):
    """A device event: fault, link loss, reboot, recovered or lost shots, lock, note."""

    kind: str
    at: AwareDatetime
    serial: str
    boot_id: NonNegativeInt | None
    detail: dict[str, Any]
    fault: str | None = Field(
        default=None, description="for fault events: the fault's name (detail.code is its code)"
    )


class AdverseEventOut(_Out):
    """A side effect recorded against the session: what, how bad, since when, who and when."""

    id: int
    kind: str
    severity: str
    onset: AwareDatetime
    description: str = Field(description="the notes recorded with it (empty if none, or left out)")
    recorded_by: str
    recorded_at: AwareDatetime
    at_later_visit: bool
    lot_number: str | None


class CountsOut(_Out):
    """How many shots are stored, what they count for (the numbers the live screen, the
    review and ``session show`` give), and how many the link recovered (resent) or lost."""

    shots: NonNegativeInt
    recovered_shots: NonNegativeInt
    lost_shots: NonNegativeInt
    earlier_shots_left_out: NonNegativeInt
    points: NonNegativeInt = 0
    volume_nl: NonNegativeInt = 0
    air_shots: NonNegativeInt = 0
    air_volume_nl: NonNegativeInt = 0
    partial_shots: NonNegativeInt = 0
    implausible_shots: NonNegativeInt = 0


class SessionOut(_Out):
    """One session: metadata, device, plan, counts, shots and events."""

    id: int
    plan_id: int | None
    sequence_no: int | None
    status: str
    patient_identifier: str | None
    practitioner: str
    scheduled_at: AwareDatetime | None
    started_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    signed_by: str | None
    signed_at: AwareDatetime | None
    signature_meaning: str | None = None
    notes: str
    lot: LotOut | None
    device: DeviceOut | None
    plan: PlanOut | None
    counts: CountsOut
    shots: list[ShotOut]
    events: list[EventOut]
    adverse_events: list[AdverseEventOut] = Field(default_factory=list)
    patient_age_band: str | None = Field(
        default=None, description="pseudonymised exports only: the patient's age band"
    )


class ExportDocument(_Out):
    """The whole export: which format and version, when, and the sessions."""

    format: Literal["injector-export"] = FORMAT_NAME
    schema_version: Literal[1] = SCHEMA_VERSION
    exported_at: AwareDatetime
    pseudonymised: bool = False
    sessions: list[SessionOut]


def _plan_out(record: SessionRecord) -> PlanOut | None:
    plan = record.plan
    if plan is None:
        return None
    return PlanOut(
        id=plan.id,
        indication=plan.indication,
        indication_area=plan.indication_area,
        product_name=plan.product_name,
        components=list(plan.components),
        manufacturer=plan.manufacturer,
        sessions_planned=plan.sessions_planned,
        zones=[
            ZoneOut(
                id=zone.id,
                position=zone.position,
                name=zone.name,
                body_area=zone.body_area,
                technique=zone.technique,
                depth_um=zone.depth_um,
                depth_tolerance_um=zone.depth_tolerance_um,
                volume_per_point_nl=zone.volume_per_point_nl,
                points=zone.points,
                max_volume_nl=zone.max_volume_nl,
            )
            for zone in plan.zones
        ],
    )


def session_out(record: SessionRecord) -> SessionOut:
    """The JSON model of one session record."""
    view = record.session
    tally = session_tally(record)
    return SessionOut(
        id=view.id,
        plan_id=view.plan_id,
        sequence_no=view.sequence_no,
        status=view.status,
        patient_identifier=record.patient_identifier,
        practitioner=view.practitioner,
        scheduled_at=view.scheduled_at,
        started_at=view.started_at,
        ended_at=view.ended_at,
        signed_by=view.signed_by,
        signed_at=view.signed_at,
        signature_meaning=view.signature_meaning,
        notes=view.notes,
        lot=LotOut(number=view.lot_number, expiry=view.lot_expiry)
        if view.lot_number is not None
        else None,
        device=DeviceOut(
            serial=view.device_serial, model=view.device_model, firmware=view.device_firmware
        )
        if view.device_serial is not None
        else None,
        plan=_plan_out(record),
        counts=CountsOut(
            shots=tally.shots,
            recovered_shots=view.recovered_shots,
            lost_shots=view.lost_shots,
            earlier_shots_left_out=fold_earlier(
                e.detail for e in record.events if e.kind == DeviceEventKind.EARLIER_SHOTS
            ).count,
            points=tally.points,
            volume_nl=tally.volume_nl,
            air_shots=tally.air_shots,
            air_volume_nl=tally.air_volume_nl,
            partial_shots=tally.partial_shots,
            implausible_shots=tally.implausible_shots,
        ),
        shots=[
            ShotOut(
                serial=shot.serial,
                boot_id=shot.boot_id,
                shot_no=shot.shot_no,
                uptime_ms=shot.uptime_ms,
                received_at=shot.received_at,
                device_time=shot.device_time,
                depth_um=shot.depth_um,
                volume_nl=shot.volume_nl,
                flags=shot.flags,
                flag_names=flag_names(shot.flags),
                counted_as=shot_kind(shot.flags, shot.depth_um, shot.volume_nl).word,
                zone_id=shot.zone_id,
                zone=record.zone_name(shot.zone_id),
                syringe_remaining_nl=shot.syringe_remaining_nl,
                retransmitted=shot.retransmitted,
            )
            for shot in record.shots
        ],
        events=[
            EventOut(
                kind=event.kind,
                at=event.at,
                serial=event.serial,
                boot_id=event.boot_id,
                detail=event.detail,
                fault=event_fault(event.kind, event.detail),
            )
            for event in record.events
        ],
        adverse_events=[
            AdverseEventOut(
                id=adverse.id,
                kind=adverse.kind,
                severity=adverse.severity,
                onset=adverse.onset,
                description=adverse.notes,
                recorded_by=adverse.recorded_by,
                recorded_at=adverse.recorded_at,
                at_later_visit=adverse.at_later_visit,
                lot_number=adverse.lot_number,
            )
            for adverse in record.adverse_events
        ],
        patient_age_band=record.patient_age_band,
    )


def json_document(
    records: list[SessionRecord], *, exported_at: datetime, pseudonymised: bool = False
) -> ExportDocument:
    """The export document of these sessions (``pseudonymised``: say that they are)."""
    return ExportDocument(
        exported_at=exported_at,
        pseudonymised=pseudonymised,
        sessions=[session_out(record) for record in records],
    )


def to_json(
    records: list[SessionRecord], *, exported_at: datetime, pseudonymised: bool = False
) -> str:
    """The JSON export of these sessions (indented, ending in a newline)."""
    document = json_document(records, exported_at=exported_at, pseudonymised=pseudonymised)
    return document.model_dump_json(indent=2) + "\n"
