"""The simulator: a gun (or a capture replay) served on a pseudo-terminal, on one thread.

:class:`Simulator` ties the pieces together. Its thread owns the gun, the scenario player and
the pseudo-terminal; the public methods, callable from any thread, hand it commands and read
ground truth under a lock. Scenario time runs ``speed`` times faster than the monotonic clock
(or, at ``"max"``, as fast as the host reads), and every deadline is computed from one anchor
(``_t0``, the monotonic time scenario time 0 would have had at this speed), so nothing drifts.
Pausing stops scenario time; resuming and changing speed move the anchor so that scenario time
carries on from where it was, with no burst of catch-up output.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from protocols.igp1 import FaultCode, Mode, Shot, State
from simulators.builtin import resolve_scenario
from simulators.faults import FaultConfig, LineFaults
from simulators.gun import Fate, Gun, HostFrame, Outgoing, ShotRecord
from simulators.player import ScenarioPlayer
from simulators.pty_port import PtyPort, unread_by_host
from simulators.receiver import HostReceiver
from simulators.replay import Capture, ReplaySource, load_capture
from simulators.scenario import Scenario

Speed = float | Literal["max"]
_T = TypeVar("_T")

DEFAULT_BAUD = 115_200
MAX_BACKLOG = 256 * 1024
"""Bytes held for a host that stopped reading; further frames are discarded (OVERFLOW)."""
_IDLE_POLL_S = 0.02
"""How often the loop looks for a host opening the port while none has it open."""
_MAX_SLEEP_S = 0.1
_MAX_BURST = 4096
"""At speed ``max``, scenario time moves on while less than this is waiting for the host."""
_BREAK_QUIET_S = 0.05
"""A replay's link break waits until nothing was written for this long and the host has read
everything, so that what precedes the break reaches the host before the port goes away."""
_HOST_SETTLE_S = 0.2
"""After a host opens the port, output waits until it speaks (it sends IDENT_REQ once its open
and input flush are done) or this long, so nothing is written into a buffer about to be
flushed and every byte marked sent is one the host can read."""


MAX_SPEED = 10_000.0
"""The fastest speed factor. Faster, the loop spends its time catching up on scenario time
(heartbeats by the million), no longer answers SIGTERM and its memory grows by the second;
``max`` runs as fast as the host reads instead."""


def _check_speed(speed: object) -> None:
    if speed != "max" and not (
        isinstance(speed, int | float)
        and not isinstance(speed, bool)
        and math.isfinite(speed)
        and speed > 0
    ):
        raise ValueError(f"speed {speed!r} must be a number above 0 or 'max'")
    if isinstance(speed, int | float) and speed > MAX_SPEED:
        raise ValueError(f"speed {speed!r} is above the fastest factor, {MAX_SPEED:g}; use 'max'")


def _default_baud(speed: Speed) -> int:
    """115200 at speed 1 (as the real gun's line), unpaced at any other speed."""
    return DEFAULT_BAUD if speed == 1 else 0


class _Source(Protocol):
    @property
    def done(self) -> bool: ...

    def next_event_ms(self) -> float | None: ...

    def advance_to(self, t: float) -> None: ...

    def take_output(self) -> list[Outgoing]: ...

    def on_host_frame(self, frame: HostFrame) -> None: ...


@dataclass(slots=True)
class _Pending:
    item: Outgoing
    data: bytes
    written: int = 0
    due: float | None = None
    """When pacing: the time the transmission has fully crossed the line."""
    wall: float | None = None
    """For a replay: Unix time the original recorder read these bytes."""


class _LinkControl:
    """The player's handle on the link; runs on the simulator's thread."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def unplug(self) -> None:
        self._sim._do_unplug()

    def replug(self) -> None:
        self._sim._do_replug()

    def set_line_faults(self, config: FaultConfig) -> None:
        self._sim._set_line_faults(config)


class Simulator:
    """A virtual MG-400 on a real pseudo-terminal, usable in-process or from ``injector sim``.

    ``scenario`` is a built-in name (``idle``, ``demo``, ``stress``), a scenario file or a
    :class:`Scenario`; ``replay`` plays a capture file instead of a gun. ``speed`` is a factor
    on scenario time or ``"max"``; ``seed`` makes a run repeat exactly (random if ``None``;
    see :attr:`seed`); ``faults`` adds line faults and scheduled unplugs and power cycles;
    ``link`` is a symbolic link made to point at the device; ``baud`` paces output to a line
    speed (``None``: 115200 at speed 1, unpaced otherwise; 0: never paced). ``record`` keeps
    every shot and transmission for :meth:`shots` and :meth:`sent_frames`.

    Bad scenarios raise :class:`~simulators.scenario.ScenarioError`, bad captures
    :class:`~simulators.replay.ReplayError`, other bad arguments ``ValueError``.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = "idle",
        *,
        speed: Speed = 1.0,
        seed: int | None = None,
        faults: FaultConfig | None = None,
        link: str | Path | None = None,
        baud: int | None = None,
        replay: str | Path | None = None,
        record: bool = True,
    ) -> None:
        _check_speed(speed)
        if baud is not None and baud < 0:
            raise ValueError(f"baud {baud} must be 0 (unpaced) or above")
        self.speed: Speed = speed
        self.seed = seed if seed is not None else random.SystemRandom().randrange(1 << 31)
        """The seed in use (drawn when none was given), to repeat this run."""
        self.faults = faults or FaultConfig()
        self.link = Path(link) if link is not None else None
        self._baud_given = baud is not None
        self.baud = baud if baud is not None else _default_baud(speed)
        self.record = record
        rng = random.Random(self.seed)
        self._line = LineFaults(self.faults, random.Random(rng.randrange(1 << 62)))
        gun_rng = random.Random(rng.randrange(1 << 62))
        self.capture: Capture | None = None
        self.gun: Gun | None = None
        self._player: ScenarioPlayer | None = None
        self._source: _Source
        if replay is not None:
            if not self.faults.line_clean or self.faults.events:
                raise ValueError("faults cannot be injected into a replay")
            self.capture = load_capture(replay)
            self._source = ReplaySource(self.capture)
            self.scenario: Scenario | None = None
        else:
            self.scenario = resolve_scenario(scenario)
            self.gun = Gun(self.scenario.gun, gun_rng, record=record)
            link_control = _LinkControl(self)
            self._player = ScenarioPlayer(self.scenario, self.gun, link_control, self.faults.events)
            self._source = self._player
        self._port = PtyPort(self.link)
        self._receiver = HostReceiver()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._commands: deque[tuple[Callable[[], object], list[object], threading.Event]] = deque()
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._started = threading.Event()
        self.error: BaseException | None = None
        """What stopped the simulator's thread, if it failed."""
        self._queue: deque[_Pending] = deque()
        self._backlog = 0
        self._queue_boot: int | None = None
        self._log: list[Outgoing] = []
        self._written = bytearray()
        self._host_frames: list[HostFrame] = []
        self._connected = False
        self._connected_at = 0.0
        self._host_spoke = False
        self._plugged = False
        self._t0 = 0.0
        self._clock_running = replay is None
        """A replay's clock starts when the first host opens the port, so it misses nothing."""
        self._paused = False
        self._fast_forward: tuple[float, Speed] | None = None
        """Scenario time a fast-forward plays to, and the speed to go back to there."""
        self._now_ms = 0.0
        self._line_free_at = 0.0
        self._shot_index: dict[tuple[int, int], ShotRecord] = {}
        self._in_flight: deque[tuple[Outgoing, ShotRecord | None]] = deque(maxlen=8192)
        """The latest transmissions written (and the shot each delivered first), newest last:
        what an unplug may have caught still in the pseudo-terminal, unread."""
        self._indexed = 0
        self._written_total = 0
        self._last_write_at = 0.0
        self._wall_lock = threading.Lock()
        self._wall_marks: deque[tuple[int, float]] = deque()
        """For a replay: (bytes written up to the end of a transmission, its capture time)."""

    # --- life cycle --------------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> str:
        """Open the pseudo-terminal, power the gun up and start the thread; return the path.

        The path is the link if one was given, else the pseudo-terminal's name. Raises
        ``OSError`` if the pseudo-terminal or link cannot be made.
        """
        if self._thread is not None:
            raise RuntimeError("the simulator was already started")
        self._port.open()
        self._plugged = True
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._t0 = time.monotonic()
        if self.gun is not None:
            self.gun.power_on()
        self._collect()
        self._thread = threading.Thread(target=self._run, name="mg400-simulator", daemon=True)
        self._thread.start()
        self._started.wait(timeout)
        path = self._port.path
        assert path is not None
        return path

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, close the pseudo-terminal and remove the link. Safe to call twice."""
        thread = self._thread
        if thread is None:
            self._port.close()
            return
        self._stopping = True
        self._wake()
        thread.join(timeout)
        self._port.close()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1
        self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def done(self) -> bool:
        """True once the scenario (or replay) has run to its end and its output is written."""
        with self._lock:
            return self._source.done and not self._queue

    def wait_done(self, timeout: float | None = None) -> bool:
        """Wait until the scenario has finished; False on timeout or if the thread died."""
        return self.wait_until(lambda s: s.done, timeout)

    def wait_drained(self, timeout: float = 2.0) -> bool:
        """Wait until the host has read everything written (or has closed the port)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._queue and self._port.unread() == 0:
                    return True
            time.sleep(0.01)
        return False

    def wait_until(
        self, predicate: Callable[[Simulator], bool], timeout: float | None = None
    ) -> bool:
        """Wait until ``predicate(self)`` holds (checked after every step of the loop)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                if not self.running:
                    return predicate(self)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(0.05 if left is None else min(left, 0.05))
            return True

    # --- where the gun is ----------------------------------------------------------------------

    @property
    def path(self) -> str | None:
        """Where hosts open the gun (the link, or the pseudo-terminal); None while unplugged."""
        with self._lock:
            return self._port.path

    @property
    def pty_name(self) -> str | None:
        """The current pseudo-terminal's name (``/dev/pts/N``); None while unplugged."""
        with self._lock:
            return self._port.slave_name if self._port.is_open else None

    @property
    def plugged(self) -> bool:
        """True while the cable is in (a pseudo-terminal exists)."""
        with self._lock:
            return self._plugged

    @property
    def host_connected(self) -> bool:
        """True while a host has the port open."""
        with self._lock:
            return self._connected

    @property
    def scenario_ms(self) -> float:
        """Scenario time reached."""
        with self._lock:
            return self._now_ms

    @property
    def paused(self) -> bool:
        """True while scenario time is stopped by :meth:`pause`."""
        with self._lock:
            return self._paused

    # --- playback control (any thread; gun and replay) ---------------------------------------

    def pause(self) -> None:
        """Stop scenario time: nothing new is produced until :meth:`resume`.

        No shots, heartbeats or replayed bytes; the gun's uptime stands still. What was already
        on its way to the line (at most one burst at ``"max"``) still goes out, and host frames
        are still answered (a gun at its frozen uptime, a replay from what it has played), so
        answers keep their place after the bytes before them. Does nothing if already paused.
        """
        self._call(self._do_pause)

    def resume(self) -> None:
        """Let scenario time run again from where it stopped (no catch-up burst)."""
        self._call(self._do_resume)

    def set_speed(self, speed: Speed) -> None:
        """Run scenario time ``speed`` times faster from now on, or as fast as the host reads
        (``"max"``); ``ValueError`` for anything else.

        Scenario time carries on from where it is (paused or not), and the baud rate follows
        the speed as at construction unless one was given.
        """
        _check_speed(speed)
        self._call(lambda: self._do_set_speed(speed, ends_fast_forward=True))

    def fast_forward_to(self, ms: float) -> None:
        """Play as fast as the host reads until scenario time ``ms``, then at the speed before.

        Nothing is skipped: every byte still goes out, in order, so what records the replay
        records all of it. Does nothing if ``ms`` is already reached; a new speed ends it.
        """
        self._call(lambda: self._do_fast_forward(ms))

    @property
    def fast_forwarding(self) -> bool:
        """True while a :meth:`fast_forward_to` has not reached its time."""
        with self._lock:
            return self._fast_forward is not None

    def _do_fast_forward(self, ms: float) -> None:
        if ms <= self._now_ms:
            return
        back_to = self._fast_forward[1] if self._fast_forward else self.speed
        self._do_set_speed("max")
        self._fast_forward = (ms, back_to)

    def _do_pause(self) -> None:
        self._paused = True

    def _do_resume(self) -> None:
        if self._paused:
            self._paused = False
            self._anchor(time.monotonic())

    def _do_set_speed(self, speed: Speed, *, ends_fast_forward: bool = False) -> None:
        if ends_fast_forward:
            self._fast_forward = None
        self.speed = speed
        if not self._baud_given:
            self.baud = _default_baud(speed)
        self._anchor(time.monotonic())

    def _anchor(self, mono: float) -> None:
        """Make the schedule's start such that scenario time now is what it has reached."""
        if self.speed != "max":
            self._t0 = mono - self._now_ms / (1000.0 * self.speed)

    # --- live control (any thread) ---------------------------------------------------------

    def press_trigger(
        self, n_shots: int = 1, *, no_skin: bool = False, interval_ms: int | None = None
    ) -> None:
        """Fire ``n_shots`` in the current mode (fires nothing while locked or faulted)."""
        gun = self._need_gun()
        self._call(lambda: gun.press_trigger(n_shots, no_skin=no_skin, interval_ms=interval_ms))

    def release_trigger(self) -> None:
        """Abandon the rest of the shots pressed for."""
        gun = self._need_gun()
        self._call(gun.release_trigger)

    def set_settings(
        self,
        *,
        mode: Mode | None = None,
        depth_um: int | None = None,
        volume_nl: int | None = None,
        rate_spm: int | None = None,
    ) -> None:
        """Change settings as on the gun (SETTINGS goes out); ``ValueError`` if refused."""
        gun = self._need_gun()
        self._call(
            lambda: gun.set_settings(
                mode=mode, depth_um=depth_um, volume_nl=volume_nl, rate_spm=rate_spm
            )
        )

    def raise_fault(self, code: FaultCode, detail: int | None = None) -> None:
        """Raise a device fault (FAULT active 1)."""
        gun = self._need_gun()
        self._call(lambda: gun.raise_fault(code, detail))

    def clear_fault(self, code: FaultCode) -> None:
        """Clear a device fault (FAULT active 0)."""
        gun = self._need_gun()
        self._call(lambda: gun.clear_fault(code))

    def swap_syringe(self, capacity_ul: int | None = None) -> None:
        """Put in a full syringe."""
        gun = self._need_gun()
        self._call(lambda: gun.swap_syringe(capacity_ul))

    def set_battery(self, pct: float | None) -> None:
        """Set the battery level in percent (None: mains)."""
        gun = self._need_gun()
        self._call(lambda: gun.set_battery(pct))

    def power_cycle(self, off_ms: int = 1000) -> None:
        """Switch off now and on again after ``off_ms`` of scenario time (new boot_id)."""
        gun = self._need_gun()
        player = self._player
        assert player is not None

        def cycle() -> None:
            gun.power_off()
            player.at(gun.now + off_ms, gun.power_on)

        self._call(cycle)

    def power_off(self) -> None:
        """Switch the gun off (until :meth:`power_on`)."""
        gun = self._need_gun()
        self._call(gun.power_off)

    def power_on(self) -> None:
        """Switch the gun on (a new boot)."""
        gun = self._need_gun()
        self._call(gun.power_on)

    def unplug(self) -> None:
        """Pull the cable: the pseudo-terminal and the link go away (returns once they have)."""
        self._call(self._do_unplug)

    def replug(self) -> None:
        """Plug back in: a new pseudo-terminal behind the same link (returns once it exists)."""
        self._call(self._do_replug)

    def set_faults(self, config: FaultConfig) -> None:
        """Use these line fault probabilities from now on (its events are ignored)."""
        self._call(lambda: self._set_line_faults(config))

    def _set_line_faults(self, config: FaultConfig) -> None:
        self._line.config = config

    def _do_unplug(self) -> None:
        if not self._plugged:
            return
        # Bytes written but not yet read by the host go with the pseudo-terminal: those frames
        # never arrived, whatever the write said.
        self._unsend(self._port.unread())
        self._port.close()
        self._plugged = False
        while self._queue:
            self._finish(self._queue.popleft().item, Fate.UNPLUGGED)
        self._backlog = 0
        self._set_connected(False)

    def _do_replug(self) -> None:
        if self._plugged:
            return
        self._port.open()
        self._plugged = True

    # --- ground truth (any thread) ---------------------------------------------------------

    @property
    def boot_id(self) -> int:
        """The gun's current boot_id (0 while off; the last HELLO's during a replay)."""
        with self._lock:
            if self.gun is not None:
                return self.gun.boot_id
            assert isinstance(self._source, ReplaySource)
            return self._source.boot_id

    @property
    def shots_fired(self) -> int:
        """How many shots the gun has fired, all boots (0 during a replay)."""
        with self._lock:
            return self.gun.shots_fired if self.gun else 0

    @property
    def boot_ids(self) -> list[int]:
        """Every boot_id the gun has had, in order."""
        with self._lock:
            return list(self.gun.boots) if self.gun else []

    @property
    def locked(self) -> bool:
        """True while the host has the trigger locked."""
        with self._lock:
            return bool(self.gun and self.gun.locked)

    @property
    def state(self) -> State:
        """The state the next HEARTBEAT will report."""
        gun = self._need_gun()
        with self._lock:
            return gun.state

    @property
    def uptime_ms(self) -> int:
        """Device uptime now."""
        gun = self._need_gun()
        with self._lock:
            return gun.uptime_ms

    def shots(self) -> list[ShotRecord]:
        """Every shot the gun originally fired, all boots, in order (needs ``record``)."""
        with self._lock:
            return list(self.gun.history) if self.gun else []

    def shots_by_boot(self) -> dict[int, list[ShotRecord]]:
        """:meth:`shots` grouped by boot_id, boots in order."""
        out: dict[int, list[ShotRecord]] = {}
        with self._lock:
            for boot in self.gun.boots if self.gun else []:
                out[boot] = []
            for record in self.shots():
                out[record.boot_id].append(record)
        return out

    def resendable_shots(self) -> list[ShotRecord]:
        """The shots the gun can still resend: its ring for the current boot."""
        with self._lock:
            return self.gun.held_shots() if self.gun else []

    def unrecoverable_shots(self) -> list[ShotRecord]:
        """Shots never delivered intact that the gun can no longer resend (a previous boot,
        or fallen out of the ring): the host can only count them as lost."""
        with self._lock:
            held = {(r.boot_id, r.shot.shot_no) for r in self.resendable_shots()}
            return [
                r
                for r in self.shots()
                if not r.delivered and (r.boot_id, r.shot.shot_no) not in held
            ]

    def sent_frames(self) -> list[Outgoing]:
        """Every transmission (banner, frame, noise, duplicate) with its fate, in order."""
        with self._lock:
            return list(self._log)

    def sent_messages(self, kind: type | None = None) -> list[Outgoing]:
        """Transmitted frames carrying a message (of ``kind`` if given)."""
        with self._lock:
            return [
                o
                for o in self._log
                if o.message is not None and (kind is None or isinstance(o.message, kind))
            ]

    def sent_bytes(self) -> bytes:
        """Every byte written to the pseudo-terminals, in order (needs ``record``)."""
        with self._lock:
            return bytes(self._written)

    def host_frames(self) -> list[HostFrame]:
        """Every frame received from the host, in order (needs ``record``)."""
        with self._lock:
            return list(self._host_frames)

    def replay_wall_clock(self) -> float:
        """For a replay: the Unix time the original recorder read the bytes the host has read
        last, so that a replayed session carries the original's times, not the replay's.

        Meant as the host driver's clock (``Driver(wall_clock=...)``); callable from any
        thread. Raises ``RuntimeError`` for a simulated gun, whose time is now.
        """
        source = self._source
        if not isinstance(source, ReplaySource):
            raise RuntimeError("only a replay has the original's clock")
        # Only while a host has the port: opening the slave end otherwise would look, to the
        # simulator's thread, like a host arriving.
        unread = unread_by_host(self._port.slave_name) if self._connected else 0
        consumed = self._written_total - unread
        with self._wall_lock:
            marks = self._wall_marks
            while len(marks) > 1 and marks[0][0] < consumed:
                marks.popleft()
            if marks:
                return marks[0][1]
        walls = source.capture.walls
        return walls[0] if walls else time.time()

    @property
    def warnings(self) -> list[str]:
        """Scenario steps skipped because the gun refused them at the time."""
        with self._lock:
            return list(self._player.warnings) if self._player else []

    # --- internals ---------------------------------------------------------------------------

    def _need_gun(self) -> Gun:
        if self.gun is None:
            raise RuntimeError("a replay has no gun to control")
        return self.gun

    def _call(self, fn: Callable[[], _T]) -> _T:
        if not self.running:
            raise RuntimeError("the simulator is not running (call start() first)")
        box: list[object] = []
        done = threading.Event()
        with self._lock:
            self._commands.append((fn, box, done))
        self._wake()
        if not done.wait(10.0):
            raise TimeoutError("the simulator did not run the command within 10 s")
        if box and isinstance(box[0], BaseException):
            raise box[0]
        return box[0] if box else None  # type: ignore[return-value]

    def _wake(self) -> None:
        if self._wake_w >= 0:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self._wake_w, b"!")

    def _run(self) -> None:
        try:
            self._started.set()
            while not self._stopping:
                timeout = self._step()
                self._sleep(timeout)
        except BaseException as exc:  # the thread must record, not vanish
            self.error = exc
        finally:
            with self._changed:
                while self._commands:
                    _fn, box, done = self._commands.popleft()
                    box.append(RuntimeError("the simulator stopped"))
                    done.set()
                self._changed.notify_all()

    def _virtual_now(self, mono: float) -> float:
        if not self._clock_running:
            # A replay starts (and after a link break, goes on) once the host is ready: it has
            # spoken (so the replay knows to answer it, not the original host) or settled.
            if not self._connected or not self._settled(mono):
                return self._now_ms
            self._clock_running = True
            self._anchor(mono)  # scenario time carries on from where it stopped
        if self.speed == "max" or self._paused:
            return self._now_ms
        return max(self._now_ms, (mono - self._t0) * 1000.0 * self.speed)

    def _step(self) -> float:
        """One turn of the loop; returns how long to sleep at most."""
        with self._changed:
            self._update_connection()
            mono = time.monotonic()
            self._now_ms = self._virtual_now(mono)
            if (
                self._clock_running
                and not self._paused
                and (self.speed != "max" or self._connected)
            ):
                self._source.advance_to(self._now_ms)
            while self._commands:
                fn, box, done = self._commands.popleft()
                try:
                    box.append(fn())
                except Exception as exc:
                    box.append(exc)
                done.set()
            if self.speed == "max":
                self._advance_max()
            self._collect()
            if self._connected:
                self._read_host()
            self._write()
            self._take_link_break()
            self._index_new_shots()
            self._changed.notify_all()
            return self._timeout(mono)

    def _take_link_break(self) -> None:
        """Where the original link was closed and opened again, the replay's is too, once the
        host has read everything before; the replay waits for the host to come back."""
        source = self._source
        if not isinstance(source, ReplaySource) or not source.break_due or self._queue:
            return
        # A pseudo-terminal hands written bytes to the host's side a moment later: until then
        # they do not show as unread, so the line must have been quiet for a while too.
        quiet = time.monotonic() - self._last_write_at >= _BREAK_QUIET_S
        if self._connected and (not quiet or self._port.unread()):
            return
        if self._connected:
            self._do_unplug()
            self._do_replug()
        source.break_done()
        self._clock_running = False

    def _advance_max(self) -> None:
        if not self._connected or self._paused or not self._clock_running:
            return
        for _ in range(1000):
            if self._backlog >= _MAX_BURST:
                return
            nxt = self._source.next_event_ms()
            if nxt is None:
                return
            if self._fast_forward is not None and nxt > self._fast_forward[0]:
                # Reached: the rest plays at the speed from before, from here.
                back_to = self._fast_forward[1]
                self._do_set_speed(back_to, ends_fast_forward=True)
                return
            self._now_ms = max(self._now_ms, float(nxt))
            self._source.advance_to(self._now_ms)
            self._collect()

    def _timeout(self, mono: float) -> float:
        timeout = _MAX_SLEEP_S
        if self._queue and self._connected:
            if not self._settled(mono):
                timeout = min(timeout, max(0.0, self._connected_at + _HOST_SETTLE_S - mono))
            if self.baud:
                due = self._queue[0].due
                if due is not None:
                    timeout = min(timeout, max(0.0, due - mono))
            # otherwise poll() wakes on POLLOUT
        if isinstance(self._source, ReplaySource) and self._source.break_due:
            timeout = min(timeout, 0.01)  # waiting for the host to read what precedes it
        if self._paused:
            pass  # nothing is due until resume() wakes the loop
        elif self.speed == "max":
            if self._connected and not self._queue and self._source.next_event_ms() is not None:
                timeout = 0.0
        else:
            nxt = self._source.next_event_ms()
            if nxt is not None and self._clock_running:
                due = self._t0 + nxt / (1000.0 * self.speed)
                timeout = min(timeout, max(0.0, due - time.monotonic()))
        if not self._connected:
            timeout = min(timeout, _IDLE_POLL_S)
        return timeout

    def _sleep(self, timeout: float) -> None:
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        fd = self._port.fd
        if fd is not None and self._connected:
            mask = select.POLLIN
            if self._queue and not self.baud and self._settled(time.monotonic()):
                mask |= select.POLLOUT
            poller.register(fd, mask)
        events = poller.poll(timeout * 1000.0)
        if any(f == self._wake_r for f, _ in events):
            try:
                while os.read(self._wake_r, 4096):
                    pass
            except BlockingIOError:
                pass

    def _update_connection(self) -> None:
        self._set_connected(self._plugged and self._port.host_connected())

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        self._connected_at = time.monotonic()
        self._host_spoke = False
        self._receiver.reset()
        if not connected:
            # Bytes queued for a host that left are as good as flushed.
            while self._queue:
                self._finish(self._queue.popleft().item, Fate.UNHEARD)
            self._backlog = 0

    def _read_host(self) -> None:
        for _ in range(16):
            data = self._port.read()
            if not data:
                return
            for frame in self._receiver.feed(data):
                self._host_spoke = True
                if self.record:
                    self._host_frames.append(frame)
                self._source.on_host_frame(frame)
            self._collect()

    def _collect(self) -> None:
        """Move what the gun transmitted through the line faults onto the output queue."""
        boot = self.gun.boot_id if self.gun is not None else None
        if boot is not None and boot != self._queue_boot and self._queue:
            # A power cut loses what the gun had not yet put on the line.
            kept: deque[_Pending] = deque()
            for p in self._queue:
                if p.item.boot_id != boot and p.written == 0:
                    self._finish(p.item, Fate.POWER_OFF)
                    self._backlog -= len(p.data)
                else:
                    kept.append(p)
            self._queue = kept
        self._queue_boot = boot
        source = self._source
        if isinstance(source, ReplaySource):
            # Replayed bytes and answers carry no line faults: the capture has its own.
            for item, wall in source.take_timed_output():
                self._enqueue(item, wall=wall)
            return
        for item in source.take_output():
            if item.message is None:
                self._enqueue(item)
                continue
            out = self._line.apply(item.data)
            if out.noise:
                self._enqueue(Outgoing(out.noise, None, None, item.boot_id, item.at_ms))
            if out.data is None:
                self._finish(item, Fate.DROPPED)
                continue
            if out.corrupted:
                item.data = out.data
            self._enqueue(item, Fate.CORRUPTED if out.corrupted else None)
            if out.copies > 1:
                copy = Outgoing(
                    out.data, item.message, item.seq, item.boot_id, item.at_ms, duplicate=True
                )
                self._enqueue(copy, Fate.CORRUPTED if out.corrupted else None)

    def _enqueue(self, item: Outgoing, fate: Fate | None = None, wall: float | None = None) -> None:
        if fate is not None:
            item.fate = fate  # decided already; still goes on the line
        if not self._plugged:
            self._finish(item, Fate.UNPLUGGED)
            return
        if not self._connected:
            self._finish(item, Fate.UNHEARD)
            return
        if self._backlog + len(item.data) > MAX_BACKLOG:
            self._finish(item, Fate.OVERFLOW)
            return
        self._queue.append(_Pending(item, item.data, wall=wall))
        self._backlog += len(item.data)

    def _settled(self, mono: float) -> bool:
        """True once output may go to the connected host (see ``_HOST_SETTLE_S``)."""
        return self._host_spoke or mono - self._connected_at >= _HOST_SETTLE_S

    def _write(self) -> None:
        if not self._connected:
            return
        now = time.monotonic()
        if not self._settled(now):
            return
        while self._queue:
            pending = self._queue[0]
            if self.baud:
                # Each transmission reaches the host when its last bit has crossed the line.
                if pending.due is None:
                    start = max(self._line_free_at, now)
                    pending.due = start + len(pending.data) * 10.0 / self.baud
                    self._line_free_at = pending.due
                if now < pending.due:
                    return
            chunk = memoryview(pending.data)[pending.written :]
            n = self._port.write(chunk) if chunk else 0
            if n:
                self._last_write_at = now
            if n and self.record:
                self._written += chunk[:n]
            pending.written += n
            self._backlog -= n
            self._written_total += n
            if pending.written < len(pending.data):
                return
            if pending.wall is not None:
                with self._wall_lock:
                    self._wall_marks.append((self._written_total, pending.wall))
            self._queue.popleft()
            fate = pending.item.fate
            self._finish(pending.item, Fate.SENT if fate is Fate.PENDING else fate)

    def _finish(self, item: Outgoing, fate: Fate) -> None:
        item.fate = fate
        if self.record:
            self._log.append(item)
        first_delivery: ShotRecord | None = None
        if fate is Fate.SENT and isinstance(item.message, Shot) and self.gun is not None:
            record = self._find_shot(item.boot_id, item.message.shot_no)
            if record is not None and not record.delivered:
                record.delivered = True
                first_delivery = record
        if fate is Fate.SENT and self.record:
            self._in_flight.append((item, first_delivery))

    def _unsend(self, unread: int) -> None:
        """The last ``unread`` bytes written never reached the host: undo their delivery."""
        while unread > 0 and self._in_flight:
            item, delivered = self._in_flight.pop()
            unread -= len(item.data)
            item.fate = Fate.UNPLUGGED
            if delivered is not None:
                delivered.delivered = False
        self._in_flight.clear()

    def _index_new_shots(self) -> None:
        if self.gun is None or not self.record:
            return
        history = self.gun.history
        for record in history[self._indexed :]:
            self._shot_index[(record.boot_id, record.shot.shot_no)] = record
        self._indexed = len(history)

    def _find_shot(self, boot_id: int, shot_no: int) -> ShotRecord | None:
        self._index_new_shots()
        record = self._shot_index.get((boot_id, shot_no))
        if record is None and self.gun is not None and boot_id == self.gun.boot_id:
            return self.gun.held_shot(shot_no)
        return record
