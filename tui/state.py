"""View state: small frozen dataclasses the screens and widgets render.

The screens never read the database or the port; they are handed these values (by the live
feed, by :mod:`tui.clinic`, or by a test that wants a deterministic picture) and draw them.
Units follow IGP/1: depths in micrometres, volumes in nanolitres.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

NL_PER_ML = 1_000_000
UM_PER_MM = 1000


def mm(depth_um: int) -> str:
    """A depth as millimetres with two decimals, e.g. ``2.48``."""
    return f"{depth_um / UM_PER_MM:.2f}"


def ml(volume_nl: int) -> str:
    """A volume as millilitres with two decimals, e.g. ``1.25``."""
    return f"{volume_nl / NL_PER_ML:.2f}"


class LogSeverity(enum.StrEnum):
    """How loudly an event-log line or a banner speaks."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ZoneFill(enum.Enum):
    """How far a zone's volume is against its plan and its maximum: each looks different on
    the live screen, so a glance tells "keep going" from "done" from "stop"."""

    UNDER = "under plan"
    FULL = "full"
    """Exactly the planned volume."""
    PAST_PLAN = "past plan"
    """More than planned, still under the maximum."""
    AT_MAX = "at max"
    """The maximum reached: the plan limit (the gun may be locked)."""
    PAST_MAX = "PAST MAX"
    """More than the maximum (a limit overridden, or shots recovered after the lock)."""

    @property
    def mark(self) -> str:
        """A symbol that tells the states apart without colour."""
        return _FILL_MARKS[self]

    @property
    def style(self) -> str:
        """The Rich style of its numbers and bars."""
        return _FILL_STYLES[self]

    @property
    def css_class(self) -> str:
        """The CSS class a widget takes in this state (``-fill-past_plan``…)."""
        return f"-fill-{self.name.lower()}"


_FILL_MARKS = {
    ZoneFill.UNDER: " ",
    ZoneFill.FULL: "✔",
    ZoneFill.PAST_PLAN: "▲",
    ZoneFill.AT_MAX: "■",
    ZoneFill.PAST_MAX: "✖",
}
_FILL_STYLES = {
    ZoneFill.UNDER: "cyan",
    ZoneFill.FULL: "bold green",
    ZoneFill.PAST_PLAN: "bold yellow",
    ZoneFill.AT_MAX: "bold red",
    ZoneFill.PAST_MAX: "bold white on red",
}


@dataclass(frozen=True, slots=True)
class LiveZone:
    """One plan zone with what was done in it so far in this session."""

    zone_id: int
    key: int
    """The key (1–9) that makes it the active zone."""
    name: str
    technique: str
    depth_um: int
    tolerance_um: int
    points_planned: int
    volume_planned_nl: int
    max_volume_nl: int
    points_done: int = 0
    volume_done_nl: int = 0
    out_of_band: int = 0
    """Shots of this zone whose depth fell outside the planned band."""

    @property
    def depth_low_um(self) -> int:
        """Shallowest depth inside the planned band."""
        return max(0, self.depth_um - self.tolerance_um)

    @property
    def depth_high_um(self) -> int:
        """Deepest depth inside the planned band."""
        return self.depth_um + self.tolerance_um

    def in_band(self, depth_um: int) -> bool:
        """Whether a shot of this depth is inside the planned band."""
        return self.depth_low_um <= depth_um <= self.depth_high_um

    @property
    def at_limit(self) -> bool:
        """The zone's maximum volume is reached."""
        return self.max_volume_nl > 0 and self.volume_done_nl >= self.max_volume_nl

    @property
    def fill(self) -> ZoneFill:
        """Where the volume done stands against the plan and the maximum."""
        done, planned, most = self.volume_done_nl, self.volume_planned_nl, self.max_volume_nl
        if most > 0 and done > most:
            return ZoneFill.PAST_MAX
        if most > 0 and done == most:
            return ZoneFill.AT_MAX
        if done > planned:
            return ZoneFill.PAST_PLAN
        if done == planned and planned > 0:
            return ZoneFill.FULL
        return ZoneFill.UNDER


class LinkStatus(enum.StrEnum):
    """The gun's link as the practitioner needs to know it."""

    NONE = "no gun"
    CONNECTING = "connecting"
    LIVE = "live"
    LOST = "LOST"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class GunView:
    """The gun's panel: link, identity, battery, syringe, settings, faults, lock."""

    link: LinkStatus = LinkStatus.NONE
    port: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""
    battery_pct: int | None = None
    """None: not known yet; 255 means mains power (IGP/1)."""
    syringe_remaining_nl: int | None = None
    syringe_capacity_nl: int | None = None
    mode: str = ""
    depth_set_um: int | None = None
    volume_set_nl: int | None = None
    rate_spm: int | None = None
    faults: tuple[str, ...] = ()
    locked: bool = False
    lock_reason: str = ""


