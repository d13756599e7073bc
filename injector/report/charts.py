"""The report's charts: matplotlib figures written as SVG with their text kept as text.

One fixed font (DejaVu Sans, which matplotlib ships and the PDF renderer finds on the system)
so that the HTML and the PDF read the same; a fixed hash salt and no date in the metadata so
that the same record gives the same bytes. Lines differ by dash and marker as well as colour,
so a black-and-white print still tells them apart. Figures are built without ``pyplot``: no
global figure state, and rcParams only inside :func:`matplotlib.rc_context`.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import cycle
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

FONT = "DejaVu Sans"
RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "injector-report",
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": True,
    # Zone names are the clinic's own words: "$" in one is a dollar, not TeX.
    "text.parse_math": False,
}
# Dark-to-light, distinguishable in grey too; paired with dashes and markers below.
COLOURS = ("#1b4f72", "#b9770e", "#196f3d", "#78281f", "#5b2c6f", "#424949", "#2e86c1")
DASHES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
WIDTH_IN = 7.0

_ID = re.compile(r'\bid="([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'href="#([^"]+)"')
_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)


def svg_of(figure: Figure, prefix: str) -> str:
    """The figure as an inline ``<svg>`` element: no XML prolog or metadata, and every id
    prefixed so that several charts can share one HTML page."""
    buffer = io.StringIO()
    FigureCanvasSVG(figure)
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = _METADATA.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=1)
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = _URL.sub(lambda m: f"url(#{prefix}-{m.group(1)})", text)
    return _HREF.sub(lambda m: f'href="#{prefix}-{m.group(1)}"', text)


def _styles() -> cycle[tuple[str, Any, str]]:
    return cycle(zip(COLOURS, DASHES, MARKERS, strict=True))


@dataclass(frozen=True, slots=True)
class ZoneDepths:
    """One zone's skin-contact depths (µm) and its planned band (None: no zone, no band)."""

    title: str
    depths_um: Sequence[int]
    target_um: int | None
    tolerance_um: int | None


