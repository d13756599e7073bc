"""Editing a patient and a plan's zones through the real app, on a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from textual.widgets import Label, Static

from injector.domain.inputs import PatientInput, PlanInput, parse
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.audit_verify import verify_audit_trail
from injector.session.clinical import end_session
from injector.session.patients_plans import get_plan
from tests.tui.pilot_helpers import fill, until
from tui.app import InjectorApp
from tui.screens.home import HomeScreen
from tui.screens.patient_form import PatientFormScreen
from tui.screens.plan_form import PlanFormScreen
from tui.services import Services

SIZE = (120, 40)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _zone(name: str, area: str) -> dict[str, object]:
    return {
        "name": name,
        "body_area": area,
        "technique": "point_by_point",
        "depth_mm": 2,
        "volume_per_point_ml": 0.05,
        "points": 10,
    }


def _record(services: Services) -> int:
    """Patient P-001 with a plan of two zones; three shots already recorded in the Jawline."""
    clinic = services.clinic
    clinic.save_patient(
        parse(
            PatientInput,
            {"identifier": "P-001", "name": "Ada Example", "date_of_birth": "1985-04-12"},
        ),
        None,
    )
    plan = {
        "patient": "P-001",
        "indication": "wrinkles_and_lines",
        "solution": {"product_name": "Cocktail", "lot_number": "LOT-42", "expiry": "2099-01-31"},
        "series": {"sessions": 4},
        "zones": [_zone("Cheeks", "cheeks"), _zone("Jawline", "jawline")],
    }
    plan_id = clinic.save_plan(parse(PlanInput, plan), None)
    jawline = get_plan(services.db, plan_id).zones[1].id
    live = open_or_continue(services.db, DeviceInfo("SN0077", "MG-400", "2.4.1"), plan_id)
    live.set_active_zone(jawline, at=T0)
    live.add_shots(
        [
            ShotIn("SN0077", 1, n, 1000 * n, T0 + timedelta(seconds=n), 2000, 50_000, 0, 10**6)
            for n in (1, 2, 3)
        ]
    )
    end_session(services.db, live.session_id, actor="Dr Test")
    return plan_id


def text_of(screen: object, selector: str) -> str:
    assert isinstance(screen, HomeScreen | PlanFormScreen | PatientFormScreen)
    return str(screen.query_one(selector, Static).render())


def test_edit_a_patient_and_a_plan_zone(services: Services) -> None:
    """The forms open filled in, refusals show inline, saved edits show on the home screen."""
    plan_id = _record(services)
    asyncio.run(_edit_a_patient_and_a_plan_zone(services))
    plan = get_plan(services.db, plan_id)
    assert [(z.name, z.depth_um) for z in plan.zones] == [("Cheekbones", 2500), ("Jawline", 2000)]
    assert verify_audit_trail(services.db).ok


async def _edit_a_patient_and_a_plan_zone(services: Services) -> None:
    app = InjectorApp(services)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "the home screen")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await until(pilot, lambda: home.detail is not None, "the patient's plans")

        # --- the patient: a new name and a new clinic number --------------------------------
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PatientFormScreen), "the patient form")
        fill(pilot, {"f-name": "Ada Edited", "f-identifier": "P-002"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is home, "back home")
        await until(
            pilot,
            lambda: [(p.identifier, p.name) for p in home.patients] == [("P-002", "Ada Edited")],
            "the edited patient in the list",
        )
        await until(
            pilot, lambda: "Ada Edited" in text_of(home, "#patient-info"), "the edited patient"
        )
        assert "Cheeks · Jawline" in text_of(home, "#plan-zones")

        # --- the plan: removing the zone with shots is refused, under the zones -------------
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, PlanFormScreen), "the plan form")
        form = app.screen
        await pilot.press("ctrl+d")
        await until(pilot, lambda: not form.query("#f-zones-1-name"), "the last zone removed")
        await pilot.press("ctrl+s")
        error = form.query_one("#e-zones", Label)
        await until(pilot, lambda: "Jawline" in str(error.render()), "the refusal naming the zone")
        assert app.screen is form
        # The form was changed (a zone removed): the first esc asks, the second discards.
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is form
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is home, "back home, nothing saved")

        # --- the plan: zone 1 renamed and retuned; a bad depth is shown first ---------------
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, PlanFormScreen), "the plan form again")
        form = app.screen
        assert form.query_one("#f-zones-0-name").value == "Cheeks"  # type: ignore[attr-defined]
        fill(pilot, {"f-zones-0-name": "Cheekbones", "f-zones-0-depth_mm": "40"})
        await pilot.press("ctrl+s")
        depth_error = form.query_one("#e-zones-0-depth_mm", Label)
        await until(pilot, lambda: bool(str(depth_error.render())), "the depth error inline")
        fill(pilot, {"f-zones-0-depth_mm": "2.5"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is home, "back home after the plan")
        await until(
            pilot,
            lambda: "Cheekbones · Jawline" in text_of(home, "#plan-zones"),
            "the renamed zone on the home screen",
        )
