"""The gun's panel: link state, battery, syringe, mode and settings, faults, lock."""

from __future__ import annotations

import time
from dataclasses import replace

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from tui.state import GunView, LinkStatus, ml, mm

_LINK_STYLES = {
    LinkStatus.LIVE: "bold green",
    LinkStatus.LOST: "bold white on red",
    LinkStatus.RECONNECTING: "bold yellow",
    LinkStatus.CONNECTING: "yellow",
}


def _battery(pct: int | None) -> Text:
    if pct is None:
        return Text("?", style="dim")
    if pct == 255:
        return Text("mains")
    return Text(f"{pct} %", style="bold red" if pct <= 15 else "")


class _Rows:
    """Label and value lines, each one line (a long value is cut, never wrapped)."""

    def __init__(self) -> None:
        self.text = Text(no_wrap=True, overflow="ellipsis", end="")

    def add_row(self, label: str, value: Text | str) -> None:
        if self.text:
            self.text.append("\n")
        self.text.append(f"{label:<8} ", style="dim")
        self.text.append(value)


def gun_table(gun: GunView) -> Text:
    """Two columns of what the gun last said about itself: plain lines of text, a tenth of
    the cost of a table to draw, at every shot (the syringe figure changes with each)."""
    table = _Rows()
    table.add_row("link", Text(str(gun.link), style=_LINK_STYLES.get(gun.link, "")))
    table.add_row("port", gun.port or "-")
    ident = " ".join(p for p in (gun.model, gun.serial) if p) or "-"
    table.add_row("gun", ident + (f" fw {gun.firmware}" if gun.firmware else ""))
    table.add_row("battery", _battery(gun.battery_pct))
    if gun.syringe_remaining_nl is None:
        syringe = Text("?", style="dim")
    else:
        syringe = Text(f"{ml(gun.syringe_remaining_nl)} mL")
        if gun.syringe_capacity_nl:
            syringe.append(f" of {ml(gun.syringe_capacity_nl)}")
            if gun.syringe_remaining_nl * 10 < gun.syringe_capacity_nl:
                syringe.stylize("bold yellow")
    table.add_row("syringe", syringe)
    settings = gun.mode or "-"
    if gun.depth_set_um is not None:
        settings += f" {mm(gun.depth_set_um)} mm"
    if gun.volume_set_nl is not None:
        settings += f" {gun.volume_set_nl / 1_000_000:.3f} mL"
    if gun.rate_spm:
        settings += f" {gun.rate_spm}/min"
    table.add_row("settings", settings)
    faults = Text(", ".join(gun.faults), style="bold red") if gun.faults else Text("none")
    table.add_row("faults", faults)
    if gun.locked:
        lock = Text(f"LOCKED {gun.lock_reason}".strip(), style="bold white on dark_orange3")
    else:
        lock = Text("unlocked", style="green")
    table.add_row("trigger", lock)
    return table.text


FIGURES_INTERVAL_S = 0.25
"""How often the syringe and battery figures are redrawn at most, while the gun fires."""


def _without_figures(gun: GunView) -> GunView:
    return replace(gun, syringe_remaining_nl=None, battery_pct=None)


class GunPanel(Static):
    """What the gun says about itself; its border turns red while the link is down."""

    DEFAULT_CSS = """
    /* Eight rows, each one line (cells end in an ellipsis): a fixed height, so a new battery
       or syringe figure redraws the panel without laying the screen out. */
    GunPanel {
        height: 10; border: round $panel; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    GunPanel.-lost { border: heavy $error; }
    GunPanel.-locked { border: heavy $warning; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: GunView | None = None
        self._pending: GunView | None = None
        self._drawn_at = 0.0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self.border_title = "gun"

    def show(self, gun: GunView) -> None:
        """Redraw from the gun's view state (only when it changed).

        The syringe and battery figures change with every shot; they are redrawn at most
        :data:`FIGURES_INTERVAL_S` apart (the last one always shows). Anything else (link,
        lock, faults, settings) is drawn at once.
        """
        if gun == self._shown:
            return
        shown = self._shown
        figures_only = shown is not None and _without_figures(gun) == _without_figures(shown)
        wait = self._drawn_at + FIGURES_INTERVAL_S - time.monotonic()
        if figures_only and wait > 0:
            self._pending = gun
            if self._timer is None:
                self._timer = self.set_timer(wait, self._draw_pending)
            return
        self._draw(gun)

    def _draw_pending(self) -> None:
        self._timer = None
        if self._pending is not None:
            self._draw(self._pending)

    def _draw(self, gun: GunView) -> None:
        self._pending = None
        self._shown = gun
        self._drawn_at = time.monotonic()
        self.update(gun_table(gun), layout=False)
        lost = gun.link in (LinkStatus.LOST, LinkStatus.RECONNECTING)
        self.set_class(lost, "-lost")
        self.set_class(gun.locked and not lost, "-locked")
