"""Pseudonymised records, for exports and reports that leave the clinic.

What leaves: the patient's keyed pseudonym (:meth:`ClinicKey.pseudonym`: HMAC-SHA256 of the
clinic's patient number with the clinic key; the same patient gets the same pseudonym in every
export of this clinic, and nobody without the key can link it back) and an age band at the
session instead of the date of birth. What does not: the patient's number, name, contact and
date of birth, and free text (session notes, adverse event descriptions, reasons given for a
lock override) unless ``include_notes`` asks for it, since people write names in notes.

Reports use :func:`pseudonymous_patient` for the patient and :func:`pseudonymise_record` for a
session, with the key from :func:`clinic_key`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from injector.export.snapshot import SessionRecord
from injector.session.patients_plans import PatientView, get_patient
from injector.storage.audit_chain import keyring_of
from injector.storage.clinic_key import ClinicKey
from injector.storage.engine import Database

# Free-text keys of device event details (a lock override's reason).
_FREE_TEXT_DETAIL = frozenset({"reason", "note", "notes", "text"})
ADULT_AGE = 18
BAND_YEARS = 10
OLDEST_BAND = 90


@dataclass(frozen=True, slots=True)
class PseudonymousPatient:
    """What a pseudonymised output says about a patient."""

    pseudonym: str
    age_band: str


def clinic_key(db: Database) -> ClinicKey:
    """The clinic key of an open database (the one its audit chain is keyed with)."""
    return keyring_of(db).key


def age_band(date_of_birth: date, on: date) -> str:
    """The age band on ``on``: ``"under 18"``, ``"18-29"``, ``"30-39"`` … ``"90 or older"``."""
    age = (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )
    if age < ADULT_AGE:
        return f"under {ADULT_AGE}"
    if age >= OLDEST_BAND:
        return f"{OLDEST_BAND} or older"
    decade = age // BAND_YEARS * BAND_YEARS
    if decade < 2 * BAND_YEARS:
        decade = 2 * BAND_YEARS  # 18 and 19 join the twenties: a band of two would single out
    low = ADULT_AGE if decade == 2 * BAND_YEARS else decade
    return f"{low}-{decade + BAND_YEARS - 1}"


def pseudonymous_patient(key: ClinicKey, patient: PatientView, on: date) -> PseudonymousPatient:
    """The patient's pseudonym and age band on ``on`` (e.g. the session's date)."""
    return PseudonymousPatient(
        key.pseudonym(patient.identifier), age_band(patient.date_of_birth, on)
    )


def pseudonymise_record(
    record: SessionRecord, patient: PseudonymousPatient | None, *, include_notes: bool = False
) -> SessionRecord:
    """``record`` with the patient replaced by ``patient`` and free text left out unless
    ``include_notes``."""
    session = record.session
    plan = record.plan
    if plan is not None and patient is not None:
        plan = dataclasses.replace(plan, patient_identifier=patient.pseudonym, notes="")
    events = record.events
    adverse = record.adverse_events
    if not include_notes:
        session = dataclasses.replace(session, notes="")
        adverse = tuple(dataclasses.replace(a, notes="") for a in adverse)
        events = tuple(
            dataclasses.replace(
                e, detail={k: v for k, v in e.detail.items() if k not in _FREE_TEXT_DETAIL}
            )
            for e in events
        )
    return dataclasses.replace(
        record,
        session=session,
        plan=plan,
        events=events,
        adverse_events=adverse,
        patient_age_band=patient.age_band if patient is not None else None,
    )


def pseudonymise_records(
    db: Database, records: list[SessionRecord], *, include_notes: bool = False
) -> list[SessionRecord]:
    """Every record pseudonymised, with the database's clinic key; the age band is the
    patient's age when the session started (or was created, if it never started)."""
    key = clinic_key(db)
    patients: dict[str, PatientView] = {}
    out: list[SessionRecord] = []
    for record in records:
        patient: PseudonymousPatient | None = None
        identifier = record.patient_identifier
        if identifier is not None:
            view = patients.get(identifier)
            if view is None:
                view = patients[identifier] = get_patient(db, identifier)
            when = record.session.started_at or record.session.scheduled_at
            on = when.date() if when is not None else date.today()
            patient = pseudonymous_patient(key, view, on)
        out.append(pseudonymise_record(record, patient, include_notes=include_notes))
    return out
