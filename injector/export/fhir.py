"""The FHIR R4 export of one session: a ``collection`` Bundle.

It holds a Procedure (the session), the Device (the gun), one MedicationAdministration per
zone that received shots (dose = volume delivered, body site, method = technique, the lot
through a contained Medication), one Observation of depth statistics per zone and one
AdverseEvent per side effect recorded (its suspects: the session's administrations of the
lot). The patient is referred to by identifier only (or by pseudonym in a pseudonymised
export): nothing else of the patient leaves the record. Gun faults are named in the
Procedure's notes.

Entries refer to each other by ``urn:uuid`` full URLs derived from the gun, the start time and
the session id, so exporting the same session twice gives the same bundle. The codes this
program has no standard code for (procedure, statistics, body area, technique) come from the
local code systems below; ``docs/export.md`` lists them. Quantities use UCUM (mL, mm).

Written to the FHIR R4 (4.0.1) resource definitions; the tests parse every bundle back with
``fhirclient`` 4.4 (models generated from R4 4.0.1) and with ``fhir.resources.R4B`` (R4B
4.3.0, the closest release ``fhir.resources`` 8 offers; these six resources are the same in
R4 and R4B).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from injector.domain.errors import InvalidValueError
from injector.domain.vocabulary import AnatomicalSite, SessionStatus
from injector.export.device_faults import event_fault
from injector.export.fhir_types import (
    AdministrationStatus,
    AdverseEvent,
    AdverseEventSuspectEntity,
    Annotation,
    Bundle,
    BundleEntry,
    CodeableConcept,
    Coding,
    Device,
    DeviceName,
    DeviceVersion,
    Identifier,
    Medication,
    MedicationAdministration,
    MedicationAdministrationDosage,
    MedicationAdministrationPerformer,
    MedicationBatch,
    MedicationIngredient,
    Observation,
    ObservationComponent,
    ObservationReferenceRange,
    Period,
    Procedure,
    ProcedurePerformer,
    ProcedureStatus,
    Quantity,
    Reference,
)
from injector.export.snapshot import SessionRecord
from injector.export.zones import ZoneDelivery, zone_deliveries
from injector.session.clinical import AdverseEventView
from injector.session.patients_plans import PlanView, ZoneView

UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# Local namespaces: this program has no registered URL of its own. A clinic that has its own
# patient-number system passes it as ``patient_identifier_system``.
LOCAL = "urn:x-injector"
PATIENT_IDENTIFIER_SYSTEM = f"{LOCAL}:patient-identifier"
SESSION_IDENTIFIER_SYSTEM = f"{LOCAL}:session"
ADMINISTRATION_IDENTIFIER_SYSTEM = f"{LOCAL}:session-zone"
OBSERVATION_IDENTIFIER_SYSTEM = f"{LOCAL}:session-zone-depth"
DEVICE_SERIAL_SYSTEM = f"{LOCAL}:device-serial"
CODE_SYSTEM = f"{LOCAL}:code"
BODY_AREA_SYSTEM = f"{LOCAL}:body-area"
TECHNIQUE_SYSTEM = f"{LOCAL}:technique"
SITE_SYSTEM = f"{LOCAL}:anatomical-site"
SNOMED = "http://snomed.info/sct"

# SNOMED CT body structures for the sites that have one concept of their own. Sites with a
# side (cheek, left) or no single concept (glabella, perioral) carry only the local code and
# the text: a code for "cheek" on a left-cheek zone would say less than the record does.
SITE_SNOMED: dict[AnatomicalSite, tuple[str, str]] = {
    AnatomicalSite.FOREHEAD: ("52795006", "Forehead structure"),
    AnatomicalSite.CHIN: ("30291003", "Chin structure"),
    AnatomicalSite.NECK: ("45048000", "Neck structure"),
    AnatomicalSite.SCALP: ("41695006", "Scalp structure"),
    AnatomicalSite.ABDOMEN: ("113345001", "Abdominal structure"),
}
ADVERSE_EVENT_IDENTIFIER_SYSTEM = f"{LOCAL}:adverse-event"
ADVERSE_EVENT_KIND_SYSTEM = f"{LOCAL}:adverse-event-kind"
# A pseudonymised export names the patient by a keyed pseudonym in this system instead.
PSEUDONYM_SYSTEM = f"{LOCAL}:patient-pseudonym"
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"

CONTAINED_MEDICATION_ID = "solution"
NL_PER_ML = 1_000_000
UM_PER_MM = 1000

_PROCEDURE_STATUS: dict[SessionStatus, ProcedureStatus] = {
    SessionStatus.PLANNED: "preparation",
    SessionStatus.IN_PROGRESS: "in-progress",
    SessionStatus.COMPLETED: "completed",
    SessionStatus.ABORTED: "stopped",
    SessionStatus.SKIPPED: "not-done",
}
_ADMINISTRATION_STATUS: dict[SessionStatus, AdministrationStatus] = {
    SessionStatus.IN_PROGRESS: "in-progress",
    SessionStatus.COMPLETED: "completed",
    SessionStatus.ABORTED: "stopped",
}


def _code(code: str, display: str) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=CODE_SYSTEM, code=code, display=display)])


def _label(value: str) -> str:
    return value.replace("_", " ")


def _millilitres(volume_nl: int) -> Quantity:
    return Quantity(value=round(volume_nl / NL_PER_ML, 6), unit="mL", system=UCUM, code="mL")


def _millimetres(depth_um: float) -> Quantity:
    return Quantity(value=round(depth_um / UM_PER_MM, 3), unit="mm", system=UCUM, code="mm")


def _body_site(zone: ZoneView) -> CodeableConcept:
    codings = [Coding(system=BODY_AREA_SYSTEM, code=zone.body_area, display=_label(zone.body_area))]
    if zone.site is not None:
        known = zone.site in AnatomicalSite.__members__.values()
        if known and AnatomicalSite(zone.site) in SITE_SNOMED:
            code, display = SITE_SNOMED[AnatomicalSite(zone.site)]
            codings.insert(0, Coding(system=SNOMED, code=code, display=display))
        label = AnatomicalSite(zone.site).label if known else _label(zone.site)
        codings.append(Coding(system=SITE_SYSTEM, code=zone.site, display=label))
    return CodeableConcept(coding=codings, text=zone.name)


def _technique(zone: ZoneView) -> CodeableConcept:
    return CodeableConcept(
        coding=[
            Coding(system=TECHNIQUE_SYSTEM, code=zone.technique, display=_label(zone.technique))
        ],
        text=_label(zone.technique),
    )


def _shots(count: int) -> str:
    return f"{count} shot" if count == 1 else f"{count} shots"


def _zone_key(delivery: ZoneDelivery) -> str:
    return str(delivery.zone.id) if delivery.zone is not None else "none"


def _zone_label(delivery: ZoneDelivery) -> str:
    return delivery.zone.name if delivery.zone is not None else "no zone chosen"


class _Urls:
    """Stable ``urn:uuid`` URLs for the resources of one session's bundle."""

    def __init__(self, record: SessionRecord) -> None:
        view = record.session
        started = view.started_at.isoformat() if view.started_at else "-"
        self._seed = f"injector:{view.device_serial or '-'}:{started}:{view.id}"

    def __call__(self, role: str) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self._seed}:{role}')}"


