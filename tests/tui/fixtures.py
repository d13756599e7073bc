"""Deterministic view state and a feed that plays it, for snapshot tests."""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from datetime import datetime

from tui.live import Command, LogAdded, Poster, Stop, ViewChanged
from tui.state import GunView, LinkStatus, LiveView, LogLine, Severity, ZoneView


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
    ZoneView(1, 1, "Forehead", "nappage", 1000, 300, 90, 900_000, 1_200_000, 90, 900_000, 2),
    ZoneView(2, 2, "Crow's feet", "point", 2000, 400, 24, 600_000, 800_000, 24, 600_000, 0),
    ZoneView(3, 3, "Cheeks", "repeat", 2500, 500, 93, 1_395_000, 1_500_000, 61, 915_000, 5),
    ZoneView(4, 4, "Perioral", "point", 1500, 300, 20, 400_000, 500_000, 0, 0, 0),
    ZoneView(5, 5, "Neck", "nappage", 1000, 300, 120, 1_200_000, 1_300_000, 0, 0, 0),
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
        LogLine(at.replace(minute=5), "FAULT NEEDLE NOT SEATED (detail 0)", Severity.ERROR),
        LogLine(at.replace(minute=6), "fault cleared: NEEDLE NOT SEATED"),
        LogLine(at.replace(minute=7), "3 shots recovered from the gun"),
    ]
