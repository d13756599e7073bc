"""The live feed's running picture of a session, turned into view state on demand.

It is fed on the feed's thread: driver events (the gun's panel, last depth, the sparkline) and
the session logic's plan-against-actual after each commit (counts and volumes: what the screen
says was recorded is what was committed). Memory is bounded: per-zone totals come from the
session logic and only the last :data:`RECENT_DEPTHS` depths are kept.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import assert_never

from injector.domain.shot_rules import shot_kind
from injector.driver import (
    DecoderStatistics,
    DeviceAnomaly,
    DeviceIdentified,
    DeviceRebooted,
    DriverEvent,
    FaultChanged,
    LinkChanged,
    LinkState,
    LockChanged,
    SettingsChanged,
    ShotReceived,
    ShotsLost,
    ShotsRecovered,
    Status,
    UnrecognisedData,
)
from injector.session import PlanAlert, PlanProgress, ZonePlan
from injector.session.progress import PlanLock
from protocols.igp1 import FaultCode, State
from tui.state import GunView, LinkStatus, LiveView, LiveZone, LogLine, LogSeverity, ml

RECENT_DEPTHS = 60
"""Depths kept for the sparkline: a minute of a gun firing once a second."""

# Names from IGP/1 section 4, repeated here so the UI does not reach into the protocol package.
MODES = {0: "SINGLE", 1: "REPEAT", 2: "NAPPAGE", 3: "CONTINUOUS"}
FAULTS = {code.value: code.name.replace("_", " ") for code in FaultCode}
"""The gun's fault codes as the live screen shouts them, from the protocol's one list."""
LOCK_REASONS = {0: "manual", 1: "plan limit", 2: "session ended"}
_PLAN_LIMIT = 1
_LINKS = {
    LinkState.CONNECTING: LinkStatus.CONNECTING,
    LinkState.LIVE: LinkStatus.LIVE,
    LinkState.LOST: LinkStatus.LOST,
    LinkState.RECONNECTING: LinkStatus.RECONNECTING,
    LinkState.STOPPED: LinkStatus.STOPPED,
}


LINK_LOST_TEXT = (
    "LINK LOST: the gun stopped answering (cable, power or battery?); it keeps its shots "
    "and they are recovered on reconnect"
)


@dataclass(frozen=True, slots=True)
class Notice:
    """A log line that must also reach the practitioner as a notification."""

    line: LogLine


TALLY_QUIET_S = 0.5
"""Recovered (or lost) shots reported within this long of each other make one log line."""


@dataclass(frozen=True, slots=True)
class _Tally:
    """Recovered or lost shots reported one read at a time, summed into one line."""

    lost: bool
    reason: str
    count: int
    at: datetime
    last: float
    """When the latest report was added (monotonic seconds)."""

    def line(self) -> LogLine | Notice | None:
        shots = "shot" if abs(self.count) == 1 else "shots"
        if not self.lost:
            return LogLine(self.at, f"{self.count} {shots} recovered from the gun")
        if self.count > 0:
            text = f"{self.count} {shots} LOST ({self.reason})"
            return Notice(LogLine(self.at, text, LogSeverity.ERROR))
        if self.count < 0:
            # A shot reported lost arrived after all: the running total stays exact.
            return LogLine(self.at, f"{-self.count} {shots} reported lost arrived after all")
        return None


def _at(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC).astimezone() if unix else datetime.now().astimezone()


def zone_views(zones: Sequence[ZonePlan]) -> tuple[LiveZone, ...]:
    """The plan's zones (in plan order) with nothing done yet; keys 1–9 follow that order."""
    ordered = sorted(zones, key=lambda z: z.position)
    return tuple(
        LiveZone(
            zone_id=z.id,
            key=i + 1,
            name=z.name,
            technique="",
            depth_um=z.depth_um,
            tolerance_um=z.depth_tolerance_um,
            points_planned=z.points,
            volume_planned_nl=z.points * z.volume_per_point_nl,
            max_volume_nl=z.max_volume_nl,
        )
        for i, z in enumerate(ordered[:9])
    )


