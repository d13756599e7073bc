"""The Driver: one reader thread per port, link states, recovery, capture, LOCK.

Everything that touches the port's input runs on the reader thread, so nothing a consumer does
can stall the port: events are handed to listeners on that thread and a listener must be cheap
(put the event on a queue, post a message). Writes (IDENT_REQ, RESEND_REQ, LOCK) may come from
any thread and are serialised by a lock; each gets its own SEQ.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import serial

from injector.driver.clock import DeviceClock
from injector.driver.events import (
    AnomalyKind,
    DecoderStatistics,
    DeviceAnomaly,
    DeviceIdentified,
    DeviceRebooted,
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
    UnrecognisedData,
)
from injector.driver.plausibility import NumberBound, describe, shot_problems
from injector.driver.recovery import BootLedger, Outcome, Range
from injector.driver.transport import PortError, open_port
from injector.driver.unreadable import UnreadableWatch
from protocols.igp1 import (
    Ack,
    AckStatus,
    Decoder,
    Fault,
    Heartbeat,
    Hello,
    IdentReq,
    Lock,
    LockReason,
    Message,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
)
from protocols.igp1.capture import CaptureWriter, RecordKind

log = logging.getLogger(__name__)


class StoredShots(Protocol):
    """What storage already holds of one boot: shots 1..max_shot_no except ``missing``."""

    @property
    def max_shot_no(self) -> int:
        """The highest stored shot number (0 if none)."""

    @property
    def missing(self) -> Sequence[int]:
        """Numbers below ``max_shot_no`` that are not stored."""


KnownShots = Callable[[str, int], StoredShots | None]
"""Given (serial, boot_id), what is already stored, to seed recovery after a restart."""
Listener = Callable[[DriverEvent], None]

_RETRANSMIT = int(ShotFlags.RETRANSMIT)
_UPTIME_SLACK_MS = 500  # how far back a fresh uptime may step before a reboot is suspected
_MAX_PENDING = 50_000  # frames held while waiting for HELLO; beyond that, the oldest go
_IDENT_BACKOFF_STEPS = 8  # IDENT_REQ retries back off up to this many times ident_retry
_REQUEST_BURST = 256  # RESEND_REQs a power-up may send at once …
_REQUESTS_PER_S = 128.0  # … and per second after that (a line full of gaps needs far fewer)


class _RequestBudget:
    """A token bucket: no sequence of frames makes the driver send requests without limit."""

    __slots__ = ("_at", "_burst", "_rate", "_tokens")

    def __init__(self, burst: int, rate: float) -> None:
        self._burst = float(burst)
        self._rate = rate
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self, now: float) -> bool:
        """Spend one request if the budget allows it now."""
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


@dataclass(frozen=True, slots=True)
class _Identity:
    model: str
    serial: str
    firmware: str
    boot_id: int


@dataclass(frozen=True, slots=True)
class _Seeding:
    """A power-up identified whose stored shots are being looked up."""

    ident: _Identity
    deadline: float
    """``time.monotonic()`` after which recovery goes on without storage's answer."""
    unattributed: int
    """Shots held before its HELLO that could not be given to it (for the anomaly)."""


class _StoredShotsLookup:
    """Asks storage what it holds of a power-up on a thread of its own, one question at a time.

    The reader thread asks and later picks the answer up; it never waits on the database (a
    write lock held elsewhere would otherwise leave the port unread for the busy timeout).
    """

    def __init__(self, known: KnownShots) -> None:
        self._known = known
        self._requests: queue.SimpleQueue[tuple[str, int] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, int], StoredShots | None] = {}
        self._thread = threading.Thread(target=self._run, name="stored shots", daemon=True)
        self._thread.start()

    def ask(self, serial: str, boot_id: int) -> None:
        """Look up (serial, boot_id); :meth:`answer` has it once storage replied."""
        with self._lock:
            self._answers.pop((serial, boot_id), None)
        self._requests.put((serial, boot_id))

    def answer(self, serial: str, boot_id: int) -> tuple[bool, StoredShots | None]:
        """(True, what is stored) once answered, (True, None) if storage failed, else
        (False, None)."""
        with self._lock:
            if (serial, boot_id) in self._answers:
                return True, self._answers.pop((serial, boot_id))
        return False, None

    def close(self) -> None:
        """Let the thread end (after the question it may be waiting on)."""
        self._requests.put(None)

    def _run(self) -> None:
        while (request := self._requests.get()) is not None:
            try:
                stored = self._known(*request)
            except Exception:
                # Storage unreachable: recover from what this run sees; duplicates are harmless.
                log.exception("cannot read the stored shots of %s boot %08x", *request)
                stored = None
            with self._lock:
                self._answers[request] = stored


