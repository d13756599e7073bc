"""A session left open is announced when the TUI opens and offered (resume, end, abort) when
its plan is chosen; resuming continues the same session, never a second one."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import text

from injector.session.clinical import session_view
from injector.session.history import list_sessions
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.app_requests import PrepareSession
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
    left_open, _ = services.clinic.prepare_session(
        plan_id, DEMO_CHECKLIST, True, practitioner="Dr Test"
    )

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await until(
                pilot, lambda: any("is still open" in n for n in _notices(app)), "the notice"
            )
            app.post_message(PrepareSession(plan_id))
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
    left_open, _ = services.clinic.prepare_session(
        plan_id, DEMO_CHECKLIST, True, practitioner="Dr Test"
    )
    feeds: list[SessionFeed] = []

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            app.post_message(PrepareSession(plan_id))
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


def test_the_live_feed_says_what_was_fired_before_the_session_opened(
    services: Services, tmp_path: Path
) -> None:
    from protocols.igp1 import Mode
    from simulators.runner import Simulator
    from tests.recorder.harness import wait_for
    from tests.tui.test_feed_losses import Collect
    from tui.feed_messages import Alerted, DecideEarlierShots
    from tui.session_feed import SerialGun

    plan_id = ensure_demo_plan(services.clinic)
    link = tmp_path / "gun"
    with Simulator("idle", speed=20, seed=3, link=link) as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        sim.press_trigger(6)  # primed before Start was pressed
        assert sim.wait_until(lambda s: len(s.shots()) == 6, 20)
        session_id, title = services.clinic.prepare_session(
            plan_id, DEMO_CHECKLIST, True, practitioner="Dr Test"
        )
        feed = SessionFeed(
            services.db,
            SerialGun(str(link)),
            title=title,
            actor="Dr Test",
            plan_id=plan_id,
            session_id=session_id,
        )
        stop = threading.Event()
        poster = Collect()
        worker = threading.Thread(target=feed.run, args=(poster, stop.is_set), daemon=True)
        worker.start()

        def alerts() -> list[str]:
            return [m.text for m in poster.messages if isinstance(m, Alerted)]

        try:
            wait_for(
                lambda: feed.live is not None and feed.live.earlier_shots().count == 6,
                30,
                "the earlier shots",
            )
            wait_for(lambda: bool(alerts()), 10, "the notice")
            live = feed.live
            assert live is not None and live.progress().total.shots == 0
            # The practitioner primed into the first zone: included, with the reason.
            feed.submit(DecideEarlierShots(include=True, zone_key=1, reason="primed into it"))
            wait_for(lambda: live.progress().total.shots == 6, 20, "the shots included")
            wait_for(lambda: len(alerts()) == 2, 30, "the line that says so")
        finally:
            stop.set()
            worker.join(30)
    told, included = alerts()
    assert told.startswith("6 shots (0.024 mL) were fired before this session opened, from ")
    assert "left out of this session (kept as shots of gun SN0042 with no session)" in told
    assert included.startswith("6 shots fired before the session opened included, to zone 1 ")
    assert not live.earlier_shots()
    assert live.session_id == session_id
    with services.db.read() as conn:
        actors = conn.execute(
            text("select actor from audit_entry where action = 'include_earlier_shots'")
        ).all()
    assert [tuple(a) for a in actors] == [("Dr Test",)]


def test_b_on_the_live_screen_asks_for_a_reason_then_sends_the_decision() -> None:
    from tests.tui.fixtures import StaticFeed, live_view
    from tui.feed_messages import DecideEarlierShots
    from tui.screens.earlier_shots import EarlierShotsScreen

    view = live_view()
    feed = StaticFeed([view])

    async def run() -> None:
        app = InjectorApp(first=lambda _app: LiveScreen(feed, view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            await pilot.press("b")
            await until(pilot, lambda: isinstance(app.screen, EarlierShotsScreen), "the form")
            await pilot.click("#leave-out")
            # No reason given: asked for one, nothing sent.
            assert isinstance(app.screen, EarlierShotsScreen)
            await pilot.press(*"test fire")
            await pilot.click("#leave-out")
            await until(pilot, lambda: bool(feed.received), "the decision")

    asyncio.run(run())
    (decision,) = feed.received
    assert decision == DecideEarlierShots(include=False, zone_key=3, reason="test fire")
