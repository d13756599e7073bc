"""What a shot counts for: a point, volume on skin, air, partial, or nothing (implausible).

This is the one place that decides it. The live tally, a restarted recorder's tally (from
stored shots), ``session show``, the review and every export call :func:`shot_kind`, so one
session gives the same numbers wherever they are read.

The kinds, from IGP/1 section 4:

- a shot on skin (no NO_SKIN, no CONTINUOUS) is one **point**; its volume is delivered;
- a CONTINUOUS report on skin is an interval of flow: its volume is delivered, it is no point;
- a NO_SKIN shot is **air**: its volume left the syringe but reached no patient;
- PARTIAL (less than the set volume) is counted apart, whatever the kind;
- a shot whose values no gun can produce is **implausible**: it is kept as recorded, counted
  among the shots, and kept out of points, volume, air and depth figures, so a corrupted frame
  with a valid CRC cannot lock a gun at a plan limit or stand in a dose.

Plausible, from the spec and the clinic: only the flag bits IGP/1 defines (bits 0–3; "other
bits are 0"); an air shot reports depth 0, a shot on skin a depth above 0 and at most
:data:`DEPTH_MAX_UM`; a volume above 0 (unless PARTIAL: the syringe ran dry) and at most
:data:`VOLUME_MAX_NL`.
"""

from __future__ import annotations

import enum

from injector.domain.shots import ShotFlag
from protocols.igp1.device_limits import MAX_DEPTH_UM, MAX_SHOT_VOLUME_NL

DEFINED_FLAGS = int(ShotFlag.PARTIAL | ShotFlag.NO_SKIN | ShotFlag.CONTINUOUS | ShotFlag.RETRANSMIT)
"""The SHOT flag bits IGP/1 defines; every other bit is 0 on a working gun."""
# The deepest plausible shot (20 mm: the u16 field's 65.5 mm is a broken sensor or frame) and
# the largest plausible shot or 250 ms flow report (1 mL: the u32 field's 4.29 L is a broken
# frame) are the gun's physical limits, declared once beside the protocol; the driver flags a
# shot past them and this rule keeps it out of the dose.
DEPTH_MAX_UM = MAX_DEPTH_UM
VOLUME_MAX_NL = MAX_SHOT_VOLUME_NL

# Plain ints: this runs once per shot on the recording path.
_PARTIAL = int(ShotFlag.PARTIAL)
_NO_SKIN = int(ShotFlag.NO_SKIN)
_CONTINUOUS = int(ShotFlag.CONTINUOUS)
_UNDEFINED = ~DEFINED_FLAGS


class ShotKind(enum.IntEnum):
    """What one shot counts for (see the module's docstring)."""

    POINT = 0
    FLOW = 1
    AIR = 2
    IMPLAUSIBLE = 3

    @property
    def word(self) -> str:
        """How exports name it: ``point``, ``flow``, ``air`` or ``implausible``."""
        return self.name.lower()

    @property
    def on_skin(self) -> bool:
        """Its volume reached the patient and its depth means something."""
        return self <= ShotKind.FLOW


def implausible_reason(flags: int, depth_um: int, volume_nl: int) -> str | None:
    """Why no gun could have reported this shot, in words; None for a plausible shot."""
    if flags & _UNDEFINED:
        return f"flag bits {flags & _UNDEFINED:#x} that IGP/1 does not define"
    if flags & _NO_SKIN:
        if depth_um != 0:
            return f"an air shot with a depth of {depth_um / 1000:g} mm (air shots report 0)"
    elif depth_um == 0:
        return "depth 0 with skin contact"
    elif depth_um > DEPTH_MAX_UM:
        return f"depth {depth_um / 1000:g} mm (deeper than {DEPTH_MAX_UM / 1000:g} mm)"
    if volume_nl > VOLUME_MAX_NL:
        return f"{volume_nl / 1_000_000:g} mL in one shot (more than {VOLUME_MAX_NL / 1e6:g} mL)"
    if volume_nl == 0 and not flags & _PARTIAL:
        return "no volume, yet not flagged partial"
    return None


def shot_kind(flags: int, depth_um: int, volume_nl: int) -> ShotKind:
    """What a shot with these values counts for."""
    # The common case first, in plain int comparisons: a plausible point.
    if (
        not flags & (_UNDEFINED | _NO_SKIN | _CONTINUOUS)
        and 0 < depth_um <= DEPTH_MAX_UM
        and 0 < volume_nl <= VOLUME_MAX_NL
    ):
        return ShotKind.POINT
    if implausible_reason(flags, depth_um, volume_nl) is not None:
        return ShotKind.IMPLAUSIBLE
    if flags & _NO_SKIN:
        return ShotKind.AIR
    if flags & _CONTINUOUS:
        return ShotKind.FLOW
    return ShotKind.POINT


def same_kind_between(flags: int, depth_um: int, volume_min: int, volume_max: int) -> bool:
    """Whether every volume from ``volume_min`` to ``volume_max`` gives a shot of these flags
    and depth the same kind, so stored shots grouped by flags and depth can be counted as one
    group (only a range that reaches past a plausible volume needs its volumes one by one)."""
    if volume_min == volume_max:
        return True
    low = shot_kind(flags, depth_um, volume_min)
    high = shot_kind(flags, depth_um, volume_max)
    # Plausible at both ends is plausible in between; above the maximum at the low end is
    # above it throughout. Anything else may change kind inside the range.
    return (low is high and low is not ShotKind.IMPLAUSIBLE) or volume_min > VOLUME_MAX_NL


def is_partial(flags: int) -> bool:
    """The gun delivered less than its set volume (the syringe ran dry)."""
    return bool(flags & _PARTIAL)
