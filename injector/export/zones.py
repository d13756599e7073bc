"""What was delivered to each zone of a session: volume, points and depth statistics.

What each shot counts for (point, flow, air, implausible) is the session logic's one rule,
:meth:`~injector.session.progress.Tally.add_shot`: an export says what the live screen, the
review and ``session show`` say. Air and implausible shots are left out of the depth figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from injector.export.snapshot import SessionRecord, fired_at
from injector.session.history import ShotView
from injector.session.patients_plans import ZoneView
from injector.session.progress import DepthBand, Tally


@dataclass(frozen=True, slots=True)
class ZoneDelivery:
    """The shots of one zone (``zone`` None: shots fired with no zone chosen).

    ``volume_nl`` and the depth figures count skin-contact shots only; ``outside_tolerance``
    is None for shots with no zone, which have no target depth.
    """

    zone: ZoneView | None
    shots: int
    skin_shots: int
    air_shots: int
    points: int
    volume_nl: int
    air_volume_nl: int
    depth_min_um: int | None
    depth_max_um: int | None
    depth_mean_um: float | None
    outside_tolerance: int | None
    first_at: datetime
    last_at: datetime
    implausible_shots: int = 0


def _delivery(zone: ZoneView | None, shots: list[ShotView]) -> ZoneDelivery:
    band = DepthBand(zone.depth_um, zone.depth_tolerance_um) if zone is not None else None
    tally = Tally()
    depths: list[int] = []
    for shot in shots:
        if tally.add_shot(shot.flags, shot.depth_um, shot.volume_nl, band).on_skin:
            depths.append(shot.depth_um)
    times = [fired_at(shot) for shot in shots]
    return ZoneDelivery(
        zone=zone,
        shots=tally.shots,
        skin_shots=len(depths),
        air_shots=tally.air_shots,
        points=tally.points,
        volume_nl=tally.volume_nl,
        air_volume_nl=tally.air_volume_nl,
        depth_min_um=min(depths) if depths else None,
        depth_max_um=max(depths) if depths else None,
        depth_mean_um=sum(depths) / len(depths) if depths else None,
        outside_tolerance=tally.depth_out_of_tolerance if zone is not None else None,
        first_at=min(times),
        last_at=max(times),
        implausible_shots=tally.implausible_shots,
    )


def zone_deliveries(record: SessionRecord) -> list[ZoneDelivery]:
    """One entry per zone that received shots, in plan order, then the shots with no zone."""
    by_zone: dict[int | None, list[ShotView]] = {}
    for shot in record.shots:
        key = shot.zone_id if record.zone(shot.zone_id) is not None else None
        by_zone.setdefault(key, []).append(shot)
    deliveries: list[ZoneDelivery] = []
    if record.plan is not None:
        for zone in record.plan.zones:
            if zone.id in by_zone:
                deliveries.append(_delivery(zone, by_zone[zone.id]))
    if None in by_zone:
        deliveries.append(_delivery(None, by_zone[None]))
    return deliveries


def session_tally(record: SessionRecord) -> Tally:
    """The whole session's counts, by the same rule as each zone's (and the live tally's)."""
    tally = Tally()
    for shot in record.shots:
        zone = record.zone(shot.zone_id)
        band = DepthBand(zone.depth_um, zone.depth_tolerance_um) if zone is not None else None
        tally.add_shot(shot.flags, shot.depth_um, shot.volume_nl, band)
    return tally
