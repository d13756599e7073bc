"""The device model of an MG-400 gun: the device side of IGP/1 as pure logic on a virtual clock.

Nothing here does I/O or reads a real clock. The owner advances the gun with :meth:`Gun.advance_to`
(milliseconds of scenario time), presses its trigger, changes its settings, raises faults and
hands it the host's frames; the gun appends what it transmits to :attr:`Gun.outbox`, each item
already framed with the gun's own SEQ. Every random choice comes from the ``random.Random`` the
owner passes in, so a seeded run repeats exactly.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from dataclasses import dataclass, field

from protocols.igp1 import (
    BATTERY_MAINS,
    Ack,
    AckStatus,
    Fault,
    FaultCode,
    Heartbeat,
    Hello,
    IdentReq,
    Lock,
    LockReason,
    Message,
    Mode,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
    State,
)
from protocols.igp1.device_limits import SHOT_HISTORY

HEARTBEAT_PERIOD_MS = 1000
"""Spec section 5: a HEARTBEAT every 1000 ms in every state."""
CONTINUOUS_PERIOD_MS = 250
"""Spec section 4: CONTINUOUS mode reports one SHOT every 250 ms."""
BOOT_MS = 120
"""Uptime at which the power-up banner and frames go out (the firmware's boot time)."""
NEEDLE_TRAVEL_MS = 60
"""Delay between the trigger press and the first shot's SHOT frame (needle in and out)."""
MIN_RING = SHOT_HISTORY
"""Spec section 5: the device keeps at least its last 1024 shots of the current boot."""

# Validation limits of the gun (and of scenario files); values outside are refused.
DEPTH_RANGE_UM = (100, 13_000)
VOLUME_RANGE_NL = (1_000, 200_000)
RATE_MAX_SPM = 600
"""Highest rate the gun accepts; the fastest pistols fire about 9 shots/s (540 per minute)."""
SYRINGE_RANGE_UL = (1_000, 20_000)
LOW_BATTERY_PCT = 20
"""LOW_BATTERY is raised when the battery falls below this level."""
LOW_BATTERY_CLEAR_PCT = 25
"""LOW_BATTERY is cleared when the battery is back at or above this level."""
BATTERY_PER_SHOT = 0.01
"""Percent of battery one shot costs."""
BATTERY_PER_MINUTE = 0.05
"""Percent of battery a minute of being on costs."""

BLOCKING_FAULTS = frozenset(FaultCode) - {FaultCode.LOW_BATTERY}
"""Faults during which the trigger fires nothing (LOW_BATTERY only warns)."""

_DEFAULT_DETAIL = {FaultCode.OVER_TEMPERATURE: 48}


class Fate(enum.Enum):
    """What became of a frame the gun transmitted (filled in by the line, not by the gun)."""

    PENDING = "pending"
    """Not yet written to the line."""
    SENT = "sent"
    """Written intact to a host that had the port open (and had spoken, or had had it open
    for 0.2 s, so its open-time input flush was over)."""
    UNHEARD = "unheard"
    """Not written: no host had the port open, or it closed with the bytes still queued."""
    DROPPED = "dropped"
    """Removed by the ``drop`` line fault."""
    CORRUPTED = "corrupted"
    """Written with a flipped bit (``bitflip`` line fault): its CRC fails."""
    UNPLUGGED = "unplugged"
    """Transmitted while the cable was out, or still unread in the pseudo-terminal when it was
    pulled: lost."""
    POWER_OFF = "power off"
    """Still queued when the power went off: never sent."""
    OVERFLOW = "overflow"
    """Discarded because the host stopped reading and the output buffer was full."""


@dataclass(slots=True)
class Outgoing:
    """One transmission of the gun: a framed message (or the ASCII boot banner)."""

    data: bytes
    message: Message | None
    seq: int | None
    boot_id: int
    at_ms: int
    """Scenario time of the transmission."""
    fate: Fate = Fate.PENDING
    duplicate: bool = False
    """True for the second copy made by the ``dup`` line fault."""


@dataclass(frozen=True, slots=True)
class GunIdentity:
    """What HELLO says about the gun."""

    model: str = "MG-400"
    serial: str = "SN0042"
    firmware: tuple[int, int, int] = (2, 4, 1)


@dataclass(slots=True)
class GunSettings:
    """The practitioner's settings, as SETTINGS reports them."""

    mode: Mode = Mode.SINGLE
    depth_um: int = 2500
    volume_nl: int = 50_000
    rate_spm: int = 0


@dataclass(slots=True)
class ShotRecord:
    """Ground truth for one shot as the gun first fired it."""

    serial: str
    boot_id: int
    shot: Shot
    at_ms: int
    """Scenario time the shot was fired."""
    delivered: bool = False
    """True once a SHOT frame for it (original or retransmission) was written intact to a
    host that had opened the port and spoken to the gun (:attr:`Fate.SENT`)."""

    @property
    def key(self) -> tuple[str, int, int]:
        """The spec's identity of a shot: (serial, boot_id, shot_no)."""
        return (self.serial, self.boot_id, self.shot.shot_no)


@dataclass(slots=True)
class _Press:
    count: int
    no_skin: bool
    interval_ms: int | None


@dataclass(slots=True)
class _Boot:
    boot_id: int
    started_ms: int
    ring: deque[ShotRecord]
    last_shot_no: int = 0
    seq: int = 0


@dataclass(frozen=True, slots=True)
class HostFrame:
    """A frame from the host with a good CRC: a known message, or only its id if unknown."""

    seq: int
    msg_id: int
    message: Message | None


@dataclass(slots=True)
class GunConfig:
    """How a gun starts: identity, settings, syringe, battery and shot ring."""

    identity: GunIdentity = field(default_factory=GunIdentity)
    settings: GunSettings = field(default_factory=GunSettings)
    syringe_ul: int = 2500
    battery_pct: float | None = 87.0
    """``None`` means mains power (HEARTBEAT reports 255)."""
    ring_size: int = MIN_RING


def check_settings(mode: Mode, depth_um: int, volume_nl: int, rate_spm: int) -> None:
    """Raise ``ValueError`` naming the first setting the gun refuses."""
    lo, hi = DEPTH_RANGE_UM
    if not lo <= depth_um <= hi:
        raise ValueError(f"depth {depth_um / 1000:g} mm is outside {lo / 1000:g}–{hi / 1000:g} mm")
    lo, hi = VOLUME_RANGE_NL
    if not lo <= volume_nl <= hi:
        raise ValueError(
            f"volume {volume_nl / 1e6:g} mL per shot is outside {lo / 1e6:g}–{hi / 1e6:g} mL"
        )
    if not 0 <= rate_spm <= RATE_MAX_SPM:
        raise ValueError(f"rate {rate_spm}/min is outside 0–{RATE_MAX_SPM}/min")
    if mode in (Mode.REPEAT, Mode.NAPPAGE) and rate_spm == 0:
        raise ValueError(f"mode {mode.name.lower()} needs a rate above 0/min")


class Gun:
    """A virtual MG-400: state, settings, shot ring, syringe, battery and faults.

    All times are scenario milliseconds (the owner's virtual clock); the device's ``uptime_ms``
    is scenario time since the last power-up plus :data:`BOOT_MS`.
    """

    def __init__(self, config: GunConfig, rng: random.Random, *, record: bool = True) -> None:
        if config.ring_size < MIN_RING:
            raise ValueError(f"ring_size {config.ring_size} is below the spec's {MIN_RING}")
        s = config.settings
        check_settings(s.mode, s.depth_um, s.volume_nl, s.rate_spm)
        self.identity = config.identity
        self.settings = GunSettings(s.mode, s.depth_um, s.volume_nl, s.rate_spm)
        self.syringe_capacity_ul = config.syringe_ul
        self.syringe_remaining_nl = config.syringe_ul * 1000
        self.battery: float | None = config.battery_pct
        self.ring_size = config.ring_size
        self.record = record
        self.now = 0
        self.locked = False
        self.lock_reason = LockReason.MANUAL
        self.faults: dict[FaultCode, int] = {}
        self.outbox: list[Outgoing] = []
        self.history: list[ShotRecord] = []
        """Every shot originally fired, all boots, in order (empty unless ``record``)."""
        self.boots: list[int] = []
        """Every boot_id drawn, in order."""
        self.shots_fired = 0
        """Shots fired since the gun was made, all boots (kept with or without ``record``)."""
        self._rng = rng
        self._boot: _Boot | None = None
        self._presses: deque[_Press] = deque()
        self._next_shot_at: int | None = None
        self._next_heartbeat = 0
        self._battery_at = 0

    # --- power ---------------------------------------------------------------------------

    @property
    def powered(self) -> bool:
        """True between power-up and power-off."""
        return self._boot is not None

    @property
    def boot_id(self) -> int:
        """The current boot's id (0 while powered off)."""
        return self._boot.boot_id if self._boot else 0

    @property
    def uptime_ms(self) -> int:
        """Device uptime now (0 while powered off)."""
        return self._uptime(self.now)

    @property
    def last_shot_no(self) -> int:
        """Number of the last shot of the current boot (0 before the first)."""
        return self._boot.last_shot_no if self._boot else 0

    def power_on(self) -> None:
        """Power up: new boot_id, counters restart, banner then HELLO, SETTINGS, HEARTBEAT."""
        if self._boot is not None:
            return
        boot_id = self._rng.randrange(1, 1 << 32)
        while boot_id in self.boots:
            boot_id = self._rng.randrange(1, 1 << 32)
        self.boots.append(boot_id)
        self._boot = _Boot(boot_id, self.now - BOOT_MS, deque(maxlen=self.ring_size))
        self.locked = False
        self._presses.clear()
        self._next_shot_at = None
        self._battery_at = self.now
        # Faults that are conditions of the hardware come back at boot; the rest clear.
        kept = {}
        if self.syringe_remaining_nl == 0:
            kept[FaultCode.SYRINGE_EMPTY] = 0
        if self.battery is not None and self.battery < LOW_BATTERY_PCT:
            kept[FaultCode.LOW_BATTERY] = int(self.battery)
        self.faults = kept
        major, minor, patch = self.identity.firmware
        banner = f"\r\n{self.identity.model} fw {major}.{minor}.{patch} boot\r\n".encode("ascii")
        self.outbox.append(Outgoing(banner, None, None, boot_id, self.now))
        self._send_identity()
        for code, detail in kept.items():
            self._emit(Fault(self.uptime_ms, code, 1, detail))
        self._next_heartbeat = self.now + HEARTBEAT_PERIOD_MS

    def power_off(self) -> None:
        """Cut the power: nothing is sent until :meth:`power_on`; the shot ring is lost."""
        if self._boot is None:
            return
        self._drain_battery()
        self._boot = None
        self._presses.clear()
        self._next_shot_at = None

    def _uptime(self, at: int) -> int:
        if self._boot is None:
            return 0
        return (at - self._boot.started_ms) & 0xFFFF_FFFF

    # --- clock -----------------------------------------------------------------------------

    def next_event_ms(self) -> int | None:
        """Scenario time of the gun's next own transmission (heartbeat or shot), if any."""
        if self._boot is None:
            return None
        if self._next_shot_at is not None:
            return min(self._next_heartbeat, self._next_shot_at)
        return self._next_heartbeat

    def advance_to(self, t: int) -> None:
        """Run the gun up to scenario time ``t``: every heartbeat and shot due by then."""
        while self._boot is not None:
            nxt = self.next_event_ms()
            if nxt is None or nxt > t:
                break
            self.now = max(self.now, nxt)
            if self._next_shot_at is not None and self._next_shot_at <= self._next_heartbeat:
                self._fire_due()
            else:
                self._next_heartbeat += HEARTBEAT_PERIOD_MS
                self._drain_battery()
                self._emit(self._heartbeat())
        self.now = max(self.now, t)

    # --- the practitioner's side -----------------------------------------------------------

    @property
    def state(self) -> State:
        """The state HEARTBEAT reports."""
        if any(code in BLOCKING_FAULTS for code in self.faults):
            return State.FAULT
        if self.locked:
            return State.LOCKED
        if self._next_shot_at is not None:
            return State.INJECTING
        if self.syringe_remaining_nl == 0:
            return State.IDLE
        return State.READY

    @property
    def can_fire(self) -> bool:
        """True when a trigger press would fire a shot."""
        return self.powered and self.state in (State.READY, State.INJECTING)

    @property
    def trigger_busy(self) -> bool:
        """True while presses are queued or a burst is under way."""
        return self._next_shot_at is not None

    def press_trigger(
        self, count: int = 1, *, no_skin: bool = False, interval_ms: int | None = None
    ) -> None:
        """Fire ``count`` shots: presses in SINGLE, a held trigger in REPEAT and NAPPAGE, and
        ``count`` interval reports in CONTINUOUS. A locked or faulted gun fires nothing."""
        if count < 1:
            raise ValueError("a trigger press fires at least one shot")
        if not self.can_fire:
            return
        self._presses.append(_Press(count, no_skin, interval_ms))
        if self._next_shot_at is None:
            self._next_shot_at = self.now + NEEDLE_TRAVEL_MS

    def release_trigger(self) -> None:
        """Stop firing: queued presses and the rest of a burst are abandoned."""
        self._presses.clear()
        self._next_shot_at = None

    def set_settings(
        self,
        *,
        mode: Mode | None = None,
        depth_um: int | None = None,
        volume_nl: int | None = None,
        rate_spm: int | None = None,
    ) -> None:
        """Change settings as the practitioner does on the gun; SETTINGS goes out if changed.

        Raises ``ValueError`` for a value the gun refuses (nothing is changed then).
        """
        s = self.settings
        new = GunSettings(
            s.mode if mode is None else Mode(mode),
            s.depth_um if depth_um is None else depth_um,
            s.volume_nl if volume_nl is None else volume_nl,
            s.rate_spm if rate_spm is None else rate_spm,
        )
        check_settings(new.mode, new.depth_um, new.volume_nl, new.rate_spm)
        if new != s:
            self.settings = new
            if self.powered:
                self._emit(self._settings())

    def swap_syringe(self, capacity_ul: int | None = None) -> None:
        """Put in a full syringe (of ``capacity_ul``, default the current size)."""
        capacity = self.syringe_capacity_ul if capacity_ul is None else capacity_ul
        lo, hi = SYRINGE_RANGE_UL
        if not lo <= capacity <= hi:
            raise ValueError(
                f"syringe {capacity / 1000:g} mL is outside {lo / 1000:g}–{hi / 1000:g} mL"
            )
        changed = capacity != self.syringe_capacity_ul
        self.syringe_capacity_ul = capacity
        self.syringe_remaining_nl = capacity * 1000
        if self.powered and changed:
            self._emit(self._settings())
        self.clear_fault(FaultCode.SYRINGE_EMPTY)

    def set_battery(self, pct: float | None) -> None:
        """Set the battery level (percent), or ``None`` for mains power."""
        if pct is not None and not 0 <= pct <= 100:
            raise ValueError(f"battery {pct:g}% is outside 0–100%")
        self._drain_battery()
        self.battery = pct
        self._check_battery()

    def raise_fault(self, code: FaultCode, detail: int | None = None) -> None:
        """Raise a fault (FAULT active 1); a blocking fault stops the trigger."""
        code = FaultCode(code)
        if detail is None:
            if code is FaultCode.LOW_BATTERY and self.battery is not None:
                detail = int(self.battery)
            else:
                detail = _DEFAULT_DETAIL.get(code, 0)
        if not 0 <= detail <= 0xFFFF:
            raise ValueError(f"fault detail {detail} does not fit in u16")
        if code in self.faults:
            return
        self.faults[code] = detail
        if code in BLOCKING_FAULTS:
            self.release_trigger()
        if self.powered:
            self._emit(Fault(self.uptime_ms, code, 1, detail))

    def clear_fault(self, code: FaultCode) -> None:
        """Clear a fault (FAULT active 0)."""
        code = FaultCode(code)
        if code not in self.faults:
            return
        detail = self.faults.pop(code)
        if self.powered:
            self._emit(Fault(self.uptime_ms, code, 0, detail))

    # --- the host's side -------------------------------------------------------------------

    def handle(self, frame: HostFrame) -> None:
        """Answer one frame from the host, as spec section 5 says."""
        if self._boot is None:
            return
        msg = frame.message
        if isinstance(msg, IdentReq):
            self._ack(frame, AckStatus.OK)
            self._send_identity()
        elif isinstance(msg, ResendReq):
            self._resend(frame, msg)
        elif isinstance(msg, Lock):
            if msg.lock not in (0, 1) or msg.reason not in set(LockReason):
                self._ack(frame, AckStatus.BAD_ARGUMENT)
                return
            self._ack(frame, AckStatus.OK)
            self.locked = msg.lock == 1
            self.lock_reason = LockReason(msg.reason)
            if self.locked:
                self.release_trigger()
        else:
            # Unknown ids, and device→host messages sent by a confused host.
            self._ack(frame, AckStatus.UNSUPPORTED)

    def held_shots(self) -> list[ShotRecord]:
        """The current boot's ring: every shot the gun can still resend."""
        return list(self._boot.ring) if self._boot else []

    def held_shot(self, shot_no: int) -> ShotRecord | None:
        """The current boot's shot ``shot_no`` if the ring still holds it."""
        if self._boot is None or not self._boot.ring:
            return None
        ring = self._boot.ring
        i = shot_no - ring[0].shot.shot_no
        return ring[i] if 0 <= i < len(ring) else None

    def _resend(self, frame: HostFrame, req: ResendReq) -> None:
        assert self._boot is not None
        if req.from_shot_no > req.to_shot_no:
            self._ack(frame, AckStatus.BAD_ARGUMENT)
            return
        ring = self._boot.ring
        first_held = ring[0].shot.shot_no if ring else self._boot.last_shot_no + 1
        lo = max(req.from_shot_no, 1)
        hi = min(req.to_shot_no, self._boot.last_shot_no)
        missing = lo <= hi and lo < first_held
        self._ack(frame, AckStatus.PARTIAL if missing else AckStatus.OK)
        if not ring or lo > hi:
            return
        start = max(lo, first_held) - first_held
        stop = hi - first_held + 1
        for i in range(start, stop):
            record = ring[i]
            s = record.shot
            again = Shot(
                s.shot_no,
                s.uptime_ms,
                s.depth_um,
                s.flags | ShotFlags.RETRANSMIT,
                s.volume_nl,
                s.syringe_remaining_nl,
            )
            self._emit(again)

    # --- internals -------------------------------------------------------------------------

    def _ack(self, frame: HostFrame, status: AckStatus) -> None:
        self._emit(Ack(frame.msg_id, frame.seq, status))

    def _emit(self, msg: Message) -> None:
        boot = self._boot
        if boot is None:
            return
        data = msg.encode(boot.seq)
        self.outbox.append(Outgoing(data, msg, boot.seq, boot.boot_id, self.now))
        boot.seq = (boot.seq + 1) & 0xFF

    def _send_identity(self) -> None:
        boot = self._boot
        assert boot is not None
        major, minor, patch = self.identity.firmware
        ident = self.identity
        self._emit(Hello(1, major, minor, patch, boot.boot_id, ident.model, ident.serial))
        self._emit(self._settings())
        self._emit(self._heartbeat())

    def _settings(self) -> Settings:
        s = self.settings
        return Settings(
            self.uptime_ms, s.mode, s.depth_um, s.volume_nl, s.rate_spm, self.syringe_capacity_ul
        )

    def _heartbeat(self) -> Heartbeat:
        battery = BATTERY_MAINS if self.battery is None else round(self.battery)
        bits = 0
        for code in self.faults:
            bits |= 1 << code
        return Heartbeat(
            self.uptime_ms, self.last_shot_no, self.state, battery, bits, self.syringe_remaining_nl
        )

    def _drain_battery(self) -> None:
        if self.battery is not None and self.now > self._battery_at:
            minutes = (self.now - self._battery_at) / 60_000
            self.battery = max(0.0, self.battery - minutes * BATTERY_PER_MINUTE)
        self._battery_at = self.now
        self._check_battery()

    def _check_battery(self) -> None:
        if self.battery is None or self.battery >= LOW_BATTERY_CLEAR_PCT:
            self.clear_fault(FaultCode.LOW_BATTERY)
        elif self.battery < LOW_BATTERY_PCT:
            self.raise_fault(FaultCode.LOW_BATTERY, int(self.battery))

    def _interval(self, press: _Press) -> int:
        mode = self.settings.mode
        if mode is Mode.CONTINUOUS:
            return CONTINUOUS_PERIOD_MS
        if mode is Mode.SINGLE:
            if press.interval_ms is not None:
                return press.interval_ms
            return self._rng.randint(350, 900)
        return max(1, round(60_000 / max(self.settings.rate_spm, 1)))

    def _fire_due(self) -> None:
        press = self._presses[0] if self._presses else None
        if press is None or not self.can_fire:
            self.release_trigger()
            return
        self._fire(press.no_skin)  # may release the trigger (syringe empty)
        press.count -= 1
        if press.count == 0 and self._presses and self._presses[0] is press:
            self._presses.popleft()
        if not self._presses or not self.can_fire:
            self.release_trigger()
            return
        self._next_shot_at = self.now + self._interval(self._presses[0])

    def _fire(self, no_skin: bool) -> None:
        boot = self._boot
        assert boot is not None
        s = self.settings
        flags = 0
        if s.mode is Mode.CONTINUOUS:
            flags |= ShotFlags.CONTINUOUS
            wanted = s.volume_nl * CONTINUOUS_PERIOD_MS // 1000
        else:
            wanted = s.volume_nl
        volume = min(wanted, self.syringe_remaining_nl)
        if volume < wanted:
            flags |= ShotFlags.PARTIAL
        if no_skin:
            flags |= ShotFlags.NO_SKIN
            depth = 0
        else:
            sigma = max(20.0, s.depth_um * 0.03)
            depth = max(0, min(0xFFFF, round(self._rng.gauss(s.depth_um, sigma))))
        self.syringe_remaining_nl -= volume
        boot.last_shot_no += 1
        shot = Shot(
            boot.last_shot_no, self.uptime_ms, depth, flags, volume, self.syringe_remaining_nl
        )
        record = ShotRecord(self.identity.serial, boot.boot_id, shot, self.now)
        boot.ring.append(record)
        self.shots_fired += 1
        if self.record:
            self.history.append(record)
        self._emit(shot)
        if self.battery is not None:
            self.battery = max(0.0, self.battery - BATTERY_PER_SHOT)
            self._check_battery()
        if self.syringe_remaining_nl == 0:
            self.raise_fault(FaultCode.SYRINGE_EMPTY)