class _AckWaiter:
    __slots__ = ("done", "msg_id", "status")

    def __init__(self, msg_id: int) -> None:
        self.msg_id = msg_id
        self.done = threading.Event()
        self.status: int | None = None


class Driver:
    """Reads one gun over one port and publishes :data:`DriverEvent` s.

    ``port`` is a device path or any pyserial URL. Timeouts are parameters so tests can shorten
    them; the defaults follow the spec (3 s of silence means the link is lost). ``wall_clock``
    gives the Unix time events carry: the time now, or for a capture replayed, the time the
    original recorder read the bytes (``Simulator.replay_wall_clock``).
    """

    def __init__(
        self,
        port: str,
        *,
        baud: int = 115200,
        capture: CaptureWriter | None = None,
        known_shots: KnownShots | None = None,
        silence_timeout: float = 3.0,
        reopen_backoff: tuple[float, float] = (0.1, 2.0),
        resend_backoff: tuple[float, float] = (0.25, 2.0),
        ident_retry: float = 1.0,
        garbage_timeout: float = 2.0,
        stats_interval: float = 1.0,
        read_timeout: float = 0.02,
        wait_for_port: bool = False,
        wall_clock: Callable[[], float] = time.time,
        seed_timeout: float = 2.0,
    ) -> None:
        self.port = port
        self.baud = baud
        self._wall_clock = wall_clock
        self._capture = capture
        self._capture_failing = False
        self.known_shots = known_shots
        """Seeds recovery from storage; may be set until :meth:`start`."""
        self._silence_timeout = silence_timeout
        self._reopen_backoff = reopen_backoff
        self._resend_backoff = resend_backoff
        self._ident_retry = ident_retry
        self._stats_interval = stats_interval
        self._read_timeout = read_timeout
        self._wait_for_port = wait_for_port
        self._silence_expected = False

        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()
        self._tx_lock = threading.Lock()
        self._tx_seq = 0
        self._serial: serial.SerialBase | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._decoder = Decoder()
        self._clock = DeviceClock()
        self._ledgers: dict[str, BootLedger] = {}
        self._identity: _Identity | None = None
        self._pending: list[Message] = []
        self._last_uptime: int | None = None
        self._resend_seq: dict[int, Range] = {}
        self._ack_waiters: dict[int, _AckWaiter] = {}
        self._lock_reason: int | None = None  # the lock to restore after a reboot
        self._state = LinkState.STOPPED
        self._duplicates = 0
        self._resend_requests = 0
        self._reopens = 0
        self._recovered_in_read = 0
        self._replaying = False
        self._identities: dict[str, _Identity] = {}
        self._boot_uptime: int | None = None  # last fresh uptime of the current boot
        self._suspected = False  # identity dropped because the uptime went back
        self._seed_timeout = seed_timeout
        self._seeding: _Seeding | None = None
        self._lookup: _StoredShotsLookup | None = None
        self._last_frame = 0.0
        self._last_ident = 0.0
        self._unreadable = UnreadableWatch(garbage_timeout)
        self._ident_interval = ident_retry
        self._bounds: dict[str, NumberBound] = {}
        self._budgets: dict[str, _RequestBudget] = {}
        self._anomalies: dict[tuple[str, int, AnomalyKind], int] = {}

    # --- public API -----------------------------------------------------------------------

    @property
    def link_state(self) -> LinkState:
        """The current link state."""
        return self._state

    @property
    def identity(self) -> DeviceIdentified | None:
        """The gun on the link, once it has identified itself (None before, and after a loss)."""
        ident = self._identity
        if ident is None:
            return None
        return DeviceIdentified(ident.model, ident.serial, ident.firmware, ident.boot_id, 0.0)

    def seen_without_frame(self) -> str:
        """What arrived since the last valid frame (across reopenings), in a few words, for a
        user waiting for the gun: nothing, or how many bytes, quoting them if they were text."""
        return self._unreadable.describe()

    def ledger(self, serial: str) -> BootLedger | None:
        """The shot ledger of the gun's current boot (held, missing, lost counts), if seen.

        It belongs to the reader thread: read its counters, do not call its methods.
        """
        return self._ledgers.get(serial)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on the reader thread for every event; returns an unsubscribe.

        The listener must return quickly (queue the event, post a message): the port is not
        read while it runs. An exception it raises is logged and otherwise ignored.
        """
        with self._listeners_lock:
            self._listeners = [*self._listeners, listener]

        def unsubscribe() -> None:
            with self._listeners_lock:
                self._listeners = [x for x in self._listeners if x is not listener]

        return unsubscribe

    def start(self) -> None:
        """Open the port, send IDENT_REQ and start the reader thread.

        Raises :class:`PortError` if the port cannot be opened, unless ``wait_for_port`` was
        given and the problem may go away (a missing or busy port), in which case the reader
        keeps trying with backoff.
        """
        if self._thread is not None:
            raise RuntimeError("driver already started")
        self._stop.clear()
        if self.known_shots is not None:
            self._lookup = _StoredShotsLookup(self.known_shots)
        self._set_state(LinkState.CONNECTING, "opening the port")
        try:
            self._open()
        except PortError as exc:
            if not (self._wait_for_port and exc.retryable):
                self._set_state(LinkState.STOPPED, str(exc))
                raise
            self._set_state(LinkState.RECONNECTING, str(exc))
        self._thread = threading.Thread(target=self._run, name=f"driver {self.port}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the reader thread and close the port; idempotent."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        if self._lookup is not None:
            self._lookup.close()
        self._close("stopped")
        if self._state is not LinkState.STOPPED:
            self._set_state(LinkState.STOPPED, "stopped")

    def expect_silence(self, expected: bool) -> None:
        """Say whether the gun is silent on purpose (a replay the technician paused).

        While silence is expected it does not mark the link lost, so a paused replay does not
        fill the log with link alerts and reconnections; the watch starts afresh when it ends.
        """
        if not expected:
            self._last_frame = time.monotonic()
        self._silence_expected = expected

    def lock(self, reason: LockReason = LockReason.MANUAL, timeout: float = 1.0) -> bool:
        """Send LOCK; True if the gun acknowledged it with status OK within ``timeout``."""
        return self._send_lock(True, reason, timeout)

    def unlock(self, reason: LockReason = LockReason.MANUAL, timeout: float = 1.0) -> bool:
        """Send unlock; True if the gun acknowledged it with status OK within ``timeout``."""
        return self._send_lock(False, reason, timeout)

    def request_lock(
        self, reason: LockReason = LockReason.MANUAL, *, locked: bool = True, timeout: float = 1.0
    ) -> None:
        """Ask for LOCK (or unlock with ``locked=False``) without waiting for the gun.

        Returns at once; the answer is the :class:`LockChanged` event every listener gets
        (``acknowledged`` False if the gun did not answer OK within ``timeout``). The way for
        a thread that must not block (a committer, a UI worker) to lock the gun.
        """
        threading.Thread(
            target=self._send_lock,
            args=(locked, reason, timeout),
            name=f"lock {self.port}",
            daemon=True,
        ).start()

    def request_resend(self, first: int, last: int) -> None:
        """Ask the gun for shots ``first..last`` again (normally the driver does it itself)."""
        self._send_resend(first, last)

    def __enter__(self) -> Driver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- writing --------------------------------------------------------------------------

    def _send(self, message: Message, waiter: _AckWaiter | None = None) -> int:
        """Send one frame; returns its SEQ. Raises OSError/SerialException if the port fails."""
        with self._tx_lock:
            port = self._serial
            if port is None:
                raise serial.SerialException("port not open")
            seq = self._tx_seq
            self._tx_seq = (seq + 1) & 0xFF
            frame = message.encode(seq)
            if waiter is not None:
                self._ack_waiters[seq] = waiter
            port.write(frame)
            if self._capture is not None:
                self._write_capture(RecordKind.TX, frame)
            return seq

    def _send_lock(self, locked: bool, reason: LockReason, timeout: float) -> bool:
        waiter = _AckWaiter(Lock.MSG_ID)
        try:
            seq = self._send(Lock(int(locked), int(reason)), waiter)
        except (serial.SerialException, OSError) as exc:
            log.info("LOCK not sent: %s", exc)
            self._emit(LockChanged(locked, int(reason), False, self._wall_clock()))
            return False
        ok = waiter.done.wait(timeout) and waiter.status == AckStatus.OK
        with self._tx_lock:
            self._ack_waiters.pop(seq, None)
        if ok:
            self._lock_reason = int(reason) if locked else None
        self._emit(LockChanged(locked, int(reason), ok, self._wall_clock()))
        return ok

    def _send_resend(self, first: int, last: int) -> None:
        try:
            seq = self._send(ResendReq(first, last))
        except (serial.SerialException, OSError) as exc:
            log.info("RESEND_REQ not sent: %s", exc)
            return
        self._resend_requests += 1
        self._resend_seq[seq] = (first, last)

    def _send_ident(self) -> None:
        try:
            self._send(IdentReq())
        except (serial.SerialException, OSError) as exc:
            log.info("IDENT_REQ not sent: %s", exc)

    # --- port -----------------------------------------------------------------------------

    def _open(self) -> None:
        handle = open_port(self.port, self.baud, self._read_timeout)
        with self._tx_lock:
            self._serial = handle
        self._decoder.reset()
        self._identity = None
        self._pending.clear()
        self._last_uptime = None
        self._resend_seq.clear()
        now = time.monotonic()
        self._last_frame = now
        self._last_ident = now
        self._ident_interval = self._ident_retry
        if self._capture is not None:
            self._write_capture(RecordKind.OPEN, f"{self.port} at {self.baud} baud".encode())
        # pyserial flushed whatever the gun sent while we were away: ask who is there, and the
        # heartbeat in the answer tells which shots to ask for again.
        self._send_ident()

    def _close(self, reason: str) -> None:
        with self._tx_lock:
            handle, self._serial = self._serial, None
            for waiter in self._ack_waiters.values():
                waiter.done.set()
            self._ack_waiters.clear()
        if handle is None:
            return
        with contextlib.suppress(serial.SerialException, OSError):
            handle.close()
        if self._capture is not None:
            self._write_capture(RecordKind.CLOSE, reason.encode("utf-8", "replace"))

    def _write_capture(self, kind: RecordKind, data: bytes) -> None:
        capture = self._capture
        if capture is None:
            return
        try:
            capture.write(kind, data)
        except (OSError, ValueError) as exc:
            # A full disk interrupts the capture, never the recording: the shots matter more.
            # The writer keeps no torn record, so the capture resumes once there is room.
            if not self._capture_failing:
                self._capture_failing = True
                log.error("capture %s interrupted: %s", capture.path, exc)
            return
        if self._capture_failing:
            self._capture_failing = False
            log.warning(
                "capture %s resumed; %d records could not be written",
                capture.path,
                capture.failed_records,
            )

    # --- reader thread --------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self._reopen_backoff[0]
        next_open = time.monotonic()
        next_stats = time.monotonic() + self._stats_interval
        last_stats: tuple[int, ...] = ()
        while not self._stop.is_set():
            port = self._serial
            now = time.monotonic()
            if port is None:
                if now < next_open:
                    self._stop.wait(min(next_open - now, 0.05))
                    continue
                try:
                    self._open()
                except PortError as exc:
                    if self._state is not LinkState.RECONNECTING:
                        self._set_state(LinkState.RECONNECTING, str(exc))
                    next_open = now + backoff
                    backoff = min(backoff * 2, self._reopen_backoff[1])
                    continue
                self._reopens += 1
                backoff = self._reopen_backoff[0]
                self._set_state(LinkState.CONNECTING, "port reopened")
                continue
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError) as exc:
                # TypeError: pyserial's read on a handle closed under it by another thread.
                self._lose(f"port failed: {exc}")
                next_open = time.monotonic() + backoff
                continue
            now = time.monotonic()
            try:
                if data:
                    self._on_bytes(data, now)
                if not self._silence_expected and now - self._last_frame > self._silence_timeout:
                    self._lose(f"no valid frame for {self._silence_timeout:g} s")
                    next_open = now + backoff
                    continue
                self._tick(now)
            except Exception:
                # A bug must not end the reader: the port would go unread and shots unrecorded
                # while everything looked fine. Log it and carry on with the next read.
                log.exception("driver error on %s", self.port)
            if now >= next_stats:
                next_stats = now + self._stats_interval
                stats = self._decoder.stats
                key = (stats.frames, stats.garbage_bytes, self._duplicates, self._resend_requests)
                if key != last_stats:
                    last_stats = key
                    self._emit(
                        DecoderStatistics(
                            stats.copy(),
                            self._duplicates,
                            self._resend_requests,
                            self._reopens,
                            self._wall_clock(),
                        )
                    )
        self._close("stopped")

    def _lose(self, reason: str) -> None:
        self._close(reason)
        self._identity = None
        self._set_state(LinkState.LOST, reason)
        self._set_state(LinkState.RECONNECTING, "reopening the port")

    def _tick(self, now: float) -> None:
        if self._seeding is not None:
            self._check_seeding(now)
        ident = self._identity
        if ident is None:
            if self._seeding is not None:
                return  # identified; waiting for storage, not for the gun
            if now - self._last_ident >= self._ident_interval:
                self._ask_identity(now)
            self._check_garbage()
            return
        ledger = self._ledgers[ident.serial]
        budget = self._budgets[ident.serial]
        for first, last in ledger.due(now):
            if not budget.take(now):
                # The rest is asked again at the ledger's next retry.
                self._anomaly(
                    ledger,
                    AnomalyKind.REQUEST_BUDGET,
                    f"more gaps than {_REQUEST_BURST} RESEND_REQs at once or "
                    f"{_REQUESTS_PER_S:g} a second can ask for; asking again later",
                    None,
                    self._wall_clock(),
                )
                break
            self._send_resend(first, last)

    def _check_seeding(self, now: float) -> None:
        seeding = self._seeding
        assert seeding is not None and self._lookup is not None
        ident = seeding.ident
        answered, stored = self._lookup.answer(ident.serial, ident.boot_id)
        if answered or now >= seeding.deadline:
            if not answered:
                log.warning(
                    "storage did not say within %g s what it holds of %s boot %08x; "
                    "recovering from what this run sees",
                    self._seed_timeout,
                    ident.serial,
                    ident.boot_id,
                )
            self._finish_seeding(stored, self._wall_clock())

    def _ask_identity(self, now: float) -> None:
        """Send IDENT_REQ, backing off while the gun stays unidentified (or keeps looking
        restarted without saying so): an answer that does not settle the question cannot
        turn into a stream of requests."""
        self._last_ident = now
        self._send_ident()
        self._ident_interval = min(
            self._ident_interval * 2, self._ident_retry * _IDENT_BACKOFF_STEPS
        )

    def _check_garbage(self) -> None:
        watch = self._unreadable
        if watch.due():
            self._emit(
                UnrecognisedData(
                    self.port,
                    self.baud,
                    watch.garbage,
                    bytes(watch.sample),
                    watch.looks_like_text(),
                    self._wall_clock(),
                )
            )

    def _on_bytes(self, data: bytes, now: float) -> None:
        received_ns = time.monotonic_ns()
        if self._capture is not None:
            self._write_capture(RecordKind.RX, data)
        garbage_before = self._decoder.stats.garbage_bytes
        frames = self._decoder.feed(data)
        if not frames:
            self._unreadable.note(data, self._decoder.stats.garbage_bytes - garbage_before, now)
            return
        self._unreadable.frame_seen()
        self._last_frame = now
        wall = self._wall_clock()
        self._recovered_in_read = 0
        for frame in frames:
            msg = frame.message
            if isinstance(msg, Message):  # frames of unknown ids are only counted
                self._handle(msg, wall, received_ns)
        ident = self._identity
        if self._recovered_in_read and ident is not None:
            self._emit(ShotsRecovered(ident.serial, ident.boot_id, self._recovered_in_read, wall))
        if ident is not None:
            self._tick(now)

    def _handle(self, msg: Message, wall: float, received_ns: int) -> None:
        kind = type(msg)
        if kind is Shot:
            assert isinstance(msg, Shot)
            self._on_shot(msg, wall, received_ns)
        elif kind is Heartbeat:
            assert isinstance(msg, Heartbeat)
            self._on_heartbeat(msg, wall)
        elif kind is Hello:
            assert isinstance(msg, Hello)
            self._on_hello(msg, wall)
        elif kind is Ack:
            assert isinstance(msg, Ack)
            self._on_ack(msg, wall)
        elif self._identity is None:
            self._hold(msg)
        elif kind is Settings:
            assert isinstance(msg, Settings)
            ident = self._identity
            self._emit(
                SettingsChanged(
                    ident.serial,
                    ident.boot_id,
                    msg.mode,
                    msg.depth_set_um,
                    msg.volume_set_nl,
                    msg.rate_spm,
                    msg.syringe_capacity_ul,
                    msg.uptime_ms,
                    wall,
                )
            )
        elif kind is Fault:
            assert isinstance(msg, Fault)
            ident = self._identity
            self._emit(
                FaultChanged(
                    ident.serial,
                    ident.boot_id,
                    msg.code,
                    bool(msg.active),
                    msg.detail,
                    msg.uptime_ms,
                    self._clock.to_wall(msg.uptime_ms, wall),
                    wall,
                )
            )

    def _hold(self, msg: Message) -> None:
        # Until HELLO says which gun and which power-up this is, a shot cannot be attributed.
        if len(self._pending) >= _MAX_PENDING:
            del self._pending[0]
        self._pending.append(msg)

    def _went_back(self, uptime_ms: int) -> bool:
        """Whether a fresh uptime lies well before the last one: the gun may have restarted.

        A small step back is tolerated (a firmware may stamp a heartbeat just before a shot
        and send it just after). The last uptime only moves forward, and frames replayed after
        a HELLO confirmed the same boot are not checked again, so a false alarm cannot loop.
        """
        last = self._last_uptime
        if last is None:
            self._last_uptime = self._boot_uptime = uptime_ms
            return False
        step = DeviceClock.elapsed_ms(last, uptime_ms)
        if step >= 0:
            self._last_uptime = self._boot_uptime = uptime_ms
            return False
        return not self._replaying and step < -_UPTIME_SLACK_MS

    def _suspect_reboot(self, msg: Message) -> None:
        log.debug("reboot suspected on %r (last uptime %s)", msg, self._last_uptime)
        # An older uptime alone is not a reboot, but the HELLO of a power-up may have been lost
        # on the line: hold frames (attribute none) until the gun says who it is. The question
        # goes out at the pace of the IDENT_REQ backoff, never once per suspicious frame.
        self._suspected = True
        self._identity = None
        self._hold(msg)
        now = time.monotonic()
        if now - self._last_ident >= self._ident_interval:
            self._ask_identity(now)

    def _anomaly(
        self,
        ledger: BootLedger,
        kind: AnomalyKind,
        detail: str,
        shot_no: int | None,
        at: float,
        *,
        every: bool = False,
    ) -> None:
        """Publish a :class:`DeviceAnomaly`: each occurrence if ``every``, else the 1st, 2nd,
        4th, 8th … of its kind in this power-up, so that repeats cannot flood the record."""
        key = (ledger.serial, ledger.boot_id, kind)
        count = self._anomalies.get(key, 0) + 1
        self._anomalies[key] = count
        if every or count & (count - 1) == 0:
            self._emit(
                DeviceAnomaly(ledger.serial, ledger.boot_id, kind, detail, shot_no, count, at)
            )

    def _on_shot(self, msg: Shot, wall: float, received_ns: int) -> None:
        ident = self._identity
        if ident is None:
            self._hold(msg)
            return
        retransmit = msg.flags & _RETRANSMIT
        ledger = self._ledgers[ident.serial]
        # An impossible number is set aside before its uptime can move the driver's clock.
        if not self._plausible_number(ledger, msg, bool(retransmit), wall):
            return
        if not retransmit and self._went_back(msg.uptime_ms):
            self._suspect_reboot(msg)
            return
        outcome = ledger.receive(msg.shot_no)
        if outcome is Outcome.DUPLICATE:
            self._duplicates += 1
            return
        self._report_lost(ledger, ledger.take_out_of_reach(), "no longer held by the gun", wall)
        recovered = outcome is not Outcome.NEW
        if recovered:
            self._recovered_in_read += 1
        if outcome is Outcome.FOUND:
            self._emit(
                ShotsLost(
                    ident.serial,
                    ident.boot_id,
                    -1,
                    ((msg.shot_no, msg.shot_no),),
                    "arrived after being reported lost",
                    wall,
                )
            )
        problems = shot_problems(msg)
        if problems:
            detail = describe(problems, msg)
            self._anomaly(
                ledger, AnomalyKind.IMPLAUSIBLE_VALUES, detail, msg.shot_no, wall, every=True
            )
        self._emit(
            ShotReceived(
                ident.serial,
                ident.boot_id,
                msg.shot_no,
                msg.uptime_ms,
                self._clock.to_wall(msg.uptime_ms, wall),
                msg.depth_um,
                msg.flags,
                msg.volume_nl,
                msg.syringe_remaining_nl,
                recovered,
                wall,
                received_ns,
                problems,
            )
        )

    def _plausible_number(
        self, ledger: BootLedger, msg: Shot, retransmit: bool, wall: float
    ) -> bool:
        """Whether ``msg``'s number can be acted on; an impossible one is a device anomaly."""
        bound = self._bounds[ledger.serial]
        if msg.shot_no <= 0:
            why = "shot numbers start at 1"
        elif retransmit:
            if msg.shot_no <= ledger.highest:
                return True
            why = f"a retransmission above the last shot known ({ledger.highest}), never asked for"
        elif bound.allows(msg.shot_no, msg.uptime_ms):
            bound.accept(msg.shot_no, msg.uptime_ms)
            return True
        else:
            why = (
                f"the gun cannot have fired it by uptime {msg.uptime_ms} ms "
                f"(shot {bound.shot_no} at {bound.uptime_ms} ms)"
            )
        self._anomaly(
            ledger,
            AnomalyKind.IMPLAUSIBLE_SHOT_NUMBER,
            f"SHOT numbered {msg.shot_no} ignored: {why}",
            msg.shot_no,
            wall,
        )
        return False

    def _on_heartbeat(self, msg: Heartbeat, wall: float) -> None:
        ident = self._identity
        if ident is None:
            return  # the heartbeat after the HELLO will say the same
        ledger = self._ledgers[ident.serial]
        if self._went_back(msg.uptime_ms):
            self._suspect_reboot(msg)
            return
        if msg.last_shot_no < ledger.highest:
            if self._replaying:
                return  # a heartbeat held back while shots were replayed: stale
            # Same power-up, not older, yet it denies a number already seen: the number is
            # suspect, not the power-up. Recorded once, never a reason to ask who it is again.
            self._anomaly(
                ledger,
                AnomalyKind.CONTRADICTED_SHOT_NUMBER,
                f"HEARTBEAT at uptime {msg.uptime_ms} ms says the last shot is "
                f"{msg.last_shot_no}, yet shot {ledger.highest} was received",
                ledger.highest,
                wall,
            )
            ledger.retract_above(msg.last_shot_no)
        bound = self._bounds[ident.serial]
        if not bound.allows(msg.last_shot_no, msg.uptime_ms):
            self._anomaly(
                ledger,
                AnomalyKind.IMPLAUSIBLE_LAST_SHOT,
                f"HEARTBEAT at uptime {msg.uptime_ms} ms announces {msg.last_shot_no} shots, "
                f"more than the gun can have fired; not asked for",
                msg.last_shot_no,
                wall,
            )
            return
        bound.accept(msg.last_shot_no, msg.uptime_ms)
        self._clock.anchor(msg.uptime_ms, wall)
        ledger.announce(msg.last_shot_no)
        self._report_lost(ledger, ledger.take_out_of_reach(), "no longer held by the gun", wall)
        self._emit(
            Status(
                ident.serial,
                ident.boot_id,
                msg.uptime_ms,
                msg.last_shot_no,
                msg.state,
                msg.battery_pct,
                msg.fault_bits,
                msg.syringe_remaining_nl,
                wall,
            )
        )

    def _on_hello(self, msg: Hello, wall: float) -> None:
        log.debug("HELLO %08x, %d frames pending", msg.boot_id, len(self._pending))
        ident = _Identity(msg.model, msg.serial, msg.firmware, msg.boot_id)
        seeding = self._seeding
        if seeding is not None:
            if seeding.ident == ident:
                return  # its stored shots are being looked up; what follows waits with it
            self._finish_seeding(None, wall)  # another power-up meanwhile: go on without
        ledger = self._ledgers.get(msg.serial)
        rebooted = ledger is not None and ledger.boot_id != msg.boot_id
        same_boot = ledger is not None and not rebooted
        previous = self._identities.get(msg.serial)
        pending, self._pending = self._pending, []
        if rebooted and pending and previous is not None:
            # Frames held while the gun was unidentified may still be the old boot's (its
            # HELLO came after them); the first fresh uptime that jumps back starts the new one.
            old, pending = _split_at_restart(pending, self._boot_uptime)
            if old:
                self._identity = previous
                self._replay(old, wall)
        unattributed = 0
        if not same_boot and pending:
            # A HELLO owns only what comes after it: shots held before it cannot be proved to
            # be this power-up's. Its heartbeat announces its shots, and they are asked for
            # again, as its own. Settings and faults are not resent by the gun, so they are
            # kept (as what the gun said next), and held heartbeats are stale.
            unattributed = sum(isinstance(m, Shot) for m in pending) if rebooted else 0
            pending = [m for m in pending if isinstance(m, Settings | Fault)]
        if ledger is None or rebooted:
            if ledger is not None:
                self._emit(DeviceRebooted(msg.serial, ledger.boot_id, msg.boot_id, wall))
                self._report_lost(ledger, ledger.close(), "the gun restarted", wall)
            self._clock.reset()
            self._last_uptime = None
            self._boot_uptime = None
            self._ident_interval = self._ident_retry
        elif self._suspected:
            # The same power-up after all: the uptime that looked like a restart was stale.
            self._last_uptime = None
        self._suspected = False
        self._identities[msg.serial] = ident
        if rebooted and self._lock_reason is not None:
            # A LOCK does not survive a power cycle (spec section 5): put it back.
            self.request_lock(LockReason(self._lock_reason))
        if not same_boot and self._lookup is not None:
            # What storage already holds of this power-up is asked on another thread: the
            # reader never waits on the database. Frames wait (held, read) for the answer.
            self._identity = None
            self._pending = pending
            self._lookup.ask(msg.serial, msg.boot_id)
            self._seeding = _Seeding(ident, time.monotonic() + self._seed_timeout, unattributed)
            return
        if not same_boot:
            self._new_ledger(msg.serial, msg.boot_id, None, unattributed, wall)
        self._identified(ident, pending, wall)

    def _finish_seeding(self, stored: StoredShots | None, wall: float) -> None:
        """Storage answered (or took too long): start the power-up's ledger, play what waited."""
        seeding = self._seeding
        assert seeding is not None
        self._seeding = None
        ident = seeding.ident
        self._new_ledger(ident.serial, ident.boot_id, stored, seeding.unattributed, wall)
        pending, self._pending = self._pending, []
        self._identified(ident, pending, wall)

    def _identified(self, ident: _Identity, pending: list[Message], wall: float) -> None:
        """The power-up's ledger is ready: say who is there, then play what waited."""
        if ident != self._identity:
            self._emit(
                DeviceIdentified(ident.model, ident.serial, ident.firmware, ident.boot_id, wall)
            )
        self._identity = ident
        if self._state is not LinkState.LIVE:
            self._set_state(LinkState.LIVE, f"{ident.model} {ident.serial} identified")
        self._replay(pending, wall)

    def _new_ledger(
        self, serial: str, boot_id: int, stored: StoredShots | None, unattributed: int, wall: float
    ) -> BootLedger:
        lo, hi = self._resend_backoff
        ledger = BootLedger(
            serial,
            boot_id,
            held_up_to=stored.max_shot_no if stored else 0,
            missing=stored.missing if stored else (),
            retry_first=lo,
            retry_max=hi,
        )
        self._ledgers[serial] = ledger
        self._bounds[serial] = NumberBound()
        self._budgets[serial] = _RequestBudget(_REQUEST_BURST, _REQUESTS_PER_S)
        if unattributed:
            self._anomaly(
                ledger,
                AnomalyKind.UNATTRIBUTED_FRAMES,
                f"{unattributed} shots received while the gun's power-up was unknown could not "
                "be attributed to either power-up; the new one's are asked for again",
                None,
                wall,
            )
        return ledger

    def _replay(self, held: list[Message], wall: float) -> None:
        self._replaying = True
        try:
            for msg in held:
                self._handle(msg, wall, time.monotonic_ns())
        finally:
            self._replaying = False

    def _on_ack(self, msg: Ack, wall: float) -> None:
        with self._tx_lock:
            waiter = self._ack_waiters.get(msg.acked_seq)
        if waiter is not None and waiter.msg_id == msg.acked_msg:
            waiter.status = msg.status
            waiter.done.set()
            return
        if msg.acked_msg != ResendReq.MSG_ID:
            return
        asked = self._resend_seq.pop(msg.acked_seq, None)
        ident = self._identity
        if asked is None or ident is None:
            return
        ledger = self._ledgers[ident.serial]
        lost = ledger.answered(asked[0], asked[1], msg.status, time.monotonic())
        self._report_lost(ledger, lost, "no longer held by the gun", wall)

    def _report_lost(self, ledger: BootLedger, ranges: list[Range], reason: str, at: float) -> None:
        count = sum(b - a + 1 for a, b in ranges)
        if count:
            self._emit(ShotsLost(ledger.serial, ledger.boot_id, count, tuple(ranges), reason, at))

    # --- events ---------------------------------------------------------------------------

    def _set_state(self, state: LinkState, reason: str) -> None:
        if state is self._state:
            return
        self._state = state
        self._emit(LinkChanged(state, self.port, reason, self._wall_clock()))

    def _emit(self, event: DriverEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("driver event listener failed on %s", type(event).__name__)


def _fresh_uptime(msg: Message) -> int | None:
    """The uptime of a frame stamped when sent (not a retransmission, not settings)."""
    if isinstance(msg, Heartbeat):
        return msg.uptime_ms
    if isinstance(msg, Shot) and not msg.flags & _RETRANSMIT:
        return msg.uptime_ms
    return None


def _split_at_restart(
    held: list[Message], last_uptime: int | None
) -> tuple[list[Message], list[Message]]:
    """Split held frames into those of the previous boot and those after a restart."""
    if last_uptime is None:
        return [], held
    last = last_uptime
    for i, msg in enumerate(held):
        uptime = _fresh_uptime(msg)
        if uptime is None:
            continue
        step = DeviceClock.elapsed_ms(last, uptime)
        if step < -_UPTIME_SLACK_MS:
            return held[:i], held[i:]
        if step > 0:
            last = uptime
    return held, []
