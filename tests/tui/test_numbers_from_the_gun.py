"""One set of numbers from a real gun: the simulated gun on a real pseudo-terminal fires
points, an air shot, CONTINUOUS flow reports and a PARTIAL shot into the live feed; the live
screen's figures, the review, ``session show`` and the JSON export say the same."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest
from textual.message import Message

from injector.cli.main import main
from injector.export.document import session_out
from injector.export.snapshot import load_session_record
from injector.session.series import session_progress
from injector.storage import open_database
from tests.recorder.harness import wait_for
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan
from tui.clinic import DatabaseClinic
from tui.feed_messages import EndSession, SelectZone, ViewChanged
from tui.session_feed import SessionFeed, SimulatedGun

# Syringe 1 mL: two points of 0.15 mL, an air shot (0.15), four CONTINUOUS reports of 0.05 mL
# (0.2 mL/s for 250 ms each), then two points of 0.15 and a PARTIAL one of the last 0.05 mL.
SCENARIO = """\
device model=MG-400 serial=SN0099 firmware=2.4.1 battery=80 syringe=1ml
set mode=single depth=2mm volume=0.15ml rate=0
wait 2s
trigger 2
wait 500ms
airshot
wait 500ms
set mode=continuous depth=2mm volume=0.2ml
trigger 4
wait 1s
set mode=single depth=2mm volume=0.15ml
trigger 3
wait forever
"""


class _Posted:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    def post_message(self, message: Message) -> bool:
        self.messages.append(message)
        return True


def test_the_live_screen_review_session_show_and_export_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "mixed.scenario"
    scenario.write_text(SCENARIO, encoding="utf-8")
    path = str(tmp_path / "clinic.sqlite3")
    db = open_database(path)
    try:
        plan_id = add_patient_and_plan(
            db,
            zones=[
                {
                    "name": "cheeks",
                    "body_area": "cheeks",
                    "technique": "point_by_point",
                    "depth_mm": 2.0,
                    "volume_per_point_ml": 0.15,
                    "points": 10,
                }
            ],
        )
        clinic = DatabaseClinic(db, "Dr Test", today=date.today)
        session_id, title = clinic.prepare_session(
            plan_id, CLEAN_CHECKLIST, True, practitioner="Dr Test"
        )
        feed = SessionFeed(
            db,
            SimulatedGun(str(scenario)),
            title=title,
            actor="Dr Test",
            plan_id=plan_id,
            session_id=session_id,
            zones=clinic.plan_zones(plan_id),
            clinic=clinic,
        )
        feed.submit(SelectZone(1))
        posted = _Posted()
        stop = threading.Event()
        worker = threading.Thread(target=feed.run, args=(posted, stop.is_set), daemon=True)
        worker.start()
        try:
            wait_for(
                lambda: (
                    feed.simulator is not None
                    and feed.simulator.gun is not None
                    and feed.simulator.gun.last_shot_no == 10
                ),
                60,
                "the gun's ten shots",
            )
            wait_for(
                lambda: feed.live is not None and feed.live.progress().total.shots == 10,
                30,
                "ten shots committed",
            )
            time.sleep(0.3)
            feed.submit(EndSession())
            worker.join(60)
        finally:
            stop.set()
            worker.join(10)
        live = [m.view for m in posted.messages if isinstance(m, ViewChanged)][-1]
        # Ten shots: five points, one air shot, four flow reports; 0.85 mL on skin.
        assert (live.shot_count, live.session_points, live.session_volume_nl) == (10, 5, 850_000)

        stored = session_progress(db, session_id).total
        assert (stored.shots, stored.points, stored.volume_nl) == (10, 5, 850_000)
        assert (stored.air_shots, stored.air_volume_nl, stored.partial_shots) == (1, 150_000, 1)

        review = clinic.session_summary(session_id)
        assert (review.total_shots, review.total_volume_nl) == (10, 850_000)
        assert [z.points_done for z in review.zones] == [5]

        counts = session_out(load_session_record(db, session_id)).counts
        assert (counts.shots, counts.points, counts.volume_nl, counts.air_shots) == (
            10,
            5,
            850_000,
            1,
        )
    finally:
        db.close()
    assert main(["session", "show", str(session_id), "--db", path]) == 0
    out = capsys.readouterr().out
    assert "    cheeks: 5/10, 0.85 mL/1.5 mL" in out
    assert "10 shots stored: 5 points, 4 continuous-flow reports, 1 air shot" in out
