"""Whole flows through the real app: forms, the session logic, the recorder, the driver and the
built-in simulated gun on a real pseudo-terminal, on a real SQLite file."""

from __future__ import annotations

import asyncio

from textual.message import Message
from textual.widgets import Checkbox, DataTable, Label

from tests.session.builders import TEST_PIN
from tests.tui.pilot_helpers import fill, until
from tui.app import InjectorApp
from tui.feed_messages import Alerted, LogAdded
from tui.screens.before import BeforeSessionScreen
from tui.screens.end import EndOfSessionScreen
from tui.screens.entry import AdverseEventScreen, NoteScreen
from tui.screens.home import HomeScreen
from tui.screens.identity import OverrideScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.patient_form import PatientFormScreen
from tui.screens.plan_form import PlanFormScreen
from tui.services import Services
from tui.session_feed import SessionFeed
from tui.state import LinkStatus
from tui.widgets import AlertBanner

SIZE = (120, 40)


def _plan_fields() -> dict[str, str]:
    zone = {
        "f-zones-0-name": "Cheeks",
        "f-zones-0-body_area": "cheeks",
        "f-zones-0-technique": "point_by_point",
        "f-zones-0-depth_mm": "2",
        "f-zones-0-volume_per_point_ml": "0.05",
        "f-zones-0-points": "10",
        "f-zones-0-max_volume_ml": "1",
    }
    return {
        "f-indication": "wrinkles_and_lines",
        "f-solution-product_name": "Hyaluronic cocktail",
        "f-solution-lot_number": "LOT-42",
        "f-solution-expiry": "2099-01-31",
        "f-series-sessions": "4",
        **zone,
    }


def test_patient_plan_session_sign_and_history(services: Services) -> None:
    """Create a patient and a plan, record a session against the simulated gun (zones, link
    loss and recovery, a plan limit that locks the gun), end and sign it, find it again."""
    asyncio.run(_patient_plan_session_sign_and_history(services))


