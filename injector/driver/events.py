"""Typed events the driver publishes; frozen, so they can cross threads safely.

Times: ``at`` is Unix time (seconds) when the driver handled the frame; ``device_time`` is the
device's ``uptime_ms`` mapped to Unix time by :class:`~injector.driver.clock.DeviceClock`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from protocols.igp1 import DecoderStats


class LinkState(enum.Enum):
    """The link as the host sees it."""

    CONNECTING = "connecting"
    """The port is open and the device has not yet identified itself."""
    LIVE = "live"
    """The device identified itself and frames are arriving."""
    LOST = "lost"
    """The port failed or went silent for longer than the silence timeout."""
    RECONNECTING = "reconnecting"
    """Trying to reopen the port, with backoff."""
    STOPPED = "stopped"
    """The driver was stopped and the port closed."""


@dataclass(frozen=True, slots=True)
class LinkChanged:
    """The link moved to another state; ``reason`` says why in a few words."""

    state: LinkState
    port: str
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class DeviceIdentified:
    """A HELLO: which gun, which firmware, which power-up (``boot_id``)."""

    model: str
    serial: str
    firmware: str
    boot_id: int
    at: float


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    """A SETTINGS frame: what the practitioner set on the gun."""

    serial: str
    boot_id: int
    mode: int
    depth_set_um: int
    volume_set_nl: int
    rate_spm: int
    syringe_capacity_ul: int
    uptime_ms: int
    at: float


class ShotProblem(enum.IntFlag):
    """Values of a CRC-valid SHOT that no gun could have sent (spec sections 3 and 4)."""

    NONE = 0
    DEPTH_OUT_OF_RANGE = 1
    """Deeper than any gun reaches (``device_limits.MAX_DEPTH_UM``)."""
    VOLUME_OUT_OF_RANGE = 2
    """More than any single shot delivers (``device_limits.MAX_SHOT_VOLUME_NL``)."""
    NO_DEPTH_ON_SKIN = 4
    """Depth 0 on a shot not flagged NO_SKIN: the depth sensor's reading is missing."""
    DEPTH_WITHOUT_SKIN = 8
    """A NO_SKIN (air) shot with a depth: the spec says its depth is 0."""
    UNDEFINED_FLAGS = 16
    """Flag bits the spec does not define (it says they are 0)."""
    NO_VOLUME = 32
    """Volume 0 on a shot flagged neither PARTIAL nor CONTINUOUS."""


@dataclass(frozen=True, slots=True)
class ShotReceived:
    """A shot, published once per (serial, boot_id, shot_no) whatever the line did."""

    serial: str
    boot_id: int
    shot_no: int
    uptime_ms: int
    device_time: float
    depth_um: int
    flags: int
    volume_nl: int
    syringe_remaining_nl: int
    recovered: bool
    """It filled a gap (arrived after a later shot or after a RESEND_REQ)."""
    received_at: float
    """Unix time when its bytes were read from the port."""
    received_ns: int
    """``time.monotonic_ns()`` when its bytes were read from the port (for latency)."""
    implausible: ShotProblem = ShotProblem.NONE
    """What no gun could have sent (empty for a sound shot). A shot with any problem is
    recorded as received but must be kept out of the dose; a :class:`DeviceAnomaly` of kind
    ``IMPLAUSIBLE_VALUES`` names it in the record."""


@dataclass(frozen=True, slots=True)
class FaultChanged:
    """A FAULT frame: a fault raised (``active``) or cleared."""

    serial: str
    boot_id: int
    code: int
    active: bool
    detail: int
    uptime_ms: int
    device_time: float
    at: float


@dataclass(frozen=True, slots=True)
class Status:
    """A HEARTBEAT: the gun's state, battery, faults and syringe."""

    serial: str
    boot_id: int
    uptime_ms: int
    last_shot_no: int
    state: int
    battery_pct: int
    fault_bits: int
    syringe_remaining_nl: int
    at: float


@dataclass(frozen=True, slots=True)
class DeviceRebooted:
    """The gun came back with a new ``boot_id``: its shot numbers start again at 1."""

    serial: str
    old_boot_id: int
    new_boot_id: int
    at: float


@dataclass(frozen=True, slots=True)
class ShotsRecovered:
    """Shots that filled gaps, counted per read from the port."""

    serial: str
    boot_id: int
    count: int
    at: float


@dataclass(frozen=True, slots=True)
class ShotsLost:
    """Shots known to have been fired that can no longer be asked for.

    ``count`` is -1 (with the shot's range) when a shot reported lost arrives after all, so
    that a running total stays exact.
    """

    serial: str
    boot_id: int
    count: int
    ranges: tuple[tuple[int, int], ...]
    """Inclusive ranges of the lost shot numbers."""
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class LockChanged:
    """The answer to a LOCK or unlock the host sent."""

    locked: bool
    reason: int
    acknowledged: bool
    at: float


@dataclass(frozen=True, slots=True)
class DecoderStatistics:
    """Counters of the link: the decoder's and the driver's own."""

    decoder: DecoderStats
    duplicates: int
    """Shots received again that were already held (line duplicates, overlapping resends)."""
    resend_requests: int
    reopens: int
    at: float


@dataclass(frozen=True, slots=True)
class UnrecognisedData:
    """Bytes keep arriving but no valid frame: a wrong baud rate or another protocol."""

    port: str
    baud: int
    garbage_bytes: int
    sample: bytes
    looks_like_text: bool
    at: float


class AnomalyKind(enum.Enum):
    """What was inconsistent in what the gun sent."""

    IMPLAUSIBLE_SHOT_NUMBER = "implausible_shot_number"
    """A SHOT numbered 0, further ahead than the gun's uptime allows, or a retransmission
    never asked for: not recorded as a shot, not counted as a gap."""
    IMPLAUSIBLE_LAST_SHOT = "implausible_last_shot"
    """A HEARTBEAT announcing more shots than the gun's uptime allows: not asked for."""
    CONTRADICTED_SHOT_NUMBER = "contradicted_shot_number"
    """A fresh HEARTBEAT of the same power-up says the last shot is below one already
    received: the higher number is suspect (its shot was recorded as received)."""
    IMPLAUSIBLE_VALUES = "implausible_values"
    """A SHOT with values no gun could have sent; the shot event carries the problems."""
    UNATTRIBUTED_FRAMES = "unattributed_frames"
    """Frames received while the gun's power-up was unknown that cannot be proved to belong to
    either power-up; shots among them are asked for again, as the new power-up's."""
    REQUEST_BUDGET = "request_budget"
    """The device made the driver reach its budget of requests; further ones wait."""


@dataclass(frozen=True, slots=True)
class DeviceAnomaly:
    """The gun sent something inconsistent; recorded as a device event, never a shot or a loss.

    Repeats of one kind within one power-up are reported at their 1st, 2nd, 4th, 8th …
    occurrence (``count`` is the total so far), so a device repeating one fault cannot flood
    the record.
    """

    serial: str
    boot_id: int
    kind: AnomalyKind
    detail: str
    """One line for a technician, in the spec's names."""
    shot_no: int | None
    """The shot number concerned, if one."""
    count: int
    at: float


DriverEvent = (
    LinkChanged
    | DeviceIdentified
    | SettingsChanged
    | ShotReceived
    | FaultChanged
    | Status
    | DeviceRebooted
    | ShotsRecovered
    | ShotsLost
    | LockChanged
    | DecoderStatistics
    | UnrecognisedData
    | DeviceAnomaly
)
"""Every event the driver publishes."""
