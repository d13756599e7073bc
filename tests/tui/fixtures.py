"""Deterministic view state and a feed that plays it, for snapshot tests."""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from injector.domain.inputs import Checklist, PatientInput, PlanInput
from injector.session import PlanProgress
from tui.clinic import OpenSessionView
from tui.feed_messages import Command, LogAdded, Poster, Stop, ViewChanged
from tui.state import (
    ChecklistView,
    GunView,
    LinkStatus,
    LiveView,
    LiveZone,
    LogLine,
    LogSeverity,
    PatientDetail,
    PatientRow,
    PlanRow,
    SessionRow,
    SessionSummary,
    ZoneOutcome,
)


class StaticFeed:
    """A feed that posts fixed views and log lines, then waits to be stopped.

    It stands in for the driver only in snapshot tests, where the picture must not depend on
    timing; the flows run the real driver, recorder and simulator.
    """

    def __init__(self, views: Sequence[LiveView], lines: Sequence[LogLine] = ()) -> None:
        self.views = list(views)
        self.lines = list(lines)
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.received: list[Command] = []

    def run(self, post: Poster, cancelled: Callable[[], bool]) -> None:
        """Post everything, then wait for Stop or cancellation."""
        for line in self.lines:
            post.post_message(LogAdded(line))
        for view in self.views:
            post.post_message(ViewChanged(view))
        while not cancelled():
            try:
                command = self.commands.get(timeout=0.02)
            except queue.Empty:
                continue
            self.received.append(command)
            if isinstance(command, Stop):
                return

    def submit(self, command: Command) -> None:
        """Queue a command (recorded for assertions)."""
        self.commands.put(command)


FACE_ZONES = (
    LiveZone(1, 1, "Forehead", "nappage", 1000, 300, 90, 900_000, 1_200_000, 90, 900_000, 2),
    LiveZone(2, 2, "Crow's feet", "point", 2000, 400, 24, 600_000, 800_000, 24, 600_000, 0),
    LiveZone(3, 3, "Cheeks", "repeat", 2500, 500, 93, 1_395_000, 1_500_000, 61, 915_000, 5),
    LiveZone(4, 4, "Perioral", "point", 1500, 300, 20, 400_000, 500_000, 0, 0, 0),
    LiveZone(5, 5, "Neck", "nappage", 1000, 300, 120, 1_200_000, 1_300_000, 0, 0, 0),
)

DEPTHS = (2480, 2510, 2550, 2400, 2620, 2700, 2450, 2500, 2380, 2950, 3120, 2600, 2540, 2500)


def live_view(**changes: object) -> LiveView:
    """A mid-session view of a face plan, on zone 3 (cheeks), with a deep last shot."""
    base = LiveView(
        title="Jane Example · session 2 of 6",
        shot_count=176,
        last_depth_um=3120,
        active_zone_id=3,
        zones=FACE_ZONES,
        session_volume_nl=2_415_000,
        session_max_volume_nl=5_000_000,
        recent_depths_um=DEPTHS,
        gun=GunView(
            link=LinkStatus.LIVE,
            port="/dev/pts/7",
            model="MG-400",
            serial="SN0042",
            firmware="2.4.1",
            battery_pct=64,
            syringe_remaining_nl=1_085_000,
            syringe_capacity_nl=2_500_000,
            mode="REPEAT",
            depth_set_um=2500,
            volume_set_nl=15_000,
            rate_spm=180,
        ),
    )
    fields = {**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes}
    return LiveView(**fields)  # type: ignore[arg-type]


def log_lines() -> list[LogLine]:
    """A few events of the kinds the log shows."""
    at = datetime(2026, 11, 25, 10, 2, 3)
    return [
        LogLine(at, "link live: device identified"),
        LogLine(at, "gun MG-400 SN0042 fw 2.4.1"),
        LogLine(at.replace(minute=5), "FAULT NEEDLE NOT SEATED (detail 0)", LogSeverity.ERROR),
        LogLine(at.replace(minute=6), "fault cleared: NEEDLE NOT SEATED"),
        LogLine(at.replace(minute=7), "3 shots recovered from the gun"),
    ]


