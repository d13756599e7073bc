"""Per-zone progress of points and volume against the plan, and the session's totals."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.state import LiveView, ZoneView, ml, mm

BAR_WIDTH = 10


def bar(done: int, planned: int, width: int = BAR_WIDTH) -> Text:
    """A text progress bar; past the plan it is full and red so overshoot shows at a glance."""
    if planned <= 0:
        return Text("·" * width, style="dim")
    fraction = done / planned
    filled = min(width, round(fraction * width))
    style = "bold red" if fraction > 1 else ("green" if fraction >= 1 else "cyan")
    return Text.assemble(("█" * filled, style), ("░" * (width - filled), "dim"))


def _zone_row(zone: ZoneView, active: bool) -> list[Text | str]:
    marker = "▶" if active else " "
    name_style = "bold reverse" if active else ("bold red" if zone.at_limit else "")
    points = Text(f"{zone.points_done}/{zone.points_planned}")
    volume = Text(f"{ml(zone.volume_done_nl)}/{ml(zone.volume_planned_nl)}")
    if zone.at_limit:
        volume.stylize("bold red")
    off = Text(str(zone.out_of_band), style="bold red" if zone.out_of_band else "dim")
    return [
        Text(f"{marker}{zone.key}", style="bold"),
        Text(zone.name, style=name_style),
        f"{mm(zone.depth_um)}±{mm(zone.tolerance_um)}",
        bar(zone.points_done, zone.points_planned),
        points,
        bar(zone.volume_done_nl, zone.volume_planned_nl),
        volume,
        off,
    ]


def progress_table(view: LiveView) -> Table:
    """The zones table: key, name, depth band, points and volume bars, shots off band."""
    table = Table(expand=True, box=None, pad_edge=False, header_style="dim")
    table.add_column("#", width=2, no_wrap=True)
    table.add_column("zone", min_width=12, ratio=1, no_wrap=True, overflow="ellipsis")
    table.add_column("depth mm", width=9, no_wrap=True)
    table.add_column("points", width=BAR_WIDTH, no_wrap=True)
    table.add_column("", no_wrap=True, justify="right")
    table.add_column("volume mL", width=BAR_WIDTH, no_wrap=True)
    table.add_column("", no_wrap=True, justify="right")
    table.add_column("off", no_wrap=True, justify="right")
    for zone in view.zones:
        table.add_row(*_zone_row(zone, zone.zone_id == view.active_zone_id))
    planned_points = sum(z.points_planned for z in view.zones)
    planned_volume = sum(z.volume_planned_nl for z in view.zones)
    table.add_row(
        "",
        Text("session", style="bold"),
        "",
        bar(view.session_points, planned_points),
        f"{view.session_points}/{planned_points}",
        bar(view.session_volume_nl, planned_volume),
        f"{ml(view.session_volume_nl)}/{ml(planned_volume)}",
        str(sum(z.out_of_band for z in view.zones)),
        style="bold",
    )
    if view.unattributed_shots:
        table.add_row("", Text(f"{view.unattributed_shots} shots with no zone", style="yellow"))
    return table


class ZoneProgress(Static):
    """The zones of the plan; the active one is marked and reversed."""

    DEFAULT_CSS = """
    ZoneProgress { height: auto; border: round $panel; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.border_title = "plan against actual · keys 1–9 pick the zone"

    def show(self, view: LiveView) -> None:
        """Redraw from a live view."""
        self.update(progress_table(view))
        if view.session_max_volume_nl is not None:
            self.border_subtitle = f"session max {ml(view.session_max_volume_nl)} mL"
