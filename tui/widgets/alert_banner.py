"""A banner across the top of the live screen for what must not be missed.

It never takes focus and never blocks a key: the practitioner keeps working while it shows.
"""

from __future__ import annotations

from textual.widgets import Static


class AlertBanner(Static):
    """Hidden when there is nothing to say; red for link loss, amber for plan limits."""

    DEFAULT_CSS = """
    AlertBanner {
        display: none; width: 1fr; height: auto; min-height: 3; content-align: center middle;
        text-style: bold; border: heavy $error; background: $error 30%; color: $text;
    }
    AlertBanner.-shown { display: block; }
    AlertBanner.-warning { border: heavy $warning; background: $warning 30%; }
    """

    def show(self, link_text: str, limit_text: str) -> None:
        """Show the link problem and/or the plan limit (empty strings: nothing to show)."""
        parts = [p for p in (link_text, limit_text) if p]
        self.update("   ·   ".join(parts))
        self.set_class(bool(parts), "-shown")
        self.set_class(not link_text and bool(limit_text), "-warning")
