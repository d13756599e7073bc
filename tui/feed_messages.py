"""The live feed: what runs beside the live screen and tells it what happened.

A feed runs in a Textual thread worker (it blocks on the driver and the database) and talks to
the screen only through messages, which ``post_message`` makes thread-safe. The screen talks
back through :meth:`LiveFeed.submit`, which only queues a command: no key press ever waits on
the port or the database.

A replay at full speed produces hundreds of shots a second; the screen does not need each one.
The feed keeps the running totals itself (:class:`tui.live_model.LiveModel`) and publishes a
whole :class:`~tui.state.LiveView` a bounded number of times a second, and
:class:`ViewChanged` collapses in the screen's queue when several are waiting.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from textual.message import Message

from tui.state import LiveView, LogLine, LogSeverity

VIEW_INTERVAL_S = 0.05
"""Gun-only changes (depth, battery, link) redraw at most twenty times a second."""
COMMIT_INTERVAL_S = 0.03
"""Committed shots redraw at once, at most about thirty times a second: a shot shows well
within 100 ms of its commit, and a flood of commits still costs a bounded number of redraws."""
DRIVER_DELAY_S = 0.015
"""A gun-only change waits this long for the commit that usually follows it."""


class ViewChanged(Message):
    """The live view changed; only the latest one matters."""

    def __init__(self, view: LiveView) -> None:
        super().__init__()
        self.view = view

    def can_replace(self, message: Message) -> bool:
        """A newer view supersedes an older one still waiting in the queue."""
        return isinstance(message, ViewChanged)


class LogAdded(Message):
    """A line for the event log (faults, link, recovered or lost shots, plan alerts)."""

    def __init__(self, line: LogLine) -> None:
        super().__init__()
        self.line = line


class Alerted(Message):
    """Something the practitioner must see now: also shown as a notification."""

    def __init__(self, text: str, severity: LogSeverity) -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class FeedEnded(Message):
    """The feed stopped: the session ended, the replay finished, or it failed."""

    def __init__(self, session_id: int | None, error: str = "", finished: bool = True) -> None:
        super().__init__()
        self.session_id = session_id
        self.error = error
        self.finished = finished
        """True when the session was ended on purpose (go to the end-of-session screen)."""


@dataclass(frozen=True, slots=True)
class SelectZone:
    """Make the zone bound to ``key`` (1–9) the active one."""

    key: int


@dataclass(frozen=True, slots=True)
class SetLock:
    """Lock (or unlock) the gun's trigger by hand."""

    locked: bool


@dataclass(frozen=True, slots=True)
class OverrideLimit:
    """Go past the plan limit that locked the gun: who (confirmed by their PIN) and why.

    Its own command, never the manual lock key: the session logic records it and only then
    is the gun unlocked.
    """

    by: str
    pin: str
    reason: str


@dataclass(frozen=True, slots=True)
class AddNote:
    """A free-text note in the session's record."""

    text: str


@dataclass(frozen=True, slots=True)
class RecordAdverseEvent:
    """A side effect seen during the session."""

    kind: str
    severity: str
    notes: str


@dataclass(frozen=True, slots=True)
class EndSession:
    """Stop recording, lock the gun (SESSION_ENDED) and commit everything."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop without ending the session (the app is quitting); commit everything."""


class ReplaySpeed(enum.Enum):
    """Replay speeds a technician can pick."""

    X1 = 1.0
    X10 = 10.0
    MAX = 0.0
    """As fast as the link takes it."""

    @property
    def label(self) -> str:
        """``1×``, ``10×`` or ``max``."""
        return "max" if self is ReplaySpeed.MAX else f"{self.value:g}×"

    def next(self) -> ReplaySpeed:
        """The speed after this one, cycling."""
        order = list(ReplaySpeed)
        return order[(order.index(self) + 1) % len(order)]


@dataclass(frozen=True, slots=True)
class SetReplay:
    """Pause, resume or change the speed of a replay."""

    paused: bool
    speed: ReplaySpeed


@dataclass(frozen=True, slots=True)
class SeekReplay:
    """Play a replay fast up to capture time ``to_ms`` (nothing skipped), then at its speed."""

    to_ms: float


@dataclass(frozen=True, slots=True)
class DecideEarlierShots:
    """Include the shots fired before the session opened (to the zone bound to ``zone_key``,
    None: no zone) or leave them out; ``reason`` goes into the audit trail."""

    include: bool
    zone_key: int | None
    reason: str


Command = (
    SelectZone
    | SetLock
    | OverrideLimit
    | AddNote
    | RecordAdverseEvent
    | EndSession
    | Stop
    | SetReplay
    | SeekReplay
    | DecideEarlierShots
)


class Poster(Protocol):
    """Whatever the feed posts its messages to (the live screen)."""

    def post_message(self, message: Message) -> bool:
        """Queue a message; safe from any thread."""
        ...


class LiveFeed(Protocol):
    """The live screen's source of truth, run in a thread worker."""

    def run(self, post: Poster, cancelled: Callable[[], bool]) -> None:
        """Run until ended, stopped or ``cancelled()``; post messages as things happen.

        Must finish committing what it recorded before returning.
        """
        ...

    def submit(self, command: Command) -> None:
        """Queue a command from the UI thread; never blocks."""
        ...
