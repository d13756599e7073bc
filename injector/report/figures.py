"""The report's own derived figures and units, each defined once for the tables, the map and
the charts alike."""

from __future__ import annotations

from datetime import datetime

from injector.session.progress import ZoneAgainstPlan

NL_PER_ML = 1_000_000
UM_PER_MM = 1000


def percent_of_plan(zone: ZoneAgainstPlan) -> int | None:
    """Volume delivered as a whole percentage of the volume planned (None: nothing planned)."""
    if zone.volume_planned_nl <= 0:
        return None
    return round(100 * zone.volume_nl / zone.volume_planned_nl)


def depth_in_band(zone: ZoneAgainstPlan) -> int:
    """Skin-contact shots whose depth was within the planned band: the skin-contact shots the
    session layer counted, less those it counted out of band."""
    return zone.shots - zone.air_shots - zone.depth_out_of_tolerance


def ml(volume_nl: int | float | None) -> str:
    """A volume in millilitres for the tables: ``1.25 mL``; ``—`` for none."""
    if volume_nl is None:
        return "—"
    return f"{volume_nl / NL_PER_ML:.2f}\u00a0mL"


def mm(depth_um: int | float | None) -> str:
    """A depth in millimetres: ``1.50 mm``; ``—`` for none."""
    if depth_um is None:
        return "—"
    return f"{depth_um / UM_PER_MM:.2f}\u00a0mm"


def mm_bare(depth_um: int | float | None) -> str:
    """A depth in millimetres without the unit (the column heading names it)."""
    if depth_um is None:
        return "—"
    return f"{depth_um / UM_PER_MM:.2f}"


def percent(value: int | None) -> str:
    """``92 %``, or ``—`` when there is no percentage."""
    return "—" if value is None else f"{value}\u00a0%"


def when(value: datetime | None) -> str:
    """A date and time in this computer's time zone, named (as ``session show`` prints)."""
    if value is None:
        return "—"
    return value.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def day(value: datetime | None) -> str:
    """The local date of a time."""
    if value is None:
        return "—"
    return value.astimezone().strftime("%Y-%m-%d")


def clock(value: datetime | None) -> str:
    """A local time of day with seconds."""
    if value is None:
        return "—"
    return value.astimezone().strftime("%H:%M:%S")
