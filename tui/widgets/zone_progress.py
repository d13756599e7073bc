"""Per-zone progress of points and volume against the plan, and the session's totals."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from tui.state import LiveView, LiveZone, ZoneFill, ml, mm

BAR_WIDTH = 10


def bar(done: int, planned: int, width: int = BAR_WIDTH, style: str | None = None) -> Text:
    """A text progress bar; past the plan it is full and red so overshoot shows at a glance.

    ``style`` overrides the colour (a zone's volume bar takes its :class:`ZoneFill` style).
    """
    if planned <= 0:
        return Text("·" * width, style="dim")
    fraction = done / planned
    filled = min(width, round(fraction * width))
    if style is None:
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
    most: Text | str
    off: Text | str
    style: str = ""
    bar_style: str | None = None


def _zone_row(zone: LiveZone, active: bool) -> _Row:
    marker = "▶" if active else " "
    fill = zone.fill
    name_style = "bold reverse" if active else (fill.style if fill is not ZoneFill.UNDER else "")
    # Done against planned, with the state's mark in front: full ✔, past plan ▲, at max ■,
    # past max ✖ — told apart by symbol as well as colour.
    volume = Text(f"{fill.mark}{ml(zone.volume_done_nl)}/{ml(zone.volume_planned_nl)}")
    if fill is not ZoneFill.UNDER:
        volume.stylize(fill.style)
    most = Text(ml(zone.max_volume_nl) if zone.max_volume_nl > 0 else "-")
    if fill in (ZoneFill.AT_MAX, ZoneFill.PAST_MAX):
        most.stylize(fill.style)
    return _Row(
        key=Text(f"{marker}{zone.key}", style="bold"),
        name=Text(zone.name, style=name_style),
        band=f"{mm(zone.depth_um)}±{mm(zone.tolerance_um)}",
        points_bar=(zone.points_done, zone.points_planned),
        points=Text(f"{zone.points_done}/{zone.points_planned}"),
        volume_bar=(zone.volume_done_nl, zone.volume_planned_nl),
        volume=volume,
        most=most,
        off=Text(str(zone.out_of_band), style="bold red" if zone.out_of_band else "dim"),
        bar_style=fill.style,
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
            volume=f" {ml(view.session_volume_nl)}/{ml(planned_volume)}",
            most=ml(view.session_max_volume_nl) if view.session_max_volume_nl else "-",
            off=str(sum(z.out_of_band for z in view.zones)),
            style="bold",
        )
    )
    return rows


# The columns a layout shows beyond key, name and points, richest first. What goes first when
# the panel narrows: bar length, then the bars, the depth band (the depth gauge shows the active
# zone's), the maximum (the active zone panel shows it), the volume, and last the shots off
# band. Key, name and points always stay.
_LAYOUTS: tuple[tuple[int, bool, bool, bool, bool], ...] = (
    # bar width, depth band, volume against plan, maximum, off band
    (BAR_WIDTH, True, True, True, True),
    (8, True, True, True, True),
    (5, True, True, True, True),
    (0, True, True, True, True),
    (0, False, True, True, True),
    (0, False, True, False, True),
    (0, False, False, False, True),
    (0, False, False, False, False),
)
_GAP = 2
"""Spaces between two columns (the table's padding of one on each side)."""
NAME_MIN = 6
"""Narrowest zone name a layout may leave (longer names end in an ellipsis)."""


def _cell_width(cells: list[Text | str], header: str) -> int:
    return max([len(header), *(len(c) for c in cells)])


def progress_table(view: LiveView, width: int | None = None) -> Text:
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
    volume_w = _cell_width([r.volume for r in rows], "mL/plan")
    most_w = _cell_width([r.most for r in rows], "max")
    off_w = _cell_width([r.off for r in rows], "off")

    def needed(layout: tuple[int, bool, bool, bool, bool], name_w: int) -> int:
        bar_w, band, volume, most, off = layout
        widths = [key_w, name_w, points_w]
        if bar_w:
            widths += [bar_w, bar_w]
        if band:
            widths.append(band_w)
        if volume:
            widths.append(volume_w)
        if most:
            widths.append(most_w)
        if off:
            widths.append(off_w)
        return sum(widths) + _GAP * (len(widths) - 1)

    chosen = _LAYOUTS[0]
    if width is not None:
        fitting = [lay for lay in _LAYOUTS if needed(lay, name_want) <= width]
        if not fitting:
            fitting = [lay for lay in _LAYOUTS if needed(lay, NAME_MIN) <= width]
        chosen = fitting[0] if fitting else _LAYOUTS[-1]
    bar_w, band, volume, most, off = chosen

    # Plain lines of text with the columns padded by hand: a tenth of the cost of a table to
    # draw, and the table is drawn at every commit while the gun fires.
    columns: list[tuple[str, int, str]] = [("#", key_w, "left")]
    name_w = name_want
    if width is not None:
        name_w = max(NAME_MIN, width - (needed(chosen, 0) - _GAP) - _GAP)
    columns.append(("zone", name_w, "left"))
    if band:
        columns.append(("depth mm", band_w, "left"))
    # Headers sit over the counts: they stay when the bars go.
    if bar_w:
        columns.append(("", bar_w, "left"))
    columns.append(("points", points_w, "right"))
    if volume:
        if bar_w:
            columns.append(("", bar_w, "left"))
        columns.append(("mL/plan", volume_w, "right"))
    if most:
        columns.append(("max", most_w, "right"))
    if off:
        columns.append(("off", off_w, "right"))
    lines = [_line([Text(h) for h, _, _ in columns], columns, "dim")]
    for row in rows:
        cells: list[Text | str] = [row.key, row.name]
        if band:
            cells.append(row.band)
        if bar_w and row.points_bar is not None:
            cells.append(bar(*row.points_bar, width=bar_w))
        cells.append(row.points)
        if volume:
            if bar_w and row.volume_bar is not None:
                cells.append(bar(*row.volume_bar, width=bar_w, style=row.bar_style))
            cells.append(row.volume)
        if most:
            cells.append(row.most)
        if off:
            cells.append(row.off)
        lines.append(_line(cells, columns, row.style))
    if note is not None:
        if width is not None:
            note.truncate(max(1, width - key_w - _GAP), overflow="ellipsis")
        lines.append(Text.assemble(" " * (key_w + _GAP), note))
    return Text("\n", no_wrap=True, end="").join(lines)


def _line(cells: list[Text | str], columns: list[tuple[str, int, str]], style: str) -> Text:
    """One row: each cell cut (with an ellipsis) or padded to its column's width."""
    parts: list[Text] = []
    for cell, (_, cell_w, justify) in zip(cells, columns, strict=True):
        text = cell.copy() if isinstance(cell, Text) else Text(cell)
        text.truncate(cell_w, overflow="ellipsis")
        text.align("right" if justify == "right" else "left", cell_w)
        parts.append(text)
    line = Text(" " * _GAP).join(parts)
    if style:
        line.stylize(style)
    return line


class ZoneProgress(Static):
    """The zones of the plan; the active one is marked and reversed."""

    DEFAULT_CSS = """
    ZoneProgress {
        height: auto; border: round $panel; padding: 0 1; text-wrap: nowrap; text-overflow: clip;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view: LiveView | None = None
        self._drawn: tuple[object, ...] | None = None
        self._lines = -1

    def on_mount(self) -> None:
        self.border_title = "plan against actual · keys 1–9 pick the zone"

    def show(self, view: LiveView) -> None:
        """Redraw from a live view, in the layout the panel's width allows.

        Only what the table shows is compared; the screen is laid out again only when the
        table gains or loses a line (its height is its line count).
        """
        self._view = view
        width = self.content_size.width
        drawn = (
            view.zones,
            view.active_zone_id,
            view.unattributed_shots,
            view.session_volume_nl,
            view.session_max_volume_nl,
            width,
        )
        if drawn == self._drawn:
            return
        self._drawn = drawn
        lines = len(view.zones) + 2 + (1 if view.unattributed_shots else 0)
        self.update(progress_table(view, width if width > 0 else None), layout=lines != self._lines)
        self._lines = lines
        if view.session_max_volume_nl is not None:
            self.border_subtitle = f"session max {ml(view.session_max_volume_nl)} mL"

    def on_resize(self) -> None:
        """A narrower or wider panel picks another layout."""
        self._drawn = None
        if self._view is not None:
            self.show(self._view)