def _medication(record: SessionRecord, plan: PlanView) -> Medication:
    view = record.session
    batch = None
    if view.lot_number is not None:
        batch = MedicationBatch(
            lotNumber=view.lot_number,
            expirationDate=view.lot_expiry.isoformat() if view.lot_expiry else None,
        )
    return Medication(
        id=CONTAINED_MEDICATION_ID,
        code=CodeableConcept(text=plan.product_name),
        manufacturer=Reference(display=plan.manufacturer) if plan.manufacturer else None,
        ingredient=[
            MedicationIngredient(itemCodeableConcept=CodeableConcept(text=component))
            for component in plan.components
        ],
        batch=batch,
    )


def _procedure(
    record: SessionRecord,
    plan: PlanView,
    patient: Reference,
    device: Reference | None,
    deliveries: list[ZoneDelivery],
) -> Procedure:
    view = record.session
    indication = _label(plan.indication)
    if plan.indication_area:
        indication = f"{indication} ({plan.indication_area})"
    notes = [
        Annotation(
            text=f"Shots stored: {len(record.shots)}; recovered after a link loss: "
            f"{view.recovered_shots}; lost (never received): {view.lost_shots}."
        )
    ]
    faults = [
        f"{name} (code {event.detail.get('code')}) at {event.at.isoformat()}"
        for event in record.events
        if event.kind == "fault_raised" and (name := event_fault(event.kind, event.detail))
    ]
    if faults:
        notes.append(Annotation(text=f"Gun faults raised: {'; '.join(faults)}."))
    if view.notes:
        notes.append(Annotation(text=view.notes))
    sequence = (
        f"session {view.sequence_no} of {plan.sessions_planned}"
        if view.sequence_no is not None
        else None
    )
    return Procedure(
        identifier=[Identifier(system=SESSION_IDENTIFIER_SYSTEM, value=str(view.id))],
        status=_PROCEDURE_STATUS.get(SessionStatus(view.status), "unknown"),
        code=CodeableConcept(
            coding=[
                Coding(
                    system=CODE_SYSTEM, code="mesotherapy-session", display="Mesotherapy session"
                )
            ],
            text=f"Mesotherapy, {sequence}" if sequence else "Mesotherapy",
        ),
        subject=patient,
        performedPeriod=Period(start=view.started_at, end=view.ended_at)
        if view.started_at is not None
        else None,
        performer=[ProcedurePerformer(actor=Reference(display=view.practitioner))]
        if view.practitioner
        else [],
        reasonCode=[CodeableConcept(text=indication)],
        bodySite=[_body_site(d.zone) for d in deliveries if d.zone is not None],
        note=notes,
        usedReference=[device] if device is not None else [],
    )


