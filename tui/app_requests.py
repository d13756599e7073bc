"""What a screen asks of the app: open another screen, start a session or a replay, quit.

Screens post these messages; they bubble to :class:`tui.app.InjectorApp`, which handles each
with ``@on(...)``. A typed message instead of ``getattr(self.app, "start_session")`` or
``run_action("prepare_session(3)")``: a renamed handler or a wrong argument is a type error,
not a flow that silently does nothing.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from tui.feed_messages import ReplaySpeed
from tui.session_feed import GunSource


class PrepareSession(Message):
    """Open the before-session checklist of a plan's next session."""

    def __init__(self, plan_id: int) -> None:
        super().__init__()
        self.plan_id = plan_id


class StartSession(Message):
    """Open the live view recording a session prepared on the checklist."""

    def __init__(self, session_id: int, plan_id: int, title: str, gun: GunSource) -> None:
        super().__init__()
        self.session_id = session_id
        self.plan_id = plan_id
        self.title = title
        self.gun = gun


class ReviewSession(Message):
    """Open the review (and sign-off) of a past session."""

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id


class SessionFinished(Message):
    """A recorded session was ended on purpose: replace the live view by its review."""

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id


class OpenReplay(Message):
    """Open the replay screen (technicians)."""


class StartReplay(Message):
    """Play a capture file into the live view, from capture time ``start_ms`` (what comes
    before it is played fast, not skipped). A replay already shown is replaced: seeking back
    starts the capture again, into a new scratch session."""

    def __init__(
        self, path: Path, speed: ReplaySpeed, start_ms: float = 0.0, *, again: bool = False
    ) -> None:
        super().__init__()
        self.path = path
        self.speed = speed
        self.start_ms = start_ms
        self.again = again
        """Played again (seeking back): always into a new scratch database, since the one it
        recorded into already holds these shots."""


class LeaveReplay(Message):
    """Stop the replay shown and go back to the screen it was started from."""


class StartDemo(Message):
    """A demo session against the built-in simulated gun."""


class GoHome(Message):
    """Back to patients and plans."""
