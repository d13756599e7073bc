"""The live feed records as the headless recorder does: the gaps of a boot the gun left while
nothing was recording are reported lost in the session the feed opens."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from textual.message import Message

from injector.session import DeviceInfo, ShotIn, open_or_continue
from injector.session.clinical import end_session, session_view
from injector.storage import Database
from tests.tui.conftest import QUIET_GUN
from tui.feed_messages import LogAdded
from tui.session_feed import SessionFeed, SimulatedGun

OLD_BOOT = 0x0BADB007


class Collect:
    """A poster that keeps what the feed posts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def post_message(self, message: Message) -> bool:
        self.messages.append(message)
        return True


def test_the_feed_reports_what_a_restarted_gun_left_unrecorded(
    db: Database, tmp_path: Path
) -> None:
    # An earlier run stored shots 1..5 of the gun's previous boot but for 2 and 4, then ended.
    earlier = open_or_continue(db, DeviceInfo("SN0077", "MG-400", "2.4.1"))
    now = datetime.now(UTC)
    earlier.add_shots(
        [ShotIn("SN0077", OLD_BOOT, n, 1000 * n, now, 2000, 50_000, 0, 10**6) for n in (1, 3, 5)]
    )
    end_session(db, earlier.session_id, actor="Dr Test")
    scenario = tmp_path / "quiet.scenario"
    scenario.write_text(QUIET_GUN, encoding="utf-8")
    feed = SessionFeed(db, SimulatedGun(str(scenario)), title="test", actor="Dr Test")
    stop = threading.Event()
    poster = Collect()
    worker = threading.Thread(target=feed.run, args=(poster, stop.is_set), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while feed.live is None:
            assert time.monotonic() < deadline, "timed out waiting for the gun"
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(30)
    live = feed.live
    assert live is not None and live.session_id != earlier.session_id
    assert session_view(db, live.session_id).lost_shots == 2
    assert live.progress().lost_shots == 2
    assert any(isinstance(m, LogAdded) for m in poster.messages)
