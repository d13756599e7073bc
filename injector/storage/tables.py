"""SQLModel tables of the clinical record and the recording.

Vocabulary columns hold the string values of :mod:`injector.domain.vocabulary`; they are
validated at the boundaries (plan files, CLI, session logic), not by database enums, so that a
new value needs no migration of a type. Device counters are u32 on the wire, hence BIGINT.
Every timestamp is UTC (:class:`UTCDateTime`). The Alembic migrations in
``injector/storage/migrations`` create exactly this metadata; a test checks they agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from injector.storage.types import UTCDateTime

# SQLite only makes ``INTEGER PRIMARY KEY`` an auto-incrementing rowid alias.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Patient(SQLModel, table=True):
    """A patient; ``identifier`` is the clinic's own patient number."""

    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("identifier", name="uq_patient_identifier"),)

    id: int | None = Field(default=None, primary_key=True)
    identifier: str
    name: str
    date_of_birth: date
    contact: str = ""
    on_anticoagulants: bool = False
    pregnant: bool = False
    allergies: str = ""
    contraindication_notes: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)


class TreatmentPlan(SQLModel, table=True):
    """A patient's treatment plan: indication, solution (with its lot), series and limits.

    The series: ``sessions_planned`` sessions; the first ``initial_sessions`` of them every
    ``initial_interval_min_days``–``initial_interval_max_days`` days, then every
    ``later_interval_days`` (None: keep the initial interval).
    """

    __tablename__ = "treatment_plan"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    indication: str
    indication_area: str | None = None
    product_name: str
    components: list[str] = Field(default_factory=list, sa_type=JSON)
    manufacturer: str = ""
    lot_number: str = Field(index=True)
    lot_expiry: date
    sessions_planned: int
    initial_sessions: int
    initial_interval_min_days: int
    initial_interval_max_days: int
    later_interval_days: int | None = None
    max_session_volume_nl: int | None = Field(default=None, sa_type=BigInteger)
    lock_at_limit: bool = False
    notes: str = ""
    created_by: str
    created_at: datetime = Field(sa_type=UTCDateTime)


class PlanZone(SQLModel, table=True):
    """One zone of a plan: where, how, how deep, how much."""

    __tablename__ = "plan_zone"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="treatment_plan.id", index=True)
    position: int
    name: str
    body_area: str
    technique: str
    depth_um: int
    depth_tolerance_um: int
    volume_per_point_nl: int = Field(sa_type=BigInteger)
    points: int
    max_volume_nl: int = Field(sa_type=BigInteger)
    # An :class:`~injector.domain.vocabulary.AnatomicalSite` value; None: not placed.
    site: str | None = None


class Device(SQLModel, table=True):
    """A gun, as it introduced itself in HELLO."""

    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("serial", name="uq_device_serial"),)

    id: int | None = Field(default=None, primary_key=True)
    serial: str
    model: str
    firmware: str
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)


class Practitioner(SQLModel, table=True):
    """Someone who performs, signs or overrides: printed name, role, and a PIN kept only as a
    salted scrypt hash (``pin_hash``, see :mod:`injector.session.practitioners`)."""

    __tablename__ = "practitioner"
    __table_args__ = (UniqueConstraint("name", name="uq_practitioner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    role: str
    pin_hash: str
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class TreatmentSession(SQLModel, table=True):
    """One session: its place in the series, times, people, gun, lot, checklist and sign-off.

    Once ``signed_at`` is set the row is not edited again; later corrections are
    :class:`SessionAmendment` rows that keep this original.
    """

    __tablename__ = "treatment_session"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int | None = Field(default=None, foreign_key="treatment_plan.id", index=True)
    sequence_no: int | None = None
    status: str
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    practitioner: str = ""
    practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    device_id: int | None = Field(default=None, foreign_key="device.id", index=True)
    device_serial: str | None = None
    device_model: str | None = None
    device_firmware: str | None = None
    lot_number: str | None = Field(default=None, index=True)
    lot_expiry: date | None = None
    nsaid_last_7_days: bool | None = None
    numbing_applied: bool | None = None
    consent_recorded: bool | None = None
    before_photos_taken: bool | None = None
    checklist_warnings: list[str] = Field(default_factory=list, sa_type=JSON)
    warnings_acknowledged_by: str | None = None
    active_zone_id: int | None = Field(default=None, foreign_key="plan_zone.id")
    recovered_shots: int = 0
    lost_shots: int = 0
    notes: str = ""
    signed_by: str | None = None
    signed_by_id: int | None = Field(default=None, foreign_key="practitioner.id")
    signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signature_meaning: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)


class SessionAmendment(SQLModel, table=True):
    """A correction of a signed session: what changed (old and new values), why, by whom."""

    __tablename__ = "session_amendment"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="treatment_session.id", index=True)
    amended_by: str
    amended_by_id: int | None = Field(default=None, foreign_key="practitioner.id")
    amended_at: datetime = Field(sa_type=UTCDateTime)
    reason: str
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class ZoneActivation(SQLModel, table=True):
    """When a zone became the active one in a session (None: no zone active)."""

    __tablename__ = "zone_activation"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="treatment_session.id", index=True)
    zone_id: int | None = Field(default=None, foreign_key="plan_zone.id")
    at: datetime = Field(sa_type=UTCDateTime)