def _administration(
    record: SessionRecord,
    plan: PlanView,
    delivery: ZoneDelivery,
    patient: Reference,
    procedure: Reference,
    device: Reference | None,
) -> MedicationAdministration:
    view = record.session
    zone = delivery.zone
    # "Shots" means every stored shot, as on the live screen and the review; what reached the
    # skin is said as points (and flow reports), never as a second count of "shots".
    flow = delivery.skin_shots - delivery.points
    text = (
        f"{_zone_label(delivery)}: {delivery.points} points"
        + (f" and {flow} continuous-flow reports" if flow else "")
        + f", {delivery.volume_nl / NL_PER_ML:g} mL; {_shots(delivery.shots)} recorded"
    )
    notes = []
    if delivery.air_shots:
        notes.append(
            Annotation(
                text=f"{_shots(delivery.air_shots)} fired without skin contact "
                f"({delivery.air_volume_nl / NL_PER_ML:g} mL) are not in the dose."
            )
        )
    if delivery.implausible_shots:
        notes.append(
            Annotation(
                text=f"{_shots(delivery.implausible_shots)} with values no gun can report "
                "are kept in the record and not in the dose."
            )
        )
    return MedicationAdministration(
        contained=[_medication(record, plan)],
        identifier=[
            Identifier(
                system=ADMINISTRATION_IDENTIFIER_SYSTEM, value=f"{view.id}/{_zone_key(delivery)}"
            )
        ],
        partOf=[procedure],
        status=_ADMINISTRATION_STATUS.get(SessionStatus(view.status), "unknown"),
        medicationReference=Reference(
            reference=f"#{CONTAINED_MEDICATION_ID}", display=plan.product_name
        ),
        subject=patient,
        effectivePeriod=Period(start=delivery.first_at, end=delivery.last_at),
        performer=[MedicationAdministrationPerformer(actor=Reference(display=view.practitioner))]
        if view.practitioner
        else [],
        device=[device] if device is not None else [],
        note=notes,
        dosage=MedicationAdministrationDosage(
            text=text,
            site=_body_site(zone) if zone is not None else None,
            method=_technique(zone) if zone is not None else None,
            dose=_millilitres(delivery.volume_nl),
        ),
    )


