"""The live view says what matters at a glance: the active zone large with its volume against
its maximum, full / past plan / at or past maximum told apart, a zone asked for before the
first shot, and clinical words on the screens."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from rich.console import Console
from textual.widgets import Digits, Label

from injector.session.clinical import warning_text
from tests.tui.fixtures import FACE_ZONES, StaticFeed, live_view
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.feed_messages import ViewChanged
from tui.screens.live_screen import LiveScreen
from tui.state import LiveView, LiveZone, SessionRow, ZoneFill, ml
from tui.widgets import ActiveZone, AlertBanner, GunPanel
from tui.widgets.zone_progress import progress_table

CHEEKS = FACE_ZONES[2]  # planned 1.395 mL, max 1.50 mL


def _with_volume(zone: LiveZone, volume_nl: int) -> LiveZone:
    return replace(zone, volume_done_nl=volume_nl)


def test_each_fill_state_is_its_own() -> None:
    cases = {
        0: ZoneFill.UNDER,
        1_000_000: ZoneFill.UNDER,
        1_395_000: ZoneFill.FULL,
        1_450_000: ZoneFill.PAST_PLAN,
        1_500_000: ZoneFill.AT_MAX,
        1_600_000: ZoneFill.PAST_MAX,
    }
    for volume, fill in cases.items():
        assert _with_volume(CHEEKS, volume).fill is fill, volume
    # Told apart without colour: each state has its own mark and its own style.
    assert len({f.mark for f in ZoneFill}) == len(ZoneFill)
    assert len({f.style for f in ZoneFill}) == len(ZoneFill)


def _table_text(view: LiveView, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None, legacy_windows=False)
    console.print(progress_table(view, width))
    return console.export_text().splitlines()


def test_the_zone_table_shows_planned_and_maximum_and_the_state() -> None:
    zones = (
        _with_volume(FACE_ZONES[0], 900_000),  # full
        _with_volume(FACE_ZONES[1], 700_000),  # past plan (0.60), under max (0.80)
        _with_volume(FACE_ZONES[2], 1_600_000),  # past max (1.50)
        FACE_ZONES[3],
        FACE_ZONES[4],
    )
    lines = _table_text(live_view(zones=zones), 76)
    header, forehead, crows, cheeks = lines[:4]
    assert "mL/plan" in header and "max" in header
    assert "✔0.90/0.90" in forehead and "1.20" in forehead
    assert "▲0.70/0.60" in crows and "0.80" in crows
    assert "✖1.60/1.40" in cheeks and "1.50" in cheeks


def _run_live(view: LiveView, check: object, size: tuple[int, int] = (120, 40)) -> None:
    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(StaticFeed([view]), view))
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            await pilot.pause(0.2)
            assert callable(check)
            await check(app, pilot)

    asyncio.run(run())


def test_the_active_zone_is_shown_large_against_its_maximum() -> None:
    view = live_view(zones=(*FACE_ZONES[:2], _with_volume(CHEEKS, 1_450_000), *FACE_ZONES[3:]))

    async def check(app: InjectorApp, pilot: object) -> None:
        panel = app.screen.query_one(ActiveZone)
        name = str(panel.query_one("#zone-name", Label).render())
        assert "3" in name and "CHEEKS" in name
        assert panel.query_one(Digits).value == "1.45"
        under = str(panel.query_one("#zone-of", Label).render())
        assert "of 1.50 mL max" in under and "past plan" in under
        assert panel.has_class(ZoneFill.PAST_PLAN.css_class)
        assert not panel.has_class(ZoneFill.FULL.css_class)

    _run_live(view, check)


def test_a_session_with_no_zone_asks_for_one_before_the_first_shot() -> None:
    view = live_view(active_zone_id=None, shot_count=0, session_volume_nl=0)

    async def check(app: InjectorApp, pilot: object) -> None:
        banner = app.screen.query_one(AlertBanner)
        assert banner.display and "CHOOSE THE ZONE before the first shot: press 1–5" in str(
            banner.render()
        )
        panel = app.screen.query_one(ActiveZone)
        assert panel.has_class("-none")
        assert "NO ZONE ACTIVE" in str(panel.query_one("#zone-name", Label).render())

    _run_live(view, check, size=(80, 24))


def test_shots_that_went_to_no_zone_are_said_until_a_zone_is_chosen() -> None:
    view = live_view(active_zone_id=None, unattributed_shots=3)
    chosen = live_view(unattributed_shots=3)
    feed = StaticFeed([view])

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(feed, view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            live = app.screen
            assert isinstance(live, LiveScreen)
            banner = live.query_one(AlertBanner)
            await until(pilot, lambda: "3 shots with no zone" in str(banner.render()), "ask")
            live.post_message(ViewChanged(chosen))
            await until(pilot, lambda: not banner.has_class("-shown"), "the banner gone")

    asyncio.run(run())


def test_a_replay_asks_for_nothing() -> None:
    view = live_view(active_zone_id=None)

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(StaticFeed([view]), view, replay=True))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            await pilot.pause(0.2)
            assert not app.screen.query_one(AlertBanner).has_class("-shown")

    asyncio.run(run())


def test_clinical_words_not_stored_values() -> None:
    row = SessionRow(1, 1, "in_progress", None, 0, 0, False)
    assert row.status_text == "in progress (open)"
    assert warning_text("solution.expiry: lot L1 expired on 2026-01-01") == (
        "Lot L1 expired on 2026-01-01"
    )
    assert warning_text("lot_expiry: lot L1 expired") == "Lot L1 expired"
    # A sentence with a colon in it is left whole.
    assert warning_text("Note: read this") == "Note: read this"


class _CountingLiveScreen(LiveScreen):
    """The live screen, counting how often the whole screen is laid out again."""

    layouts = 0

    def _refresh_layout(self, *args: object, **kwargs: object) -> None:
        type(self).layouts += 1
        super()._refresh_layout(*args, **kwargs)  # type: ignore[arg-type]


def test_new_numbers_are_redrawn_in_place_without_a_layout() -> None:
    view = live_view()
    views = [
        replace(
            view,
            shot_count=200 + n,
            session_volume_nl=2_500_000 + n * 15_000,
            last_depth_um=2400 + n * 10,
            recent_depths_um=(*view.recent_depths_um[1:], 2400 + n * 10),
            zones=(
                *view.zones[:2],
                replace(view.zones[2], points_done=62 + n, volume_done_nl=930_000 + n * 15_000),
                *view.zones[3:],
            ),
            gun=replace(view.gun, syringe_remaining_nl=1_000_000 - n * 15_000),
        )
        for n in range(30)
    ]

    async def run() -> None:
        app = InjectorApp(first=lambda app: _CountingLiveScreen(StaticFeed([view]), view))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            live = app.screen
            assert isinstance(live, LiveScreen)
            # The footer and the header finish their own first layouts after mounting.
            before = -1
            while before != _CountingLiveScreen.layouts:
                before = _CountingLiveScreen.layouts
                await pilot.pause(0.5)
            for new in views:
                live.post_message(ViewChanged(new))
                await pilot.pause()
            await until(pilot, lambda: live.view.shot_count == 229, "the last view")
            await pilot.pause(0.2)
            # Thirty new counts, volumes, depths and syringe figures: drawn, never laid out.
            assert _CountingLiveScreen.layouts == before
            assert live.query_one("#shot-digits", Digits).value == "229"
            # The syringe figure, redrawn at most four times a second, ends on the last one.
            last = f"{ml(1_000_000 - 29 * 15_000)} mL"
            panel = live.query_one(GunPanel)
            await until(pilot, lambda: last in str(panel.render()), "the last syringe figure")

    asyncio.run(run())
