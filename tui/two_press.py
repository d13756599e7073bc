"""Two presses for what cannot be undone: ending a session, quitting while it records,
discarding a half-filled form.

With gloved hands a stray key must not stop a procedure or lose what was typed, and nothing
may block the screen to ask: the first press says what the second would do (a notification),
a second press within :data:`CONFIRM_S` seconds does it.
"""

from __future__ import annotations

import time

CONFIRM_S = 3.0
"""How long a first press waits for the second."""


class TwoPress:
    """One confirmation: :meth:`confirmed` is True on the second press within the window."""

    def __init__(self, window_s: float = CONFIRM_S) -> None:
        self.window_s = window_s
        self._asked_at: float | None = None

    def confirmed(self) -> bool:
        """Register a press; True when it is the second one in time (the window then resets)."""
        now = time.monotonic()
        if self._asked_at is not None and now - self._asked_at <= self.window_s:
            self._asked_at = None
            return True
        self._asked_at = now
        return False
