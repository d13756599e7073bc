"""The live session: what the practitioner glances at during the procedure.

Big numbers, single keys, nothing modal for alerts: link loss and plan limits turn the banner
and borders red and raise a notification while the screen keeps updating.
"""

from __future__ import annotations

import contextlib
import time
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Label
from textual.worker import Worker, WorkerCancelled, WorkerFailed, get_current_worker

from tui.feed_messages import (
    AddNote,
    Alerted,
    Command,
    DecideEarlierShots,
    EndSession,
    FeedEnded,
    LiveFeed,
    LogAdded,
    RecordAdverseEvent,
    ReplaySpeed,
    SelectZone,
    SetLock,
    SetReplay,
    Stop,
    ViewChanged,
)
from tui.screens.earlier_shots import EarlierShotsScreen
from tui.screens.entry import AdverseEntry, AdverseEventScreen, NoteScreen
from tui.state import LinkStatus, LiveView, ml
from tui.widgets import (
    AlertBanner,
    DepthGauge,
    DepthSparkline,
    EventLog,
    GunPanel,
    ShotCounter,
    ZoneProgress,
)

_ZONES = Binding.Group("zone", compact=True)
CONFIRM_S = 3.0
"""How long a first press of ``e`` (or ``q``) waits for the second that ends (or quits)."""
QUIT_NOTICE = (
    "Press q again to quit. Everything recorded is kept; the session is NOT ended: it stays "
    "in progress (open) until it is ended."
)


