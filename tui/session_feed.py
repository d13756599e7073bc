"""The real live feed: a gun (serial port, built-in simulator or capture replay) recorded
through the driver, the recorder and the session logic, on a Textual thread worker.

Threads: the driver reads the port on its reader thread, the recorder commits on its own; both
only put what happened on this feed's queue. The feed's thread (the worker) folds that into a
:class:`~tui.live_model.LiveModel`, runs the UI's commands, and posts messages to the screen.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, assert_never, cast, get_args

from injector.domain.vocabulary import SessionStatus
from injector.driver import DriverEvent
from injector.driver.events import (
    DecoderStatistics,
    DeviceAnomaly,
    DeviceIdentified,
    DeviceRebooted,
    FaultChanged,
    LinkChanged,
    LockChanged,
    SettingsChanged,
    ShotReceived,
    ShotsLost,
    ShotsRecovered,
    Status,
    UnrecognisedData,
)
from injector.recorder import Commit, Recording
from injector.session import DeviceEventIn, DeviceEventKind, LiveSession, clinical
from injector.session.session_window import earlier_summary
from injector.storage.engine import Database
from protocols.igp1 import LockReason
from tui.clinic import Clinic
from tui.feed_messages import (
    COMMIT_INTERVAL_S,
    DRIVER_DELAY_S,
    VIEW_INTERVAL_S,
    AddNote,
    Alerted,
    Command,
    DecideEarlierShots,
    EndSession,
    FeedEnded,
    LogAdded,
    OverrideLimit,
    Poster,
    RecordAdverseEvent,
    ReplaySpeed,
    SeekReplay,
    SelectZone,
    SetLock,
    SetReplay,
    Stop,
    ViewChanged,
)
from tui.live_model import TALLY_QUIET_S, LiveModel, Notice, zone_views
from tui.state import LiveZone, LogLine, LogSeverity

_DRIVER_EVENTS: tuple[type[DriverEvent], ...] = get_args(DriverEvent)
"""Every driver event type, from the union itself: a new event cannot be forgotten here."""


@dataclass(frozen=True, slots=True)
class SerialGun:
    """A real gun on a serial port (a device path or a pyserial URL)."""

    port: str
    baud: int = 115200


@dataclass(frozen=True, slots=True)
class SimulatedGun:
    """The built-in simulator running a scenario (a built-in name or a file)."""

    scenario: str = "demo"
    speed: float | None = 1.0
    """Scenario time factor; None runs as fast as the link takes it."""
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class CaptureReplay:
    """A capture file played back through the simulator."""

    path: Path
    speed: ReplaySpeed = ReplaySpeed.X1
    start_ms: float = 0.0
    """Capture time to start showing from: what comes before is played fast, not skipped."""


GunSource = SerialGun | SimulatedGun | CaptureReplay

_UI_COMMANDS = (SelectZone, SetLock, AddNote, RecordAdverseEvent, SetReplay, DecideEarlierShots)
"""The practitioner's commands the feed carries out (a refused one is told, never fatal)."""

_COMMAND_NAMES: dict[type, str] = {
    SelectZone: "zone change",
    SetLock: "lock or unlock",
    OverrideLimit: "plan-limit override",
    AddNote: "note",
    RecordAdverseEvent: "adverse event",
    SetReplay: "replay pause, resume or speed",
    SeekReplay: "replay seek",
    DecideEarlierShots: "including or leaving out the earlier shots",
}
"""What the practitioner asked for, in their words, when it is refused."""
Speed = float | Literal["max"]


def _now() -> datetime:
    return datetime.now(UTC)


def _local(line: str, severity: LogSeverity = LogSeverity.INFO) -> LogLine:
    return LogLine(datetime.now().astimezone(), line, severity)


@dataclass(frozen=True, slots=True)
class _Opened:
    live: LiveSession