@dataclass(frozen=True, slots=True)
class LiveView:
    """Everything the live screen shows except the event log (which only grows)."""

    title: str = ""
    """Patient and session, e.g. ``Jane Doe · session 2 of 6``."""
    shot_count: int = 0
    last_depth_um: int | None = None
    active_zone_id: int | None = None
    zones: tuple[LiveZone, ...] = ()
    session_volume_nl: int = 0
    session_max_volume_nl: int | None = None
    recent_depths_um: tuple[int, ...] = ()
    unattributed_shots: int = 0
    """Shots fired while no zone was active."""
    gun: GunView = field(default_factory=GunView)
    limit_alert: str = ""
    """A plan limit reached (empty: none); shown as a banner until the next zone change."""
    replay: str = ""
    """Replay status line (empty for a real session), e.g. ``replay 10× — paused``."""

    @property
    def active_zone(self) -> LiveZone | None:
        """The zone new shots are attributed to, if any."""
        for zone in self.zones:
            if zone.zone_id == self.active_zone_id:
                return zone
        return None

    @property
    def session_points(self) -> int:
        """Shots that landed in a zone (air shots excluded)."""
        return sum(zone.points_done for zone in self.zones)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of the live event log."""

    at: datetime
    text: str
    severity: LogSeverity = LogSeverity.INFO


@dataclass(frozen=True, slots=True)
class PatientRow:
    """A patient in the search results."""

    patient_id: int
    identifier: str
    name: str
    date_of_birth: date


_STATUS_WORDS = {
    "planned": "planned",
    "in_progress": "in progress (open)",
    "completed": "completed",
    "aborted": "aborted",
    "skipped": "skipped",
}


def status_words(status: str) -> str:
    """A session's status as a clinician says it (``in_progress`` → ``in progress (open)``)."""
    return _STATUS_WORDS.get(status, status.replace("_", " "))


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A past or planned session of a plan."""

    session_id: int
    sequence_no: int | None
    status: str
    """The stored status (``in_progress``…); :attr:`status_text` is what screens show."""
    started_at: datetime | None
    shots: int
    volume_nl: int
    signed: bool

    @property
    def status_text(self) -> str:
        """The status in a clinician's words."""
        return status_words(self.status)


@dataclass(frozen=True, slots=True)
class PlanRow:
    """A treatment plan with where its series stands."""

    plan_id: int
    indication: str
    product_name: str
    lot_number: str
    sessions_done: int
    sessions_planned: int
    next_due: date | None
    overdue: bool
    due_until: date | None = None
    """End of the due window (the window is next_due … due_until)."""
    zones: tuple[str, ...] = ()
    sessions: tuple[SessionRow, ...] = ()

    @property
    def series_text(self) -> str:
        """E.g. ``2 of 6 · due 2026-12-01…12-04 OVERDUE``."""
        text = f"{self.sessions_done} of {self.sessions_planned}"
        if self.next_due is not None:
            text += f" · due {self.next_due.isoformat()}"
            if self.due_until is not None and self.due_until != self.next_due:
                text += f"…{self.due_until.strftime('%m-%d')}"
            if self.overdue:
                text += " OVERDUE"
        elif self.sessions_done >= self.sessions_planned:
            text += " · complete"
        return text


@dataclass(frozen=True, slots=True)
class PatientDetail:
    """A patient with their plans and sessions, for the home screen's right side."""

    patient: PatientRow
    notes: tuple[str, ...] = ()
    """Things to see before treating (anticoagulants, pregnancy, allergies)."""
    plans: tuple[PlanRow, ...] = ()


@dataclass(frozen=True, slots=True)
class ChecklistView:
    """The pre-procedure checklist of one session about to start."""

    session_title: str
    lot_number: str
    lot_expiry: date | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ZoneOutcome:
    """Plan against actual for one zone, at the end of a session."""

    name: str
    points_planned: int
    points_done: int
    volume_planned_nl: int
    volume_done_nl: int
    depth_planned_um: int
    depth_mean_um: int | None
    out_of_band: int


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """The end-of-session review: per zone, deviations, adverse events, sign-off, next due."""

    session_id: int
    title: str
    zones: tuple[ZoneOutcome, ...] = ()
    total_shots: int = 0
    total_volume_nl: int = 0
    deviations: tuple[str, ...] = ()
    adverse_events: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    """Faults, link losses, recoveries, locks, overrides and notes, one line each."""
    next_due: date | None = None
    next_session: str = ""
    """The series' next session (``session n of N``) or ``series complete``; empty: no plan."""
    sessions_completed: int = 0
    signed_by: str | None = None
    signed_at: datetime | None = None
    signature_meaning: str | None = None
    practitioner: str = ""
    """Who performed the session (the sign-off offers them first)."""

    @property
    def next_due_text(self) -> str:
        """When the next session is due, or why there is no date (series done, none yet)."""
        if self.next_due is not None:
            text = self.next_due.isoformat()
            return f"{text} ({self.next_session})" if self.next_session else text
        if not self.next_session:
            return "no plan: no series to schedule"
        if self.next_session == "series complete":
            return "none: the series is complete"
        if self.sessions_completed == 0:
            return (
                f"no date yet ({self.next_session}): due dates count from the last completed "
                "session and none of this plan is completed"
            )
        return f"not scheduled ({self.next_session})"
