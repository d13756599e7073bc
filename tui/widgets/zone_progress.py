"""Per-zone progress of points and volume against the plan, and the session's totals."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class _Row:
    key: Text | str
    name: Text
    band: str
    points_bar: tuple[int, int] | None
    points: Text | str
    volume_bar: tuple[int, int] | None
    volume: Text | str
    off: Text | str
    style: str = ""


def _zone_row(zone: ZoneView, active: bool) -> _Row:
    marker = "▶" if active else " "
    name_style = "bold reverse" if active else ("bold red" if zone.at_limit else "")
    volume = Text(f"{ml(zone.volume_done_nl)}/{ml(zone.volume_planned_nl)}")
    if zone.at_limit:
        volume.stylize("bold red")
    return _Row(
        key=Text(f"{marker}{zone.key}", style="bold"),
        name=Text(zone.name, style=name_style),
        band=f"{mm(zone.depth_um)}±{mm(zone.tolerance_um)}",
        points_bar=(zone.points_done, zone.points_planned),
        points=Text(f"{zone.points_done}/{zone.points_planned}"),
        volume_bar=(zone.volume_done_nl, zone.volume_planned_nl),
        volume=volume,
        off=Text(str(zone.out_of_band), style="bold red" if zone.out_of_band else "dim"),
    )


def _rows(view: LiveView) -> list[_Row]:
    rows = [_zone_row(z, z.zone_id == view.active_zone_id) for z in view.zones]
    planned_points = sum(z.points_planned for z in view.zones)
    planned_volume = sum(z.volume_planned_nl for z in view.zones)
    rows.append(
        _Row(
            key="",
            name=Text("session", style="bold"),
            band="",
            points_bar=(view.session_points, planned_points),
            points=f"{view.session_points}/{planned_points}",
            volume_bar=(view.session_volume_nl, planned_volume),
            volume=f"{ml(view.session_volume_nl)}/{ml(planned_volume)}",
            off=str(sum(z.out_of_band for z in view.zones)),
            style="bold",
        )
    )
    return rows


# The columns a layout shows beyond key, name and points, richest first. What goes first when
# the panel narrows: bar length, then the bars, the depth band (the depth gauge shows the active
# zone's), the volume, and last the shots off band. Key, name and points always stay.
_LAYOUTS: tuple[tuple[int, bool, bool, bool], ...] = (
    # bar width, depth band, volume, off band
    (BAR_WIDTH, True, True, True),
    (8, True, True, True),
    (5, True, True, True),
    (0, True, True, True),
    (0, False, True, True),
    (0, False, False, True),
    (0, False, False, False),
)
_GAP = 2
"""Spaces between two columns (the table's padding of one on each side)."""
NAME_MIN = 6
"""Narrowest zone name a layout may leave (longer names end in an ellipsis)."""


def _cell_width(cells: list[Text | str], header: str) -> int:
    return max([len(header), *(len(c) for c in cells)])


def progress_table(view: LiveView, width: int | None = None) -> Table:
    """The zones table: key, name, depth band, points and volume bars, shots off band.

    ``width`` (the room the table has, in cells) picks the richest layout that keeps the whole
    zone name (or at least :data:`NAME_MIN` of it) with the key and the counts; without it
    every column is shown.
    """
    rows = _rows(view)
    if view.unattributed_shots:
        note = Text(f"{view.unattributed_shots} shots with no zone", style="yellow")
    else:
        note = None
    key_w = 2
    name_want = min(12, max([4, *(len(r.name) for r in rows)]))
    band_w = _cell_width([r.band for r in rows], "depth mm")
    points_w = _cell_width([r.points for r in rows], "points")
    volume_w = _cell_width([r.volume for r in rows], "mL")
    off_w = _cell_width([r.off for r in rows], "off")

    def needed(layout: tuple[int, bool, bool, bool], name_w: int) -> int:
        bar_w, band, volume, off = layout
        widths = [key_w, name_w, points_w]
        if bar_w:
            widths += [bar_w, bar_w]
        if band:
            widths.append(band_w)
        if volume:
            widths.append(volume_w)
        if off:
            widths.append(off_w)
        return sum(widths) + _GAP * (len(widths) - 1)

    chosen = _LAYOUTS[0]
    if width is not None:
        fitting = [lay for lay in _LAYOUTS if needed(lay, name_want) <= width]
        if not fitting:
            fitting = [lay for lay in _LAYOUTS if needed(lay, NAME_MIN) <= width]
        chosen = fitting[0] if fitting else _LAYOUTS[-1]
    bar_w, band, volume, off = chosen

    table = Table(expand=True, box=None, pad_edge=False, header_style="dim")
    table.add_column("#", width=key_w, min_width=key_w, no_wrap=True)
    table.add_column("zone", min_width=NAME_MIN, ratio=1, no_wrap=True, overflow="ellipsis")
    if band:
        table.add_column("depth mm", width=band_w, no_wrap=True)
    # Headers sit over the counts: they stay when the bars go.
    if bar_w:
        table.add_column("", width=bar_w, no_wrap=True)
    table.add_column("points", width=points_w, no_wrap=True, justify="right")
    if volume:
        if bar_w:
            table.add_column("", width=bar_w, no_wrap=True)
        table.add_column("mL", width=volume_w, no_wrap=True, justify="right")
    if off:
        table.add_column("off", width=off_w, no_wrap=True, justify="right")
    for row in rows:
        cells: list[Text | str] = [row.key, row.name]
        if band:
            cells.append(row.band)
        if bar_w and row.points_bar is not None:
            cells.append(bar(*row.points_bar, width=bar_w))
        cells.append(row.points)
        if volume:
            if bar_w and row.volume_bar is not None:
                cells.append(bar(*row.volume_bar, width=bar_w))
            cells.append(row.volume)
        if off:
            cells.append(row.off)
        table.add_row(*cells, style=row.style or None)
    if note is not None:
        table.add_row("", note)
    return table


class ZoneProgress(Static):
    """The zones of the plan; the active one is marked and reversed."""

    DEFAULT_CSS = """
    ZoneProgress { height: auto; border: round $panel; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view: LiveView | None = None

    def on_mount(self) -> None:
        self.border_title = "plan against actual · keys 1–9 pick the zone"

    def show(self, view: LiveView) -> None:
        """Redraw from a live view, in the layout the panel's width allows."""
        self._view = view
        width = self.content_size.width
        self.update(progress_table(view, width if width > 0 else None))
        if view.session_max_volume_nl is not None:
            self.border_subtitle = f"session max {ml(view.session_max_volume_nl)} mL"

    def on_resize(self) -> None:
        """A narrower or wider panel picks another layout."""
        if self._view is not None:
            self.show(self._view)