class SessionFeed:
    """Records one session from a gun and feeds the live screen.

    ``zones`` (from the plan) are shown before the gun connects; once it identifies itself the
    session logic's own list replaces them. ``session_id`` names a planned session to start (as
    prepared on the before-session screen); without it the gun's in-progress session is
    continued or a new one of ``plan_id`` is created.
    """

    def __init__(
        self,
        db: Database,
        gun: GunSource,
        *,
        title: str,
        actor: str,
        plan_id: int | None = None,
        session_id: int | None = None,
        zones: Sequence[LiveZone] = (),
        driver_options: dict[str, Any] | None = None,
        clinic: Clinic | None = None,
        follow_gun_settings: bool = False,
    ) -> None:
        self.db = db
        self.gun = gun
        self.actor = actor
        self.plan_id = plan_id
        self.session_id = session_id
        self.clinic = clinic
        self.follow_gun_settings = follow_gun_settings
        """Demo only: when the gun's depth setting changes, make the next unfinished zone of
        that depth (in plan order) active, as a practitioner moving on would."""
        self.model = LiveModel(title, zones)
        self.simulator: Any = None
        """The built-in simulator while it runs (tests drive faults through it)."""
        self.live: LiveSession | None = None
        self._driver_options = driver_options or {}
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._paused = False
        self._storage_error: str | None = None
        self._earlier_told = 0
        """How many shots fired before the session opened the practitioner was told of."""
        self._post: Poster | None = None
        self._recording: Recording | None = None
        self._stopped = False
        self._gun_dir: Path | None = None
        """The simulator's link folder, removed when the feed stops."""

    # --- UI side ---------------------------------------------------------------------------

    def submit(self, command: Command) -> None:
        """Queue a command from the UI; never blocks."""
        self._queue.put(command)

    # --- worker side -----------------------------------------------------------------------

    def run(self, post: Poster, cancelled: Callable[[], bool]) -> None:
        """Record until the session ends, the app stops, or the worker is cancelled."""
        self._post = post
        ended: FeedEnded | None = None
        start_error: str | None = None
        try:
            try:
                port = self._start_gun()
                options = dict(self._driver_options)
                if isinstance(self.gun, CaptureReplay) and self.simulator is not None:
                    # A replayed session carries the original's times, not the replay's.
                    options.setdefault("wall_clock", self.simulator.replay_wall_clock)
                recording = Recording(
                    self.db,
                    port,
                    actor=self.actor,
                    baud=self._baud(),
                    plan_id=self.plan_id,
                    session_id=self.session_id,
                    on_open=self._session_opened,
                    driver_options=options,
                )
                self._recording = recording
                recording.subscribe_events(self._queue.put)
                recording.subscribe_commits(self._queue.put)
                recording.start()
            except Exception as exc:  # PortError mostly; whatever it was, say it
                start_error = str(exc) or type(exc).__name__
                return
            self._log(_local(f"recording from {port}"))
            ended = self._loop(cancelled)
        finally:
            self._shutdown()
            if start_error is not None:
                # Only once everything is stopped: nothing can open the session behind us.
                ended = FeedEnded(
                    self.session_id,
                    error=self._abort_unstarted(f"the gun could not be opened: {start_error}"),
                    finished=False,
                )
                self._log(_local(ended.error, LogSeverity.ERROR))
            self._publish()
            if ended is not None:
                post.post_message(ended)

    def _abort_unstarted(self, problem: str) -> str:
        """End the prepared session as aborted when the gun never recorded into it.

        Without this the session would stay "in progress" with no shots and nothing recording
        it. ``problem`` says what went wrong; returns the line that tells the practitioner.
        """
        session_id = self.session_id
        recording = self._recording
        if session_id is None or self.live is not None or (recording and recording.sessions):
            return problem
        try:
            clinical.end_session(
                self.db, session_id, actor=self.actor, status=SessionStatus.ABORTED
            )
        except Exception as exc:  # the gun's problem matters more; say both
            return (
                f"{problem}. Session {session_id} could not be ended as aborted ({exc}): "
                "end it from the record."
            )
        return (
            f"{problem}. Nothing was recorded: session {session_id} was ended as aborted; "
            "prepare a new session to try again."
        )

    def _session_opened(self, live: LiveSession) -> None:
        # On the committer thread, once the zone chosen meanwhile is active (the recording
        # applies it from when it was chosen), before the first batch is stored.
        self._queue.put(_Opened(live))

    def _baud(self) -> int:
        return self.gun.baud if isinstance(self.gun, SerialGun) else 115200

    def _start_gun(self) -> str:
        if isinstance(self.gun, SerialGun):
            return self.gun.port
        from simulators.runner import Simulator  # only when a simulated gun is asked for

        # A stable link path lets the driver reopen the gun after an unplug (a new pty).
        self._gun_dir = Path(tempfile.mkdtemp(prefix="injector-gun-"))
        link = self._gun_dir / "gun"
        if isinstance(self.gun, SimulatedGun):
            speed: Speed = "max" if self.gun.speed is None else self.gun.speed
            # record=False: the simulator keeps no history, so memory stays flat however long
            # the gun fires; the recording is the database's job.
            sim = Simulator(
                self.gun.scenario, speed=speed, seed=self.gun.seed, link=link, record=False
            )
        else:
            speed = "max" if self.gun.speed is ReplaySpeed.MAX else self.gun.speed.value
            sim = Simulator(replay=self.gun.path, speed=speed, link=link, record=False)
            self.model.set_replay(f"replay {self.gun.path.name} · {self.gun.speed.label}")
        self.simulator = sim
        path = sim.start()
        if isinstance(self.gun, CaptureReplay) and self.gun.start_ms > 0:
            sim.fast_forward_to(self.gun.start_ms)
        return path

    def _loop(self, cancelled: Callable[[], bool]) -> FeedEnded | None:
        # When the view is next published. What was committed goes out at once (at most every
        # COMMIT_INTERVAL_S); what the driver alone said (a depth, the battery) waits a little
        # for the commit that usually follows, so one redraw shows both.
        last_post = 0.0
        due: float | None = None
        while not cancelled():
            now = time.monotonic()
            wait = 0.1 if due is None else max(0.0, due - now)
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                item = None
            if item is not None:
                outcome = self._handle(item)
                if outcome is not None:
                    return outcome
                if self.model.changed:
                    now = time.monotonic()
                    if isinstance(item, _DRIVER_EVENTS):
                        wanted = max(now + DRIVER_DELAY_S, last_post + VIEW_INTERVAL_S)
                    else:
                        wanted = max(now, last_post + COMMIT_INTERVAL_S)
                    due = wanted if due is None else min(due, wanted)
            if due is not None and time.monotonic() >= due:
                self._publish()
                last_post = time.monotonic()
                due = None
            self._log(self.model.take_tally(TALLY_QUIET_S))
            self._check_replay_done()
            self._check_storage()
            if due is None and self.model.changed:
                # A change no event brought (the replay finished, storage came back) must be
                # shown too, even if nothing else arrives after it.
                due = max(time.monotonic(), last_post + VIEW_INTERVAL_S)
        return None

    def _check_storage(self) -> None:
        # The recorder keeps everything and retries while the database refuses a commit; the
        # practitioner must know that what the screen shows is not yet stored.
        recording = self._recording
        error = recording.recorder.status.error if recording is not None else None
        if error == self._storage_error:
            return
        self._storage_error = error
        if error is not None:
            text = f"NOT STORED YET, retrying: {error}"
            self._log(Notice(_local(text, LogSeverity.ERROR)))
        else:
            self._log(_local("storage works again: everything waiting was stored"))

    def _publish(self) -> None:
        if self._post is not None:
            self._post.post_message(ViewChanged(self.model.view()))

    def _log(self, line: LogLine | Notice | None) -> None:
        if line is None or self._post is None:
            return
        if isinstance(line, Notice):
            self._post.post_message(LogAdded(line.line))
            self._post.post_message(Alerted(line.line.text, line.line.severity))
        else:
            self._post.post_message(LogAdded(line))

    def _handle(self, item: object) -> FeedEnded | None:
        # The queue carries what the driver, the recorder, the session logic and the screen
        # put on it; each kind is matched, and a new kind is a type error until handled.
        feed_item = _as_feed_item(item)
        match feed_item:
            case Commit():
                for alert in feed_item.alerts:
                    self._log(self.model.apply_alert(alert))
                if self.live is not None:
                    self.model.apply_progress(self.live.progress())
                    self._tell_earlier(self.live)
            case _Opened():
                self._opened(feed_item.live)
            case Stop():
                return FeedEnded(self.session_id, finished=False)
            case EndSession():
                return self._end()
            case (
                SelectZone()
                | SetLock()
                | OverrideLimit()
                | AddNote()
                | RecordAdverseEvent()
                | SetReplay()
                | SeekReplay()
                | DecideEarlierShots()
            ):
                try:
                    self._command(feed_item)
                except Exception as exc:  # a refused command is told, never fatal
                    what = _COMMAND_NAMES.get(type(feed_item), "command")
                    self._log(Notice(_local(f"{what} refused: {exc}", LogSeverity.ERROR)))
            case (
                LinkChanged()
                | DeviceIdentified()
                | SettingsChanged()
                | ShotReceived()
                | FaultChanged()
                | Status()
                | DeviceRebooted()
                | ShotsRecovered()
                | ShotsLost()
                | LockChanged()
                | DecoderStatistics()
                | UnrecognisedData()
                | DeviceAnomaly()
            ):
                self._driver_event(feed_item)
            case _:
                assert_never(feed_item)
        return None

    def _driver_event(self, event: DriverEvent) -> None:
        line = self.model.apply(event)
        if line is not None and not isinstance(event, ShotsRecovered | ShotsLost):
            # Recovered or lost shots summed so far come first: the log keeps the order.
            self._log(self.model.take_tally())
        self._log(line)
        if isinstance(event, SettingsChanged) and self.follow_gun_settings:
            self._follow(event.depth_set_um, datetime.fromtimestamp(event.at, UTC))

    def _opened(self, live: LiveSession) -> None:
        self.live = live
        self.session_id = live.session_id
        progress = live.progress()
        self.model.set_zones(zone_views(live.zones), progress.total.max_volume_nl)
        self.model.apply_progress(progress)
        self.model.set_active_zone(live.active_zone_id)
        self._log(_local(f"recording session {live.session_id}"))
        active = self.model.current.active_zone
        if active is not None:
            self._log(_local(f"zone {active.key} {active.name} active"))

    def _tell_earlier(self, live: LiveSession) -> None:
        # Shots fired before the session opened are never counted silently: the practitioner
        # is told how many, how much and from when, each time the number grows.
        earlier = live.earlier_shots()
        if earlier.count == self._earlier_told:
            return
        self._earlier_told = earlier.count
        if earlier:
            text = (
                f"{earlier_summary(earlier)}: left out of this session (kept as shots of gun "
                f"{live.serial} with no session); press b to include them or leave them out"
            )
            self._log(Notice(_local(text, LogSeverity.WARNING)))

    def _follow(self, depth_um: int, at: datetime) -> None:
        view = self.model.current
        active = view.active_zone
        # The demo goes through the plan in order: the next unfinished zone of that depth at or
        # after the furthest zone already worked on.
        furthest = max((z.key for z in view.zones if z.points_done), default=0)
        matching = [
            z for z in view.zones if z.depth_um == depth_um and z.points_done < z.points_planned
        ]
        zone = next((z for z in matching if z.key >= furthest), None)
        if zone is not None and (active is None or zone.zone_id != active.zone_id):
            self._select_zone(zone.zone_id, at)

    def _select_zone(self, zone_id: int, at: datetime) -> None:
        zone = next((z for z in self.model.current.zones if z.zone_id == zone_id), None)
        if zone is None:
            return
        self.model.set_active_zone(zone.zone_id)
        recording = self._recording
        if recording is None or not recording.choose_zone(zone.zone_id, at=at):
            return  # applied when the gun opens its session, from ``at`` on
        self._log(_local(f"zone {zone.key} {zone.name} active"))

    def _command(
        self,
        command: SelectZone
        | SetLock
        | OverrideLimit
        | AddNote
        | RecordAdverseEvent
        | SetReplay
        | SeekReplay
        | DecideEarlierShots,
    ) -> None:
        live = self.live
        match command:
            case SelectZone():
                zone = next((z for z in self.model.current.zones if z.key == command.key), None)
                if zone is not None:
                    self._select_zone(zone.zone_id, _now())
            case SetLock():
                self._set_lock(command.locked)
            case OverrideLimit():
                self._override(command)
            case AddNote():
                if live is None:
                    raise RuntimeError("no session yet: the gun has not identified itself")
                note = {"text": command.text}
                live.add_events(
                    [DeviceEventIn(DeviceEventKind.NOTE, _now(), live.serial, None, note)]
                )
                self._log(_local(f"note: {command.text}"))
            case RecordAdverseEvent():
                self._record_adverse(command)
            case SetReplay():
                self._set_replay(command)
            case SeekReplay():
                if self.simulator is None:
                    raise RuntimeError("no replay is playing")
                self.simulator.fast_forward_to(command.to_ms)
            case DecideEarlierShots():
                self._decide_earlier(command)
            case _:
                assert_never(command)

    def _decide_earlier(self, command: DecideEarlierShots) -> None:
        live = self.live
        if live is None:
            raise RuntimeError("no session yet: the gun has not identified itself")
        earlier = live.earlier_shots()
        if not earlier:
            self._log(_local("no shot fired before the session opened is left out"))
            return
        if not command.include:
            live.leave_out_earlier(by=self.actor, reason=command.reason)
            self._log(_local(f"{earlier_summary(earlier)}: left out ({command.reason})"))
            return
        zone = next((z for z in self.model.current.zones if z.key == command.zone_key), None)
        moved = live.include_earlier(
            zone.zone_id if zone else None, by=self.actor, reason=command.reason
        )
        self.model.apply_progress(live.progress())
        self._earlier_told = 0
        where = f"zone {zone.key} {zone.name}" if zone else "no zone"
        self._log(
            Notice(
                _local(
                    f"{moved} shots fired before the session opened included, to {where} "
                    f"({command.reason})",
                    LogSeverity.WARNING,
                )
            )
        )

    def _set_lock(self, locked: bool) -> None:
        recording = self._recording
        if recording is None:
            return
        live = self.live
        if not locked and live is not None and live.lock_pending():
            # The manual key never goes past a plan limit: that is an override, with its own
            # key, the practitioner's PIN and a reason.
            raise RuntimeError(
                "the gun is locked by a plan limit; press o to override it (name, PIN, reason)"
            )
        # Never waits: the gun's answer comes back as a LockChanged event.
        recording.request_lock(LockReason.MANUAL, locked=locked)

    def _override(self, command: OverrideLimit) -> None:
        live = self.live
        recording = self._recording
        if live is None or recording is None:
            raise RuntimeError("no session yet: the gun has not identified itself")
        if not live.lock_pending():
            raise RuntimeError("no plan limit locks the gun: nothing to override")
        lock = live.override_lock(by=command.by, pin=command.pin, reason=command.reason)
        self.model.show_plan_lock(lock)
        self._log(
            Notice(_local(f"plan limit {lock.banner}: {command.reason}", LogSeverity.WARNING))
        )
        # Never waits: the gun's answer comes back as a LockChanged event.
        recording.request_lock(LockReason.PLAN_LIMIT, locked=False)

    def _record_adverse(self, command: RecordAdverseEvent) -> None:
        live = self.live
        if live is None:
            raise RuntimeError("no session yet: the gun has not identified itself")
        if self.clinic is None:
            raise RuntimeError("adverse events cannot be recorded here (no clinic records)")
        self.clinic.record_adverse_event(
            live.session_id, command.kind, command.severity, command.notes
        )
        self._log(
            Notice(
                _local(f"adverse event: {command.kind} ({command.severity})", LogSeverity.WARNING)
            )
        )

    def _set_replay(self, command: SetReplay) -> None:
        sim = self.simulator
        if sim is None:
            return
        speed: Speed = "max" if command.speed is ReplaySpeed.MAX else command.speed.value
        # Each call waits for the simulator's thread (one turn of its loop), never for the replay.
        sim.set_speed(speed)
        if self._recording is not None:
            # A paused replay is silent on purpose: not a lost link to alarm about.
            self._recording.driver.expect_silence(command.paused)
        if command.paused:
            sim.pause()
        else:
            sim.resume()
        self._paused = command.paused
        state = "paused" if command.paused else "playing"
        name = self.gun.path.name if isinstance(self.gun, CaptureReplay) else "replay"
        self.model.set_replay(f"replay {name} · {command.speed.label} · {state}")

    def _check_replay_done(self) -> None:
        sim = self.simulator
        if (
            isinstance(self.gun, CaptureReplay)
            and sim is not None
            and sim.done
            and "finished" not in self.model.current.replay
        ):
            self.model.set_replay(f"replay {self.gun.path.name} · finished")
            self._log(_local("replay finished"))
            if self._recording is not None:
                # The capture has no more bytes: silence now is the end, not a lost link.
                self._recording.driver.expect_silence(True)

    def _end(self) -> FeedEnded:
        recording = self._recording
        if recording is not None:
            # The gun fires nothing more once the session is over.
            recording.lock(LockReason.SESSION_ENDED)
        self._shutdown()
        if recording is None or not recording.sessions:
            return FeedEnded(
                self.session_id, error=self._abort_unstarted("the gun never connected")
            )
        live = self.live or recording.sessions[0]
        for ended in recording.end():
            if ended.error is not None:
                raise ended.error
            if ended.ending is not None and ended.ending.why:
                text = f"session {ended.session_id} ended aborted: {ended.ending.why}"
                self._log(Notice(_local(text, LogSeverity.WARNING)))
        self.model.apply_progress(live.progress())
        return FeedEnded(live.session_id, finished=True)

    def _shutdown(self) -> None:
        recording = self._recording
        if recording is not None and not self._stopped:
            self._stopped = True
            if not recording.stop():
                self._log(
                    Notice(
                        _local("some events could not be stored; see the log", LogSeverity.ERROR)
                    )
                )
            # The last commits arrived after the loop stopped reading the queue.
            with contextlib.suppress(queue.Empty):
                while True:
                    item = self._queue.get_nowait()
                    if isinstance(item, _DRIVER_EVENTS):
                        self.model.apply(item)
            if self.live is not None:
                self.model.apply_progress(self.live.progress())
        self._log(self.model.take_tally())
        sim, self.simulator = self.simulator, None
        if sim is not None:
            sim.stop()
        gun_dir, self._gun_dir = self._gun_dir, None
        if gun_dir is not None:
            shutil.rmtree(gun_dir, ignore_errors=True)


_FeedItem = DriverEvent | Commit | _Opened | Command
"""What the feed's queue carries."""
_FEED_ITEMS: tuple[type, ...] = (*_DRIVER_EVENTS, Commit, _Opened, *get_args(Command))


def _as_feed_item(item: object) -> _FeedItem:
    """The queue's item as the union it is (the queue is shared with untyped subscribers)."""
    if not isinstance(item, _FEED_ITEMS):
        raise TypeError(f"the live feed cannot handle {type(item).__name__}")
    return cast(_FeedItem, item)


def driver_event_types() -> tuple[type[DriverEvent], ...]:
    """The driver events the feed folds into the view (for tests that record messages)."""
    return _DRIVER_EVENTS
