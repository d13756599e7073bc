"""The live session: what the practitioner glances at during the procedure.

Big numbers, single keys, nothing modal for alerts: link loss and plan limits turn the banner
and borders red and raise a notification while the screen keeps updating.
"""

from __future__ import annotations

import contextlib
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Label
from textual.worker import Worker, WorkerCancelled, WorkerFailed, get_current_worker

from tui.app_requests import GoHome, LeaveReplay, SessionFinished, StartReplay
from tui.feed_messages import (
    AddNote,
    Alerted,
    Command,
    DecideEarlierShots,
    EndSession,
    FeedEnded,
    LiveFeed,
    LogAdded,
    OverrideLimit,
    RecordAdverseEvent,
    ReplaySpeed,
    SeekReplay,
    SelectZone,
    SetLock,
    SetReplay,
    Stop,
    ViewChanged,
)
from tui.replay_index import ReplayContext, clock
from tui.screens.earlier_shots import EarlierShotsScreen
from tui.screens.entry import AdverseEntry, AdverseEventScreen, NoteScreen
from tui.screens.identity import OverrideEntry, OverrideScreen
from tui.state import LinkStatus, LiveView, ml
from tui.two_press import TwoPress
from tui.widgets import (
    ActiveZone,
    AlertBanner,
    DepthGauge,
    DepthSparkline,
    EventLog,
    GunPanel,
    ShotCounter,
    ZoneProgress,
)
from tui.widgets.active_zone import zone_keys
from tui.widgets.in_place import set_line

