"""DatabaseStore for a UI: the session it names, a hook when it opens, plan alerts in commits.

The same store the headless recorder uses, so a UI's session also gets the gaps of a boot the
gun left while nothing was recording.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from injector.recorder import Commit, DatabaseStore, Recorder
from injector.session import AlertKind, DeviceInfo, LiveSession, ShotIn, open_or_continue
from injector.session.clinical import end_session, session_view, start_session
from injector.storage.engine import open_database
from protocols.igp1 import Mode
from simulators.runner import Simulator
from tests.recorder.harness import fast_driver, wait_for
from tests.session.builders import CLEAN_CHECKLIST, add_patient_and_plan

OLD_BOOT = 0x0BADB007


def test_a_named_session_opens_with_its_hook_losses_and_alerts(tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "rec.db"))
    plan_id = add_patient_and_plan(db, max_session_volume_ml=0.2)
    # An earlier session stored shots 1..6 of an earlier boot but for 2 and 5, then ended.
    earlier = open_or_continue(db, DeviceInfo("SN0042", "MG-400", "2.4.1"))
    now = datetime.now(UTC)
    earlier.add_shots(
        [
            ShotIn("SN0042", OLD_BOOT, n, 1000 * n, now, 2400, 4_000, 0, 1_000_000)
            for n in (1, 3, 4, 6)
        ]
    )
    end_session(db, earlier.session_id, actor="Dr Test")
    planned = start_session(db, plan_id, CLEAN_CHECKLIST, practitioner="Dr Test", acknowledged=True)

    seen: list[tuple[str, object]] = []

    def opened(live: LiveSession) -> None:
        seen.append(("open", live.session_id))

    def committed(commit: Commit) -> None:
        seen.append(("commit", commit))

    store = DatabaseStore(db, plan_id, session_id=planned, actor="Dr Test", on_open=opened)
    with Simulator("idle", speed=10, seed=71, link=tmp_path / "gun") as sim:
        sim.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        sim.swap_syringe(20_000)
        recorder = Recorder(fast_driver(str(tmp_path / "gun")), store)
        recorder.subscribe(committed)
        recorder.start()
        try:
            wait_for(lambda: recorder.status.device is not None, 10, "the gun")
            sim.press_trigger(60)  # 0.24 mL; the session's maximum is 0.2 mL (50 shots)
            assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 20)
            wait_for(lambda: recorder.status.shots == 60, 10, "every shot to be stored")
        finally:
            assert recorder.stop()

    assert seen[0] == ("open", planned)
    assert [s for s in seen if s[0] == "open"] == [("open", planned)]
    alerts = [a for kind, c in seen if isinstance(c, Commit) for a in c.alerts]
    assert [a.kind for a in alerts] == [AlertKind.SESSION_MAX_VOLUME]
    view = session_view(db, planned)
    assert view.lost_shots == 2  # shots 2 and 5 of the boot before
    assert session_view(db, earlier.session_id).lost_shots == 0
