"""Waiting on the app in flows: poll a condition while the app keeps running."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Select


async def until(
    pilot: Pilot[None], condition: Callable[[], bool], what: str, timeout: float = 20.0
) -> None:
    """Let the app run until ``condition()`` holds; fail naming ``what`` after ``timeout``.

    The timeout only guards against a hang; nothing is asserted about how long it took.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def fill(pilot: Pilot[None], values: dict[str, str]) -> None:
    """Set inputs (``#f-…``) and selects of the current screen by id."""
    screen = pilot.app.screen
    for widget_id, value in values.items():
        widget = screen.query_one(f"#{widget_id}")
        if isinstance(widget, Select | Input):
            widget.value = value
        else:
            raise TypeError(f"#{widget_id} is a {type(widget).__name__}")
