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
    ShotCounter .caption { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Label("SHOTS", classes="caption")
        yield Digits("0", id="shot-digits")
        yield Label("", id="shot-volume", classes="caption")

    def show(self, shots: int, volume_text: str) -> None:
        """Show a new count; ``volume_text`` is the line under it (e.g. ``1.25 mL``)."""
        self.query_one("#shot-digits", Digits).update(str(shots))
        self.query_one("#shot-volume", Label).update(volume_text)
