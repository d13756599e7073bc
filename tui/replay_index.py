"""What a technician needs to find their way in a capture before and while it replays: its
length, how many shots it holds, where the gun faulted or restarted, and any damage.

Read once when the replay starts (the decoder reads a capture of an hour in a second or two),
from the same capture loader the replay plays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from protocols.igp1 import Decoder, Fault, FaultCode, Hello, Shot
from simulators.replay import load_capture


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment worth jumping to: a fault raised, or the gun restarting."""

    at_ms: float
    """Capture time from the first device bytes."""
    text: str


@dataclass(frozen=True, slots=True)
class CaptureIndex:
    """A capture's length, shots, marks and damage."""

    name: str
    duration_ms: float
    shots: int
    """Distinct shots (boot and number) the gun sent."""
    marks: tuple[Mark, ...]
    warning: str | None
    """The capture's damage, in one line (None: the file is whole)."""

    def next_mark(self, after_ms: float) -> Mark | None:
        """The first mark later than ``after_ms`` (plus a little: not the one just reached)."""
        return next((m for m in self.marks if m.at_ms > after_ms + 1), None)


def _fault_name(code: int) -> str:
    try:
        return FaultCode(code).name.replace("_", " ")
    except ValueError:
        return f"fault {code}"


def index_capture(path: Path) -> CaptureIndex:
    """Read ``path`` and index it; raises :class:`simulators.replay.ReplayError` as the replay
    itself would (not a capture, unreadable, nothing from the device)."""
    capture = load_capture(path)
    decoder = Decoder()
    shots: set[tuple[int, int]] = set()
    marks: list[Mark] = []
    boot: int | None = None
    for offset, data in capture.chunks:
        for frame in decoder.feed(data):
            message = frame.message
            if isinstance(message, Shot):
                shots.add((boot or 0, message.shot_no))
            elif isinstance(message, Hello):
                if boot is not None and message.boot_id != boot:
                    marks.append(Mark(offset, "the gun restarted"))
                boot = message.boot_id
            elif isinstance(message, Fault) and message.active:
                marks.append(Mark(offset, f"FAULT {_fault_name(message.code)}"))
    return CaptureIndex(path.name, capture.duration_ms, len(shots), tuple(marks), capture.warning)


def clock(ms: float) -> str:
    """Capture time as ``m:ss`` (or ``h:mm:ss`` past an hour)."""
    seconds = int(ms // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


@dataclass(frozen=True, slots=True)
class ReplayContext:
    """What the live screen shows of a replay beyond the live view: where it is in the
    capture, what is ahead, and where it records."""

    path: Path
    index: CaptureIndex
    records_into: str
    """The scratch database's path (or the URL given with ``--replay-db``)."""
    position_ms: Callable[[], float | None]
    """Capture time reached (None before the replay started); safe from the UI thread."""
