"""Snapshots of the main screens at 120×40, and of the live screen at 80×24, with fixed data
(cursor blink off).

The data comes from :mod:`tests.tui.fixtures` (fixed views and records), so a snapshot changes
only when the screen's drawing does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from tests.tui.fixtures import StaticClinic, StaticFeed, live_view, log_lines
from tui.app import InjectorApp
from tui.screens.before import BeforeSessionScreen
from tui.screens.end import EndOfSessionScreen
from tui.screens.help import HelpScreen
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.plan_form import PlanFormScreen
from tui.state import LinkStatus, LiveView
from tui.widgets import TickBox

SIZE = (120, 40)
SMALL = (80, 24)
SnapCompare = Callable[..., bool]


async def _settle(pilot: Pilot[None]) -> None:
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def _app(screen: Callable[[], Screen[Any]]) -> InjectorApp:
    return InjectorApp(first=lambda app: screen())


def test_live_session(snap_compare: SnapCompare) -> None:
    view = live_view()
    app = _app(lambda: LiveScreen(StaticFeed([view], log_lines()), view))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_live_session_link_lost_and_limit(snap_compare: SnapCompare) -> None:
    view = _link_lost_view()
    app = _app(lambda: LiveScreen(StaticFeed([view], log_lines()), view))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def _link_lost_view() -> LiveView:
    view = live_view()
    return replace(
        view,
        gun=replace(view.gun, link=LinkStatus.LOST, locked=True, lock_reason="plan limit"),
        limit_alert="plan limit reached: zone 1 Forehead 1.20 of 1.20 mL — gun locked",
        last_depth_um=2500,
    )


def _replay_view() -> LiveView:
    return replace(live_view(), title="clinic-2026-11-02.igpcap", replay="replay 10× · playing")


def test_replay(snap_compare: SnapCompare) -> None:
    view = _replay_view()
    app = _app(lambda: LiveScreen(StaticFeed([view]), view, replay=True))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


# A small terminal (80×24): the zones keep their key, name and counts, nothing overlaps, and
# the footer still shows help and quit.


def test_live_session_80x24(snap_compare: SnapCompare) -> None:
    view = live_view()
    app = _app(lambda: LiveScreen(StaticFeed([view], log_lines()), view))
    assert snap_compare(app, terminal_size=SMALL, run_before=_settle)


def test_live_session_link_lost_and_limit_80x24(snap_compare: SnapCompare) -> None:
    view = _link_lost_view()
    app = _app(lambda: LiveScreen(StaticFeed([view], log_lines()), view))
    assert snap_compare(app, terminal_size=SMALL, run_before=_settle)


def test_replay_80x24(snap_compare: SnapCompare) -> None:
    view = _replay_view()
    app = _app(lambda: LiveScreen(StaticFeed([view]), view, replay=True))
    assert snap_compare(app, terminal_size=SMALL, run_before=_settle)


def test_home(snap_compare: SnapCompare) -> None:
    app = _app(lambda: HomeScreen(StaticClinic()))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_plan_form_refusals(snap_compare: SnapCompare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        screen = pilot.app.screen
        screen.query_one("#f-zones-0-depth_mm", Input).value = "40"
        screen.query_one("#f-solution-expiry", Input).value = "next year"
        await pilot.press("ctrl+s")
        await _settle(pilot)

    app = _app(lambda: PlanFormScreen(StaticClinic(), "P-0001"))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_before_session(snap_compare: SnapCompare) -> None:
    choices = [
        ("built-in simulated gun", "simulator:demo"),
        ("/dev/ttyACM0 — MG-400", "/dev/ttyACM0"),
    ]

    async def run_before(pilot: Pilot[None]) -> None:
        # One box ticked, the others not: the two states must read apart.
        pilot.app.screen.query_one("#numbing", TickBox).value = True
        await _settle(pilot)

    app = _app(lambda: BeforeSessionScreen(StaticClinic(), 7, choices=lambda: choices))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_end_of_session(snap_compare: SnapCompare) -> None:
    app = _app(lambda: EndOfSessionScreen(StaticClinic(), 12))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_help(snap_compare: SnapCompare) -> None:
    app = _app(HelpScreen)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)
