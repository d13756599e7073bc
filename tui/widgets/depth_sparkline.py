"""Depths of the recent shots as a sparkline."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline


class DepthSparkline(Vertical):
    """The last shots' depths (oldest left), with their range in mm."""

    DEFAULT_CSS = """
    DepthSparkline { height: 5; border: round $panel; padding: 0 1; }
    DepthSparkline Sparkline { height: 1fr; }
    DepthSparkline .caption { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Label("recent depths", id="spark-caption", classes="caption")
        yield Sparkline([], id="spark")

    def show(self, depths_um: Sequence[int]) -> None:
        """Show these depths (the caller keeps them bounded)."""
        spark = self.query_one("#spark", Sparkline)
        spark.data = [d / 1000 for d in depths_um]
        caption = self.query_one("#spark-caption", Label)
        if depths_um:
            low, high = min(depths_um), max(depths_um)
            caption.update(f"last {len(depths_um)} depths · {low / 1000:.2f}–{high / 1000:.2f} mm")
        else:
            caption.update("recent depths")
