"""The subset of FHIR R4 (4.0.1) this exporter writes, as pydantic models.

Element names follow the R4 resource definitions exactly (camelCase, ``value[x]`` spelt out as
``valueQuantity`` and so on), so that ``model_dump`` is the FHIR JSON. Only the elements the
export fills are modelled; ``extra="forbid"`` keeps a typo from slipping through. FHIR forbids
empty arrays and nulls: :meth:`Bundle.to_fhir_json` drops both.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ProcedureStatus = Literal[
    "preparation",
    "in-progress",
    "not-done",
    "on-hold",
    "stopped",
    "completed",
    "entered-in-error",
    "unknown",
]
AdministrationStatus = Literal[
    "in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"
]


class Element(BaseModel):
    """Base of every FHIR element model here."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Coding(Element):
    """A code from a code system."""

    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(Element):
    """Codings and/or text for one concept."""

    coding: list[Coding] = Field(default_factory=list)
    text: str | None = None


class Identifier(Element):
    """A business identifier: a value in a namespace (``system``)."""

    system: str | None = None
    value: str


class Reference(Element):
    """A reference to another resource: by URL, by identifier, or a display text only."""

    reference: str | None = None
    type: str | None = None
    identifier: Identifier | None = None
    display: str | None = None


class Quantity(Element):
    """A measured amount in UCUM units (``system`` http://unitsofmeasure.org)."""

    value: float
    unit: str
    system: str
    code: str


class Period(Element):
    """A time interval (``end`` None: still going on)."""

    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class Annotation(Element):
    """A text note."""

    text: str


class ProcedurePerformer(Element):
    """Who performed the procedure."""

    actor: Reference


class Procedure(Element):
    """R4 Procedure: the treatment session."""

    resourceType: Literal["Procedure"] = "Procedure"
    identifier: list[Identifier] = Field(default_factory=list)
    status: ProcedureStatus
    code: CodeableConcept | None = None
    subject: Reference
    performedPeriod: Period | None = None
    performer: list[ProcedurePerformer] = Field(default_factory=list)
    reasonCode: list[CodeableConcept] = Field(default_factory=list)
    bodySite: list[CodeableConcept] = Field(default_factory=list)
    note: list[Annotation] = Field(default_factory=list)
    usedReference: list[Reference] = Field(default_factory=list)


class MedicationIngredient(Element):
    """One ingredient of a medication, named in text."""

    itemCodeableConcept: CodeableConcept


class MedicationBatch(Element):
    """The packaged batch: lot number and expiry (an R4 dateTime; a date is allowed)."""

    lotNumber: str | None = None
    expirationDate: str | None = None


class Medication(Element):
    """R4 Medication: the injected solution with its lot (contained in each administration)."""

    resourceType: Literal["Medication"] = "Medication"
    id: str
    code: CodeableConcept
    manufacturer: Reference | None = None
    ingredient: list[MedicationIngredient] = Field(default_factory=list)
    batch: MedicationBatch | None = None


class MedicationAdministrationPerformer(Element):
    """Who administered the medication."""

    actor: Reference


class MedicationAdministrationDosage(Element):
    """How much was given, where and how."""

    text: str | None = None
    site: CodeableConcept | None = None
    method: CodeableConcept | None = None
    dose: Quantity


class MedicationAdministration(Element):
    """R4 MedicationAdministration: what one zone received."""

    resourceType: Literal["MedicationAdministration"] = "MedicationAdministration"
    contained: list[Medication] = Field(default_factory=list)
    identifier: list[Identifier] = Field(default_factory=list)
    partOf: list[Reference] = Field(default_factory=list)
    status: AdministrationStatus
    medicationReference: Reference
    subject: Reference
    effectivePeriod: Period
    performer: list[MedicationAdministrationPerformer] = Field(default_factory=list)
    device: list[Reference] = Field(default_factory=list)
    note: list[Annotation] = Field(default_factory=list)
    dosage: MedicationAdministrationDosage


class ObservationReferenceRange(Element):
    """The range a value should fall in (here: target depth ± tolerance)."""

    low: Quantity | None = None
    high: Quantity | None = None
    text: str | None = None


class ObservationComponent(Element):
    """One figure of an observation: a quantity or a count."""

    code: CodeableConcept
    valueQuantity: Quantity | None = None
    valueInteger: int | None = None
    referenceRange: list[ObservationReferenceRange] = Field(default_factory=list)


class Observation(Element):
    """R4 Observation: depth statistics of one zone."""

    resourceType: Literal["Observation"] = "Observation"
    identifier: list[Identifier] = Field(default_factory=list)
    partOf: list[Reference] = Field(default_factory=list)
    status: Literal[
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    ]
    category: list[CodeableConcept] = Field(default_factory=list)
    code: CodeableConcept
    subject: Reference
    effectivePeriod: Period
    note: list[Annotation] = Field(default_factory=list)
    bodySite: CodeableConcept | None = None
    method: CodeableConcept | None = None
    device: Reference | None = None
    component: list[ObservationComponent] = Field(default_factory=list)


class DeviceName(Element):
    """A name of the device and what kind of name it is."""

    name: str
    type: Literal[
        "udi-label-name",
        "user-friendly-name",
        "patient-reported-name",
        "manufacturer-name",
        "model-name",
        "other",
    ]


class DeviceVersion(Element):
    """A version of the device (here: its firmware)."""

    type: CodeableConcept | None = None
    value: str


class Device(Element):
    """R4 Device: the injector gun."""

    resourceType: Literal["Device"] = "Device"
    identifier: list[Identifier] = Field(default_factory=list)
    serialNumber: str
    deviceName: list[DeviceName] = Field(default_factory=list)
    modelNumber: str | None = None
    version: list[DeviceVersion] = Field(default_factory=list)


class AdverseEventSuspectEntity(Element):
    """What may have caused the adverse event."""

    instance: Reference


class AdverseEvent(Element):
    """R4 AdverseEvent: a side effect recorded against the session."""

    resourceType: Literal["AdverseEvent"] = "AdverseEvent"
    identifier: Identifier | None = None
    actuality: Literal["actual", "potential"]
    event: CodeableConcept | None = None
    subject: Reference
    date: AwareDatetime | None = None
    recordedDate: AwareDatetime | None = None
    recorder: Reference | None = None
    severity: CodeableConcept | None = None
    suspectEntity: list[AdverseEventSuspectEntity] = Field(default_factory=list)


Resource = Procedure | MedicationAdministration | Observation | Device | AdverseEvent


class BundleEntry(Element):
    """One resource of the bundle and the URL other entries refer to it by."""

    fullUrl: str
    resource: Resource


class Bundle(Element):
    """R4 Bundle of type ``collection``: the session's resources."""

    resourceType: Literal["Bundle"] = "Bundle"
    identifier: Identifier | None = None
    type: Literal["collection"] = "collection"
    timestamp: AwareDatetime
    entry: list[BundleEntry] = Field(default_factory=list)

    def to_fhir_json(self) -> dict[str, Any]:
        """The bundle as FHIR JSON: no nulls, no empty arrays."""
        pruned = _prune(self.model_dump(mode="json", exclude_none=True))
        assert isinstance(pruned, dict)
        return pruned


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        items = {key: _prune(item) for key, item in value.items()}
        return {key: item for key, item in items.items() if item != [] and item != {}}
    if isinstance(value, list):
        return [_prune(item) for item in value]
    return value
