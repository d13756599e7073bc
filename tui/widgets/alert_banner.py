"""A banner across the top of the live screen for what must not be missed.

It never takes focus and never blocks a key: the practitioner keeps working while it shows.
"""

from __future__ import annotations

from textual.widgets import Static


class AlertBanner(Static):
    """Hidden when there is nothing to say; red for link loss, amber for plan limits and for
    what the practitioner is asked to do (choose a zone)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = ""

    DEFAULT_CSS = """
    AlertBanner {
        display: none; width: 1fr; height: auto; min-height: 3; content-align: center middle;
        text-style: bold; border: heavy $error; background: $error 30%; color: $text;
    }
    AlertBanner.-shown { display: block; }
    AlertBanner.-warning { border: heavy $warning; background: $warning 30%; }
    """

    def show(self, link_text: str, limit_text: str, ask_text: str = "") -> None:
        """Show the link problem, the plan limit and what the practitioner is asked to do
        (empty strings: nothing to show). Unchanged text costs nothing: it is the usual case."""
        parts = [p for p in (link_text, limit_text, ask_text) if p]
        text = "   ·   ".join(parts)
        if text == self._text:
            return
        self._text = text
        self.update(text)
        self.set_class(bool(parts), "-shown")
        self.set_class(not link_text and bool(parts), "-warning")
