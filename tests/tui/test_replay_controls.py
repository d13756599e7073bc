"""A technician's replay paused, resumed and sped up with the live screen's keys."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.pilot_helpers import until
from tests.tui.test_replay import write_capture
from tui.app import InjectorApp
from tui.feed_messages import LogAdded
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.replay import ReplayScreen
from tui.services import Services
from tui.session_feed import SessionFeed

SHOTS = 3000
"""2 ms apart: six seconds at 1×, so the replay is still playing when it is paused."""


async def _settled_count(pilot: Pilot[None], live: LiveScreen, quiet: float = 0.7) -> int:
    """The shot count once it has not changed for ``quiet`` seconds (what was on its way
    through the driver and the recorder when the replay paused has arrived)."""
    deadline = time.monotonic() + 20
    count, since = live.view.shot_count, time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError("the shot count never settled")
        await pilot.pause(0.05)
        if live.view.shot_count != count:
            count, since = live.view.shot_count, time.monotonic()
    return count


def test_space_pauses_and_resumes_a_replay_and_s_speeds_it_up(
    services: Services, tmp_path: Path
) -> None:
    capture = tmp_path / "session.igpcap"
    write_capture(capture, SHOTS)
    seen: list[Message] = []

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay screen")
            app.screen.query_one("#capture-path", Input).value = str(capture)
            await pilot.press("ctrl+s")  # at 1×, the default
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            live = app.screen
            assert isinstance(live, LiveScreen) and isinstance(live.feed, SessionFeed)
            feed = live.feed
            await until(pilot, lambda: live.view.shot_count >= 50, "the first shots")

            await pilot.press("space")
            await until(pilot, lambda: "paused" in live.view.replay, "the replay paused")
            sim = feed.simulator
            assert sim is not None and sim.paused
            # What was on the line when it paused still arrives; on a loaded machine the driver
            # may take a while to read it, and the settled count below is what matters.
            await asyncio.to_thread(sim.wait_drained, 15.0)
            paused_at = await _settled_count(pilot, live)
            assert paused_at < SHOTS
            await pilot.pause(3.5)  # longer than the 3 s of silence that means a lost link
            assert live.view.shot_count == paused_at
            assert not sim.done

            await pilot.press("space")
            await until(pilot, lambda: "playing" in live.view.replay, "the replay resumed")
            await until(pilot, lambda: live.view.shot_count > paused_at, "shots again")
            assert not sim.paused

            await pilot.press("s", "s")  # 1× → 10× → max
            # At 10× the rest may finish before the second key: the simulator's speed is the truth.
            await until(pilot, lambda: sim.speed == "max", "max speed")
            await until(pilot, lambda: live.view.shot_count == SHOTS, "every shot", timeout=60)
            await until(pilot, lambda: "finished" in live.view.replay, "the end of the replay")
            await pilot.pause(3.5)  # a finished replay is silent too
            await pilot.press("q")

    asyncio.run(run())
    log = [m.line.text for m in seen if isinstance(m, LogAdded)]
    # The keys were obeyed, not refused ("… refused: …" would say so).
    assert not [text for text in log if "refused" in text], log
    # A paused or finished replay is silent on purpose: no link alarm for it.
    assert not [text for text in log if "LINK LOST" in text.upper()], log
