"""Inputs for tests: a valid patient and plan, with overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from injector.domain.inputs import Checklist, PatientInput, PlanInput, parse
from injector.session.patients_plans import create_patient, create_plan
from injector.storage import Database

CLEAN_CHECKLIST = Checklist(
    nsaid_last_7_days=False, numbing_applied=True, consent_recorded=True, before_photos_taken=True
)


def patient_data(**overrides: Any) -> dict[str, Any]:
    return {"identifier": "P-1", "name": "Jane Doe", "date_of_birth": "1985-04-12"} | overrides


def plan_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "patient": "P-1",
        "indication": "wrinkles_and_lines",
        "solution": {
            "product_name": "Revita",
            "components": ["hyaluronic acid", "vitamin C"],
            "manufacturer": "Example Pharma",
            "lot_number": "LOT-A",
            "expiry": date(2035, 1, 31).isoformat(),
        },
        "series": {
            "sessions": 6,
            "initial_sessions": 3,
            "initial_interval_days": [7, 10],
            "later_interval_days": 14,
        },
        "zones": [
            {
                "name": "forehead",
                "body_area": "forehead",
                "technique": "nappage",
                "depth_mm": 1.5,
                "tolerance_mm": 0.3,
                "volume_per_point_ml": 0.05,
                "points": 4,
            },
            {
                "name": "cheeks",
                "body_area": "cheeks",
                "technique": "point_by_point",
                "depth_mm": 2.5,
                "tolerance_mm": 0.5,
                "volume_per_point_ml": 0.05,
                "points": 4,
            },
        ],
    }
    return data | overrides


def add_patient_and_plan(db: Database, **plan_overrides: Any) -> int:
    """Create P-1 (if needed) and a plan for it; returns the plan id."""
    from injector.session.patients_plans import list_patients

    if not any(p.identifier == "P-1" for p in list_patients(db)):
        create_patient(db, parse(PatientInput, patient_data()), actor="Dr Test")
    return create_plan(db, parse(PlanInput, plan_data(**plan_overrides)), actor="Dr Test").plan_id


TEST_PIN = "2580"


def pin_of(db: Database, name: str) -> str:
    """The PIN of practitioner ``name``, recording them first if needed (for signing,
    amending and overriding in tests)."""
    from injector.session.practitioners import add_practitioner, list_practitioners

    if not any(p.name == name for p in list_practitioners(db)):
        add_practitioner(db, name, TEST_PIN, role="physician", actor="test setup")
    return TEST_PIN
