"""Device uptime to wall-clock time, anchored on heartbeats (spec section 3: u32 ms, wraps)."""

from __future__ import annotations

_WRAP = 1 << 32
_HALF = 1 << 31


class DeviceClock:
    """Maps a device's ``uptime_ms`` to Unix time.

    Each heartbeat anchors the mapping (the latest anchor wins, so a device clock that drifts
    against ours is followed). An uptime is placed by its signed distance from the anchor
    modulo 2^32, which is right across a wrap-around as long as the two lie within 24 days of
    each other. Before any anchor, the first uptime seen anchors the mapping at its arrival.
    """

    __slots__ = ("_anchor_uptime", "_anchor_wall")

    def __init__(self) -> None:
        self._anchor_uptime: int | None = None
        self._anchor_wall = 0.0

    @property
    def anchored(self) -> bool:
        """Whether any uptime has been seen since the last reset."""
        return self._anchor_uptime is not None

    def reset(self) -> None:
        """Forget the mapping (the device rebooted: its uptime started again)."""
        self._anchor_uptime = None

    def anchor(self, uptime_ms: int, wall: float) -> None:
        """Record that the device's clock read ``uptime_ms`` at Unix time ``wall``."""
        self._anchor_uptime = uptime_ms & (_WRAP - 1)
        self._anchor_wall = wall

    def to_wall(self, uptime_ms: int, received: float) -> float:
        """Unix time of ``uptime_ms``; ``received`` anchors the mapping if none exists yet."""
        if self._anchor_uptime is None:
            self.anchor(uptime_ms, received)
            return received
        delta = ((uptime_ms - self._anchor_uptime + _HALF) % _WRAP) - _HALF
        return self._anchor_wall + delta / 1000.0

    @staticmethod
    def elapsed_ms(earlier: int, later: int) -> int:
        """Signed milliseconds from ``earlier`` to ``later`` across a wrap-around."""
        return ((later - earlier + _HALF) % _WRAP) - _HALF
