"""A technician's replay: a capture played at max speed into the live view, coalesced, into a
scratch database and never into the clinic's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Input, RadioButton

from injector.session import series
from injector.storage import open_database
from injector.storage.errors import RecordNotFoundError
from protocols.igp1 import Heartbeat, Hello, Settings, Shot
from protocols.igp1.capture import CaptureWriter, RecordKind
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.feed_messages import ViewChanged
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.replay import CaptureTree, ReplayScreen
from tui.services import Services
from tui.session_feed import SessionFeed

SHOTS = 3000


def write_capture(path: Path, shots: int) -> None:
    """A gun's side of a session: HELLO, SETTINGS, then ``shots`` shots 2 ms apart with a
    heartbeat every 100 shots, as the recorder's capture would hold them."""
    writer = CaptureWriter(path)
    seq = 0
    t_ms = 1000

    def rx(frame: bytes) -> None:
        writer.write(RecordKind.RX, frame, mono_ns=t_ms * 1_000_000, wall_ns=t_ms * 1_000_000)

    def send(message: Hello | Settings | Heartbeat | Shot) -> None:
        nonlocal seq
        rx(message.encode(seq))
        seq = (seq + 1) % 256

    remaining = 10_000_000
    send(Hello(1, 2, 4, 1, 0x5EED1234, "MG-400", "SN0555"))
    send(
        Settings(
            t_ms,
            mode=1,
            depth_set_um=2500,
            volume_set_nl=3000,
            rate_spm=540,
            syringe_capacity_ul=10_000,
        )
    )
    send(Heartbeat(t_ms, 0, 1, 90, 0, remaining))
    for n in range(1, shots + 1):
        t_ms += 2
        remaining -= 3000
        send(Shot(n, t_ms, 2400 + (n % 200), 0, 3000, remaining))
        if n % 100 == 0:
            send(Heartbeat(t_ms, n, 2, 90, 0, remaining))
    writer.close()


def test_replay_at_max_speed_is_coalesced_and_kept_out_of_the_record(
    services: Services, tmp_path: Path
) -> None:
    capture = tmp_path / "session.igpcap"
    write_capture(capture, SHOTS)
    seen: list[Message] = []
    feed_box: list[SessionFeed] = []

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the replay screen")
            # Pick the file in the tree (it lists only folders and captures).
            tree = app.screen.query_one(CaptureTree)
            await until(pilot, lambda: bool(tree.root.children), "the folder listing")
            (node,) = [n for n in tree.root.children if n.data and n.data.path == capture]
            tree.select_node(node)
            path_input = app.screen.query_one("#capture-path", Input)
            await until(pilot, lambda: path_input.value == str(capture), "the path filled in")
            app.screen.query_one("#speed-MAX", RadioButton).value = True
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the live view")
            live = app.screen
            assert isinstance(live, LiveScreen) and live.replay
            assert isinstance(live.feed, SessionFeed)
            feed_box.append(live.feed)
            await until(pilot, lambda: live.view.shot_count == SHOTS, "every shot", timeout=60)
            await until(pilot, lambda: "finished" in live.view.replay, "the end of the replay")
            # Keys that would write into a record are not offered in a replay.
            assert live.check_action("note", ()) is False
            assert live.check_action("end", ()) is False
            await pilot.press("q")

    asyncio.run(run())
    views = [m for m in seen if isinstance(m, ViewChanged)]
    # Hundreds of shots per redraw: the screen was never asked to draw each shot.
    assert 0 < len(views) < SHOTS // 10
    assert views[-1].view.shot_count == SHOTS

    session_id = feed_box[0].session_id
    assert session_id is not None
    assert services.replay_db_url is not None
    scratch = open_database(services.replay_db_url)
    try:
        assert series.session_progress(scratch, session_id).total.shots == SHOTS
    finally:
        scratch.close()
    with pytest.raises(RecordNotFoundError):
        series.session_progress(services.db, session_id)
