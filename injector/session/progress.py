"""Plan against actual: the tallies the session logic keeps and the results it returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from injector.domain.shot_rules import ShotKind, is_partial, shot_kind
from injector.domain.vocabulary import AlertKind


@dataclass(frozen=True, slots=True)
class DepthBand:
    """A zone's planned depth and tolerance: a shot on skin outside it is out of tolerance."""

    depth_um: int
    tolerance_um: int


@dataclass(slots=True)
class Tally:
    """Running counts for one zone (or the whole session); mutable, owned by one session.

    Every count is made by :meth:`add_shot`, which asks
    :func:`~injector.domain.shot_rules.shot_kind` what a shot counts for: the live tally, the
    tally rebuilt from stored shots and the exports agree because nothing else decides it.
    """

    shots: int = 0
    points: int = 0
    volume_nl: int = 0
    air_shots: int = 0
    air_volume_nl: int = 0
    partial_shots: int = 0
    depth_out_of_tolerance: int = 0
    implausible_shots: int = 0

    def add_shot(
        self,
        flags: int,
        depth_um: int,
        volume_nl: int,
        band: DepthBand | None = None,
    ) -> ShotKind:
        """Count one shot of these values (in a zone of ``band``, if any); returns what it
        counted for."""
        return self.add_shots_alike(flags, depth_um, volume_nl, 1, volume_nl, band)

    def add_shots_alike(
        self,
        flags: int,
        depth_um: int,
        volume_nl: int,
        count: int,
        volume_total_nl: int,
        band: DepthBand | None = None,
    ) -> ShotKind:
        """Count ``count`` shots of equal flags and depth, one of whose volumes is
        ``volume_nl``, that all count for the same kind, together ``volume_total_nl``."""
        kind = shot_kind(flags, depth_um, volume_nl)
        self.shots += count
        if kind is ShotKind.IMPLAUSIBLE:
            self.implausible_shots += count
            return kind
        if kind is ShotKind.AIR:
            self.air_shots += count
            self.air_volume_nl += volume_total_nl
        else:
            if kind is ShotKind.POINT:
                self.points += count
            self.volume_nl += volume_total_nl
            if band is not None and abs(depth_um - band.depth_um) > band.tolerance_um:
                self.depth_out_of_tolerance += count
        if is_partial(flags):
            self.partial_shots += count
        return kind

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.shots += other.shots
        self.points += other.points
        self.volume_nl += other.volume_nl
        self.air_shots += other.air_shots
        self.air_volume_nl += other.air_volume_nl
        self.partial_shots += other.partial_shots
        self.depth_out_of_tolerance += other.depth_out_of_tolerance
        self.implausible_shots += other.implausible_shots


@dataclass(frozen=True, slots=True)
class ZoneAgainstPlan:
    """One zone, planned against delivered.

    The counts follow :func:`~injector.domain.shot_rules.shot_kind`: ``points`` are shots
    on skin (a CONTINUOUS flow report is no point, its volume is delivered); air shots (flag
    NO_SKIN) are counted apart and their volume is not "delivered"; implausible shots count
    among ``shots`` only. ``zone_id`` None holds shots fired with no zone active.
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
    implausible_shots: int = 0

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


@dataclass(frozen=True, slots=True)
class PlanLock:
    """What is true of a session's plan-limit lock, for the banner and the gun panel alike.

    ``locked``: a reached limit asks for the gun to be locked and nobody has overridden it.
    ``overridden_by``/``overridden_at``: the last override (the practitioner's printed name,
    confirmed by their PIN), if any.
    """

    locked: bool
    overridden_by: str | None = None
    overridden_at: datetime | None = None

    @property
    def banner(self) -> str:
        """``locked by plan limit``, ``overridden by NAME at HH:MM`` (local time), or
        ``unlocked``."""
        if self.locked:
            return "locked by plan limit"
        if self.overridden_by is not None and self.overridden_at is not None:
            at = self.overridden_at.astimezone().strftime("%H:%M")
            return f"overridden by {self.overridden_by} at {at}"
        return "unlocked"
