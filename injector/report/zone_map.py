"""The zone map: a schematic face and body, front and back, drawn from our own outlines, with
each planned zone in place.

Every zone is one ``<g>`` holding its region, a ``<title>`` and a text label (its name and the
percentage of its planned volume delivered), so the map never rests on colour alone; the fill
steps darken with the percentage and the over-plan step is also cross-hatched, for a
black-and-white print. Figures are drawn as the practitioner faces the patient: the
patient's right is on the left of the front views and on the right of the back view, and
each figure says so. Only the figures the plan's sites need are drawn.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from injector.domain.vocabulary import AnatomicalSite

WIDTH = 800
LABEL_GAP = 18


class Figure(enum.StrEnum):
    """The schematic drawings a site can sit on."""

    FACE = "face"
    BODY_FRONT = "body, front"
    BODY_BACK = "body, back"


@dataclass(frozen=True, slots=True)
class Region:
    """Where a site is drawn: an ellipse on a figure, and which margin its label goes to."""

    figure: Figure
    cx: float
    cy: float
    rx: float
    ry: float
    side: str  # "left" or "right" margin of the drawing


C = WIDTH / 2
REGIONS: dict[AnatomicalSite, Region] = {
    AnatomicalSite.SCALP: Region(Figure.FACE, C, 92, 86, 22, "left"),
    AnatomicalSite.FOREHEAD: Region(Figure.FACE, C, 135, 72, 20, "right"),
    AnatomicalSite.GLABELLA: Region(Figure.FACE, C, 168, 13, 10, "right"),
    AnatomicalSite.CROWS_FEET_RIGHT: Region(Figure.FACE, C - 82, 190, 13, 13, "left"),
    AnatomicalSite.CROWS_FEET_LEFT: Region(Figure.FACE, C + 82, 190, 13, 13, "right"),
    AnatomicalSite.CHEEK_RIGHT: Region(Figure.FACE, C - 58, 248, 30, 28, "left"),
    AnatomicalSite.CHEEK_LEFT: Region(Figure.FACE, C + 58, 248, 30, 28, "right"),
    AnatomicalSite.PERIORAL: Region(Figure.FACE, C, 292, 36, 17, "left"),
    AnatomicalSite.CHIN: Region(Figure.FACE, C, 333, 28, 12, "right"),
    AnatomicalSite.NECK: Region(Figure.FACE, C, 400, 42, 24, "left"),
    AnatomicalSite.UPPER_ARM_RIGHT: Region(Figure.BODY_FRONT, C - 82, 165, 13, 42, "left"),
    AnatomicalSite.UPPER_ARM_LEFT: Region(Figure.BODY_FRONT, C + 82, 165, 13, 42, "right"),
    AnatomicalSite.ABDOMEN: Region(Figure.BODY_FRONT, C, 228, 34, 34, "right"),
    AnatomicalSite.FLANK_RIGHT: Region(Figure.BODY_FRONT, C - 42, 250, 9, 26, "left"),
    AnatomicalSite.FLANK_LEFT: Region(Figure.BODY_FRONT, C + 42, 250, 9, 26, "right"),
    AnatomicalSite.THIGH_RIGHT_LATERAL: Region(Figure.BODY_FRONT, C - 40, 365, 11, 46, "left"),
    AnatomicalSite.THIGH_RIGHT_MEDIAL: Region(Figure.BODY_FRONT, C - 14, 365, 10, 40, "left"),
    AnatomicalSite.THIGH_LEFT_MEDIAL: Region(Figure.BODY_FRONT, C + 14, 365, 10, 40, "right"),
    AnatomicalSite.THIGH_LEFT_LATERAL: Region(Figure.BODY_FRONT, C + 40, 365, 11, 46, "right"),
    # Seen from behind, the patient's left is on the left.
    AnatomicalSite.BUTTOCK_LEFT: Region(Figure.BODY_BACK, C - 24, 310, 23, 21, "left"),
    AnatomicalSite.BUTTOCK_RIGHT: Region(Figure.BODY_BACK, C + 24, 310, 23, 21, "right"),
}

_FACE_OUTLINE = (
    f'<ellipse cx="{C}" cy="215" rx="112" ry="150"/>'
    f'<path d="M {C - 45} 352 L {C - 48} 440 M {C + 45} 352 L {C + 48} 440"/>'
    f'<ellipse cx="{C - 116}" cy="215" rx="10" ry="26"/>'
    f'<ellipse cx="{C + 116}" cy="215" rx="10" ry="26"/>'
    f'<ellipse cx="{C - 40}" cy="190" rx="21" ry="8"/>'
    f'<ellipse cx="{C + 40}" cy="190" rx="21" ry="8"/>'
    f'<path d="M {C} 190 L {C - 12} 250 L {C + 12} 250"/>'
    f'<path d="M {C - 22} 292 Q {C} 300 {C + 22} 292"/>'
)
# One silhouette, arms slightly away from the body; the same outline serves front and back.
_BODY_OUTLINE = (
    f'<circle cx="{C}" cy="52" r="30"/>'
    f'<path d="M {C - 12} 82 L {C - 12} 96 L {C - 62} 108 Q {C - 76} 112 {C - 80} 124 '
    f"L {C - 98} 300 L {C - 84} 302 L {C - 66} 170 L {C - 52} 250 L {C - 58} 312 "
    f"L {C - 48} 540 L {C - 10} 540 L {C - 4} 330 L {C + 4} 330 L {C + 10} 540 "
    f"L {C + 48} 540 L {C + 58} 312 L {C + 52} 250 L {C + 66} 170 L {C + 84} 302 "
    f'L {C + 98} 300 L {C + 80} 124 Q {C + 76} 112 {C + 62} 108 L {C + 12} 96 L {C + 12} 82"/>'
)
_OUTLINES = {
    Figure.FACE: (_FACE_OUTLINE, 450),
    Figure.BODY_FRONT: (_BODY_OUTLINE, 550),
    Figure.BODY_BACK: (_BODY_OUTLINE, 550),
}
_SIDES = {
    Figure.FACE: ("patient's right", "patient's left"),
    Figure.BODY_FRONT: ("patient's right", "patient's left"),
    Figure.BODY_BACK: ("patient's left", "patient's right"),
}

# (lower bound of the percentage, fill, words) — darker as more of the plan is delivered.
STEPS: tuple[tuple[int, str, str], ...] = (
    (0, "#ffffff", "none delivered"),
    (1, "#d6eaf8", "under half"),
    (50, "#85c1e9", "half to 90 %"),
    (90, "#2e86c1", "90 to 110 % (as planned)"),
    (111, "#1b4f72", "over 110 % (hatched)"),
)
OVER_PLAN = 111


@dataclass(frozen=True, slots=True)
class MapZone:
    """A planned zone as the map shows it (``percent`` None: no volume planned)."""

    name: str
    site: AnatomicalSite | None
    percent: int | None


@dataclass(frozen=True, slots=True)
class ZoneMap:
    """The drawings (inline SVG, in figure order) and the zones with no site to draw them at."""

    figures: tuple[str, ...]
    unplaced: tuple[MapZone, ...]
    legend: tuple[tuple[str, str], ...]


def fill_of(percent: int | None) -> str:
    """The fill of a zone delivered at ``percent`` of its plan."""
    chosen = STEPS[0][1]
    for lower, fill, _ in STEPS:
        if percent is not None and percent >= lower:
            chosen = fill
    return chosen


def label_of(zone: MapZone) -> str:
    """A zone's label on the map: its name and the percentage delivered."""
    return f"{zone.name} {'—' if zone.percent is None else f'{zone.percent} %'}"


