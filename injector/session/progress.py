"""Plan against actual: the tallies the session logic keeps and the results it returns."""

from __future__ import annotations

from dataclasses import dataclass

from injector.domain.vocabulary import AlertKind


@dataclass(slots=True)
class Tally:
    """Running counts for one zone (or the whole session); mutable, owned by one session."""

    shots: int = 0
    points: int = 0
    volume_nl: int = 0
    air_shots: int = 0
    air_volume_nl: int = 0
    partial_shots: int = 0
    depth_out_of_tolerance: int = 0

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.shots += other.shots
        self.points += other.points
        self.volume_nl += other.volume_nl
        self.air_shots += other.air_shots
        self.air_volume_nl += other.air_volume_nl
        self.partial_shots += other.partial_shots
        self.depth_out_of_tolerance += other.depth_out_of_tolerance


@dataclass(frozen=True, slots=True)
class ZoneAgainstPlan:
    """One zone, planned against delivered.

    ``points`` counts shots with skin contact; air shots (flag NO_SKIN) are counted apart and
    their volume is not "delivered". ``zone_id`` None holds shots fired with no zone active.
    """

    zone_id: int | None
    name: str
    points_planned: int
    points: int
    volume_planned_nl: int
    volume_nl: int
    max_volume_nl: int | None
    depth_out_of_tolerance: int
    air_shots: int
    air_volume_nl: int
    partial_shots: int
    shots: int

    @property
    def max_volume_reached(self) -> bool:
        """True once the delivered volume is at or above the zone's maximum."""
        return self.max_volume_nl is not None and self.volume_nl >= self.max_volume_nl


@dataclass(frozen=True, slots=True)
class PlanProgress:
    """A session, planned against delivered, per zone (plan order, unzoned last) and in total."""

    session_id: int
    zones: tuple[ZoneAgainstPlan, ...]
    total: ZoneAgainstPlan
    recovered_shots: int
    lost_shots: int


@dataclass(frozen=True, slots=True)
class PlanAlert:
    """A plan limit reached. ``lock`` is True when the plan asks to lock the gun (PLAN_LIMIT)."""

    kind: AlertKind
    zone_id: int | None
    volume_nl: int
    limit_nl: int
    lock: bool


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one :meth:`LiveSession.add_shots` call stored.

    ``alerts`` are the limits first reached by this batch; ``lock_requested`` is True while a
    reached limit that asks for a lock has not been overridden and shots still arrive: the
    recorder should send LOCK with reason PLAN_LIMIT.
    """

    new: int
    duplicates: int
    alerts: tuple[PlanAlert, ...] = ()
    lock_requested: bool = False
    left_out: int = 0
    """Shots fired before the session opened: stored with no session (see session_window)."""
