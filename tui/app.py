"""The Textual app: screen routing, the command palette, quitting cleanly.

The app holds no clinical state of its own: screens get what they show from
:class:`tui.clinic.Clinic` (patients, plans, history, sign-off) or from a live feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from injector.storage.engine import Database, open_database
from simulators.replay import ReplayError
from tui.app_requests import (
    GoHome,
    LeaveReplay,
    OpenReplay,
    PrepareSession,
    ReviewSession,
    SessionFinished,
    StartDemo,
    StartReplay,
    StartSession,
)
from tui.demo_records import DEMO_PIN, DEMO_PRACTITIONER, start_demo_session
from tui.feed_messages import ReplaySpeed
from tui.replay_index import ReplayContext, index_capture
from tui.screens.before import BeforeSessionScreen
from tui.screens.end import EndOfSessionScreen
from tui.screens.form_screen import FormModal, FormScreen
from tui.screens.help import HelpScreen
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.open_session import describe
from tui.screens.replay import ReplayScreen
from tui.services import Services
from tui.session_feed import CaptureReplay, GunSource, SessionFeed, SimulatedGun
from tui.state import LiveView


@runtime_checkable
class _HasHelpSection(Protocol):
    help_section: str


def _binding_commands(screen: Screen[Any]) -> Iterable[SystemCommand]:
    """One palette entry per key binding of the screen that has a description."""
    seen: set[str] = set()
    for binding in screen.BINDINGS:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        action = binding.action
        # The app's own commands (help, quit) are listed once, by the app; quitting from the
        # palette is already deliberate, so the two-press quit is not listed.
        if action in seen or action.startswith("app.") or action == "quit_twice":
            continue
        seen.add(action)
        name, _, arg = action.partition("(")
        params: tuple[object, ...] = (int(arg.rstrip(")")),) if arg.rstrip(")").isdigit() else ()
        if screen.check_action(name, params) is not True:
            continue
        description = binding.description
        if binding.group is not None:
            description = f"{binding.group.description} {description.split()[-1]}"

        async def run(action: str = action) -> None:
            await screen.run_action(action)

        yield SystemCommand(
            description.capitalize(), f"key {binding.key_display or binding.key}", run
        )


class InjectorApp(App[None]):
    """The practitioner's and technician's terminal UI.

    ``services`` gives the screens the database and the clinic's records; ``first`` builds the
    first screen (default: patients and plans); ``start_demo`` opens the demo session on top.
    Without services only the screen ``first`` builds works (snapshot tests feed the live
    screen directly).
    """

    CSS_PATH = "app.tcss"
    TITLE = "injector"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
        # Textual's own ctrl+q quits at once; here it asks as q q does while a session records,
        # and on a form with unsaved changes.
        Binding("ctrl+q", "request_quit", "quit", show=False, priority=True),
    ]

    def __init__(
        self,
        services: Services | None = None,
        first: Callable[[InjectorApp], Screen[Any]] | None = None,
        *,
        start_demo: bool = False,
    ) -> None:
        super().__init__()
        self.services = services
        self._first = first
        self._start_demo = start_demo
        self._scratch: list[Database] = []

    def on_mount(self) -> None:
        # Full garbage collections walk every object the program holds (Textual, SQLAlchemy,
        # the modules): 55 ms pauses about once a second at replay speed, which showed as late
        # shot counts. What exists once the first screen is up lives as long as the app, so it
        # is moved out of the collector's way.
        self.call_after_refresh(gc.freeze)
        if self._first is not None:
            self.push_screen(self._first(self))
        elif self.services is not None:
            self.push_screen(HomeScreen(self.services.clinic))
            if self._start_demo:
                self.call_after_refresh(self.action_demo)
            else:
                self.call_after_refresh(self._offer_open_session)

    async def _offer_open_session(self) -> None:
        """A session left open (quit, crash, headless record) is announced when the TUI opens;
        choosing its plan offers to resume, end or abort it (:class:`OpenSessionScreen`)."""
        services = self._need_services()
        view = await asyncio.to_thread(services.clinic.open_session, None)
        if view is not None:
            self.notify(
                f"{describe(view)} Open its patient's plan to resume, end or abort it.",
                title="A session was left open",
                severity="warning",
                timeout=30,
            )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The screen's own actions, then the app's, then the built-in commands."""
        yield from _binding_commands(screen)
        # While a session records, nothing in the palette may stop it by the way: leaving,
        # a demo or a replay wait until it is ended (or the app quit).
        if self.services is not None and self.recording_session() is None:
            yield SystemCommand("Patients and plans", "the home screen", self.action_home)
            yield SystemCommand(
                "Demo session", "a session against the built-in simulated gun", self.action_demo
            )
            yield SystemCommand(
                "Replay a capture", "technicians: play a capture file", self.action_replay
            )
        yield SystemCommand("Help", "every key and what each screen does", self.action_help)
        yield from super().get_system_commands(screen)

    def recording_session(self) -> LiveScreen | None:
        """The live screen recording a session (not a replay) that has not ended, if any."""
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen) and not screen.replay and not screen.ended:
                return screen
        return None

    def _refuse_while_recording(self, what: str) -> bool:
        if self.recording_session() is None:
            return False
        self.notify(
            f"A session is recording: end it (e e) before {what}.", severity="warning", timeout=6
        )
        return True

    def _need_services(self) -> Services:
        if self.services is None:
            raise RuntimeError("this app was started without a database")
        return self.services

    # --- routing -------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show the help screen (once)."""
        if not isinstance(self.screen, HelpScreen):
            screen = self.screen
            section = screen.help_section if isinstance(screen, _HasHelpSection) else None
            self.push_screen(HelpScreen(section))

    async def action_home(self) -> None:
        """Back to patients and plans (stopping a live feed first)."""
        services = self._need_services()
        if self._refuse_while_recording("leaving it"):
            return
        await self._stop_feeds()
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if isinstance(self.screen, HomeScreen):
            return
        await self.switch_screen(HomeScreen(services.clinic))

    @on(GoHome)
    async def _home_requested(self) -> None:
        await self.action_home()

    @on(PrepareSession)
    def _session_prepare_requested(self, message: PrepareSession) -> None:
        """The before-session screen of a plan's next session."""
        services = self._need_services()
        gun = SimulatedGun(services.simulator_scenario, speed=services.simulator_speed)
        self.push_screen(BeforeSessionScreen(services.clinic, message.plan_id, gun))

    @on(ReviewSession)
    def _review_requested(self, message: ReviewSession) -> None:
        """The review of a past session."""
        self.push_screen(EndOfSessionScreen(self._need_services().clinic, message.session_id))

    @on(OpenReplay)
    async def _replay_screen_requested(self) -> None:
        await self.action_replay()

    @on(StartDemo)
    async def _demo_requested(self) -> None:
        await self.action_demo()

    @on(StartSession)
    async def _session_start_requested(self, message: StartSession) -> None:
        await self.start_session(message.session_id, message.plan_id, message.title, message.gun)

    @on(StartReplay)
    async def _replay_start_requested(self, message: StartReplay) -> None:
        await self.start_replay(message.path, message.speed, message.start_ms, again=message.again)

    @on(LeaveReplay)
    async def _replay_leave_requested(self, message: LeaveReplay) -> None:
        """Stop the replay on top (everything it recorded committed) and go back."""
        screen = self.screen
        if isinstance(screen, LiveScreen) and screen.replay:
            await screen.stop_feed()
            self.pop_screen()

    @on(SessionFinished)
    def _session_finished_message(self, message: SessionFinished) -> None:
        self.show_end_of_session(message.session_id)

    async def action_replay(self) -> None:
        """The replay screen (a replay already playing is stopped first)."""
        services = self._need_services()
        if self._refuse_while_recording("replaying a capture"):
            return
        await self._stop_feeds()
        note = (
            f"It records into {services.replay_db_url}."
            if services.replay_db_url
            else "It records into a scratch database, never into a patient's record."
        )
        self.push_screen(ReplayScreen(note, services.capture_dir))

    async def action_demo(self) -> None:
        """A session of the sample plan against the built-in simulator's demo scenario."""
        services = self._need_services()
        if self._refuse_while_recording("starting a demo"):
            return
        # A replay still playing stops (everything committed) before the demo starts.
        await self._stop_feeds()
        plan_id, session_id, title = await asyncio.to_thread(start_demo_session, services.clinic)
        gun = SimulatedGun("demo", speed=services.simulator_speed)
        await self.start_session(session_id, plan_id, title, gun, follow_gun_settings=True)
        self.notify(
            f"The demo session is performed by {DEMO_PRACTITIONER}; sign it with PIN {DEMO_PIN}.",
            timeout=10,
        )

    async def start_session(
        self,
        session_id: int | None,
        plan_id: int | None,
        title: str,
        gun: GunSource,
        *,
        follow_gun_settings: bool = False,
    ) -> None:
        """Open the live view recording ``session_id`` (prepared) from ``gun``."""
        services = self._need_services()
        zones = (
            await asyncio.to_thread(services.clinic.plan_zones, plan_id)
            if plan_id is not None
            else ()
        )
        feed = SessionFeed(
            services.db,
            gun,
            title=title,
            actor=services.actor,
            plan_id=plan_id,
            session_id=session_id,
            zones=zones,
            clinic=services.clinic,
            follow_gun_settings=follow_gun_settings,
        )
        screen = LiveScreen(feed, LiveView(title=title, zones=zones))
        await self._replace_top(screen)

    async def start_replay(
        self, path: Path, speed: ReplaySpeed, start_ms: float = 0.0, *, again: bool = False
    ) -> None:
        """Play a capture into the live view, each replay into a scratch database of its own
        (or the one given with ``--replay-db``), from capture time ``start_ms``.

        A replay already on top is stopped (committed) and replaced. ``again`` (seeking back)
        always records into a new scratch database: the earlier one holds these shots already,
        and a shot stored once is never stored twice.
        """
        services = self._need_services()
        try:
            index = await asyncio.to_thread(index_capture, path)
        except ReplayError as exc:
            self.notify(f"Cannot replay: {exc}", severity="error", timeout=10)
            return
        if isinstance(self.screen, LiveScreen) and self.screen.replay:
            await self.screen.stop_feed()
            self.pop_screen()
        given = None if again else services.replay_db_url
        url = given or str(Path(tempfile.mkdtemp(prefix="injector-replay-")) / "replay.sqlite3")
        # Opening migrates the database: not on the UI thread.
        db = await asyncio.to_thread(open_database, url)
        self._scratch.append(db)
        title = path.name  # the header adds "— replay"
        gun = CaptureReplay(path, speed, start_ms=start_ms)
        feed = SessionFeed(db, gun, title=title, actor=services.actor)

        def position() -> float | None:
            sim = feed.simulator
            return float(sim.scenario_ms) if sim is not None else None

        context = ReplayContext(path, index, url, position)
        if index.warning is not None:
            self.notify(f"Damaged capture: {index.warning}", severity="warning", timeout=15)
        # On top of the replay picker: leaving the replay (esc) goes back to it.
        await self.push_screen(
            LiveScreen(feed, LiveView(title=title), replay=True, speed=speed, context=context)
        )

    async def _replace_top(self, screen: Screen[None]) -> None:
        # A session screen replaces the form that led to it; escape from it is not "back".
        if len(self.screen_stack) > 2:
            await self.switch_screen(screen)
        else:
            await self.push_screen(screen)

    def show_end_of_session(self, session_id: int) -> None:
        """Replace the live screen with the review of the session it recorded."""
        services = self._need_services()
        screen = self.screen
        if isinstance(screen, LiveScreen) and isinstance(screen.feed, SessionFeed):
            live = screen.feed.live
            if live is not None:
                services.clinic.remember_progress(live.progress())
        self.switch_screen(EndOfSessionScreen(services.clinic, session_id))

    # --- quitting --------------------------------------------------------------------------

    async def _stop_feeds(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen):
                if not screen.ended:
                    self.notify("Stopping the gun's recording: committing everything first…")
                await screen.stop_feed()

    async def action_request_quit(self) -> None:
        """ctrl+q: while a session records, the first press asks (as q q does); on a form with
        unsaved changes too; otherwise quit."""
        recording = self.recording_session()
        if recording is not None:
            await recording.action_quit_twice()
            return
        screen = self.screen
        if isinstance(screen, FormScreen | FormModal) and not screen.guard.may_quit():
            return
        await self.action_quit()

    async def action_quit(self) -> None:
        """Stop every live feed (committing what it recorded), then exit."""
        await self._stop_feeds()
        for db in self._scratch:
            with contextlib.suppress(Exception):
                db.close()
        self.exit()