_ZONES = Binding.Group("zone", compact=True)
SEEK_STEP_MS = 10_000.0
"""How far f and b move a replay, in capture time."""
QUIT_NOTICE = (
    "Press q again (or ctrl+q) to quit. Everything recorded is kept; the session is NOT ended: "
    "it stays in progress (open) until it is ended."
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
        Binding("o", "override", "override limit"),
        Binding("space", "pause", "pause/resume"),
        Binding("s", "speed", "speed"),
        Binding("b", "seek_back", "back 10 s"),
        Binding("f", "seek_forward", "on 10 s"),
        Binding("j", "jump", "next fault/restart"),
        Binding("escape", "leave", "back"),
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
        context: ReplayContext | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        """A replay's capture: position, marks, damage and where it records."""
        self.feed = feed
        self.view = view
        self.replay = replay
        self.ended = False
        self.paused = False
        self.speed = speed
        """The replay's speed as started; the keys change it from there."""
        self.session_id: int | None = None
        self._feed_worker: Worker[None] | None = None
        self._end_press = TwoPress()
        self._quit_press = TwoPress()

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
                    yield ActiveZone(id="active-zone")
                    yield ShotCounter(id="shots")
                    yield DepthGauge(id="depth")
                yield ZoneProgress(id="zones")
                yield DepthSparkline(id="sparkline")
            with Vertical(id="live-right"):
                yield Label("", id="replay-status")
                yield Label("", id="replay-position", classes="replay-line")
                yield Label("", id="replay-where", classes="replay-line")
                yield Label("", id="replay-warning", classes="replay-line error")
                yield GunPanel(id="gun")
                yield EventLog(id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "replay" if self.replay else "live session"
        self.query_one("#replay-status", Label).display = self.replay
        context = self.context
        for line in self.query(".replay-line"):
            line.display = context is not None
        if context is not None:
            self.query_one("#replay-where", Label).update(
                f"records into {context.records_into} (a scratch session, not a patient's)"
            )
            warning = self.query_one("#replay-warning", Label)
            warning.update(f"DAMAGED: {context.index.warning}" if context.index.warning else "")
            warning.display = context.index.warning is not None
            self.set_interval(0.25, self._show_position)
            self._show_position()
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
        self._render_view(self.view)  # nothing is asked of an ended session
        if message.error:
            self.notify(f"Recording stopped: {message.error}", severity="error", timeout=30)
            return
        if self.replay:
            self.notify("Replay finished.", timeout=10)
            return
        if message.finished and message.session_id is not None:
            self.post_message(SessionFinished(message.session_id))

    def _render_view(self, view: LiveView) -> None:
        # Each widget compares what it is given with what it shows and redraws only on a
        # change, in place: at hundreds of shots a second the screen is never laid out again
        # for a new number (benchmarks/bench_tui.py counts the layouts).
        self.title = view.title or "injector"
        zone = view.active_zone
        keys = zone_keys(view.zones)
        self.query_one(ActiveZone).show(zone, keys, recording=not (self.replay or self.ended))
        self.query_one(ShotCounter).show(view.shot_count, f"{ml(view.session_volume_nl)} mL")
        self.query_one(DepthGauge).show(view.last_depth_um, zone)
        self.query_one(ZoneProgress).show(view)
        self.query_one(DepthSparkline).show(view.recent_depths_um)
        self.query_one(GunPanel).show(view.gun)
        link_text = ""
        if view.gun.link in (LinkStatus.LOST, LinkStatus.RECONNECTING):
            link_text = "LINK LOST: shots are held by the gun and recovered on reconnect"
        limit_text = view.limit_alert.upper() if view.limit_alert else ""
        self.query_one(AlertBanner).show(link_text, limit_text, self._ask_text(view, keys))
        self.set_class(bool(link_text), "-link-lost")
        self.set_class(bool(limit_text), "-limit")
        if view.replay:
            set_line(self.query_one("#replay-status", Label), view.replay)

    def _ask_text(self, view: LiveView, keys: str) -> str:
        """What the practitioner is asked to do now: choose a zone before shots go nowhere."""
        if self.replay or self.ended or not view.zones or view.active_zone is not None:
            return ""
        if view.unattributed_shots:
            shots = "shot" if view.unattributed_shots == 1 else "shots"
            return (
                f"{view.unattributed_shots} {shots} with no zone: press {keys} to choose the zone"
            )
        return f"CHOOSE THE ZONE before the first shot: press {keys}"

    # --- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Replay keys only in a replay; session keys only while recording."""
        if action in ("pause", "speed"):
            return self.replay
        if action in ("seek_back", "seek_forward", "jump"):
            return self.context is not None and not self.ended
        if action == "leave":
            # Leaving never stops a recording by accident: only once it has ended (or failed).
            # A replay records nothing clinical: it can be left at any time.
            return self.replay or self.ended
        if action == "quit_twice":
            # A replay records nothing clinical, and an ended session has nothing to lose:
            # there q quits at once (the app's own binding).
            return not (self.replay or self.ended)
        if (
            action in ("note", "adverse", "end", "toggle_lock", "override", "zone", "earlier")
            and self.replay
        ):
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

    def action_override(self) -> None:
        """Go past the plan limit that locked the gun: who, PIN, reason, confirmed."""

        def save(entry: OverrideEntry | None) -> None:
            if entry is not None:
                self.send(OverrideLimit(entry.by, entry.pin, entry.reason))

        self.app.push_screen(OverrideScreen(self.view.limit_alert), save)

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

        A stray key must not end a procedure: the first press asks, a second one soon after
        ends (:class:`~tui.two_press.TwoPress`).
        """
        if not self._end_press.confirmed():
            self.notify(
                "Press e again to end the session.",
                severity="warning",
                timeout=self._end_press.window_s,
            )
            return
        self.send(EndSession())

    async def action_quit_twice(self) -> None:
        """Quit while recording: the first press says what happens, a second one quits.

        With gloved hands a single stray ``q`` must not stop the recording of a procedure.
        ``ctrl+q`` asks the same way (the app sends it here while a session records).
        """
        if not self._quit_press.confirmed():
            self.notify(QUIT_NOTICE, severity="warning", timeout=self._quit_press.window_s)
            return
        await self.app.action_quit()

    def action_pause(self) -> None:
        """Pause or resume a replay."""
        self.paused = not self.paused
        self.send(SetReplay(self.paused, self.speed))

    def action_speed(self) -> None:
        """Cycle the replay speed: 1×, 10×, max."""
        self.speed = self.speed.next()
        self.send(SetReplay(self.paused, self.speed))

    def _position_ms(self) -> float:
        context = self.context
        position = context.position_ms() if context is not None else None
        return position or 0.0

    def _show_position(self) -> None:
        """Where the replay is: capture time, shots recorded of the capture's, what is next."""
        context = self.context
        if context is None:
            return
        index = context.index
        position = min(self._position_ms(), index.duration_ms)
        text = (
            f"{clock(position)} of {clock(index.duration_ms)} · "
            f"{self.view.shot_count:,} of {index.shots:,} shots"
        )
        mark = index.next_mark(position)
        if mark is not None:
            text += f" · next: {mark.text} at {clock(mark.at_ms)}"
        set_line(self.query_one("#replay-position", Label), text)

    def action_seek_forward(self) -> None:
        """Move a replay on by a step (played fast: nothing is skipped)."""
        self.send(SeekReplay(self._position_ms() + SEEK_STEP_MS))

    def action_seek_back(self) -> None:
        """Go back a step: the capture plays again from the start into a new scratch session,
        fast up to there."""
        context = self.context
        if context is None:
            return
        target = max(0.0, self._position_ms() - SEEK_STEP_MS)
        self.post_message(StartReplay(context.path, self.speed, target, again=True))

    def action_jump(self) -> None:
        """Go on to the next fault or restart of the gun in the capture."""
        context = self.context
        if context is None:
            return
        mark = context.index.next_mark(self._position_ms())
        if mark is None:
            self.notify("No fault or restart after this point of the capture.", timeout=5)
            return
        self.notify(f"On to {mark.text} at {clock(mark.at_ms)}", timeout=4)
        self.send(SeekReplay(mark.at_ms))

    def action_leave(self) -> None:
        """A replay goes back to where it was started from (stopped, everything committed);
        an ended session back to patients and plans."""
        self.post_message(LeaveReplay() if self.replay else GoHome())

    async def stop_feed(self) -> None:
        """Stop the feed and wait (without blocking the loop) until it has committed."""
        if not self.ended:
            self.feed.submit(Stop())
        if self._feed_worker is not None:
            # The feed catches its own errors; a cancelled worker has already stopped.
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await self._feed_worker.wait()
