"""The zones table fits the room it has: key, name and counts always show whole."""

from __future__ import annotations

from rich.console import Console

from tests.tui.fixtures import live_view
from tui.widgets.zone_progress import progress_table


def _render(width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None, legacy_windows=False)
    console.print(progress_table(live_view(), width))
    return console.export_text().splitlines()


def test_every_width_keeps_keys_names_and_counts() -> None:
    view = live_view()
    for width in range(30, 121):
        lines = _render(width)
        assert all(len(line) <= width for line in lines), width
        for zone, line in zip(view.zones, lines[1:], strict=False):
            marker = "▶" if zone.zone_id == view.active_zone_id else " "
            assert line.startswith(f"{marker}{zone.key} "), (width, line)
            assert f"{zone.points_done}/{zone.points_planned}" in line, (width, line)
            name_shown = line[4:].split("  ")[0].rstrip("…")
            assert zone.name.startswith(name_shown), (width, line)
            assert len(name_shown) >= min(5, len(zone.name)), (width, line)


def test_wide_tables_keep_bars_band_and_volume() -> None:
    wide = "\n".join(_render(100))
    assert "█" in wide and "2.50±0.50" in wide and "0.92/1.40" in wide
    narrow = "\n".join(_render(44))
    assert "█" not in narrow and "0.92/1.40" in narrow