def _depth_components(delivery: ZoneDelivery) -> list[ObservationComponent]:
    assert delivery.depth_mean_um is not None
    assert delivery.depth_min_um is not None and delivery.depth_max_um is not None
    zone = delivery.zone
    ranges: list[ObservationReferenceRange] = []
    components: list[ObservationComponent] = []
    if zone is not None:
        ranges = [
            ObservationReferenceRange(
                low=_millimetres(zone.depth_um - zone.depth_tolerance_um),
                high=_millimetres(zone.depth_um + zone.depth_tolerance_um),
                text="planned depth ± tolerance",
            )
        ]
        components.append(
            ObservationComponent(
                code=_code("depth-target", "Planned depth"),
                valueQuantity=_millimetres(zone.depth_um),
                referenceRange=ranges,
            )
        )
    components += [
        ObservationComponent(
            code=_code("depth-mean", "Mean depth"),
            valueQuantity=_millimetres(delivery.depth_mean_um),
            referenceRange=ranges,
        ),
        ObservationComponent(
            code=_code("depth-min", "Shallowest depth"),
            valueQuantity=_millimetres(delivery.depth_min_um),
            referenceRange=ranges,
        ),
        ObservationComponent(
            code=_code("depth-max", "Deepest depth"),
            valueQuantity=_millimetres(delivery.depth_max_um),
            referenceRange=ranges,
        ),
        ObservationComponent(
            code=_code("shots-measured", "Shots with skin contact"),
            valueInteger=delivery.skin_shots,
        ),
    ]
    if delivery.outside_tolerance is not None:
        components.append(
            ObservationComponent(
                code=_code("shots-outside-tolerance", "Shots outside the depth tolerance"),
                valueInteger=delivery.outside_tolerance,
            )
        )
    return components


def _observation(
    record: SessionRecord,
    delivery: ZoneDelivery,
    patient: Reference,
    administration: Reference,
    device: Reference | None,
) -> Observation:
    view = record.session
    zone = delivery.zone
    return Observation(
        identifier=[
            Identifier(
                system=OBSERVATION_IDENTIFIER_SYSTEM, value=f"{view.id}/{_zone_key(delivery)}"
            )
        ],
        partOf=[administration],
        status="preliminary" if view.status == SessionStatus.IN_PROGRESS else "final",
        category=[
            CodeableConcept(
                coding=[Coding(system=OBSERVATION_CATEGORY, code="procedure", display="Procedure")]
            )
        ],
        code=CodeableConcept(
            coding=[
                Coding(
                    system=CODE_SYSTEM,
                    code="depth-statistics",
                    display="Injection depth statistics",
                )
            ],
            text=f"Injection depth, {_zone_label(delivery)}",
        ),
        subject=patient,
        effectivePeriod=Period(start=delivery.first_at, end=delivery.last_at),
        bodySite=_body_site(zone) if zone is not None else None,
        method=_technique(zone) if zone is not None else None,
        device=device,
        component=_depth_components(delivery),
    )


