"""The active zone, large: its name, and its volume against its maximum.

What the practitioner checks between two passes: which zone the gun's shots now go to, and how
much room is left in it. With no zone active (a new session), it asks for one instead, before
the first shot goes to no zone.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Label

from tui.state import LiveZone, ZoneFill, ml
from tui.widgets.in_place import set_line

_FILL_CLASSES = tuple(fill.css_class for fill in ZoneFill)


def zone_keys(zones: tuple[LiveZone, ...]) -> str:
    """The keys that choose a zone, e.g. ``1–5`` (or ``1`` for a single zone)."""
    if not zones:
        return ""
    first, last = zones[0].key, zones[-1].key
    return str(first) if first == last else f"{first}–{last}"


def volume_line(zone: LiveZone, room: int = 80) -> str:
    """Under the big volume: against its maximum, the zone's state, then the plan, in that
    order of importance; what does not fit in ``room`` cells is left out, shortest form last."""
    most = f"of {ml(zone.max_volume_nl)} mL max" if zone.max_volume_nl > 0 else "mL (no max)"
    fill = zone.fill
    state = f" · {fill.mark} {fill.value}" if fill is not ZoneFill.UNDER else ""
    plan = f" · plan {ml(zone.volume_planned_nl)}"
    for text in (most + state + plan, most + state, most + (f" {fill.mark}" if state else "")):
        if len(text) <= room:
            return text
    short = f"/{ml(zone.max_volume_nl)} max" if zone.max_volume_nl > 0 else "no max"
    return short + (f" {fill.mark}" if state else "")


class ActiveZone(Vertical):
    """Zone key and name, its volume in big digits, then "of max · plan · state".

    Fixed height, and every line a fixed width: a new value never lays the screen out again.
    """

    DEFAULT_CSS = """
    ActiveZone { height: 7; width: 1fr; min-width: 18; padding: 0 1; border: round $panel; }
    ActiveZone > Label { width: 1fr; height: 1; }
    ActiveZone #zone-name { text-style: bold; }
    ActiveZone #zone-of { color: $text-muted; }
    ActiveZone Digits { width: auto; }
    ActiveZone.-none { border: heavy $warning; }
    ActiveZone.-none #zone-name { color: $warning; }
    ActiveZone.-fill-full { border: heavy $success; }
    ActiveZone.-fill-full Digits { color: $success; }
    ActiveZone.-fill-past_plan { border: heavy $warning; }
    ActiveZone.-fill-past_plan Digits { color: $warning; }
    ActiveZone.-fill-at_max, ActiveZone.-fill-past_max { border: heavy $error; }
    ActiveZone.-fill-at_max Digits, ActiveZone.-fill-past_max Digits {
        color: $error; text-style: bold;
    }
    ActiveZone.-fill-past_max #zone-of { color: $error; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[LiveZone | None, str, bool, int] | None = None

    def compose(self) -> ComposeResult:
        yield Label("ZONE", id="zone-name")
        yield Digits("-", id="zone-digits")
        yield Label("", id="zone-of")

    def on_mount(self) -> None:
        self.border_title = "active zone"

    def on_resize(self) -> None:
        """The line under the volume follows the width."""
        if self._shown is not None:
            zone, keys, recording, _ = self._shown
            self._shown = None
            self.show(zone, keys, recording)

    def show(self, zone: LiveZone | None, keys: str, recording: bool = True) -> None:
        """Show the active zone (None: none chosen; ``keys`` says which keys choose one)."""
        room = self.content_size.width or 40
        shown = (zone, keys, recording, room)
        if shown == self._shown:
            return
        self._shown = shown
        name = self.query_one("#zone-name", Label)
        digits = self.query_one("#zone-digits", Digits)
        of = self.query_one("#zone-of", Label)
        if zone is None:
            set_line(name, "NO ZONE ACTIVE")
            digits.update("-")
            ask = f"press {keys}" if keys and recording else ""
            set_line(of, ask)
            fill_class = ""
        else:
            set_line(name, f"{zone.key} · {zone.name.upper()}")
            digits.update(ml(zone.volume_done_nl))
            set_line(of, volume_line(zone, room))
            fill_class = zone.fill.css_class
        self.set_class(zone is None, "-none")
        for css_class in _FILL_CLASSES:
            self.set_class(css_class == fill_class, css_class)