class LiveScreen(Screen[None]):
    """The live view of one session (or of a replay).

    Fed by a :class:`~tui.feed_messages.LiveFeed`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(k), f"zone({k})", f"zone {k}", group=_ZONES, show=True)
            for k in range(1, 10)
        ),
        # Two presses for what stops the procedure; the footer shows both presses.
        Binding("e", "end", "end session", key_display="e e"),
        Binding("l", "toggle_lock", "lock/unlock"),
        Binding("space", "pause", "pause/resume"),
        Binding("s", "speed", "speed"),
        Binding("escape", "leave", "patients"),
        # Help and quit before the longer labels, so a narrow footer still shows them.
        Binding("question_mark", "app.help", "help"),
        Binding("q", "quit_twice", "quit", key_display="q q"),
        Binding("q", "app.quit", "quit"),
        Binding("n", "note", "note"),
        Binding("a", "adverse", "adverse event"),
        # Offered by the notice that announces them, not in the footer: rarely needed.
        Binding("b", "earlier", "shots before start", show=False),
    ]

    def __init__(
        self,
        feed: LiveFeed,
        view: LiveView,
        *,
        replay: bool = False,
        speed: ReplaySpeed = ReplaySpeed.X1,
    ) -> None:
        super().__init__()
        self.feed = feed
        self.view = view
        self.replay = replay
        self.ended = False
        self.paused = False
        self.speed = speed
        """The replay's speed as started; the keys change it from there."""
        self.session_id: int | None = None
        self._feed_worker: Worker[None] | None = None
        self._end_asked_at = -CONFIRM_S
        self._quit_asked_at = -CONFIRM_S

    @property
    def help_section(self) -> str:
        """Where the help opens from here."""
        return "replay-technicians" if self.replay else "live-session"

    def compose(self) -> ComposeResult:
        yield Header()
        yield AlertBanner(id="banner")
        with Horizontal(id="live-main"):
            with Vertical(id="live-left"):
                with Horizontal(id="live-numbers"):
                    yield ShotCounter(id="shots")
                    yield DepthGauge(id="depth")
                yield ZoneProgress(id="zones")
                yield DepthSparkline(id="sparkline")
            with Vertical(id="live-right"):
                yield Label("", id="replay-status")
                yield GunPanel(id="gun")
                yield EventLog(id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "replay" if self.replay else "live session"
        self.query_one("#replay-status", Label).display = self.replay
        self._render_view(self.view)
        self._feed_worker = self._run_feed()

    @work(thread=True, exclusive=True, group="feed", exit_on_error=False)
    def _run_feed(self) -> None:
        worker = get_current_worker()
        try:
            self.feed.run(self, lambda: worker.is_cancelled)
        except Exception as exc:  # the UI must outlive a failed feed and say why
            self.post_message(FeedEnded(self.session_id, error=str(exc), finished=False))

    # --- messages from the feed -------------------------------------------------------------

    def on_view_changed(self, message: ViewChanged) -> None:
        """Redraw from the newest view."""
        zones_before = [z.key for z in self.view.zones]
        self.view = message.view
        self._render_view(message.view)
        if [z.key for z in message.view.zones] != zones_before:
            self.refresh_bindings()

    def on_log_added(self, message: LogAdded) -> None:
        """Append to the event log."""
        self.query_one(EventLog).add(message.line)

    def on_alerted(self, message: Alerted) -> None:
        """Notify as well as log: a toast never takes the keyboard away."""
        severity = {"info": "information", "warning": "warning", "error": "error"}
        if message.severity == "error":
            self.app.bell()
        self.notify(message.text, severity=severity[message.severity], timeout=8)  # type: ignore[arg-type]

    def on_feed_ended(self, message: FeedEnded) -> None:
        """Go to the end-of-session screen, or say that the replay finished or failed."""
        self.ended = True
        self.refresh_bindings()
        if message.error:
            self.notify(f"Recording stopped: {message.error}", severity="error", timeout=30)
            return
        if self.replay:
            self.notify("Replay finished.", timeout=10)
            return
        if message.finished and message.session_id is not None:
            show_end = getattr(self.app, "show_end_of_session", None)
            if show_end is not None:
                show_end(message.session_id)

    def _render_view(self, view: LiveView) -> None:
        self.title = view.title or "injector"
        zone = view.active_zone
        self.query_one(ShotCounter).show(view.shot_count, f"{ml(view.session_volume_nl)} mL")
        self.query_one(DepthGauge).show(view.last_depth_um, zone)
        self.query_one(ZoneProgress).show(view)
        self.query_one(DepthSparkline).show(view.recent_depths_um)
        self.query_one(GunPanel).show(view.gun)
        link_text = ""
        if view.gun.link in (LinkStatus.LOST, LinkStatus.RECONNECTING):
            link_text = "LINK LOST: shots are held by the gun and recovered on reconnect"
        limit_text = view.limit_alert.upper() if view.limit_alert else ""
        self.query_one(AlertBanner).show(link_text, limit_text)
        self.set_class(bool(link_text), "-link-lost")
        self.set_class(bool(limit_text), "-limit")
        if view.replay:
            self.query_one("#replay-status", Label).update(view.replay)

    # --- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys only in a replay; session keys only while recording."""
        if action in ("pause", "speed"):
            return self.replay
        if action == "leave":
            # Leaving never stops a recording by accident: only once it has ended (or failed).
            return self.ended
        if action == "quit_twice":
            # A replay records nothing clinical, and an ended session has nothing to lose:
            # there q quits at once (the app's own binding).
            return not (self.replay or self.ended)
        if action in ("note", "adverse", "end", "toggle_lock", "zone", "earlier") and self.replay:
            return False
        if action == "zone" and parameters:
            # Only the plan's zones: keys with no zone are not offered (nor drawn).
            key = parameters[0]
            return any(z.key == key for z in self.view.zones)
        return True

    def send(self, command: Command) -> None:
        """Queue a command for the feed (never blocks the screen)."""
        if self.ended:
            self.notify("The session is no longer recording.", severity="warning")
            return
        self.feed.submit(command)

    def action_zone(self, key: int) -> None:
        """Make zone ``key`` the active one."""
        self.send(SelectZone(key))

    def action_toggle_lock(self) -> None:
        """Lock the trigger, or unlock it."""
        self.send(SetLock(not self.view.gun.locked))

    def action_note(self) -> None:
        """Add a note to the session's record."""

        def save(text: str | None) -> None:
            if text:
                self.send(AddNote(text))

        self.app.push_screen(NoteScreen(), save)

    def action_adverse(self) -> None:
        """Record an adverse event against the session."""

        def save(entry: AdverseEntry | None) -> None:
            if entry is not None:
                self.send(RecordAdverseEvent(entry.kind, entry.severity, entry.notes))

        self.app.push_screen(AdverseEventScreen(), save)

    def action_earlier(self) -> None:
        """Include the shots fired before the session opened, or leave them out."""

        def decide(decision: DecideEarlierShots | None) -> None:
            if decision is not None:
                self.send(decision)

        self.app.push_screen(EarlierShotsScreen(self.view.zones, self.view.active_zone_id), decide)

    def action_end(self) -> None:
        """End the session: the gun is locked, everything committed, then the review.

        A stray key must not end a procedure: the first press asks, a second one within
        :data:`CONFIRM_S` seconds ends.
        """
        now = time.monotonic()
        if now - self._end_asked_at > CONFIRM_S:
            self._end_asked_at = now
            self.notify("Press e again to end the session.", severity="warning", timeout=CONFIRM_S)
            return
        self.send(EndSession())

    async def action_quit_twice(self) -> None:
        """Quit while recording: the first press says what happens, a second one quits.

        With gloved hands a single stray ``q`` must not stop the recording of a procedure.
        """
        now = time.monotonic()
        if now - self._quit_asked_at > CONFIRM_S:
            self._quit_asked_at = now
            self.notify(QUIT_NOTICE, severity="warning", timeout=CONFIRM_S)
            return
        await self.app.run_action("quit")

    def action_pause(self) -> None:
        """Pause or resume a replay."""
        self.paused = not self.paused
        self.send(SetReplay(self.paused, self.speed))

    def action_speed(self) -> None:
        """Cycle the replay speed: 1×, 10×, max."""
        self.speed = self.speed.next()
        self.send(SetReplay(self.paused, self.speed))

    async def action_leave(self) -> None:
        """Back to patients and plans once nothing is recording here."""
        await self.app.run_action("home")

    async def stop_feed(self) -> None:
        """Stop the feed and wait (without blocking the loop) until it has committed."""
        if not self.ended:
            self.feed.submit(Stop())
        if self._feed_worker is not None:
            # The feed catches its own errors; a cancelled worker has already stopped.
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await self._feed_worker.wait()
