"""The session report as HTML: header, checklist, zone map, plan against actual, charts,
events, sign-off and the previous session, from one :class:`SessionReportData`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from injector.domain.shots import ShotFlag
from injector.domain.vocabulary import AnatomicalSite, DeviceEventKind
from injector.export.snapshot import fired_at
from injector.report.charts import (
    TimeMark,
    VolumeLine,
    ZoneDepths,
    depth_histograms,
    minutes_since,
    shots_over_time,
)
from injector.report.figures import NL_PER_ML, day, depth_in_band, percent_of_plan
from injector.report.page import PageSize, render
from injector.report.session_data import SessionReportData
from injector.report.zone_map import MapZone, zone_map
from injector.session.history import ShotView
from injector.session.progress import ZoneAgainstPlan

_NO_SKIN = int(ShotFlag.NO_SKIN)
NO_ZONE = "no zone chosen"

# Device events drawn on the time axis, by the kind of mark they make.
_MARKED: dict[str, str] = {
    DeviceEventKind.LOCKED.value: "lock",
    DeviceEventKind.FAULT_RAISED.value: "fault",
    DeviceEventKind.LINK_LOST.value: "link lost",
}


@dataclass(frozen=True, slots=True)
class ZoneRow:
    """One line of the plan-against-actual table (``progress`` as ``session show`` has it)."""

    progress: ZoneAgainstPlan
    percent: int | None
    in_band: int | None
    depth_mean_um: float | None
    depth_min_um: int | None
    depth_max_um: int | None
    band: tuple[int, int] | None
    site: str | None


def _site(value: str | None) -> AnatomicalSite | None:
    """The zone's site; a value this version does not know leaves the zone off the map (it
    is then listed beside it) rather than failing the report."""
    try:
        return AnatomicalSite(value) if value else None
    except ValueError:
        return None


def zone_rows(data: SessionReportData) -> list[ZoneRow]:
    """The table's rows: the plan's zones in order, shots with no zone, then the total."""
    rows: list[ZoneRow] = []
    for zone in (*data.progress.zones, data.progress.total):
        is_total = zone is data.progress.total
        delivery = None if is_total else data.delivery(zone.zone_id)
        planned = data.record.zone(zone.zone_id) if not is_total else None
        site = _site(planned.site) if planned is not None else None
        rows.append(
            ZoneRow(
                progress=zone,
                percent=percent_of_plan(zone),
                # Shots with no zone have no band to be in.
                in_band=depth_in_band(zone) if is_total or planned is not None else None,
                depth_mean_um=delivery.depth_mean_um if delivery else None,
                depth_min_um=delivery.depth_min_um if delivery else None,
                depth_max_um=delivery.depth_max_um if delivery else None,
                band=(
                    (
                        planned.depth_um - planned.depth_tolerance_um,
                        planned.depth_um + planned.depth_tolerance_um,
                    )
                    if planned is not None
                    else None
                ),
                site=site.label if site is not None else None,
            )
        )
    return rows


def _shots_by_zone(data: SessionReportData) -> dict[int | None, list[ShotView]]:
    by_zone: dict[int | None, list[ShotView]] = {}
    for shot in data.record.shots:
        key = shot.zone_id if data.record.zone(shot.zone_id) is not None else None
        by_zone.setdefault(key, []).append(shot)
    return by_zone


def _histogram(data: SessionReportData) -> str | None:
    by_zone = _shots_by_zone(data)
    zones: list[ZoneDepths] = []
    for zone in data.progress.zones:
        planned = data.record.zone(zone.zone_id)
        shots = by_zone.get(zone.zone_id, [])
        if planned is None and not shots:
            continue
        zones.append(
            ZoneDepths(
                title=zone.name if planned is not None else NO_ZONE,
                depths_um=[s.depth_um for s in shots if not s.flags & _NO_SKIN],
                target_um=planned.depth_um if planned else None,
                tolerance_um=planned.depth_tolerance_um if planned else None,
            )
        )
    return depth_histograms(zones, prefix="depth") if zones else None


def _start(data: SessionReportData) -> datetime | None:
    view = data.record.session
    if view.started_at is not None:
        return view.started_at
    times = [fired_at(s) for s in data.record.shots]
    return min(times) if times else None


def _time_chart(data: SessionReportData) -> str | None:
    start = _start(data)
    if start is None:
        return None
    by_zone = _shots_by_zone(data)
    lines: list[VolumeLine] = []
    for zone in data.progress.zones:
        shots = sorted(by_zone.get(zone.zone_id, []), key=fired_at)
        minutes, cumulative, total = [0.0], [0.0], 0
        for shot in shots:
            if shot.flags & _NO_SKIN:
                continue
            total += shot.volume_nl
            minutes.append(max(0.0, minutes_since(start, fired_at(shot))))
            cumulative.append(total / NL_PER_ML)
        if len(minutes) == 1:
            continue
        lines.append(
            VolumeLine(
                label=zone.name if zone.zone_id is not None else NO_ZONE,
                minutes=minutes,
                cumulative_ml=cumulative,
                max_ml=zone.max_volume_nl / NL_PER_ML if zone.max_volume_nl else None,
            )
        )
    marks = [
        TimeMark(max(0.0, minutes_since(start, change.at)), "zone change")
        for change in data.zone_changes
    ]
    marks += [
        TimeMark(max(0.0, minutes_since(start, event.at)), _MARKED[event.kind])
        for event in data.record.events
        if event.kind in _MARKED
    ]
    return shots_over_time(lines, marks, prefix="time")


def _map_zones(data: SessionReportData) -> list[MapZone]:
    plan = data.record.plan
    if plan is None:
        return []
    progress = {z.zone_id: z for z in data.progress.zones}
    return [
        MapZone(
            name=zone.name,
            site=_site(zone.site),
            percent=percent_of_plan(progress[zone.id]) if zone.id in progress else None,
        )
        for zone in plan.zones
    ]


def render_session_html(
    data: SessionReportData, *, generated_at: datetime, page_size: PageSize = PageSize.A4
) -> str:
    """The session report, a self-contained HTML page (``generated_at`` shows in the footer
    only, so the same record always gives the same body)."""
    view = data.record.session
    plan = data.record.plan
    title = f"Session {view.id}"
    patient = data.patient
    return render(
        "session.html.j2",
        title=title,
        running=(
            f"{patient.name} ({patient.identifier})" if patient else "no patient",
            f"{title}, {day(view.started_at or view.scheduled_at)}",
        ),
        page_size=page_size,
        generated_at=generated_at,
        data=data,
        view=view,
        plan=plan,
        patient=data.patient,
        rows=zone_rows(data),
        zone_map=zone_map(_map_zones(data)),
        histogram=_histogram(data),
        time_chart=_time_chart(data),
        comparison=data.comparison,
        no_zone=NO_ZONE,
    )
