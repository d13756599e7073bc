"""Typed requests between the screens and the app, quitting that asks while a session records,
and forms that never lose what was typed by one key."""

from __future__ import annotations

import asyncio

import pytest
from textual.message import Message
from textual.widgets import Input

from injector.domain.inputs import PatientInput, parse
from tests.tui.fixtures import StaticFeed, live_view
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.app_requests import PrepareSession, ReviewSession
from tui.demo_records import DEMO_CHECKLIST, ensure_demo_plan
from tui.feed_messages import Stop
from tui.screens.before import BeforeSessionScreen
from tui.screens.end import EndOfSessionScreen
from tui.screens.entry import NoteScreen
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.patient_form import PatientFormScreen
from tui.screens.plan_form import PlanFormScreen, ZoneRow
from tui.services import Services


def _notices(app: InjectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_home_keys_reach_the_app_as_typed_requests(services: Services) -> None:
    plan_id = ensure_demo_plan(services.clinic)
    session_id, _ = services.clinic.prepare_session(
        plan_id, DEMO_CHECKLIST, True, practitioner="Dr Test"
    )
    # Ended, so that "s" opens the checklist rather than the offer to resume it.
    services.clinic.finish_open_session(session_id, abort=True)
    seen: list[Message] = []

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            home = app.screen
            assert isinstance(home, HomeScreen)
            await until(pilot, lambda: home.selected_plan is not None, "the demo plan")
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, BeforeSessionScreen), "checklist")
            before = app.screen
            assert isinstance(before, BeforeSessionScreen) and before.plan_id == plan_id
            # Nothing changed on the checklist: one esc goes back.
            await pilot.pause(0.2)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home again")
            await pilot.press("v")
            await until(pilot, lambda: isinstance(app.screen, EndOfSessionScreen), "the review")
            review = app.screen
            assert isinstance(review, EndOfSessionScreen) and review.session_id == session_id

    asyncio.run(run())
    # A message is seen at each node it bubbles through (the screen, then the app): one each.
    (prepare,) = {id(m): m for m in seen if isinstance(m, PrepareSession)}.values()
    assert prepare.plan_id == plan_id
    (reviewed,) = {id(m): m for m in seen if isinstance(m, ReviewSession)}.values()
    assert reviewed.session_id == session_id


def test_ctrl_q_while_a_session_records_asks_as_q_q_does() -> None:
    key = "ctrl+q"
    view = live_view()
    feed = StaticFeed([view])

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(feed, view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            await pilot.press(key)
            await until(pilot, lambda: any("q again" in n for n in _notices(app)), "the notice")
            await pilot.pause(0.2)
            assert isinstance(app.screen, LiveScreen)
            assert not any(isinstance(c, Stop) for c in feed.received)
            await pilot.press(key)
            await until(pilot, lambda: Stop() in feed.received, "the feed stopped to quit")

    asyncio.run(run())


def test_ctrl_q_over_a_note_during_a_session_asks_too() -> None:
    view = live_view()
    feed = StaticFeed([view])

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(feed, view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, NoteScreen), "the note form")
            await pilot.press("ctrl+q")
            await until(pilot, lambda: any("q again" in n for n in _notices(app)), "the notice")
            await pilot.pause(0.2)
            assert isinstance(app.screen, NoteScreen)
            assert not any(isinstance(c, Stop) for c in feed.received)

    asyncio.run(run())


def test_q_never_quits_from_a_form_and_esc_asks_before_discarding(services: Services) -> None:
    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, PatientFormScreen), "the form")
            form = app.screen
            await pilot.pause(0.2)
            # Typed into a field, q is a letter of the name.
            await pilot.press("q", "u", "i", "n", "n")
            await until(
                pilot, lambda: form.query_one("#f-identifier", Input).value == "quinn", "typed"
            )
            # On a tick box, q is not a quit either.
            form.query_one("#f-anticoag").focus()
            await pilot.press("q")
            await pilot.pause(0.2)
            assert app.is_running and app.screen is form
            assert any("does not quit" in n for n in _notices(app))
            # Half-filled: the first esc asks, nothing is lost.
            await pilot.press("escape")
            await until(pilot, lambda: any("esc again" in n for n in _notices(app)), "asked")
            assert app.screen is form
            assert form.query_one("#f-identifier", Input).value == "quinn"
            # ctrl+q on the changed form asks as well.
            await pilot.press("ctrl+q")
            await until(pilot, lambda: any("ctrl+q again" in n for n in _notices(app)), "asked")
            assert app.is_running and app.screen is form
            # A second esc discards.
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home, discarded")
            assert services.clinic.find_patients("quinn") == []

    asyncio.run(run())


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_every_zone_field_of_the_plan_form_is_reachable_and_visible(
    services: Services, size: tuple[int, int]
) -> None:
    services.clinic.save_patient(
        parse(PatientInput, {"identifier": "P-1", "name": "Ada", "date_of_birth": "1985-04-12"}),
        None,
    )

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            home = app.screen
            assert isinstance(home, HomeScreen)
            await until(pilot, lambda: home.selected_patient is not None, "the patient")
            await pilot.press("t")
            await until(pilot, lambda: isinstance(app.screen, PlanFormScreen), "the plan form")
            form = app.screen
            await pilot.press("ctrl+a")  # a second zone
            await until(pilot, lambda: len(form.query(ZoneRow)) == 2, "two zones")
            form.query_one("#f-indication").focus()
            wanted = {
                f"f-zones-{i}-{name}"
                for i in range(2)
                for name in (
                    "name",
                    "depth_mm",
                    "tolerance_mm",
                    "volume_per_point_ml",
                    "points",
                    "max_volume_ml",
                )
            }
            reached: set[str] = set()
            screen_region = form.region
            for _ in range(80):
                await pilot.press("tab")
                await pilot.pause()
                focused = app.focused
                if focused is None or focused.id not in wanted:
                    continue
                await pilot.pause(0.1)  # the scroll to the focused field
                region = focused.region
                assert region.height > 0 and region.width >= 4, (focused.id, region)
                assert screen_region.contains_region(region), (focused.id, region, size)
                reached.add(focused.id)
            assert reached == wanted

    asyncio.run(run())