async def _patient_plan_session_sign_and_history(services: Services) -> None:
    seen: list[Message] = []
    app = InjectorApp(services)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "the home screen")

        # --- a patient, with one refusal shown inline first ---------------------------------
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PatientFormScreen), "the patient form")
        fill(
            pilot,
            {"f-identifier": "P-001", "f-name": "Ada Example", "f-date_of_birth": "1985-13-40"},
        )
        await pilot.press("ctrl+s")
        error = app.screen.query_one("#e-date_of_birth", Label)
        await until(pilot, lambda: bool(str(error.render())), "the date error under its field")
        fill(pilot, {"f-date_of_birth": "1985-04-12"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "back home")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await until(
            pilot, lambda: [p.identifier for p in home.patients] == ["P-001"], "the patient"
        )

        # --- a plan with two zones; the second has a small maximum and the gun locks at it ----
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, PlanFormScreen), "the plan form")
        fill(pilot, _plan_fields())
        await pilot.press("ctrl+a")
        await until(pilot, lambda: bool(app.screen.query("#f-zones-1-name")), "a second zone")
        fill(
            pilot,
            {
                "f-zones-1-name": "Jawline",
                "f-zones-1-body_area": "jawline",
                "f-zones-1-technique": "point_by_point",
                "f-zones-1-depth_mm": "2",
                "f-zones-1-volume_per_point_ml": "0.05",
                "f-zones-1-points": "6",
                "f-zones-1-max_volume_ml": "0.15",
            },
        )
        app.screen.query_one("#f-lock_at_limit", Checkbox).value = True
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "back home after the plan")
        await until(
            pilot,
            lambda: home.detail is not None and len(home.detail.plans) == 1,
            "the plan under the patient",
        )

        # --- before the session: warnings until the checklist is complete ------------------
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, BeforeSessionScreen), "the checklist")
        before = app.screen
        assert isinstance(before, BeforeSessionScreen)
        await until(pilot, lambda: bool(before.warnings), "the checklist warnings")
        assert any("consent" in w for w in before.warnings)
        before.query_one("#consent", Checkbox).value = True
        before.query_one("#photos", Checkbox).value = True
        await until(pilot, lambda: not before.warnings, "no warnings left")
        fill(pilot, {"f-lot_number": "LOT-99", "f-lot_expiry": "2099-06-30"})
        await until(
            pilot, lambda: any("differs" in w for w in before.warnings), "the other-lot warning"
        )
        fill(pilot, {"f-lot_number": "", "f-lot_expiry": ""})
        await until(pilot, lambda: not before.warnings, "the plan's lot again")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live session")
        live = app.screen
        assert isinstance(live, LiveScreen)
        feed = live.feed
        assert isinstance(feed, SessionFeed)
        await until(pilot, lambda: feed.live is not None, "the gun to identify itself")
        await until(pilot, lambda: live.view.gun.link is LinkStatus.LIVE, "the link")
        sim = feed.simulator
        zone_ids = [z.zone_id for z in live.view.zones]

        # --- zone 1: four shots ---------------------------------------------------------------
        await pilot.press("1")
        await until(pilot, lambda: live.view.active_zone_id == zone_ids[0], "zone 1 active")
        await pilot.pause(0.2)
        sim.press_trigger(4, interval_ms=200)
        await until(pilot, lambda: live.view.shot_count == 4, "four shots on screen")
        assert live.view.zones[0].points_done == 4

        # --- a note and an adverse event, entered without stopping the recording -------------
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteScreen), "the note form")
        fill(pilot, {"note-text": "patient comfortable"})
        await pilot.press("enter")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AdverseEventScreen), "the AE form")
        fill(pilot, {"ae-kind": "bruising", "ae-notes": "left cheek"})
        await pilot.click("#ae-save")
        await until(pilot, lambda: app.screen is live, "back to the live view")
        await until(
            pilot,
            lambda: any(
                isinstance(m, LogAdded) and m.line.text.startswith("adverse event: bruising")
                for m in seen
            ),
            "the adverse event in the log",
        )

        # --- link loss: shown, shots fired meanwhile recovered on reconnect -------------------
        sim.unplug()
        await until(
            pilot,
            lambda: live.view.gun.link in (LinkStatus.LOST, LinkStatus.RECONNECTING),
            "the link loss",
        )
        banner = live.query_one(AlertBanner)
        assert banner.has_class("-shown")
        assert "LINK LOST" in str(banner.render())
        sim.press_trigger(2, interval_ms=200)
        await until(pilot, lambda: sim.gun.last_shot_no == 6, "two shots fired while unplugged")
        sim.replug()
        await until(pilot, lambda: live.view.gun.link is LinkStatus.LIVE, "the link restored")
        await until(pilot, lambda: live.view.shot_count == 6, "the two shots recovered")
        assert not banner.has_class("-shown")
        assert live.view.zones[0].points_done == 6

        # --- zone 2: its maximum is reached, the alert shows and the gun locks ---------------
        await pilot.press("2")
        await until(pilot, lambda: live.view.active_zone_id == zone_ids[1], "zone 2 active")
        await pilot.pause(0.2)
        sim.press_trigger(6, interval_ms=400)
        await until(pilot, lambda: "Jawline" in live.view.limit_alert, "the plan-limit alert")
        await until(pilot, lambda: sim.locked, "the gun locked by the plan limit")
        await until(pilot, lambda: live.view.gun.locked, "the lock on screen")
        assert banner.has_class("-shown") and banner.has_class("-warning")
        assert live.view.zones[1].points_done >= 3

        # The manual lock key never goes past a plan limit: the gun stays locked.
        await pilot.press("l")
        await until(
            pilot,
            lambda: any(
                isinstance(m, LogAdded) and "press o to override" in m.line.text for m in seen
            ),
            "the refusal of the manual key",
        )
        assert sim.locked
        # The practitioner overrides with its own key, the PIN, a reason and a confirmation:
        # the override is recorded and the gun fires again.
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OverrideScreen), "the override form")
        fill(pilot, {"o-by": "Dr Test", "o-pin": TEST_PIN, "o-reason": "area larger than planned"})
        app.screen.query_one("#o-confirm", Checkbox).value = True
        await pilot.click("#o-save")
        await until(pilot, lambda: not sim.locked, "the gun unlocked")
        await until(
            pilot,
            lambda: live.view.limit_alert.startswith("plan limit overridden by Dr Test at"),
            "the banner saying who overrode",
        )

        # --- end (two presses: one stray key never ends a procedure), review, sign -------------
        await pilot.press("e")
        await pilot.pause(0.2)
        assert isinstance(app.screen, LiveScreen)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EndOfSessionScreen), "the review")
        review = app.screen
        assert isinstance(review, EndOfSessionScreen)
        await until(pilot, lambda: review.summary is not None, "the summary")
        assert review.summary is not None
        by_zone = {z.name: z for z in review.summary.zones}
        assert by_zone["Cheeks"].points_done == 6
        assert by_zone["Jawline"].points_done >= 3
        assert any("maximum volume reached" in d for d in review.summary.deviations)
        assert any("bruising" in a and "left cheek" in a for a in review.summary.adverse_events)
        events = " | ".join(review.summary.events)
        for seen_event in ("link lost", "link restored", "recovered", "note: patient comfortable"):
            assert seen_event in events
        assert "overridden by Dr Test" in events
        depth = by_zone["Cheeks"].depth_mean_um
        assert depth is not None and 1000 < depth < 3000  # the gun is set to 2 mm
        assert sim is not None and feed.simulator is None  # the simulator was stopped
        # The sign-off offers the performer and waits in the PIN field.
        await until(pilot, lambda: app.focused is review.query_one("#sign-pin"), "the PIN field")
        fill(pilot, {"sign-pin": TEST_PIN})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: review.summary.signed_at is not None, "the signature")  # type: ignore[union-attr]
        assert review.summary.signed_by == "Dr Test"

        # --- the session is in the patient's history ------------------------------------------
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home again")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await until(
            pilot,
            lambda: home.detail is not None and bool(home.detail.plans[0].sessions),
            "the session in the history",
        )
        assert home.detail is not None
        plan = home.detail.plans[0]
        session = plan.sessions[0]
        assert (session.status, session.signed, session.shots) == ("completed", True, session.shots)
        assert session.shots >= 9
        assert plan.sessions_done == 1 and plan.next_due is not None
        table = home.query_one("#sessions", DataTable)
        assert table.row_count == 1
        await pilot.press("q")

    texts = [m.line.text for m in seen if isinstance(m, LogAdded)]
    assert any("LINK LOST" in t for t in texts)
    assert any("link restored" in t for t in texts)
    assert any("recovered" in t for t in texts)
    assert "note: patient comfortable" in texts
    alerts = [m.text for m in seen if isinstance(m, Alerted)]
    assert any("plan limit reached" in a and "Jawline" in a for a in alerts)
