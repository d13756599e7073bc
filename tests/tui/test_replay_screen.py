"""A technician finds their way in a replay: where it is (time, shots of the capture's), on by
a step or to the next fault or restart, back by a step (the capture again, into a new scratch
session), the capture's damage shown, and esc back to the picker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.message import Message
from textual.widgets import Input, Label

from protocols.igp1 import Fault, Heartbeat, Hello, Settings, Shot
from protocols.igp1.capture import CaptureWriter, RecordKind
from tests.tui.pilot_helpers import until
from tui.app import InjectorApp
from tui.app_requests import StartReplay
from tui.replay_index import index_capture
from tui.screens.home import HomeScreen
from tui.screens.live_screen import LiveScreen
from tui.screens.replay import ReplayScreen
from tui.services import Services

SHOTS_PER_BOOT = 1500
FAULT_AT_SHOT = 600


def write_capture(path: Path) -> tuple[float, float]:
    """Two boots of shots 4 ms apart, a fault in the first, then a torn record at the end.

    Returns the capture times (ms from the first bytes) of the fault and of the restart.
    """
    writer = CaptureWriter(path)
    t_ms = 1000
    seq = 0
    times: dict[str, float] = {}

    def send(message: Hello | Settings | Heartbeat | Shot | Fault) -> None:
        nonlocal seq
        writer.write(
            RecordKind.RX, message.encode(seq), mono_ns=t_ms * 1_000_000, wall_ns=t_ms * 10**6
        )
        seq = (seq + 1) % 256

    for boot in (0x1111, 0x2222):
        remaining = 10_000_000
        if boot == 0x2222:
            times["restart"] = t_ms - 1000.0
        send(Hello(1, 2, 4, 1, boot, "MG-400", "SN0777"))
        send(Settings(t_ms, 1, 2500, 3000, 540, 10_000))
        send(Heartbeat(t_ms, 0, 1, 90, 0, remaining))
        for n in range(1, SHOTS_PER_BOOT + 1):
            t_ms += 4
            remaining -= 3000
            send(Shot(n, t_ms, 2400, 0, 3000, remaining))
            if boot == 0x1111 and n == FAULT_AT_SHOT:
                times["fault"] = t_ms - 1000.0
                send(Fault(t_ms, 3, 1, 0))
                send(Fault(t_ms + 1, 3, 0, 0))
            if n % 100 == 0:
                send(Heartbeat(t_ms, n, 2, 90, 0, remaining))
        t_ms += 500
    writer.close()
    with path.open("ab") as f:
        f.write(b"\x01\x02\x03")  # a torn record: the recorder was killed mid-write
    return times["fault"], times["restart"]


def test_the_index_finds_length_shots_marks_and_damage(tmp_path: Path) -> None:
    capture = tmp_path / "two-boots.igpcap"
    fault_ms, restart_ms = write_capture(capture)
    index = index_capture(capture)
    assert index.shots == 2 * SHOTS_PER_BOOT
    assert [(m.at_ms, m.text) for m in index.marks] == [
        (fault_ms, "FAULT MOTOR STALL"),
        (restart_ms, "the gun restarted"),
    ]
    assert index.next_mark(0.0) == index.marks[0]
    assert index.next_mark(fault_ms) == index.marks[1]
    assert index.next_mark(restart_ms) is None
    assert index.warning is not None and "truncated" in index.warning


def _text(screen: LiveScreen, widget_id: str) -> str:
    return str(screen.query_one(widget_id, Label).render())


def test_position_seek_jump_back_and_leave(services: Services, tmp_path: Path) -> None:
    capture = tmp_path / "two-boots.igpcap"
    fault_ms, _ = write_capture(capture)
    seen: list[Message] = []

    async def run() -> None:
        app = InjectorApp(services)
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await until(pilot, lambda: isinstance(app.screen, HomeScreen), "home")
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the picker")
            picker = app.screen
            picker.query_one("#capture-path", Input).value = str(capture)
            await pilot.press("ctrl+s")  # 1×: about 13 s of capture
            await until(pilot, lambda: isinstance(app.screen, LiveScreen), "the replay")
            live = app.screen
            assert isinstance(live, LiveScreen) and live.context is not None
            # Where it records, and the damage, are shown.
            assert live.context.records_into in _text(live, "#replay-where")
            assert "DAMAGED" in _text(live, "#replay-warning")
            assert "truncated" in _text(live, "#replay-warning")
            await until(pilot, lambda: live.view.shot_count > 0, "the first shots")
            await until(
                pilot,
                lambda: f"of {2 * SHOTS_PER_BOOT:,} shots" in _text(live, "#replay-position"),
                "the position line",
            )
            assert "next: FAULT MOTOR STALL" in _text(live, "#replay-position")

            # j: on to the fault (played fast, nothing skipped).
            await pilot.press("j")
            await until(pilot, lambda: live._position_ms() >= fault_ms, "at the fault")
            await until(
                pilot,
                lambda: "next: the gun restarted" in _text(live, "#replay-position"),
                "the next mark named",
            )
            # f: on by a step.
            # (On a loaded machine the replay may be near its end by now: then to the end.)
            before = live._position_ms()
            step_to = min(before + 5_000, live.context.index.duration_ms - 1)
            await pilot.press("f")
            await until(pilot, lambda: live._position_ms() >= step_to, "a step on")

            # b: the capture again into a new scratch session, up to a step back.
            await pilot.press("b")
            await until(
                pilot,
                lambda: isinstance(app.screen, LiveScreen) and app.screen is not live,
                "the replay started again",
            )
            again = app.screen
            assert isinstance(again, LiveScreen) and again.context is not None
            assert again.context.records_into != live.context.records_into
            await until(pilot, lambda: again.view.shot_count > 0, "shots again")

            # esc: back to the picker, the replay stopped.
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, ReplayScreen), "the picker again")
            assert again.ended or again._feed_worker is None or again._feed_worker.is_finished

    asyncio.run(run())
    starts = list({id(m): m for m in seen if isinstance(m, StartReplay)}.values())
    assert [(m.again, m.start_ms > 0) for m in starts] == [(False, False), (True, True)]
