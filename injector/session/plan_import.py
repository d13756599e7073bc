"""Creating a patient (if new) and a plan from a plan file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from injector.domain.errors import InvalidValueError
from injector.domain.planfile import PlanFile, read_plan_file
from injector.session.patients_plans import PlanCreated, add_patient, add_plan
from injector.storage.engine import Database
from injector.storage.tables import Patient


@dataclass(frozen=True, slots=True)
class PlanImported:
    """What an import created; ``warnings`` need a second look but did not stop it."""

    patient_id: int
    patient_created: bool
    plan: PlanCreated
    warnings: tuple[str, ...]


def _patient_warnings(session: Session, plan_file: PlanFile) -> tuple[Patient | None, list[str]]:
    """The file's patient as recorded (None: new) and what the import would warn about it;
    refuses a file naming a patient that is neither recorded nor described."""
    identifier = plan_file.plan.patient
    existing = session.exec(select(Patient).where(col(Patient.identifier) == identifier)).first()
    if existing is None and plan_file.patient is None:
        raise InvalidValueError(
            "plan.patient",
            f"there is no patient with identifier {identifier}; add a [patient] table "
            "or run 'injector patient add' first",
        )
    if (
        existing is not None
        and plan_file.patient is not None
        and (
            plan_file.patient.name != existing.name
            or plan_file.patient.date_of_birth != existing.date_of_birth
        )
    ):
        return existing, [
            f"patient: {identifier} already exists with other details; they were kept"
        ]
    return existing, []


def check_plan_import(
    db: Database | None, plan_file: PlanFile, *, now: datetime | None = None
) -> tuple[str, ...]:
    """The warnings :func:`import_plan` would give for this file, recording nothing.

    Without a database only the file's own warnings (an expired lot, an unusual depth) can
    be known; with one, also what it says about the patient (and a missing patient refuses).
    """
    when = now or datetime.now(UTC)
    found: list[str] = []
    if db is not None:
        with db.read_session() as session:
            found = _patient_warnings(session, plan_file)[1]
    return tuple(found) + plan_file.plan.warnings(when.date())


def import_plan(
    db: Database, plan_file: PlanFile, *, actor: str, now: datetime | None = None
) -> PlanImported:
    """Create the file's patient unless the identifier exists, then the plan.

    An existing patient is never changed by an import: if the file's details differ, a
    warning says so (the same warnings :func:`check_plan_import` gives beforehand).
    """
    when = now or datetime.now(UTC)
    # One transaction: a failed plan leaves no new patient behind.
    with db.session() as session:
        existing, warnings = _patient_warnings(session, plan_file)
        created = False
        if existing is not None and existing.id is not None:
            patient_id = existing.id
        else:
            assert plan_file.patient is not None
            patient_id = add_patient(session, plan_file.patient, actor=actor, now=when)
            created = True
        plan = add_plan(session, plan_file.plan, actor=actor, now=when)
    return PlanImported(patient_id, created, plan, tuple(warnings) + plan.warnings)


def import_plan_file(
    db: Database, path: Path, *, actor: str, now: datetime | None = None
) -> PlanImported:
    """Read, validate and import a plan file (TOML or JSON)."""
    return import_plan(db, read_plan_file(path), actor=actor, now=now)
