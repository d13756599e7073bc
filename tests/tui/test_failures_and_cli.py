"""A gun that cannot be opened is said, not fatal; the two commands parse their options."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.message import Message

from injector.cli.main import build_parser, main
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.feed_messages import FeedEnded
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.services import Services
from tui.session_feed import SerialGun


def test_a_missing_port_is_reported_and_the_user_can_leave(
    services: Services, tmp_path: Path
) -> None:
    seen: list[Message] = []

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await app.start_session(None, None, "no gun", SerialGun(str(tmp_path / "no-such-tty")))
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            live = app.screen
            assert isinstance(live, LiveScreen)
            await until(pilot, lambda: live.ended, "the feed to give up")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home again")

    asyncio.run(run())
    (ended,) = [m for m in seen if isinstance(m, FeedEnded)]
    assert "no-such-tty" in ended.error


def test_commands_and_their_options() -> None:
    parser = build_parser()
    args = parser.parse_args(["demo", "--speed", "max", "--db", "x.sqlite3"])
    assert (args.speed, args.db) == (None, "x.sqlite3")
    assert parser.parse_args(["demo"]).speed == 1.0
    args = parser.parse_args(["tui", "--db", "sqlite:///y.db", "--by", "Dr X"])
    assert (args.db, args.by) == ("sqlite:///y.db", "Dr X")


def test_a_bad_speed_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--speed", "fast"])
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("fast is not a factor above 0 or 'max'")
