"""Bytes that arrive without a valid frame: when they mean a wrong baud rate or another
protocol, and how to say what was seen while a gun is awaited.

A gun switched on after the port was opened prints its boot banner before its first frame, and
a line may carry a noise byte before the gun boots: neither is a wrong baud rate. Unreadable
data is reported only when it keeps arriving, in several separate quarters of the timeout and
over the whole of it, with no frame in between. Counts run from the last valid frame, across
reopenings of the port, so that a port reopened after 3 s of silence keeps what it had seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_QUARTERS = 3
"""Separate quarters of the timeout in which unreadable bytes must have arrived."""
_SAMPLE = 256


@dataclass(slots=True)
class UnreadableWatch:
    """Bytes received since the last valid frame, and whether they amount to a report."""

    timeout: float
    received: int = 0
    """Bytes read since the last valid frame."""
    garbage: int = 0
    """Of those, bytes the decoder has discarded as not part of any frame."""
    sample: bytearray = field(default_factory=bytearray)
    reported: bool = False
    _first: float = 0.0
    _last: float = 0.0
    _quarters: set[int] = field(default_factory=set)

    def frame_seen(self) -> None:
        """A valid frame arrived: whatever came before was not a wrong baud rate."""
        self.received = self.garbage = 0
        self.sample.clear()
        self.reported = False
        self._quarters.clear()

    def note(self, data: bytes, garbage: int, now: float) -> None:
        """``data`` arrived without completing a frame; ``garbage`` of it was discarded."""
        if not self.received:
            self._first = now
        self.received += len(data)
        self.garbage += garbage
        self._last = now
        if len(self._quarters) < 64:
            self._quarters.add(int((now - self._first) / max(self.timeout / 4, 1e-3)))
        if len(self.sample) < _SAMPLE:
            self.sample += data[: _SAMPLE - len(self.sample)]

    def due(self) -> bool:
        """True once (until a frame) when unreadable bytes have kept arriving for the timeout."""
        if self.reported or not self.garbage or len(self._quarters) < MIN_QUARTERS:
            return False
        if self._last - self._first < self.timeout:
            return False
        self.reported = True
        return True

    def looks_like_text(self) -> bool:
        """Whether the sample is mostly printable ASCII (another protocol, not a baud rate)."""
        sample = self.sample
        printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13))
        return bool(sample) and printable >= 0.9 * len(sample)

    def describe(self) -> str:
        """What was seen, in a few words, quoting it when it was text."""
        if not self.received:
            return "nothing yet"
        text = bytes(self.sample[:40]).decode("ascii", "replace").strip()
        such_as = f", such as {text!r}" if text and text.isprintable() else ""
        return f"{self.received} bytes but no IGP/1 frame{such_as}"