class Shot(SQLModel, table=True):
    """A shot as the gun reported it, attributed to the zone active when it was fired, in the
    session that was open then (or in none).

    (serial, boot_id, shot_no) identifies a shot (IGP/1 section 5): inserts are
    ``ON CONFLICT DO NOTHING`` so a retransmission or a replay stores nothing twice.
    """

    __tablename__ = "shot"
    __table_args__ = (UniqueConstraint("serial", "boot_id", "shot_no", name="uq_shot_identity"),)

    id: int | None = Field(default=None, sa_type=BigIntPK, primary_key=True)
    session_id: int | None = Field(default=None, foreign_key="treatment_session.id", index=True)
    """None: fired before any session of this gun opened, and not (yet) included in one."""
    zone_id: int | None = Field(default=None, foreign_key="plan_zone.id", index=True)
    serial: str
    boot_id: int = Field(sa_type=BigInteger)
    shot_no: int = Field(sa_type=BigInteger)
    uptime_ms: int = Field(sa_type=BigInteger)
    received_at: datetime = Field(sa_type=UTCDateTime)
    device_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    depth_um: int
    volume_nl: int = Field(sa_type=BigInteger)
    flags: int
    syringe_remaining_nl: int = Field(sa_type=BigInteger)
    retransmitted: bool = False


class DeviceEvent(SQLModel, table=True):
    """Faults, link loss, reboots, recovered and lost shots, locks and overrides."""

    __tablename__ = "device_event"
    __table_args__ = (Index("ix_device_event_serial_at", "serial", "at"),)

    id: int | None = Field(default=None, sa_type=BigIntPK, primary_key=True)
    session_id: int | None = Field(default=None, foreign_key="treatment_session.id", index=True)
    serial: str
    boot_id: int | None = Field(default=None, sa_type=BigInteger)
    kind: str
    at: datetime = Field(sa_type=UTCDateTime)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class AdverseEvent(SQLModel, table=True):
    """A side effect recorded against a session, at the session or at a later visit."""

    __tablename__ = "adverse_event"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="treatment_session.id", index=True)
    kind: str
    severity: str
    onset: datetime = Field(sa_type=UTCDateTime)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: str
    at_later_visit: bool = False
    lot_number: str | None = None
    notes: str = ""


class AuditEntry(SQLModel, table=True):
    """One link of the append-only, hash-chained audit trail.

    ``payload`` is canonical JSON text (not a JSON column) so that the hash can be recomputed
    byte for byte; ``hash`` = HMAC-SHA256, with the clinic key, over the previous hash and this
    entry's fields (plain SHA-256 for entries written before the key sealed the chain).
    """

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, sa_type=BigIntPK, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str
    action: str
    entity: str
    entity_id: str
    payload: str = Field(sa_type=Text)
    prev_hash: str
    hash: str
    # HMAC digests of the touched records' fields at commit (see injector.storage.audit_state).
    state: str | None = Field(default=None, sa_type=Text)


class AuditKey(SQLModel, table=True):
    """Which clinic key the audit trail is keyed with (its public id, never the key).

    A room that opens a shared database with another key, or none, is refused rather than
    forking the chain into parts no one key can verify. Not a protection against an attacker
    (who could edit it): ``injector audit verify`` is.
    """

    __tablename__ = "audit_key"

    id: int | None = Field(default=None, primary_key=True)
    key_id: str
    created_at: datetime = Field(sa_type=UTCDateTime)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel class (for bulk statements)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


__all__ = [
    "AdverseEvent",
    "AuditEntry",
    "AuditKey",
    "Device",
    "DeviceEvent",
    "Patient",
    "PlanZone",
    "Practitioner",
    "SessionAmendment",
    "Shot",
    "TreatmentPlan",
    "TreatmentSession",
    "ZoneActivation",
    "table_of",
]