def depth_histograms(zones: Sequence[ZoneDepths], *, prefix: str) -> str:
    """Shots per depth, one small chart per zone in two columns, each with its planned band
    hatched and its target marked. One figure drawn once: a figure per zone took a second
    each on a loaded machine."""
    columns = 2
    rows = max(1, -(-len(zones) // columns))
    with matplotlib.rc_context(RC):
        height = 2.2 * rows + 0.5
        figure = Figure(figsize=(WIDTH_IN, height))
        top = 1 - 0.55 / height
        figure.subplots_adjust(
            left=0.09,
            right=0.98,
            bottom=0.5 / (2.1 * rows),
            top=top,
            wspace=0.28,
            hspace=0.75 if rows > 1 else 0.2,
        )
        band_patch = None
        target_line = None
        for index, zone in enumerate(zones):
            axes = figure.add_subplot(rows, columns, index + 1)
            depths = [d / 1000 for d in zone.depths_um]
            low = high = None
            if zone.target_um is not None and zone.tolerance_um is not None:
                low = (zone.target_um - zone.tolerance_um) / 1000
                high = (zone.target_um + zone.tolerance_um) / 1000
                band_patch = axes.axvspan(
                    low,
                    high,
                    facecolor="#f2f3f4",
                    edgecolor="#909497",
                    hatch="//",
                    linewidth=0.0,
                )
                target_line = axes.axvline(zone.target_um / 1000, color="black", linewidth=1.1)
            if depths:
                lowest = min([*depths, *([low] if low is not None else [])])
                highest = max([*depths, *([high] if high is not None else [])])
                step = 0.05
                first = math.floor(lowest / step) * step
                count = max(1, math.ceil((highest - first) / step + 1e-9))
                bins = [first + i * step for i in range(count + 1)]
                counts = [0] * count
                for depth in depths:
                    counts[min(count - 1, int((depth - first) / step))] += 1
                edges = bins
                # One filled outline per zone rather than a patch per bar: the PDF renderer
                # draws SVG node by node.
                axes.stairs(counts, edges, fill=True, color=COLOURS[0])
                axes.stairs(counts, edges, color="black", linewidth=0.6)
                axes.set_xlim(first - step, bins[-1] + step)
            else:
                axes.text(0.5, 0.5, "no skin-contact shots", transform=axes.transAxes, ha="center")
            axes.set_title(zone.title)
            axes.set_xlabel("depth (mm)")
            axes.set_ylabel("shots (count)")
            axes.xaxis.set_major_locator(MaxNLocator(5))
            axes.yaxis.set_major_locator(MaxNLocator(4, integer=True))
        if band_patch is not None and target_line is not None:
            figure.legend(
                [band_patch, target_line],
                ["planned depth band", "target depth"],
                loc="upper center",
                ncols=2,
                fontsize=7,
                frameon=False,
            )
        return svg_of(figure, prefix)


@dataclass(frozen=True, slots=True)
class VolumeLine:
    """One zone's cumulative delivered volume over the session (minutes, mL)."""

    label: str
    minutes: Sequence[float]
    cumulative_ml: Sequence[float]
    max_ml: float | None


@dataclass(frozen=True, slots=True)
class TimeMark:
    """A moment marked on the time axis: zone change, lock, fault, link loss."""

    minutes: float
    kind: str


# How each kind of mark is drawn: (line style, colour, short letter on the top edge).
MARK_STYLES: dict[str, tuple[Any, str, str]] = {
    "zone change": (":", "#7b7d7d", "Z"),
    "lock": ("-", "#78281f", "L"),
    "fault": ("--", "#b9770e", "F"),
    "link lost": ("-.", "#1b4f72", "X"),
}


def shots_over_time(lines: Sequence[VolumeLine], marks: Sequence[TimeMark], *, prefix: str) -> str:
    """Cumulative volume per zone against its maximum, with the session's events marked."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(WIDTH_IN, 3.6))
        figure.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.36)
        axes = figure.add_subplot()
        for line, (colour, dash, marker) in zip(lines, _styles(), strict=False):
            axes.step(
                line.minutes,
                line.cumulative_ml,
                where="post",
                color=colour,
                linestyle=dash,
                linewidth=1.4,
                label=line.label,
            )
            if line.minutes:
                axes.plot([line.minutes[-1]], [line.cumulative_ml[-1]], marker=marker, color=colour)
            if line.max_ml is not None:
                axes.axhline(
                    line.max_ml,
                    color=colour,
                    linestyle=dash,
                    linewidth=0.7,
                    label=f"maximum, {line.label}",
                )
        shown: set[str] = set()
        for mark in marks:
            style, colour, letter = MARK_STYLES[mark.kind]
            axes.axvline(
                mark.minutes,
                color=colour,
                linestyle=style,
                linewidth=0.9,
                label=mark.kind if mark.kind not in shown else None,
            )
            axes.annotate(
                letter,
                (mark.minutes, 1.0),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="bottom",
                fontsize=7,
                color=colour,
            )
            shown.add(mark.kind)
        axes.set_xlabel("time since the session started (min)")
        axes.set_ylabel("cumulative volume (mL)")
        axes.set_ylim(bottom=0)
        axes.set_xlim(left=0)
        axes.xaxis.set_major_locator(MaxNLocator(8))
        if axes.get_legend_handles_labels()[0]:
            figure.legend(loc="lower center", fontsize=7, frameon=False, ncols=4)
        return svg_of(figure, prefix)


def per_session(
    x_labels: Sequence[str],
    values: Mapping[str, Sequence[float | None]],
    *,
    ylabel: str,
    title: str,
    prefix: str,
) -> str:
    """One line per zone across the sessions of a series (None: no value that session)."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(WIDTH_IN, 3.2))
        figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.38)
        axes = figure.add_subplot()
        positions = list(range(len(x_labels)))
        for (label, series), (colour, dash, marker) in zip(values.items(), _styles(), strict=False):
            points = [(x, v) for x, v in zip(positions, series, strict=True) if v is not None]
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                color=colour,
                linestyle=dash,
                marker=marker,
                linewidth=1.3,
                label=label,
            )
        axes.set_xticks(positions, list(x_labels))
        axes.set_xlim(-0.5, len(positions) - 0.5)
        axes.set_xlabel("session")
        axes.set_ylabel(ylabel)
        axes.set_title(title)
        axes.set_ylim(bottom=0)
        if axes.get_legend_handles_labels()[0]:
            figure.legend(loc="lower center", fontsize=7, frameon=False, ncols=4)
        return svg_of(figure, prefix)


def minutes_since(start: datetime, moment: datetime) -> float:
    """Minutes from ``start`` to ``moment`` (negative before the start)."""
    return (moment - start).total_seconds() / 60