class LiveModel:
    """Accumulates what the live screen needs; not thread-safe (the feed thread owns it)."""

    def __init__(
        self,
        title: str,
        zones: Sequence[LiveZone] = (),
        session_max_volume_nl: int | None = None,
        port: str = "",
    ) -> None:
        self._view = LiveView(
            title=title,
            zones=tuple(zones),
            session_max_volume_nl=session_max_volume_nl,
            gun=GunView(port=port),
        )
        self._recent: deque[int] = deque(maxlen=RECENT_DEPTHS)
        self._link_lost = False
        self._tally: _Tally | None = None
        self.changed = True
        """Set by every change, cleared by :meth:`view`: the feed publishes only when set."""

    @property
    def current(self) -> LiveView:
        """The view as it stands (without clearing :attr:`changed`)."""
        return self._view

    def view(self) -> LiveView:
        """A frozen copy of the current picture; clears :attr:`changed`."""
        self.changed = False
        self._view = replace(self._view, recent_depths_um=tuple(self._recent))
        return self._view

    def _set(self, **changes: object) -> None:
        self._view = replace(self._view, **changes)  # type: ignore[arg-type]
        self.changed = True

    def _gun(self, **changes: object) -> None:
        self._set(gun=replace(self._view.gun, **changes))  # type: ignore[arg-type]

    def set_title(self, title: str) -> None:
        """The title line (patient, session n of N)."""
        self._set(title=title)

    def set_replay(self, text: str) -> None:
        """The replay status line."""
        self._set(replay=text)

    def set_zones(self, zones: Sequence[LiveZone], session_max_volume_nl: int | None) -> None:
        """The plan's zones, once the session is known."""
        self._set(zones=tuple(zones), session_max_volume_nl=session_max_volume_nl)

    def set_active_zone(self, zone_id: int | None) -> None:
        """The zone shots now go to; a zone change clears the plan-limit banner, unless the
        gun is still locked by the plan limit (banner and gun panel never disagree)."""
        keep = self._locked_by_plan_limit()
        self._set(active_zone_id=zone_id, limit_alert=self._view.limit_alert if keep else "")

    def _locked_by_plan_limit(self) -> bool:
        gun = self._view.gun
        return gun.locked and gun.lock_reason == LOCK_REASONS[_PLAN_LIMIT]

    def apply_progress(self, progress: PlanProgress) -> None:
        """Counts and volumes as committed (from the session logic's in-memory tally)."""
        by_id = {z.zone_id: z for z in progress.zones}
        zones = []
        for zone in self._view.zones:
            p = by_id.get(zone.zone_id)
            if p is None:
                zones.append(zone)
                continue
            zones.append(
                replace(
                    zone,
                    points_done=p.points,
                    volume_done_nl=p.volume_nl,
                    out_of_band=p.depth_out_of_tolerance,
                )
            )
        unzoned = by_id.get(None)
        self._set(
            zones=tuple(zones),
            shot_count=progress.total.shots,
            session_volume_nl=progress.total.volume_nl,
            unattributed_shots=unzoned.shots if unzoned is not None else 0,
        )

    def apply_alert(self, alert: PlanAlert) -> Notice:
        """A plan limit reached: the banner shows it until the next zone change."""
        where = "session"
        for zone in self._view.zones:
            if zone.zone_id == alert.zone_id:
                where = f"zone {zone.key} {zone.name}"
        text = f"plan limit reached: {where} {ml(alert.volume_nl)} of {ml(alert.limit_nl)} mL"
        if alert.lock:
            text += " — gun locked"
        self._set(limit_alert=text)
        return Notice(LogLine(datetime.now().astimezone(), text, LogSeverity.ERROR))

    def show_plan_lock(self, lock: PlanLock) -> None:
        """The banner says what is true of the plan-limit lock (the session logic's answer)."""
        self._set(limit_alert="" if lock.banner == "unlocked" else f"plan limit {lock.banner}")

    def apply(self, event: DriverEvent) -> LogLine | Notice | None:
        """Fold one driver event in; returns what to log (a Notice also notifies).

        Every kind of driver event is matched: a new one is a type error here until the live
        view decides what it shows of it.
        """
        match event:
            case ShotReceived():
                if shot_kind(event.flags, event.depth_um, event.volume_nl).on_skin:
                    self._recent.append(event.depth_um)
                    self._set(last_depth_um=event.depth_um)
                self._gun(syringe_remaining_nl=event.syringe_remaining_nl)
                return None
            case Status():
                faults = tuple(
                    FAULTS.get(b, f"fault {b}") for b in range(1, 16) if event.fault_bits >> b & 1
                )
                self._gun(
                    battery_pct=event.battery_pct,
                    syringe_remaining_nl=event.syringe_remaining_nl,
                    faults=faults,
                    locked=event.state == State.LOCKED,
                )
                return None
            case SettingsChanged():
                self._gun(
                    mode=MODES.get(event.mode, str(event.mode)),
                    depth_set_um=event.depth_set_um,
                    volume_set_nl=event.volume_set_nl,
                    rate_spm=event.rate_spm,
                    syringe_capacity_nl=event.syringe_capacity_ul * 1000,
                )
                return None
            case LinkChanged():
                return self._link(event)
            case DeviceIdentified():
                self._gun(model=event.model, serial=event.serial, firmware=event.firmware)
                text = f"gun {event.model} {event.serial} fw {event.firmware}"
                return LogLine(_at(event.at), text)
            case FaultChanged():
                return self._fault(event)
            case ShotsRecovered():
                return self._add_tally(False, "", event.count, event.at)
            case ShotsLost():
                return self._add_tally(True, event.reason, event.count, event.at)
            case DeviceRebooted():
                return Notice(LogLine(_at(event.at), "the gun restarted", LogSeverity.WARNING))
            case LockChanged():
                return self._lock(event)
            case UnrecognisedData():
                text = (
                    f"unrecognised data on {event.port} at {event.baud} baud: "
                    "wrong baud rate, or not an IGP/1 gun?"
                )
                return Notice(LogLine(_at(event.at), text, LogSeverity.WARNING))
            case DecoderStatistics():
                # Counters for technicians (capture info); nothing a practitioner acts on.
                return None
            case DeviceAnomaly():
                # Kept in the record for a technician; the practitioner learns the gun sent
                # something it could not have, and that it was kept out of the dose.
                text = f"the gun sent something inconsistent (kept out of the dose): {event.detail}"
                return LogLine(_at(event.at), text, LogSeverity.WARNING)
            case _:
                assert_never(event)

    def _fault(self, event: FaultChanged) -> LogLine | Notice:
        name = FAULTS.get(event.code, f"fault {event.code}")
        # The panel shows it at once; the next heartbeat confirms the whole set.
        others = tuple(f for f in self._view.gun.faults if f != name)
        self._gun(faults=(*others, name) if event.active else others)
        if event.active:
            return Notice(
                LogLine(_at(event.at), f"FAULT {name} (detail {event.detail})", LogSeverity.ERROR)
            )
        return LogLine(_at(event.at), f"fault cleared: {name}")

    def _lock(self, event: LockChanged) -> LogLine | Notice:
        reason = LOCK_REASONS.get(event.reason, str(event.reason))
        self._gun(locked=event.locked, lock_reason=reason if event.locked else "")
        if self._locked_by_plan_limit() and not self._view.limit_alert:
            self._set(limit_alert=f"plan limit: {PlanLock(locked=True).banner}")
        verb = "locked" if event.locked else "unlocked"
        if not event.acknowledged:
            return Notice(
                LogLine(_at(event.at), f"the gun did not confirm: {verb}", LogSeverity.WARNING)
            )
        return LogLine(_at(event.at), f"trigger {verb} ({reason})")

    def _add_tally(self, lost: bool, reason: str, count: int, at: float) -> LogLine | Notice | None:
        # After a reconnect the driver reports recovered shots read by read: a dozen lines of
        # "1 shot recovered" say less than one line with the total. Returns the previous tally's
        # line when this report cannot join it.
        now = time.monotonic()
        tally = self._tally
        if tally is not None and (tally.lost, tally.reason) == (lost, reason):
            self._tally = replace(tally, count=tally.count + count, last=now)
            return None
        self._tally = _Tally(lost, reason, count, _at(at), now)
        return tally.line() if tally is not None else None

    def take_tally(self, quiet_s: float | None = None) -> LogLine | Notice | None:
        """The line of the recovered or lost shots summed so far, ending the tally.

        With ``quiet_s``, only once no report has joined it for that long (None otherwise).
        """
        tally = self._tally
        if tally is None:
            return None
        if quiet_s is not None and time.monotonic() - tally.last < quiet_s:
            return None
        self._tally = None
        return tally.line()

    def _link(self, event: LinkChanged) -> LogLine | Notice | None:
        before = self._view.gun.link
        status = _LINKS[event.state]
        self._gun(link=status, port=event.port)
        if status is before:
            return None
        if status in (LinkStatus.LOST, LinkStatus.RECONNECTING):
            if self._link_lost:
                return None
            self._link_lost = True
            # The driver's reason is for technicians (it can be the serial library's own
            # message); the practitioner is told what it means and what happens next.
            return Notice(LogLine(_at(event.at), LINK_LOST_TEXT, LogSeverity.ERROR))
        if status is LinkStatus.LIVE and self._link_lost:
            # Lost → reconnecting → connecting → live: restored only once it is live again.
            self._link_lost = False
            return Notice(LogLine(_at(event.at), "link restored", LogSeverity.WARNING))
        if status is LinkStatus.CONNECTING and self._link_lost:
            return None
        return LogLine(_at(event.at), f"link {status}: {event.reason}")
