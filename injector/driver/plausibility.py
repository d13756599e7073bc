"""What a CRC-valid frame may still get wrong: shot numbers and values no gun could send.

A valid CRC proves the bytes arrived as sent, not that a gun could have sent them (a firmware
fault, a corruption the CRC happens to miss, a hostile device). The driver checks every number
it would act on against these bounds before it asks for shots or records one.
"""

from __future__ import annotations

from dataclasses import dataclass

from injector.driver.clock import DeviceClock
from injector.driver.events import ShotProblem
from protocols.igp1 import Shot, ShotFlags
from protocols.igp1.device_limits import (
    MAX_DEPTH_UM,
    MAX_SHOT_VOLUME_NL,
    MAX_SHOTS_PER_MS,
    SHOT_NUMBER_SLACK,
)

_DEFINED_FLAGS = int(
    ShotFlags.PARTIAL | ShotFlags.NO_SKIN | ShotFlags.CONTINUOUS | ShotFlags.RETRANSMIT
)
_NO_SKIN = int(ShotFlags.NO_SKIN)
_VOLUME_MAY_BE_ZERO = int(ShotFlags.PARTIAL | ShotFlags.CONTINUOUS)


def shot_problems(shot: Shot) -> ShotProblem:
    """What in ``shot``'s values no gun could have sent (empty for a sound shot)."""
    flags = shot.flags
    problems = ShotProblem.NONE
    if shot.depth_um > MAX_DEPTH_UM:
        problems |= ShotProblem.DEPTH_OUT_OF_RANGE
    if shot.volume_nl > MAX_SHOT_VOLUME_NL:
        problems |= ShotProblem.VOLUME_OUT_OF_RANGE
    if flags & _NO_SKIN:
        if shot.depth_um:
            problems |= ShotProblem.DEPTH_WITHOUT_SKIN
    elif shot.depth_um == 0:
        problems |= ShotProblem.NO_DEPTH_ON_SKIN
    if flags & ~_DEFINED_FLAGS:
        problems |= ShotProblem.UNDEFINED_FLAGS
    if shot.volume_nl == 0 and not flags & _VOLUME_MAY_BE_ZERO:
        problems |= ShotProblem.NO_VOLUME
    return problems


def describe(problems: ShotProblem, shot: Shot) -> str:
    """One line naming each problem with the value the gun sent, in the spec's units."""
    parts = []
    if problems & ShotProblem.DEPTH_OUT_OF_RANGE:
        parts.append(f"depth {shot.depth_um / 1000:g} mm is beyond any gun")
    if problems & ShotProblem.VOLUME_OUT_OF_RANGE:
        parts.append(f"volume {shot.volume_nl / 1e6:g} mL in one shot is beyond any gun")
    if problems & ShotProblem.NO_DEPTH_ON_SKIN:
        parts.append("depth 0 on a shot not flagged NO_SKIN")
    if problems & ShotProblem.DEPTH_WITHOUT_SKIN:
        parts.append(f"depth {shot.depth_um / 1000:g} mm on a NO_SKIN shot")
    if problems & ShotProblem.UNDEFINED_FLAGS:
        parts.append(f"undefined flag bits 0x{shot.flags & ~_DEFINED_FLAGS:04x}")
    if problems & ShotProblem.NO_VOLUME:
        parts.append("volume 0 on a shot flagged neither PARTIAL nor CONTINUOUS")
    return f"shot {shot.shot_no}: " + "; ".join(parts) + "; kept out of the dose"


@dataclass(slots=True)
class NumberBound:
    """How far a power-up's shot numbers can have risen, judged by the gun's own uptime.

    Anchored on the highest number accepted so far with the uptime it was stamped at
    (initially shot 0 at power-up, uptime 0): a gun cannot fire faster than
    ``MAX_SHOTS_PER_MS``, so a number further ahead than its uptime allows is impossible,
    whatever the CRC says.
    """

    shot_no: int = 0
    uptime_ms: int = 0
    anchored: bool = False
    """False until a number was accepted: uptime is then measured from power-up, unwrapped."""

    def allows(self, shot_no: int, uptime_ms: int) -> bool:
        """Whether a gun can have reached ``shot_no`` by ``uptime_ms``.

        Measured from the anchor when the uptime is at or after it, else from power-up (an
        anchor with a wrong, later uptime must not lock out the gun's real numbers).
        """
        elapsed = DeviceClock.elapsed_ms(self.uptime_ms, uptime_ms) if self.anchored else -1
        if elapsed >= 0:
            reach = self.shot_no + elapsed * MAX_SHOTS_PER_MS
        else:
            reach = uptime_ms * MAX_SHOTS_PER_MS
        return shot_no <= reach + SHOT_NUMBER_SLACK

    def accept(self, shot_no: int, uptime_ms: int) -> None:
        """``shot_no`` was stamped at ``uptime_ms`` and trusted: later numbers count from it."""
        if not self.anchored or shot_no >= self.shot_no:
            self.shot_no = shot_no
            self.uptime_ms = uptime_ms
            self.anchored = True
