"""The demo: a sample patient and a face plan that match the simulator's ``demo`` scenario.

``injector demo`` (and the home screen's ``d``) records a real session of this plan against the
built-in simulated gun, so a new user sees the whole product at once. The zones follow the
scenario's passes (forehead nappage, crow's feet, cheeks, perioral, neck), and the neck's
maximum volume is set below what the scenario fires there so the plan limit and the gun lock
show too.
"""

from __future__ import annotations

from datetime import date

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import Checklist, PatientInput, PlanInput, parse
from tui.clinic import Clinic

DEMO_PATIENT = "DEMO-0001"
DEMO_PRACTITIONER = "Demo Practitioner"
DEMO_PIN = "2468"
"""The sample practitioner's PIN, shown by the demo so that its session can be signed."""

_PATIENT = {
    "identifier": DEMO_PATIENT,
    "name": "Demo Patient",
    "date_of_birth": "1984-03-02",
    "contact": "demo@example.invalid",
}


def _plan(today: date) -> dict[str, object]:
    return {
        "patient": DEMO_PATIENT,
        "indication": "wrinkles_and_lines",
        "solution": {
            "product_name": "Demo revitalising cocktail",
            "components": ["hyaluronic acid", "vitamins"],
            "manufacturer": "Example Labs",
            "lot_number": "DEMO-LOT-1",
            # Always in date: the demo should not start with an expired-lot warning.
            "expiry": today.replace(year=today.year + 2).isoformat(),
        },
        "series": {"sessions": 6, "initial_interval_days": [7, 10], "later_interval_days": 30},
        "zones": [
            _zone("Forehead", "forehead", "nappage", 1.0, 0.3, 0.01, 90, 1.2),
            _zone("Crow's feet", "periorbital", "point_by_point", 2.0, 0.4, 0.025, 24, 0.8),
            _zone("Cheeks", "cheeks", "point_by_point", 2.5, 0.5, 0.015, 93, 1.8),
            _zone("Perioral", "chin", "point_by_point", 1.5, 0.3, 0.02, 20, 0.5),
            # The scenario fires 120 shots of 0.01 mL here: the limit locks the gun at 100.
            _zone("Neck", "neck", "nappage", 1.0, 0.3, 0.01, 120, 1.0),
        ],
        "lock_at_limit": True,
        "notes": "Sample plan created by `injector demo`.",
    }


def _zone(
    name: str,
    area: str,
    technique: str,
    depth: float,
    tolerance: float,
    volume: float,
    points: int,
    max_volume: float,
) -> dict[str, object]:
    return {
        "name": name,
        "body_area": area,
        "technique": technique,
        "depth_mm": depth,
        "tolerance_mm": tolerance,
        "volume_per_point_ml": volume,
        "points": points,
        "max_volume_ml": max_volume,
    }


DEMO_CHECKLIST = Checklist(
    nsaid_last_7_days=False, numbing_applied=True, consent_recorded=True, before_photos_taken=True
)


def ensure_demo_plan(clinic: Clinic) -> int:
    """The demo plan's id, creating the sample patient and plan the first time only.

    A plan whose sessions are all used up is replaced by a fresh one, so the demo always runs.
    """
    if not clinic.find_patients(DEMO_PATIENT):
        clinic.save_patient(parse(PatientInput, _PATIENT), None)
    detail = clinic.patient_detail(DEMO_PATIENT)
    for plan in detail.plans:
        if plan.sessions_done < plan.sessions_planned:
            return plan.plan_id
    return clinic.save_plan(parse(PlanInput, _plan(clinic.today())), None)


def ensure_demo_practitioner(clinic: Clinic) -> str:
    """The sample practitioner's printed name, recording them (PIN :data:`DEMO_PIN`) the
    first time only: the demo session is performed and signed by a practitioner record, never
    by the computer's login."""
    if DEMO_PRACTITIONER not in clinic.practitioners():
        clinic.add_practitioner(DEMO_PRACTITIONER, "physician", DEMO_PIN)
    return DEMO_PRACTITIONER


def start_demo_session(clinic: Clinic) -> tuple[int, int, str]:
    """Prepare the demo plan's next session; returns (plan id, session id, title).

    A demo left by quitting (its session still in progress) is ended as aborted first, so
    reruns do not pile up open sessions.
    """
    plan_id = ensure_demo_plan(clinic)
    practitioner = ensure_demo_practitioner(clinic)
    for plan in clinic.patient_detail(DEMO_PATIENT).plans:
        for session in plan.sessions:
            if session.status == "in_progress":
                clinic.abort_session(session.session_id)
    try:
        session_id, title = clinic.prepare_session(
            plan_id, DEMO_CHECKLIST, acknowledged=True, practitioner=practitioner
        )
    except InvalidValueError:
        # Every session of the plan is used: start over with a new plan.
        plan_id = clinic.save_plan(parse(PlanInput, _plan(clinic.today())), None)
        session_id, title = clinic.prepare_session(
            plan_id, DEMO_CHECKLIST, acknowledged=True, practitioner=practitioner
        )
    return plan_id, session_id, title
