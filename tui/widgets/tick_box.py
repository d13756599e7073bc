"""A checkbox whose state reads at a glance, not only by colour."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class TickBox(Checkbox):
    """``✔`` when ticked, an empty box when not (Textual's box shows an ``X`` either way)."""

    DEFAULT_CSS = """
    TickBox > .toggle--button { color: $text-muted; }
    TickBox.-on > .toggle--button { color: $text-success; text-style: bold; }
    """

    def render(self) -> Content:
        """The box with the mark for the current value, then the label."""
        self.BUTTON_INNER = "✔" if self.value else " "
        return super().render()