def _spread(wanted: list[float]) -> list[float]:
    """Label heights at least :data:`LABEL_GAP` apart, each as near its region as it can be."""
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, placed[-1] + LABEL_GAP) if placed else y)
    return placed


def _figure_svg(figure: Figure, zones: Sequence[MapZone], index: int) -> str:
    outline, height = _OUTLINES[figure]
    pattern = f"zone-map-{index}-over"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="zone-map" role="img" aria-label="zone map, {figure.value}">',
        f"<title>zone map, {figure.value}</title>",
        f'<defs><pattern id="{pattern}" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{fill_of(OVER_PLAN)}"/>'
        '<path d="M0 0 L6 6 M6 0 L0 6" stroke="#ffffff" stroke-width="1"/></pattern></defs>',
        f'<g class="outline" fill="none" stroke="#333333" stroke-width="1.4">{outline}</g>',
    ]
    left, right = _SIDES[figure]
    parts.append(
        f'<text x="8" y="16" class="side">{left}</text>'
        f'<text x="{WIDTH - 8}" y="16" text-anchor="end" class="side">{right}</text>'
    )
    for side in ("left", "right"):
        mine = [
            (REGIONS[z.site], z)
            for z in zones
            if z.site is not None and REGIONS[z.site].side == side
        ]
        mine.sort(key=lambda pair: pair[0].cy)
        heights = _spread([region.cy for region, _ in mine])
        for (region, zone), y in zip(mine, heights, strict=True):
            fill = (
                f"url(#{pattern})"
                if zone.percent is not None and zone.percent >= OVER_PLAN
                else fill_of(zone.percent)
            )
            label = escape(label_of(zone))
            x_text, anchor = (8, "start") if side == "left" else (WIDTH - 8, "end")
            x_edge = region.cx - region.rx if side == "left" else region.cx + region.rx
            x_line = 215 if side == "left" else WIDTH - 215
            site = zone.site.label if zone.site is not None else ""
            parts.append(
                f'<g class="zone" data-zone="{escape(zone.name)}">'
                f"<title>{label} ({escape(site)})</title>"
                f'<ellipse cx="{region.cx}" cy="{region.cy}" rx="{region.rx}" ry="{region.ry}" '
                f'fill="{fill}" stroke="#000000" stroke-width="1.2"/>'
                f'<polyline points="{x_edge},{region.cy} {x_line},{y}" fill="none" '
                f'stroke="#555555" stroke-width="0.7"/>'
                f'<text x="{x_text}" y="{y + 4}" text-anchor="{anchor}">{label}</text>'
                "</g>"
            )
    parts.append("</svg>")
    return "".join(parts)


def zone_map(zones: Sequence[MapZone]) -> ZoneMap:
    """The map of a plan's zones: one drawing per figure its sites need, face first."""
    needed = [f for f in Figure if any(z.site and REGIONS[z.site].figure is f for z in zones)]
    figures = tuple(
        _figure_svg(f, [z for z in zones if z.site and REGIONS[z.site].figure is f], i)
        for i, f in enumerate(needed)
    )
    return ZoneMap(
        figures=figures,
        unplaced=tuple(z for z in zones if z.site is None),
        legend=tuple((fill, words) for _, fill, words in STEPS),
    )
