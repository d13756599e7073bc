"""Depths of the recent shots as a sparkline."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Label

from tui.widgets.in_place import set_line

_EIGHTHS = " ▁▂▃▄▅▆▇█"


def bar_lines(values: Sequence[int], width: int, height: int) -> list[str]:
    """Columns of block characters, one per bucket of ``values`` (the deepest of each), scaled
    from the shallowest to the deepest value; row 0 is the top."""
    if width <= 0 or height <= 0:
        return []
    if not values:
        return [" " * width] * height
    count = len(values)
    buckets = min(width, count)
    tops: list[int] = []
    for b in range(buckets):
        start, end = b * count // buckets, max(b * count // buckets + 1, (b + 1) * count // buckets)
        tops.append(max(values[start:end]))
    low, high = min(tops), max(tops)
    span = high - low
    eighths = height * 8
    # Each bucket spreads over the columns it owns, so a short history still fills the width.
    filled = [
        1 + (eighths - 1) * (tops[c * buckets // width] - low) // span if span else eighths // 2
        for c in range(width)
    ]
    lines = []
    for row in range(height):
        floor = (height - 1 - row) * 8
        lines.append("".join(_EIGHTHS[max(0, min(8, f - floor))] for f in filled))
    return lines


class DepthBars(Widget):
    """The bars themselves, drawn line by line: a new depth redraws a few short strings, far
    cheaper than a general-purpose sparkline at hundreds of shots a second."""

    DEFAULT_CSS = """
    DepthBars { height: 1fr; color: $primary; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._values: Sequence[int] = ()
        self._lines: list[str] = []
        self._drawn_for = (0, 0)

    def set_values(self, values: Sequence[int]) -> None:
        """New depths: redraw in place (the widget's size does not depend on them)."""
        self._values = values
        self._drawn_for = (-1, -1)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """One row of the bars."""
        width, height = self.size
        if (width, height) != self._drawn_for:
            self._drawn_for = (width, height)
            self._lines = bar_lines(self._values, width, height)
        if y >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return Strip([Segment(self._lines[y], self.rich_style)], width)


class DepthSparkline(Vertical):
    """The last shots' depths (oldest left), with their range in mm."""

    DEFAULT_CSS = """
    DepthSparkline { height: 5; border: round $panel; padding: 0 1; }
    DepthSparkline .caption { color: $text-muted; width: 1fr; height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: Sequence[int] | None = None

    def compose(self) -> ComposeResult:
        yield Label("recent depths", id="spark-caption", classes="caption")
        yield DepthBars(id="spark")

    def show(self, depths_um: Sequence[int]) -> None:
        """Show these depths (the caller keeps them bounded); never lays the screen out."""
        if depths_um == self._shown:
            return
        self._shown = depths_um
        self.query_one(DepthBars).set_values(depths_um)
        caption = self.query_one("#spark-caption", Label)
        if depths_um:
            low, high = min(depths_um), max(depths_um)
            text = f"last {len(depths_um)} depths · {low / 1000:.2f}–{high / 1000:.2f} mm"
            set_line(caption, text)
        else:
            set_line(caption, "recent depths")
