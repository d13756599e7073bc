"""Fault injection: what the line does to the gun's frames, and scheduled unplugs and power cycles.

Line faults act on whole frames as the gun transmits them, each drawn independently from a
seeded ``random.Random``:

- ``noise=P``: with probability P, 1–8 random bytes go on the line before the frame;
- ``bitflip=P``: with probability P, one bit of the frame is flipped (its CRC then fails);
- ``drop=P``: with probability P, the frame is not sent at all (its SEQ is still used);
- ``dup=P``: with probability P, the frame is sent twice.

Link events happen at a scenario time: ``unplug@30s`` (the pseudo-terminal goes away and a new
one appears at the same link after 1 s, or ``unplug@30s/5s`` after 5 s) and ``powercycle@60s``
(off for 1 s, or ``powercycle@60s/3s``).
"""

from __future__ import annotations

import enum
import random
import re
from dataclasses import dataclass

DEFAULT_UNPLUG_MS = 1000
DEFAULT_POWER_OFF_MS = 1000


class LinkEventKind(enum.Enum):
    """A scheduled disturbance of the link or the gun."""

    UNPLUG = "unplug"
    POWERCYCLE = "powercycle"


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """An unplug or power cycle at scenario time ``at_ms``, lasting ``duration_ms``."""

    kind: LinkEventKind
    at_ms: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Line fault probabilities (per frame) and scheduled link events."""

    noise: float = 0.0
    bitflip: float = 0.0
    drop: float = 0.0
    dup: float = 0.0
    events: tuple[LinkEvent, ...] = ()

    def __post_init__(self) -> None:
        for name in ("noise", "bitflip", "drop", "dup"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value:g} is not a probability between 0 and 1")

    @property
    def line_clean(self) -> bool:
        """True when no line fault is enabled."""
        return not (self.noise or self.bitflip or self.drop or self.dup)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|min)?$")
_UNIT_MS = {"ms": 1.0, "s": 1000.0, "min": 60_000.0, None: 1000.0}


def parse_duration_ms(text: str, default_unit: str = "s") -> int:
    """``"500ms"``, ``"2s"``, ``"1.5min"`` (a bare number is in ``default_unit``) to ms."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a duration (like 500ms, 2s or 1.5min)")
    unit = m.group(2) or default_unit
    return round(float(m.group(1)) * _UNIT_MS[unit])


def parse_fault_spec(spec: str) -> FaultConfig:
    """Parse the compact ``--faults`` spec, e.g. ``"noise=0.01,drop=0.02,unplug@30s/2s"``.

    Raises ``ValueError`` with the reason for the first item that is wrong.
    """
    probs: dict[str, float] = {}
    events: list[LinkEvent] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        if "@" in item:
            name, _, when = item.partition("@")
            try:
                kind = LinkEventKind(name.strip().lower())
            except ValueError:
                raise ValueError(
                    f"unknown link event {name!r} (use unplug@T or powercycle@T)"
                ) from None
            at, _, length = when.partition("/")
            default = DEFAULT_UNPLUG_MS if kind is LinkEventKind.UNPLUG else DEFAULT_POWER_OFF_MS
            duration = parse_duration_ms(length) if length else default
            if duration <= 0:
                raise ValueError(f"{item!r}: the duration must be above 0")
            events.append(LinkEvent(kind, parse_duration_ms(at), duration))
            continue
        name, eq, value = item.partition("=")
        name = name.strip().lower()
        if not eq:
            raise ValueError(f"{item!r} is not NAME=PROBABILITY or EVENT@TIME")
        if name not in ("noise", "bitflip", "drop", "dup"):
            raise ValueError(
                f"unknown fault {name!r} (use noise, bitflip, drop, dup, unplug@T, powercycle@T)"
            )
        try:
            prob = float(value)
        except ValueError:
            raise ValueError(f"{item!r}: {value!r} is not a number") from None
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"{item!r}: a probability is between 0 and 1")
        probs[name] = prob
    events.sort(key=lambda e: e.at_ms)
    return FaultConfig(events=tuple(events), **probs)


@dataclass(frozen=True, slots=True)
class LineOutput:
    """What one frame becomes on the line."""

    noise: bytes
    """Garbage written before the frame (may be empty)."""
    data: bytes | None
    """The frame as it goes on the line (maybe with a flipped bit); ``None`` if dropped."""
    corrupted: bool
    copies: int
    """1, or 2 when duplicated."""


class LineFaults:
    """Applies a :class:`FaultConfig`'s line faults to frames, from a seeded generator."""

    def __init__(self, config: FaultConfig, rng: random.Random) -> None:
        self.config = config
        self._rng = rng

    def apply(self, frame: bytes) -> LineOutput:
        """What goes on the line for ``frame``: noise, the frame (damaged, dropped, doubled?)."""
        c = self.config
        if c.line_clean:
            return LineOutput(b"", frame, False, 1)
        rng = self._rng
        noise = b""
        if c.noise and rng.random() < c.noise:
            noise = rng.randbytes(rng.randint(1, 8))
        if c.drop and rng.random() < c.drop:
            return LineOutput(noise, None, False, 0)
        data = frame
        corrupted = False
        if c.bitflip and rng.random() < c.bitflip:
            bit = rng.randrange(len(frame) * 8)
            damaged = bytearray(frame)
            damaged[bit // 8] ^= 1 << (bit % 8)
            data = bytes(damaged)
            corrupted = True
        copies = 2 if c.dup and rng.random() < c.dup else 1
        return LineOutput(noise, data, corrupted, copies)
