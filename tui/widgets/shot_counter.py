"""The shot count, in digits large enough to read at arm's length."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Label


class ShotCounter(Vertical):
    """Shots recorded in this session, with the session's volume under them."""

    DEFAULT_CSS = """
    ShotCounter { height: auto; width: auto; min-width: 14; padding: 0 1; }
    ShotCounter Digits { width: auto; }
    ShotCounter .caption { color: $text-muted; height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[int, str] | None = None

    def compose(self) -> ComposeResult:
        yield Label("SHOTS", classes="caption")
        yield Digits("0", id="shot-digits")
        yield Label("", id="shot-volume", classes="caption")

    def show(self, shots: int, volume_text: str) -> None:
        """Show a new count; ``volume_text`` is the line under it (e.g. ``1.25 mL``).

        The counter is as wide as its longest line: only a count that gains a digit, or a
        volume that gains a character, lays the screen out again.
        """
        before = self._shown
        if (shots, volume_text) == before:
            return
        self._shown = (shots, volume_text)
        self.query_one("#shot-digits", Digits).update(str(shots))
        grew = before is None or len(before[1]) != len(volume_text)
        self.query_one("#shot-volume", Label).update(volume_text, layout=grew)
