"""What was delivered to each zone of a session: volume, points and depth statistics.

Shots fired in the air (``NO_SKIN``) deliver nothing to the patient and their depth means
nothing, so they are counted apart and left out of the volume and the depth figures, as the
live session's tally does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from injector.domain.shots import ShotFlag
from injector.export.snapshot import SessionRecord, fired_at
from injector.session.history import ShotView
from injector.session.patients_plans import ZoneView

_NO_SKIN = int(ShotFlag.NO_SKIN)
_CONTINUOUS = int(ShotFlag.CONTINUOUS)


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


def _delivery(zone: ZoneView | None, shots: list[ShotView]) -> ZoneDelivery:
    skin = [shot for shot in shots if not shot.flags & _NO_SKIN]
    depths = [shot.depth_um for shot in skin]
    times = [fired_at(shot) for shot in shots]
    outside: int | None = None
    if zone is not None:
        outside = sum(1 for depth in depths if abs(depth - zone.depth_um) > zone.depth_tolerance_um)
    return ZoneDelivery(
        zone=zone,
        shots=len(shots),
        skin_shots=len(skin),
        air_shots=len(shots) - len(skin),
        # A CONTINUOUS report is an interval of flow, not a point.
        points=sum(1 for shot in skin if not shot.flags & _CONTINUOUS),
        volume_nl=sum(shot.volume_nl for shot in skin),
        air_volume_nl=sum(shot.volume_nl for shot in shots if shot.flags & _NO_SKIN),
        depth_min_um=min(depths) if depths else None,
        depth_max_um=max(depths) if depths else None,
        depth_mean_um=sum(depths) / len(depths) if depths else None,
        outside_tolerance=outside,
        first_at=min(times),
        last_at=max(times),
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
