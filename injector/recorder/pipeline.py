"""The recording pipeline: driver events → session logic → storage, on its own thread.

The driver's listener only puts events on a queue (it runs on the reader thread and must be
cheap). The committer thread takes whatever has accumulated since its last commit and stores
it in one batch: at 10 shots per second every shot is committed alone, at once; under load the
batches grow instead of the queue. So a shot waits at most for the commit in progress plus its
own, and a shot counts as recorded once its batch is committed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, assert_never

from injector.domain.shots import DeviceEventIn, ShotIn
from injector.domain.vocabulary import DeviceEventKind
from injector.driver import (
    DecoderStatistics,
    DeviceAnomaly,
    DeviceIdentified,
    DeviceRebooted,
    Driver,
    DriverEvent,
    FaultChanged,
    LinkChanged,
    LinkState,
    LockChanged,
    SettingsChanged,
    ShotReceived,
    ShotsLost,
    ShotsRecovered,
    Status,
    StoredShots,
    UnrecognisedData,
)
from injector.session.progress import PlanAlert
from injector.storage.engine import database_error_reason
from protocols.igp1 import LockReason, ShotFlags
from protocols.igp1.device_limits import SHOT_HISTORY

log = logging.getLogger(__name__)


class BatchOutcome(Protocol):
    """What the session logic says about a stored batch of shots."""

    @property
    def new(self) -> int:
        """Shots that were not stored before."""

    @property
    def lock_requested(self) -> bool:
        """A plan limit asks for the gun to be locked (reason PLAN_LIMIT)."""

    @property
    def alerts(self) -> tuple[PlanAlert, ...]:
        """The plan limits this batch reached first."""

    @property
    def left_out(self) -> int:
        """Shots fired before the session opened: stored with no session, not counted."""


class RecordingSession(Protocol):
    """The session logic the recorder writes through, one transaction per call."""

    def add_shots(self, shots: Sequence[ShotIn]) -> BatchOutcome:
        """Store shots idempotently on (serial, boot_id, shot_no)."""

    def add_events(self, events: Sequence[DeviceEventIn]) -> None:
        """Store device events (faults, reboots, recovered and lost counts, locks)."""


class SessionStore(Protocol):
    """Where sessions live: opens or continues the session of a gun, answers what is stored."""

    def open_session(self, device: DeviceIdentified) -> RecordingSession:
        """The in-progress session of this gun, continued if one exists."""

    def known_shots(self, serial: str, boot_id: int) -> StoredShots | None:
        """What is already stored of one boot (called on the driver's reader thread)."""


@dataclass(frozen=True, slots=True)
class Commit:
    """One committed batch, as observers see it."""

    shots: tuple[ShotReceived, ...]
    """Shots of the batch (new ones; duplicates the database already held are included)."""
    new: int
    events: int
    committed_ns: int
    """``time.monotonic_ns()`` right after the shots' transaction committed."""
    alerts: tuple[PlanAlert, ...] = ()
    """Plan limits the batch's shots reached first (a zone's or the session's maximum)."""
    left_out: int = 0
    """Shots of the batch fired before their session opened: kept with no session."""


@dataclass(slots=True)
class RecorderStatus:
    """Running figures for a status line; updated by the committer thread."""

    link: LinkState = LinkState.CONNECTING
    device: DeviceIdentified | None = None
    shots: int = 0
    """Shots committed by this recorder (new rows)."""
    last_depth_um: int | None = None
    last_volume_nl: int | None = None
    lost: int = 0
    recovered: int = 0
    commits: int = 0
    pending: int = 0
    """Events waiting for the committer."""
    error: str | None = None
    """The last storage error, while commits are failing and being retried."""
    unstored_shots: int = 0
    """Shots read from the gun but not yet stored while commits are failing (0 once stored)."""
    lock_reason: str | None = None
    """Why the gun's trigger is locked (``"PLAN_LIMIT"``, ``"MANUAL"``, …) once it has
    acknowledged a LOCK; None while it is unlocked."""


_STOP = object()
CommitListener = Callable[[Commit], None]


class Recorder:
    """Records what ``driver`` publishes into the sessions ``store`` opens.

    The recorder starts and stops the driver. ``max_batch`` caps one commit (a backlog after a
    storage outage is committed in pieces); ``retry`` is the pause between attempts when a
    commit fails, during which nothing is dropped.

    ``max_backlog`` bounds the events waiting for the committer, so memory stays flat when
    bytes arrive faster than storage can take them (a capture replayed at full speed). Past
    it, the driver's listener waits for the next commit: the reader thread pauses and the
    bytes wait in the port, where nothing is lost that RESEND_REQ cannot fetch again. A real
    gun (at most ~3,500 shots/s at 921600 baud) never gets near it unless storage stalls for
    minutes.

    ``max_uncommitted_shots`` bounds the shots read but not yet committed to what the gun can
    resend (its 1,024-shot history): past it the listener waits the same way. A recorder killed
    then loses no shot the next run cannot ask the gun for again.
    """

    def __init__(
        self,
        driver: Driver,
        store: SessionStore,
        *,
        max_batch: int = 20_000,
        max_backlog: int = 100_000,
        max_uncommitted_shots: int = SHOT_HISTORY,
        retry: float = 1.0,
    ) -> None:
        self.driver = driver
        self.store = store
        self.status = RecorderStatus()
        self._max_batch = max_batch
        self._max_backlog = max_backlog
        self._max_uncommitted = max_uncommitted_shots
        self._uncommitted = 0
        self._room = threading.Condition()
        self._committed = threading.Event()
        self._retry = retry
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._listeners: list[CommitListener] = []
        self._sessions: dict[str, RecordingSession] = {}
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stopping = threading.Event()
        self._locking = threading.Event()
        # Set once the gun acknowledged a plan-limit LOCK; shots fired before it took effect
        # still arrive over the limit, and must not send (and record) another LOCK.
        self._plan_locked = threading.Event()
        self._stored_lock: dict[tuple[str, int], bool] = {}
        self._was_live = False
        driver.known_shots = store.known_shots

    def subscribe(self, listener: CommitListener) -> Callable[[], None]:
        """Call ``listener`` on the committer thread after every commit; returns an unsubscribe.

        The listener must be quick (post a message, put on a queue).
        """
        self._listeners = [*self._listeners, listener]

        def unsubscribe() -> None:
            self._listeners = [x for x in self._listeners if x is not listener]

        return unsubscribe

    def start(self) -> None:
        """Start the committer thread, then the driver (which may raise ``PortError``)."""
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()
        self._unsubscribe = self.driver.subscribe(self._enqueue)
        try:
            self.driver.start()
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the driver, commit everything it published, stop the thread.

        Returns True if everything was committed, False if storage was still failing when
        ``timeout`` ran out (what could not be stored is then named in the log).
        """
        self._stopping.set()  # a listener waiting for room lets the reader stop
        with self._room:
            self._room.notify_all()
        self.driver.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._queue.put(_STOP)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return False
        return self.status.error is None

    @property
    def uncommitted_shots(self) -> int:
        """Shots read from the gun and not yet committed (at most ``max_uncommitted_shots``)."""
        return self._uncommitted

    def _enqueue(self, event: DriverEvent) -> None:
        """The driver's listener (on its reader thread): queue, and wait if far behind."""
        put = self._queue
        if isinstance(event, ShotReceived):
            with self._room:
                while self._uncommitted >= self._max_uncommitted and not self._stopping.is_set():
                    self._room.wait(0.1)
                self._uncommitted += 1
        put.put(event)
        if put.qsize() > self._max_backlog:
            self._committed.clear()
            while put.qsize() > self._max_backlog and not self._stopping.is_set():
                self._committed.wait(0.1)

    # --- committer thread -------------------------------------------------------------------

    def _run(self) -> None:
        backlog: list[DriverEvent] = []
        stop = False
        while True:
            # Everything that arrived while the last commit ran goes into this one.
            wait = not backlog and not stop
            while not stop and len(backlog) < self._max_batch:
                try:
                    item = self._queue.get() if wait else self._queue.get_nowait()
                except queue.Empty:
                    break
                wait = False
                if item is _STOP:
                    stop = True  # the driver is stopped: nothing comes after this
                else:
                    backlog.append(item)  # type: ignore[arg-type]
            self.status.pending = len(backlog)
            try:
                self._commit(backlog)
            except Exception as exc:  # storage down: keep everything, try again
                # One line without the SQL and its values (they may be patient data).
                self.status.error = database_error_reason(exc)
                self.status.unstored_shots = sum(isinstance(e, ShotReceived) for e in backlog)
                log.warning("commit failed, retrying in %.1f s: %s", self._retry, self.status.error)
                time.sleep(self._retry)
                continue
            self.status.error = None
            self.status.unstored_shots = 0
            committed = sum(isinstance(e, ShotReceived) for e in backlog)
            if committed:
                with self._room:
                    self._uncommitted -= committed
                    self._room.notify_all()
            backlog.clear()
            self._committed.set()
            self.status.pending = 0
            if stop:
                return

    def _commit(self, batch: Sequence[DriverEvent]) -> None:
        status = self.status
        shots: dict[str, list[ShotReceived]] = {}
        events: dict[str, list[DeviceEventIn]] = {}
        recovered: dict[tuple[str, int], int] = {}
        recovered_at: dict[tuple[str, int], float] = {}
        for event in batch:
            match event:
                case ShotReceived():
                    shots.setdefault(event.serial, []).append(event)
                case DeviceIdentified():
                    status.device = event
                    if event.serial not in self._sessions:
                        self._sessions[event.serial] = self.store.open_session(event)
                case ShotsRecovered():
                    key = (event.serial, event.boot_id)
                    recovered[key] = recovered.get(key, 0) + event.count
                    recovered_at[key] = event.at  # the driver's clock: a replay's is the original's
                case LinkChanged():
                    status.link = event.state
                    if status.device is not None:
                        self._link_event(event, status.device, events)
                case LockChanged():
                    self._lock_event(event, events)
                case DeviceRebooted():
                    # A restarted gun is unlocked until the driver locks it again.
                    status.lock_reason = None
                    self._plan_locked.clear()
                    _add(events, _device_event(event))
                case FaultChanged() | ShotsLost() | SettingsChanged() | DeviceAnomaly():
                    _add(events, _device_event(event))
                case Status() | DecoderStatistics() | UnrecognisedData():
                    pass  # shown live by a UI; nothing of the record
                case _:
                    assert_never(event)
        for (serial, boot_id), count in recovered.items():
            events.setdefault(serial, []).append(
                DeviceEventIn(
                    DeviceEventKind.SHOTS_RECOVERED,
                    _utc(recovered_at[serial, boot_id]),
                    serial,
                    boot_id,
                    {"count": count},
                )
            )
        new = left_out = 0
        all_shots: list[ShotReceived] = []
        lock = False
        alerts: list[PlanAlert] = []
        for serial, serial_shots in shots.items():
            session = self._sessions[serial]
            outcome = session.add_shots([_shot_in(s) for s in serial_shots])
            new += outcome.new
            left_out += outcome.left_out
            alerts.extend(outcome.alerts)
            # Counted at once: if the events below fail, the retry finds these stored already.
            status.shots += outcome.new
            lock = lock or outcome.lock_requested
            all_shots.extend(serial_shots)
        committed_ns = time.monotonic_ns()  # the shots are durable from here on
        n_events = 0
        for serial, serial_events in events.items():
            if serial not in self._sessions:
                continue
            self._sessions[serial].add_events(serial_events)
            n_events += len(serial_events)
            for e in serial_events:
                count = int(e.detail.get("count", 0))
                if e.kind is DeviceEventKind.SHOTS_LOST:
                    status.lost += count
                elif e.kind is DeviceEventKind.SHOTS_RECOVERED:
                    status.recovered += count
        if all_shots:
            last = all_shots[-1]
            status.last_depth_um = last.depth_um
            status.last_volume_nl = last.volume_nl
        status.commits += 1
        if lock and not self._locking.is_set() and not self._plan_locked.is_set():
            # Shots still arrive past a plan limit: lock the gun (again, if a LOCK went
            # unanswered). One LOCK in flight at a time; the gun's answer comes back as a
            # LockChanged event through this same queue.
            self._locking.set()
            self.driver.request_lock(LockReason.PLAN_LIMIT)
        if all_shots or n_events:
            commit = Commit(tuple(all_shots), new, n_events, committed_ns, tuple(alerts), left_out)
            for listener in self._listeners:
                try:
                    listener(commit)
                except Exception:
                    log.exception("commit listener failed")

    def _lock_event(self, event: LockChanged, out: dict[str, list[DeviceEventIn]]) -> None:
        status = self.status
        if event.reason == LockReason.PLAN_LIMIT and event.locked:
            self._locking.clear()  # the plan-limit LOCK in flight was answered (or not)
            if event.acknowledged:
                self._plan_locked.set()
        if not event.acknowledged:
            return
        status.lock_reason = LockReason(event.reason).name if event.locked else None
        if not event.locked:
            self._plan_locked.clear()
        device = status.device
        if device is None:
            return
        key = (device.serial, device.boot_id)
        if self._stored_lock.get(key) == event.locked:
            return  # the gun already was in this state: nothing changed
        self._stored_lock[key] = event.locked
        kind = DeviceEventKind.LOCKED if event.locked else DeviceEventKind.UNLOCKED
        out.setdefault(device.serial, []).append(
            DeviceEventIn(
                kind,
                _utc(event.at),
                device.serial,
                device.boot_id,
                {"reason": LockReason(event.reason).name},
            )
        )

    def _link_event(
        self, event: LinkChanged, device: DeviceIdentified, out: dict[str, list[DeviceEventIn]]
    ) -> None:
        if event.state is LinkState.LOST:
            self._was_live = True
            kind = DeviceEventKind.LINK_LOST
        elif event.state is LinkState.LIVE and self._was_live:
            kind = DeviceEventKind.LINK_RESTORED
        else:
            return
        out.setdefault(device.serial, []).append(
            DeviceEventIn(
                kind, _utc(event.at), device.serial, device.boot_id, {"reason": event.reason}
            )
        )


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


_RETRANSMIT = int(ShotFlags.RETRANSMIT)


def _shot_in(s: ShotReceived) -> ShotIn:
    # On the ingest path: plain ints, no enum arithmetic. RETRANSMIT says how the shot
    # travelled, not what it was, so it is kept apart from the gun's flags.
    return ShotIn(
        s.serial,
        s.boot_id,
        s.shot_no,
        s.uptime_ms,
        datetime.fromtimestamp(s.received_at, UTC),
        s.depth_um,
        s.volume_nl,
        s.flags & ~_RETRANSMIT,
        s.syringe_remaining_nl,
        datetime.fromtimestamp(s.device_time, UTC),
        bool(s.flags & _RETRANSMIT),
    )


def _add(out: dict[str, list[DeviceEventIn]], event: DeviceEventIn) -> None:
    out.setdefault(event.serial, []).append(event)


def _device_event(
    event: FaultChanged | DeviceRebooted | ShotsLost | SettingsChanged | DeviceAnomaly,
) -> DeviceEventIn:
    at = _utc(event.at)
    detail: dict[str, Any]
    match event:
        case DeviceAnomaly():
            detail = {
                "anomaly": event.kind.value,
                "detail": event.detail,
                "shot_no": event.shot_no,
                "occurrences": event.count,
            }
            return DeviceEventIn(
                DeviceEventKind.DEVICE_ANOMALY, at, event.serial, event.boot_id, detail
            )
        case FaultChanged():
            kind = DeviceEventKind.FAULT_RAISED if event.active else DeviceEventKind.FAULT_CLEARED
            detail = {"code": event.code, "detail": event.detail, "uptime_ms": event.uptime_ms}
            return DeviceEventIn(kind, at, event.serial, event.boot_id, detail)
        case DeviceRebooted():
            detail = {"old_boot_id": event.old_boot_id}
            return DeviceEventIn(
                DeviceEventKind.DEVICE_REBOOTED, at, event.serial, event.new_boot_id, detail
            )
        case ShotsLost():
            detail = {
                "count": event.count,
                "ranges": [list(r) for r in event.ranges],
                "reason": event.reason,
            }
            return DeviceEventIn(
                DeviceEventKind.SHOTS_LOST, at, event.serial, event.boot_id, detail
            )
        case SettingsChanged():
            detail = {
                "mode": event.mode,
                "depth_set_um": event.depth_set_um,
                "volume_set_nl": event.volume_set_nl,
                "rate_spm": event.rate_spm,
                "syringe_capacity_ul": event.syringe_capacity_ul,
            }
            return DeviceEventIn(
                DeviceEventKind.SETTINGS_CHANGED, at, event.serial, event.boot_id, detail
            )
        case _:
            assert_never(event)
