"""No session is left "in progress" by accident: a gun that cannot be opened aborts the prepared
session, ``q`` on a recording screen needs a second press, and nothing in the palette stops a
recording by the way."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from textual.message import Message

from injector.session.clinical import session_view
from injector.storage import Database
from tests.tui.conftest import QUIET_GUN
from tests.tui.fixtures import StaticFeed, live_view
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.demo_records import DEMO_CHECKLIST, ensure_demo_plan
from tui.feed_messages import EndSession, FeedEnded, LogAdded, Stop
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.services import Services
from tui.session_feed import SerialGun, SessionFeed, SimulatedGun


def _notices(app: InjectorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_a_session_on_a_missing_port_is_aborted_and_said(
    services: Services, tmp_path: Path
) -> None:
    plan_id = ensure_demo_plan(services.clinic)
    session_id, title = services.clinic.prepare_session(
        plan_id, DEMO_CHECKLIST, True, practitioner="Dr Test"
    )
    assert session_view(services.db, session_id).status == "in_progress"
    seen: list[Message] = []

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            gun = SerialGun(str(tmp_path / "no-such-tty"))
            await app.start_session(session_id, plan_id, title, gun)
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            live = app.screen
            assert isinstance(live, LiveScreen)
            await until(pilot, lambda: live.ended, "the feed to give up")
            await until(
                pilot, lambda: any("aborted" in n for n in _notices(app)), "the notification"
            )
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home again")

    asyncio.run(run())
    (ended,) = [m for m in seen if isinstance(m, FeedEnded)]
    assert "no-such-tty" in ended.error
    assert f"session {session_id} was ended as aborted" in ended.error
    logged = [m.line.text for m in seen if isinstance(m, LogAdded)]
    assert any("ended as aborted" in line for line in logged)
    assert session_view(services.db, session_id).status == "aborted"


def test_q_on_a_recording_screen_needs_a_second_press() -> None:
    view = live_view()
    feed = StaticFeed([view])

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(feed, view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            await pilot.press("q")
            await until(pilot, lambda: any("q again" in n for n in _notices(app)), "the notice")
            assert "stays in progress" in " ".join(_notices(app))
            # The screen still records and nothing was stopped.
            await pilot.pause(0.2)
            assert isinstance(app.screen, LiveScreen)
            assert not any(isinstance(c, Stop) for c in feed.received)
            await pilot.press("q")
            await until(pilot, lambda: Stop() in feed.received, "the feed stopped to quit")

    asyncio.run(run())


def test_the_footer_says_which_keys_need_two_presses() -> None:
    view = live_view()

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(StaticFeed([view]), view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            shown = {
                b.binding.action: app.get_key_display(b.binding)
                for b in app.screen.active_bindings.values()
            }
            assert shown["end"] == "e e"
            assert shown["quit_twice"] == "q q"

    asyncio.run(run())


def test_a_replay_quits_with_one_q_and_hides_session_keys() -> None:
    view = live_view()
    feed = StaticFeed([view])

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(feed, view, replay=True))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            actions = {b.binding.action for b in app.screen.active_bindings.values()}
            assert "toggle_lock" not in actions and "zone(1)" not in actions
            assert "quit_twice" not in actions and "app.quit" in actions
            await pilot.press("q")
            await until(pilot, lambda: Stop() in feed.received, "the replay stopped to quit")

    asyncio.run(run())


def test_the_palette_cannot_stop_a_recording(services: Services) -> None:
    view = live_view()
    feed = StaticFeed([view])

    async def run() -> None:
        app = InjectorApp(services, first=lambda app: LiveScreen(feed, view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            live = app.screen
            titles = [c.title for c in app.get_system_commands(live)]
            for hidden in ("Demo session", "Replay a capture", "Patients and plans"):
                assert hidden not in titles
            # Reached some other way, they refuse and say why; the recording goes on.
            await app.run_action("demo")
            await app.run_action("replay")
            await app.run_action("home")
            await pilot.pause(0.1)
            assert app.screen is live and not live.ended
            assert not any(isinstance(c, Stop) for c in feed.received)
            assert any("A session is recording" in n for n in _notices(app))

    asyncio.run(run())


def test_a_simulated_gun_leaves_no_folder_behind(db: Database, tmp_path: Path) -> None:
    scenario = tmp_path / "quiet.scenario"
    scenario.write_text(QUIET_GUN, encoding="utf-8")
    feed = SessionFeed(db, SimulatedGun(str(scenario)), title="test", actor="Dr Test")
    stop = threading.Event()
    posted: list[Message] = []

    class Collect:
        def post_message(self, message: Message) -> bool:
            posted.append(message)
            return True

    worker = threading.Thread(target=feed.run, args=(Collect(), stop.is_set), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while feed.live is None:
            assert time.monotonic() < deadline, "timed out waiting for the gun"
            time.sleep(0.05)
        folder = feed._gun_dir
        assert folder is not None and folder.is_dir()
    finally:
        stop.set()
        worker.join(30)
    assert not folder.exists()


def test_ending_before_the_gun_ever_connected_aborts_the_session(services: Services) -> None:
    plan_id = ensure_demo_plan(services.clinic)
    session_id, title = services.clinic.prepare_session(
        plan_id, DEMO_CHECKLIST, True, practitioner="Dr Test"
    )
    # A port that opens but where no gun ever answers.
    master, slave = os.openpty()
    posted: list[Message] = []

    class Collect:
        def post_message(self, message: Message) -> bool:
            posted.append(message)
            return True

    feed = SessionFeed(
        services.db,
        SerialGun(os.ttyname(slave)),
        title=title,
        actor="Dr Test",
        plan_id=plan_id,
        session_id=session_id,
    )
    stop = threading.Event()
    worker = threading.Thread(target=feed.run, args=(Collect(), stop.is_set), daemon=True)
    try:
        worker.start()
        feed.submit(EndSession())
        worker.join(30)
    finally:
        stop.set()
        worker.join(30)
        os.close(master)
        os.close(slave)
    (ended,) = [m for m in posted if isinstance(m, FeedEnded)]
    assert ended.error.startswith("the gun never connected")
    assert f"session {session_id} was ended as aborted" in ended.error
    assert session_view(services.db, session_id).status == "aborted"
