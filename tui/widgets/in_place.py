"""Redrawing a line in place: the one rule every live widget follows for speed.

``Static.update`` lays the whole screen out again by default, and redraws even when the text
is the same. On the live screen every line has a fixed size (set in its CSS), so a new value
only needs the line itself redrawn, and an unchanged value needs nothing.
"""

from __future__ import annotations

from textual.widgets import Static


def set_line(widget: Static, text: str) -> None:
    """Show ``text`` in a fixed-size ``widget``: redrawn only if it changed, never laid out."""
    if widget.content != text:
        widget.update(text, layout=False)
