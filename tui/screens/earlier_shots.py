"""Shots fired before the session opened: include them (to a zone) or leave them out.

The live feed says how many there are; this form asks the practitioner to decide and why. The
decision is recorded with who and why in the audit trail; left-out shots stay stored as shots
of the gun with no session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from tui.feed_messages import DecideEarlierShots
from tui.state import LiveZone

NO_ZONE = -1
"""The choice "no zone" in the zone list (Select values cannot be None)."""


class EarlierShotsScreen(ModalScreen[DecideEarlierShots | None]):
    """Include the earlier shots to a zone, or leave them out; a reason is needed either way."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, zones: Sequence[LiveZone], active_zone_id: int | None) -> None:
        super().__init__()
        self.zones = tuple(zones)
        self.active_zone_id = active_zone_id

    def compose(self) -> ComposeResult:
        active = next((z.key for z in self.zones if z.zone_id == self.active_zone_id), NO_ZONE)
        choices = [(f"{z.key}. {z.name}", z.key) for z in self.zones] + [("no zone", NO_ZONE)]
        with Vertical(classes="dialog"):
            yield Label("Shots fired before this session opened", classes="dialog-title")
            yield Label("Include them in the session, to the zone they went into:")
            yield Select(choices, value=active, allow_blank=False, id="earlier-zone")
            yield Input(placeholder="why (e.g. primed into the zone)", id="earlier-reason")
            yield Label("", id="earlier-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Include", variant="warning", id="include")
                yield Button("Leave out", id="leave-out")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#earlier-reason", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Include, leave out (both need a reason) or cancel."""
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        reason = self.query_one("#earlier-reason", Input).value.strip()
        if not reason:
            self.query_one("#earlier-error", Label).update("Say why, for the record.")
            self.query_one("#earlier-reason", Input).focus()
            return
        chosen = self.query_one("#earlier-zone", Select).value
        key = chosen if isinstance(chosen, int) and chosen != NO_ZONE else None
        self.dismiss(DecideEarlierShots(event.button.id == "include", key, reason))

    def action_cancel(self) -> None:
        """Esc decides nothing: the shots stay left out and the question stays open."""
        self.dismiss(None)
