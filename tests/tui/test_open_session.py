"""A session left open is announced when the TUI opens and offered (resume, end, abort) when
its plan is chosen; resuming continues the same session, never a second one."""

from __future__ import annotations

import asyncio

from injector.session.clinical import session_view
from injector.session.history import list_sessions
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.demo_records import DEMO_CHECKLIST, ensure_demo_plan
from tui.screens.before import BeforeSessionScreen
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.open_session import OpenSessionScreen
from tui.services import Services
from tui.session_feed import SessionFeed


def _notices(app: InjectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_a_session_left_open_is_aborted_from_the_offer(services: Services) -> None:
    plan_id = ensure_demo_plan(services.clinic)
    # Started, then the TUI quit before the gun fired.
    left_open, _ = services.clinic.prepare_session(plan_id, DEMO_CHECKLIST, True)

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await until(
                pilot, lambda: any("is still open" in n for n in _notices(app)), "the notice"
            )
            app.action_prepare_session(plan_id)
            await until(pilot, lambda: isinstance(app.screen, OpenSessionScreen), "the offer")
            offer = app.screen
            assert isinstance(offer, OpenSessionScreen)
            assert offer.view.session_id == left_open
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, BeforeSessionScreen), "checklist")
            await until(
                pilot, lambda: any("ended (aborted)" in n for n in _notices(app)), "the ending"
            )

    asyncio.run(run())
    view = session_view(services.db, left_open)
    assert (view.status, view.sequence_no) == ("aborted", None)


def test_resuming_continues_the_same_session(services: Services) -> None:
    plan_id = ensure_demo_plan(services.clinic)
    left_open, _ = services.clinic.prepare_session(plan_id, DEMO_CHECKLIST, True)
    feeds: list[SessionFeed] = []

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            app.action_prepare_session(plan_id)
            await until(pilot, lambda: isinstance(app.screen, OpenSessionScreen), "the offer")
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, BeforeSessionScreen), "checklist")
            before = app.screen
            assert isinstance(before, BeforeSessionScreen)
            assert before.resuming is not None and before.resuming.session_id == left_open
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            live = app.screen
            assert isinstance(live, LiveScreen) and isinstance(live.feed, SessionFeed)
            feed = live.feed
            feeds.append(feed)
            await until(pilot, lambda: feed.live is not None, "the gun to identify itself", 30)
            await live.stop_feed()

    asyncio.run(run())
    (feed,) = feeds
    assert feed.live is not None and feed.live.session_id == left_open
    # Still one session of the plan: resumed, not doubled.
    assert [s.id for s in list_sessions(services.db, plan_id=plan_id)] == [left_open]
