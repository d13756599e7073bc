"""Snapshots of the main screens at 120×40 with fixed data (cursor blink off)."""

from __future__ import annotations

from dataclasses import replace

from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.fixtures import StaticFeed, live_view, log_lines
from tui.app import InjectorApp
from tui.screens.live import LiveScreen
from tui.state import LinkStatus

SIZE = (120, 40)


async def _settle(pilot: Pilot[None]) -> None:
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


def test_live_session(snap_compare: object) -> None:
    view = live_view()
    app = InjectorApp(first=lambda app: LiveScreen(StaticFeed([view], log_lines()), view))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)  # type: ignore[operator]


def test_live_session_link_lost_and_limit(snap_compare: object) -> None:
    view = live_view()
    view = replace(
        view,
        gun=replace(view.gun, link=LinkStatus.LOST, locked=True, lock_reason="plan limit"),
        limit_alert="plan limit reached: zone 1 Forehead 1.20 of 1.20 mL — gun locked",
        last_depth_um=2500,
    )
    app = InjectorApp(first=lambda app: LiveScreen(StaticFeed([view], log_lines()), view))
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)  # type: ignore[operator]
