"""Who did it, on the screens: the checklist names a recorded practitioner (or records a new
one), and the sign-off is focused and visible at 80×24 and needs the signer's PIN."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from textual.widgets import Input, Label, Select, Static

from injector.driver import LockChanged, ShotReceived
from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.clinical import session_view
from injector.session.progress import PlanLock
from tests.session.builders import TEST_PIN
from tests.tui.fixtures import FACE_ZONES
from tests.tui.pilot_helpers import fill, until
from tui.app import InjectorApp
from tui.demo_records import (
    DEMO_CHECKLIST,
    DEMO_PIN,
    DEMO_PRACTITIONER,
    ensure_demo_plan,
    start_demo_session,
)
from tui.live_model import LiveModel
from tui.screens.before import BeforeSessionScreen
from tui.screens.end import EndOfSessionScreen
from tui.screens.identity import PractitionerFormScreen
from tui.services import Services

GUN = DeviceInfo("SN0042", "MG-400", "2.4.1")


def _recorded_session(services: Services) -> int:
    clinic = services.clinic
    plan_id = ensure_demo_plan(clinic)
    session_id, _ = clinic.prepare_session(plan_id, DEMO_CHECKLIST, True, practitioner="Dr Test")
    live = open_or_continue(services.db, GUN, session_id=session_id)
    at = datetime.now(UTC) - timedelta(minutes=5)
    live.set_active_zone(live.zones[0].id, at=at)
    live.add_shots(
        [
            ShotIn(GUN.serial, 5, n, n, at + timedelta(seconds=n), 1000, 10_000, 0, 10**6)
            for n in range(1, 21)
        ]
    )
    live.end(actor="Dr Test")
    return session_id


def test_the_sign_off_is_focused_visible_at_80x24_and_needs_the_pin(
    services: Services,
) -> None:
    session_id = _recorded_session(services)

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.screen is not None, "the app")
            app.push_screen(EndOfSessionScreen(services.clinic, session_id))
            await until(pilot, lambda: isinstance(app.screen, EndOfSessionScreen), "the review")
            review = app.screen
            assert isinstance(review, EndOfSessionScreen)
            await until(pilot, lambda: bool(review.query("#sign-pin")), "the sign-off")
            pin = review.query_one("#sign-pin", Input)
            await until(pilot, lambda: app.focused is pin, "the PIN field focused")
            await pilot.pause(0.2)
            # Focus scrolled it into view: inside the 80×24 screen, not below it.
            region = pin.region
            assert region.height > 0 and region.y >= 0 and region.bottom <= 24
            assert review.query_one("#signer", Select).value == "Dr Test"

            fill(pilot, {"sign-pin": "9999"})
            await pilot.press("enter")
            error = review.query_one("#sign-error", Label)
            await until(pilot, lambda: "do not match" in str(error.render()), "the refusal")
            assert not session_view(services.db, session_id).signed
            assert pin.value == ""  # a refused PIN is not left in the field

            fill(pilot, {"sign-pin": TEST_PIN})
            await pilot.press("enter")
            await until(
                pilot,
                lambda: review.summary is not None and review.summary.signed_at is not None,
                "the signature",
            )
            text = str(review.query_one("#signed", Static).render())
            assert "Signed by Dr Test at " in text and "performed and reviewed" in text

    asyncio.run(run())


def test_the_checklist_needs_a_recorded_practitioner(services: Services) -> None:
    clinic = services.clinic
    clinic.add_practitioner("Nurse Bo", "nurse", "5820")
    plan_id = ensure_demo_plan(clinic)

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.screen is not None, "the app")
            app.push_screen(BeforeSessionScreen(clinic, plan_id))
            await until(pilot, lambda: isinstance(app.screen, BeforeSessionScreen), "checklist")
            before = app.screen
            assert isinstance(before, BeforeSessionScreen)
            await until(pilot, lambda: bool(before.query("#practitioner")), "the choice")
            select = before.query_one("#practitioner", Select)
            await until(pilot, lambda: len(select._options) == 3, "the practitioners")
            # Two are recorded: nobody is chosen for the practitioner, never the login.
            assert not isinstance(select.value, str)
            await pilot.press("ctrl+s")
            error = before.query_one("#before-error", Label)
            await until(pilot, lambda: "Choose who performs" in str(error.render()), "refusal")

            await pilot.press("ctrl+n")
            await until(pilot, lambda: isinstance(app.screen, PractitionerFormScreen), "form")
            fill(pilot, {"p-name": "Dr Cy Novak", "p-role": "physician"})
            fill(pilot, {"p-pin": "7314", "p-pin2": "7315"})
            await pilot.click("#p-save")
            form_error = app.screen.query_one("#p-error", Label)
            await until(pilot, lambda: "differ" in str(form_error.render()), "the PIN mismatch")
            fill(pilot, {"p-pin2": "7314"})
            app.screen.query_one("#p-pin2", Input).focus()
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is before, "back to the checklist")
            await until(pilot, lambda: select.value == "Dr Cy Novak", "the new one chosen")
            assert "Dr Cy Novak" in clinic.practitioners()

    asyncio.run(run())


def test_the_banner_and_the_gun_panel_agree_on_the_plan_limit_lock() -> None:
    model = LiveModel("t", FACE_ZONES)
    at = time.time()
    model.apply(LockChanged(locked=True, reason=1, acknowledged=True, at=at))
    view = model.view()
    assert view.gun.locked and view.gun.lock_reason == "plan limit"
    assert view.limit_alert == "plan limit: locked by plan limit"
    # Changing zone does not hide a lock the gun still holds.
    model.set_active_zone(FACE_ZONES[1].zone_id)
    assert model.view().limit_alert == "plan limit: locked by plan limit"
    # The override says who and when; the unlock then reaches the panel.
    when = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    model.show_plan_lock(PlanLock(False, "Dr Test", when))
    model.apply(LockChanged(locked=False, reason=1, acknowledged=True, at=at + 1))
    view = model.view()
    assert not view.gun.locked
    assert view.limit_alert == f"plan limit overridden by Dr Test at {when.astimezone():%H:%M}"
    # A manual lock is not a plan limit: no banner for it, and a zone change clears it.
    model.set_active_zone(FACE_ZONES[0].zone_id)
    model.apply(LockChanged(locked=True, reason=0, acknowledged=True, at=at + 2))
    assert model.view().limit_alert == ""


def test_an_implausible_shot_never_reaches_the_depth_shown() -> None:
    model = LiveModel("t", FACE_ZONES)

    def shot(n: int, depth: int, flags: int = 0) -> ShotReceived:
        return ShotReceived(
            serial="SN1",
            boot_id=7,
            shot_no=n,
            uptime_ms=n,
            device_time=0.0,
            depth_um=depth,
            flags=flags,
            volume_nl=10_000,
            syringe_remaining_nl=5_000_000,
            recovered=False,
            received_at=time.time(),
            received_ns=time.monotonic_ns(),
        )

    model.apply(shot(1, 1500))
    model.apply(shot(2, 65_535))  # a broken depth sensor or frame
    model.apply(shot(3, 1600, flags=0x40))  # an undefined flag bit
    model.apply(shot(4, 0, flags=0x02))  # air: no depth
    view = model.view()
    assert view.last_depth_um == 1500 and view.recent_depths_um == (1500,)


def test_the_demo_records_its_own_practitioner_who_can_sign(services: Services) -> None:
    clinic = services.clinic
    _, session_id, _ = start_demo_session(clinic)
    _, again, _ = start_demo_session(clinic)  # a rerun reuses the sample practitioner
    assert clinic.practitioners().count(DEMO_PRACTITIONER) == 1
    view = session_view(services.db, again)
    assert view.practitioner == DEMO_PRACTITIONER  # never the computer's login
    clinical_end = session_view(services.db, session_id)
    assert clinical_end.status == "aborted"  # the first demo was left open, then aborted
    clinic.sign_session(session_id, DEMO_PRACTITIONER, DEMO_PIN, "performed and reviewed")
    assert session_view(services.db, session_id).signed_by == DEMO_PRACTITIONER
