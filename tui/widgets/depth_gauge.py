"""The last shot's depth against the active zone's planned band."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Label

from tui.state import LiveZone, mm
from tui.widgets.in_place import set_line

GAUGE_WIDTH = 30


def gauge_line(depth_um: int, zone: LiveZone, width: int = GAUGE_WIDTH) -> str:
    """A one-line ruler from 0 to twice the planned depth with the band and the shot marked.

    The band is ``=``, the rest ``-``, the shot ``▼`` (clamped to the ends), so a glance
    tells shallow from deep without reading numbers.
    """
    span = max(2 * zone.depth_um, zone.depth_high_um + 1, 1)

    def column(um: int) -> int:
        return min(width - 1, max(0, round(um * (width - 1) / span)))

    cells = ["-"] * width
    for i in range(column(zone.depth_low_um), column(zone.depth_high_um) + 1):
        cells[i] = "="
    cells[column(depth_um)] = "▼"
    return "".join(cells)


class DepthGauge(Vertical):
    """Depth of the last shot in mm; turns red when outside the active zone's tolerance."""

    DEFAULT_CSS = """
    DepthGauge { height: auto; width: 1fr; min-width: 20; max-width: 34; padding: 0 1; }
    DepthGauge Digits { width: auto; }
    DepthGauge .caption { color: $text-muted; }
    DepthGauge > Label { width: 1fr; height: 1; }
    DepthGauge.-out Digits { color: $error; text-style: bold; }
    DepthGauge.-out #depth-band { color: $error; text-style: bold; }
    DepthGauge.-in Digits { color: $success; }
    """

    def compose(self) -> ComposeResult:
        yield Label("DEPTH mm", id="depth-caption", classes="caption")
        yield Digits("-.--", id="depth-digits")
        yield Label("no zone active", id="depth-band")
        yield Label("", id="depth-ruler", classes="caption")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[int | None, LiveZone | None] = (None, None)
        self._drawn: tuple[int | None, int, int, int] | None = None

    def on_resize(self) -> None:
        """The ruler and the band's wording follow the width."""
        self._drawn = None
        self.show(*self._shown)

    def show(self, depth_um: int | None, zone: LiveZone | None) -> None:
        """Show a depth (None: no shot yet) against a zone's band (None: no zone active).

        Every line has a fixed size: a new depth redraws them without laying the screen out.
        """
        self._shown = (depth_um, zone)
        room = self.content_size.width or GAUGE_WIDTH
        drawn = (
            depth_um,
            zone.depth_um if zone else -1,
            zone.tolerance_um if zone else -1,
            room,
        )
        if drawn == self._drawn:
            return
        self._drawn = drawn
        width = max(10, min(GAUGE_WIDTH, room))
        digits = self.query_one("#depth-digits", Digits)
        band = self.query_one("#depth-band", Label)
        ruler = self.query_one("#depth-ruler", Label)
        caption = self.query_one("#depth-caption", Label)
        caption_text = "DEPTH mm"
        digits.update("-.--" if depth_um is None else mm(depth_um))
        inside: bool | None = None
        if zone is None:
            set_line(band, "no zone active")
            set_line(ruler, "")
        else:
            plan = f"plan {mm(zone.depth_um)} ± {mm(zone.tolerance_um)}"
            if room < len(plan) + len(" · TOO SHALLOW"):
                plan = f"{mm(zone.depth_um)}±{mm(zone.tolerance_um)}"
            if room < len(plan) + len(" · TOO SHALLOW"):
                # Narrow: the plan goes up beside the caption, the verdict keeps its line.
                caption_text = f"mm {plan}"
                plan = ""
            if depth_um is None:
                set_line(band, plan)
                set_line(ruler, "")
            else:
                inside = zone.in_band(depth_um)
                if inside:
                    verdict = "in band"
                elif depth_um < zone.depth_low_um:
                    verdict = "TOO SHALLOW"
                else:
                    verdict = "TOO DEEP"
                set_line(band, f"{plan} · {verdict}" if plan else verdict)
                set_line(ruler, gauge_line(depth_um, zone, width))
        set_line(caption, caption_text)
        self.set_class(inside is False, "-out")
        self.set_class(inside is True, "-in")
