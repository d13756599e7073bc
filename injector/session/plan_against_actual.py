"""Plan against actual: a plan's zones as the session logic sees them, a session's per-zone
tallies as the database counts them, and :class:`PlanProgress` assembled from both.

The live session (in memory), the review, ``session show``, the series comparison and the
exports all build their :class:`PlanProgress` with :func:`build_progress`, so one session shows
the same numbers everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlmodel import Session, col, select

from injector.domain.shot_rules import same_kind_between
from injector.session.progress import DepthBand, PlanProgress, Tally, ZoneAgainstPlan
from injector.session.row_views import view_of
from injector.storage.shot_sql import shot_groups, shot_groups_by_volume
from injector.storage.tables import PlanZone

NO_ZONE = "(no zone)"
"""How shots fired with no zone active are named in a tally."""


@dataclass(frozen=True, slots=True)
class ZonePlan:
    """What the plan says about one zone, as the live session needs it."""

    id: int
    position: int
    name: str
    depth_um: int
    depth_tolerance_um: int
    volume_per_point_nl: int
    points: int
    max_volume_nl: int

    @property
    def band(self) -> DepthBand:
        """The zone's planned depth and tolerance."""
        return DepthBand(self.depth_um, self.depth_tolerance_um)


def tallies_from_db(conn: Connection, session_id: int) -> dict[int | None, Tally]:
    """Per-zone tallies of a session's stored shots, counted by the same rule as the live
    tally (:meth:`Tally.add_shot`): the database groups shots of equal flags and depth, the
    rule counts each group (split by volume only where a volume could change its kind)."""
    tallies: dict[int | None, Tally] = {}
    groups = shot_groups(conn, session_id)
    if not all(
        same_kind_between(g.flags, g.depth_um, g.volume_min_nl, g.volume_max_nl) for g in groups
    ):
        groups = shot_groups_by_volume(conn, session_id)
    for group in groups:
        tally = tallies.get(group.zone_id)
        if tally is None:
            tally = tallies[group.zone_id] = Tally()
        band = (
            DepthBand(group.zone_depth_um, group.zone_tolerance_um)
            if group.zone_depth_um is not None and group.zone_tolerance_um is not None
            else None
        )
        tally.add_shots_alike(
            group.flags, group.depth_um, group.volume_min_nl, group.count, group.volume_nl, band
        )
    return tallies


def build_progress(
    session_id: int,
    zones: Sequence[ZonePlan],
    tallies: dict[int | None, Tally],
    max_session_volume_nl: int | None,
    recovered: int,
    lost: int,
) -> PlanProgress:
    """Assemble :class:`PlanProgress` from a plan's zones and per-zone tallies."""
    out: list[ZoneAgainstPlan] = []
    for zone in zones:
        tally = tallies.get(zone.id, Tally())
        out.append(
            _zone_progress(
                zone.id,
                zone.name,
                zone.points,
                zone.points * zone.volume_per_point_nl,
                zone.max_volume_nl,
                tally,
            )
        )
    unzoned = tallies.get(None)
    if unzoned is not None and unzoned.shots:
        out.append(_zone_progress(None, NO_ZONE, 0, 0, None, unzoned))
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    return PlanProgress(
        session_id=session_id,
        zones=tuple(out),
        total=_zone_progress(
            None,
            "total",
            sum(z.points for z in zones),
            sum(z.points * z.volume_per_point_nl for z in zones),
            max_session_volume_nl,
            total,
        ),
        recovered_shots=recovered,
        lost_shots=lost,
    )


def _zone_progress(
    zone_id: int | None,
    name: str,
    points_planned: int,
    volume_planned_nl: int,
    max_volume_nl: int | None,
    tally: Tally,
) -> ZoneAgainstPlan:
    return ZoneAgainstPlan(
        zone_id=zone_id,
        name=name,
        points_planned=points_planned,
        points=tally.points,
        volume_planned_nl=volume_planned_nl,
        volume_nl=tally.volume_nl,
        max_volume_nl=max_volume_nl,
        depth_out_of_tolerance=tally.depth_out_of_tolerance,
        air_shots=tally.air_shots,
        air_volume_nl=tally.air_volume_nl,
        partial_shots=tally.partial_shots,
        shots=tally.shots,
        implausible_shots=tally.implausible_shots,
    )


def zone_plans(session: Session, plan_id: int | None) -> list[ZonePlan]:
    """The zones of a plan as :class:`ZonePlan` (none without a plan)."""
    if plan_id is None:
        return []
    rows = session.exec(
        select(PlanZone).where(col(PlanZone.plan_id) == plan_id).order_by(col(PlanZone.position))
    ).all()
    return [view_of(ZonePlan, row) for row in rows]