def _adverse_event(
    record: SessionRecord,
    plan: PlanView,
    adverse: AdverseEventView,
    patient: Reference,
    suspects: list[tuple[Reference, str]],
) -> AdverseEvent:
    """One adverse event; each suspect is the session's administration of the lot (per zone),
    or the procedure itself when nothing was administered."""
    lot = adverse.lot_number or record.session.lot_number
    product = f"{plan.product_name}, lot {lot}" if lot else plan.product_name
    label = _label(adverse.kind)
    return AdverseEvent(
        identifier=Identifier(system=ADVERSE_EVENT_IDENTIFIER_SYSTEM, value=str(adverse.id)),
        actuality="actual",
        event=CodeableConcept(
            coding=[Coding(system=ADVERSE_EVENT_KIND_SYSTEM, code=adverse.kind, display=label)],
            text=adverse.notes or label,
        ),
        subject=patient,
        date=adverse.onset,
        recordedDate=adverse.recorded_at,
        recorder=Reference(display=adverse.recorded_by),
        severity=CodeableConcept(
            coding=[
                Coding(
                    system=ADVERSE_EVENT_SEVERITY,
                    code=adverse.severity,
                    display=adverse.severity.capitalize(),
                )
            ]
        ),
        suspectEntity=[
            AdverseEventSuspectEntity(
                instance=Reference(
                    reference=reference.reference,
                    type=reference.type,
                    display=f"{product} ({where})",
                )
            )
            for reference, where in suspects
        ],
    )


def _device(record: SessionRecord) -> Device | None:
    view = record.session
    if view.device_serial is None:
        return None
    return Device(
        identifier=[Identifier(system=DEVICE_SERIAL_SYSTEM, value=view.device_serial)],
        serialNumber=view.device_serial,
        deviceName=[DeviceName(name=view.device_model, type="model-name")]
        if view.device_model
        else [],
        modelNumber=view.device_model,
        version=[DeviceVersion(type=CodeableConcept(text="firmware"), value=view.device_firmware)]
        if view.device_firmware
        else [],
    )


def fhir_bundle(
    record: SessionRecord,
    *,
    exported_at: datetime,
    patient_identifier_system: str = PATIENT_IDENTIFIER_SYSTEM,
) -> Bundle:
    """The FHIR R4 Bundle of one session.

    Refuses (:class:`InvalidValueError`, field ``session``) a session with no treatment plan:
    without a plan there is no patient, and FHIR needs one as the subject.
    """
    view = record.session
    plan = record.plan
    if plan is None:
        raise InvalidValueError(
            "session",
            f"session {view.id} has no treatment plan and so no patient; "
            "a FHIR export needs the patient",
        )
    url = _Urls(record)
    patient = Reference(
        type="Patient",
        identifier=Identifier(system=patient_identifier_system, value=plan.patient_identifier),
    )
    device = _device(record)
    device_ref = Reference(reference=url("device"), type="Device") if device else None
    procedure_url = url("procedure")
    procedure_ref = Reference(reference=procedure_url, type="Procedure")
    deliveries = zone_deliveries(record)

    entries = [
        BundleEntry(
            fullUrl=procedure_url,
            resource=_procedure(record, plan, patient, device_ref, deliveries),
        )
    ]
    if device is not None and device_ref is not None and device_ref.reference is not None:
        entries.append(BundleEntry(fullUrl=device_ref.reference, resource=device))
    observations: list[BundleEntry] = []
    suspects: list[tuple[Reference, str]] = []
    for delivery in deliveries:
        key = _zone_key(delivery)
        administration_url = url(f"administration/{key}")
        suspects.append(
            (
                Reference(reference=administration_url, type="MedicationAdministration"),
                _zone_label(delivery),
            )
        )
        entries.append(
            BundleEntry(
                fullUrl=administration_url,
                resource=_administration(
                    record, plan, delivery, patient, procedure_ref, device_ref
                ),
            )
        )
        if delivery.skin_shots:
            observations.append(
                BundleEntry(
                    fullUrl=url(f"observation/{key}"),
                    resource=_observation(
                        record,
                        delivery,
                        patient,
                        Reference(reference=administration_url, type="MedicationAdministration"),
                        device_ref,
                    ),
                )
            )
    if not suspects:
        suspects = [(procedure_ref, "the session; nothing was administered")]
    adverse = [
        BundleEntry(
            fullUrl=url(f"adverse-event/{event.id}"),
            resource=_adverse_event(record, plan, event, patient, suspects),
        )
        for event in record.adverse_events
    ]
    return Bundle(
        identifier=Identifier(system=SESSION_IDENTIFIER_SYSTEM, value=str(view.id)),
        timestamp=exported_at,
        entry=entries + observations + adverse,
    )
