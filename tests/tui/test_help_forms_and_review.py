"""Smaller things a new user tripped over: where the help opens, tick boxes that read, refusals
in plain words, capture files found by their content, and the next due date explained."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Markdown

from injector.session.history import DeviceEventView
from tests.tui.fixtures import StaticFeed, live_view
from tests.tui.pilot_helpers import until
from tests.tui.test_replay import write_capture
from tui.app import InjectorApp
from tui.clinic import event_lines
from tui.demo_records import DEMO_CHECKLIST, ensure_demo_plan
from tui.feed_messages import AddNote, LogAdded
from tui.screens.help import HELP, HelpScreen
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.replay import CaptureTree, ReplayScreen
from tui.services import Services
from tui.session_feed import SerialGun, SessionFeed
from tui.state import SessionSummary
from tui.widgets import TickBox


def test_help_from_the_live_screen_opens_at_the_live_session() -> None:
    view = live_view()

    async def run() -> None:
        app = InjectorApp(first=lambda app: LiveScreen(StaticFeed([view]), view))
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
            scroll = app.screen.query_one(VerticalScroll)
            await until(pilot, lambda: scroll.scroll_y > 0, "the help scrolled")
            heading = next(
                h
                for h in app.screen.query_one(Markdown).query("MarkdownH2")
                if "Live session" in str(h.render())
            )
            # At the top of the view (the heading's margin above it aside).
            assert 0 <= heading.virtual_region.y - scroll.scroll_y <= 3

    asyncio.run(run())


def test_the_help_text_does_not_repeat_the_title() -> None:
    # The header already says "injector — help".
    assert not HELP.lstrip().startswith("#")


class _Boxes(App[None]):
    def compose(self) -> ComposeResult:
        yield TickBox("ticked", True, id="on")
        yield TickBox("not ticked", False, id="off")


def test_tick_boxes_show_a_tick_only_when_ticked() -> None:
    async def run() -> None:
        app = _Boxes()
        async with app.run_test(size=(40, 10)) as pilot:
            await pilot.pause()
            on, off = app.query_one("#on", TickBox), app.query_one("#off", TickBox)
            assert "✔" in on.render().plain
            assert "✔" not in off.render().plain and "X" not in off.render().plain
            off.value = True
            await pilot.pause()
            assert "✔" in off.render().plain

    asyncio.run(run())


def test_a_refused_command_is_said_in_the_practitioners_words(services: Services) -> None:
    posted: list[Message] = []

    class Collect:
        def post_message(self, message: Message) -> bool:
            posted.append(message)
            return True

    feed = SessionFeed(services.db, SerialGun("unused"), title="t", actor="Dr Test")
    feed._post = Collect()
    feed._handle(AddNote("patient comfortable"))  # no session yet: refused
    (line,) = [m.line.text for m in posted if isinstance(m, LogAdded)]
    assert line.startswith("note refused: no session yet")


def test_captures_are_found_by_their_first_bytes_and_others_refused(
    services: Services, tmp_path: Path
) -> None:
    odd_name = tmp_path / "from-the-clinic.bin"
    write_capture(odd_name, 3)
    not_a_capture = tmp_path / "notes.cap"
    not_a_capture.write_text("not a capture", encoding="utf-8")

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay screen")
            tree = app.screen.query_one(CaptureTree)
            await until(pilot, lambda: bool(tree.root.children), "the folder listing")
            listed = {n.data.path.name for n in tree.root.children if n.data is not None}
            assert "from-the-clinic.bin" in listed and "clinic.sqlite3" not in listed
            app.screen.query_one("#capture-path", Input).value = str(not_a_capture)
            await pilot.press("ctrl+s")
            error = app.screen.query_one("#replay-error", Label)
            await until(pilot, lambda: "not a capture file" in str(error.render()), "the refusal")
            assert isinstance(app.screen, ReplayScreen)

    asyncio.run(run())


def test_the_next_due_date_says_why_there_is_none(services: Services) -> None:
    clinic = services.clinic
    plan_id = ensure_demo_plan(clinic)
    session_id, _ = clinic.prepare_session(plan_id, DEMO_CHECKLIST, True, practitioner="Dr Test")
    clinic.abort_session(session_id)
    text = clinic.session_summary(session_id).next_due_text
    assert text.startswith("no date yet (session 1 of 6)")
    done = SessionSummary(1, "t", next_session="series complete", sessions_completed=6)
    assert done.next_due_text == "none: the series is complete"
    due = SessionSummary(
        1, "t", next_due=date(2026, 12, 2), next_session="session 3 of 6", sessions_completed=2
    )
    assert due.next_due_text == "2026-12-02 (session 3 of 6)"


def test_the_review_sums_recovered_shots_stored_read_by_read() -> None:
    at = datetime(2026, 11, 25, 10, 7, 5, tzinfo=UTC)

    def event(n: int, kind: str, count: int) -> DeviceEventView:
        return DeviceEventView(n, 1, "SN1", 7, kind, at, {"count": count})

    events = [event(n, "shots_recovered", 1) for n in range(13)]
    events += [event(20, "shots_lost", 1), event(21, "shots_recovered", 2)]
    lines = [line.split(" ", 1)[1] for line in event_lines(events)]
    assert lines == ["13 shots recovered", "1 shot lost", "2 shots recovered"]