class StaticClinic:
    """Fixed records for snapshot tests (the flows use :class:`tui.clinic.DatabaseClinic`):
    the screens are drawn from exactly these values, whatever the date or the machine."""

    actor = "Dr Test"

    def __init__(self) -> None:
        self.patients = [
            PatientRow(1, "P-0001", "Ada Example", date(1985, 4, 12)),
            PatientRow(2, "P-0002", "Grace Sample", date(1979, 11, 3)),
            PatientRow(3, "P-0003", "Linus Placeholder", date(1990, 1, 30)),
        ]

    def today(self) -> date:
        return date(2026, 11, 25)

    def find_patients(self, query: str) -> list[PatientRow]:
        q = query.casefold()
        return [p for p in self.patients if q in p.name.casefold() or q in p.identifier.casefold()]

    def patient_detail(self, identifier: str) -> PatientDetail:
        patient = next(p for p in self.patients if p.identifier == identifier)
        at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
        sessions = (
            SessionRow(12, 2, "completed", at, 176, 2_415_000, True),
            SessionRow(11, 1, "completed", at.replace(month=10, day=24), 170, 2_380_000, True),
        )
        plan = PlanRow(
            plan_id=7,
            indication="wrinkles and lines",
            product_name="Hyaluronic cocktail",
            lot_number="LOT-42",
            sessions_done=2,
            sessions_planned=6,
            next_due=date(2026, 11, 9),
            due_until=date(2026, 11, 12),
            overdue=True,
            zones=("Forehead", "Crow's feet", "Cheeks", "Perioral", "Neck"),
            sessions=sessions,
        )
        return PatientDetail(patient, ("allergies: lidocaine",), (plan,))

    def remember_progress(self, progress: PlanProgress) -> None:
        return None

    def patient_input(self, identifier: str) -> PatientInput:
        raise NotImplementedError

    def save_patient(self, data: PatientInput, identifier: str | None) -> str:
        raise NotImplementedError

    def plan_input(self, plan_id: int) -> PlanInput:
        raise NotImplementedError

    def plan_zone_ids(self, plan_id: int) -> tuple[int, ...]:
        return tuple(z.zone_id for z in FACE_ZONES)

    def save_plan(
        self, data: PlanInput, plan_id: int | None, zone_ids: Sequence[int | None] | None = None
    ) -> int:
        raise NotImplementedError

    def plan_zones(self, plan_id: int) -> tuple[LiveZone, ...]:
        return FACE_ZONES

    def next_session(self, plan_id: int) -> ChecklistView:
        return ChecklistView(
            "Ada Example · wrinkles and lines · session 3 of 6", "LOT-42", date(2026, 10, 31)
        )

    def checklist_warnings(
        self,
        plan_id: int,
        answers: Checklist,
        lot: str | None = None,
        expiry: date | None = None,
    ) -> tuple[str, ...]:
        found = ["lot_expiry: lot LOT-42 expired on 2026-10-31"]
        if lot not in (None, "LOT-42"):
            found.append(f"lot_number: lot {lot} differs from the plan's lot LOT-42")
        if answers.nsaid_last_7_days:
            found.insert(0, "nsaid_last_7_days: aspirin or another NSAID in the last 7 days")
        if not answers.consent_recorded:
            found.append("consent_recorded: no consent is recorded")
        return tuple(found)

    def prepare_session(
        self,
        plan_id: int,
        answers: Checklist,
        acknowledged: bool,
        lot: str | None = None,
        expiry: date | None = None,
        *,
        practitioner: str,
    ) -> tuple[int, str]:
        raise NotImplementedError

    def open_session(self, plan_id: int | None = None) -> OpenSessionView | None:
        return None  # no session was left open in these examples

    def finish_open_session(self, session_id: int, *, abort: bool) -> str:
        raise NotImplementedError

    def practitioners(self) -> tuple[str, ...]:
        return ("Dr Ada Lee",)

    def add_practitioner(self, name: str, role: str, pin: str) -> str:
        raise NotImplementedError

    def session_summary(self, session_id: int) -> SessionSummary:
        zones = tuple(
            ZoneOutcome(
                z.name,
                z.points_planned,
                z.points_done,
                z.volume_planned_nl,
                z.volume_done_nl,
                z.depth_um,
                z.depth_um + 40 if z.points_done else None,
                z.out_of_band,
            )
            for z in FACE_ZONES
        )
        return SessionSummary(
            session_id=session_id,
            title="Ada Example · session 2 of 6",
            zones=zones,
            total_shots=176,
            total_volume_nl=2_415_000,
            deviations=(
                "Cheeks: 61 of 93 points (fewer than planned)",
                "Cheeks: 5 shots outside the depth band (plan 2.50 ± 0.50 mm)",
                "Perioral: 0 of 20 points (fewer than planned)",
            ),
            adverse_events=("10:41 bruising (mild): left cheek",),
            events=(
                "10:05:03 fault needle not seated",
                "10:06:03 fault needle not seated cleared",
                "10:07:03 link lost",
                "10:07:05 link restored",
                "10:07:05 3 shots recovered",
            ),
            next_due=date(2026, 12, 2),
            next_session="session 3 of 6",
            sessions_completed=2,
        )

    def abort_session(self, session_id: int) -> None:
        raise NotImplementedError

    def sign_session(self, session_id: int, signed_by: str, pin: str, meaning: str) -> None:
        raise NotImplementedError

    def record_adverse_event(self, session_id: int, kind: str, severity: str, notes: str) -> None:
        raise NotImplementedError
