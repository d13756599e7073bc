"""Pausing, resuming and changing the speed of a running simulator (replay and gun).

Nothing here gates on how long something took: a pause is seen as bytes that do not arrive
within a window, a speed change as a replay finishing that could not have at the old speed.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import pytest

from protocols.igp1 import Ack, AckStatus, Heartbeat, Hello, IdentReq, Message, Settings, Shot
from protocols.igp1.capture import CaptureWriter, RecordKind
from simulators import Simulator, load_capture
from tests.simulators.host import Host

HOUR_MS = 3_600_000


def write_capture(path: Path, first: int, rest: int, *, spacing_ms: int, gap_ms: int) -> bytes:
    """A gun's side of a session, one frame per record: HELLO, SETTINGS, HEARTBEAT, ``first``
    shots ``spacing_ms`` apart, then after ``gap_ms`` ``rest`` more; returns the device bytes."""
    writer = CaptureWriter(path)
    seq = itertools.count()
    t_ms = 1000
    remaining = 10_000_000

    def send(message: Message) -> None:
        frame = message.encode(next(seq) % 256)
        writer.write(RecordKind.RX, frame, mono_ns=t_ms * 1_000_000, wall_ns=t_ms * 1_000_000)

    send(Hello(1, 2, 4, 1, 0x5EED0042, "MG-400", "SN0042"))
    send(Settings(t_ms, 1, 2500, 3000, 540, 10_000))
    send(Heartbeat(t_ms, 0, 1, 90, 0, remaining))
    for n in range(1, first + rest + 1):
        t_ms += spacing_ms if n != first + 1 else gap_ms
        remaining -= 3000
        send(Shot(n, t_ms, 2400 + n % 200, 0, 3000, remaining))
    writer.close()
    return b"".join(data for _offset, data in load_capture(path).chunks)


def _settle(host: Host, sim: Simulator) -> None:
    """Read until the simulator has nothing queued and the host has read every byte."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        host.pump()
        if sim.wait_drained(0.01):
            host.pump()
            return
    raise AssertionError("the simulator never drained")


def _read_until_done(host: Host, sim: Simulator, size: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not (sim.done and len(host.raw) >= size):
        if time.monotonic() > deadline:
            raise AssertionError(f"replay unfinished after {timeout} s: {len(host.raw)}/{size} B")
        host.pump()


def test_a_paused_replay_emits_nothing_and_resumes_with_the_original_bytes(
    tmp_path: Path, link: Path
) -> None:
    path = tmp_path / "s.igpcap"
    # 400 shots 10 ms apart, played at 2×: two seconds, of which the test pauses the middle.
    original = write_capture(path, 400, 0, spacing_ms=10, gap_ms=10)
    with Simulator(replay=path, speed=2.0, link=link) as sim:
        host = Host(str(sim.path))
        host.wait_for(lambda fs: host.count(Shot) >= 10)
        sim.pause()
        assert sim.paused
        _settle(host, sim)
        at_pause = len(host.raw), host.count(Shot), sim.scenario_ms
        assert at_pause[1] < 400
        host.drain(0.3)
        assert (len(host.raw), host.count(Shot), sim.scenario_ms) == at_pause
        assert not sim.done

        sim.resume()
        assert not sim.paused
        _read_until_done(host, sim, len(original), timeout=30)
        host.drain(0.05)
        assert bytes(host.raw) == original
        assert sim.sent_bytes() == original
        assert [s.shot_no for s in host.messages(Shot)] == list(range(1, 401))
        host.close()


def test_resume_does_not_catch_up_on_the_time_paused(tmp_path: Path, link: Path) -> None:
    path = tmp_path / "s.igpcap"
    original = write_capture(path, 400, 0, spacing_ms=10, gap_ms=10)
    with Simulator(replay=path, speed=1.0, link=link) as sim:
        host = Host(str(sim.path))
        host.wait_for(lambda fs: host.count(Shot) >= 5)
        sim.pause()
        _settle(host, sim)
        paused_at = host.count(Shot)
        host.drain(0.6)  # 60 shots' worth of the capture at 1×
        sim.resume()
        sim.pause()
        _settle(host, sim)
        # A schedule still anchored before the pause would have sent those 60 shots at once.
        assert host.count(Shot) - paused_at < 30
        sim.set_speed("max")
        sim.resume()
        _read_until_done(host, sim, len(original), timeout=30)
        assert bytes(host.raw) == original
        host.close()


def test_set_speed_max_plays_the_rest_at_once(tmp_path: Path, link: Path) -> None:
    path = tmp_path / "s.igpcap"
    # An hour's gap after the first 20 shots: only a speed change can finish it in the test.
    original = write_capture(path, 20, 300, spacing_ms=10, gap_ms=HOUR_MS)
    with Simulator(replay=path, speed=1.0, link=link) as sim:
        assert sim.baud == 115_200
        host = Host(str(sim.path))
        host.wait_for(lambda fs: host.count(Shot) >= 20)
        _settle(host, sim)
        assert host.count(Shot) == 20
        sim.set_speed("max")
        assert sim.speed == "max" and sim.baud == 0
        _read_until_done(host, sim, len(original), timeout=30)
        assert bytes(host.raw) == original
        assert sim.sent_bytes() == original
        host.close()


def test_set_speed_factor_reanchors_at_the_current_scenario_time(
    tmp_path: Path, link: Path
) -> None:
    path = tmp_path / "s.igpcap"
    original = write_capture(path, 20, 50, spacing_ms=10, gap_ms=HOUR_MS)
    with Simulator(replay=path, speed=1.0, link=link) as sim:
        host = Host(str(sim.path))
        host.wait_for(lambda fs: host.count(Shot) >= 20)
        before = sim.scenario_ms
        # The hour's gap becomes a second.
        sim.set_speed(3600.0)
        assert sim.scenario_ms >= before
        _read_until_done(host, sim, len(original), timeout=30)
        assert bytes(host.raw) == original
        host.close()


def test_a_paused_replay_answers_ident_from_what_it_has_played(tmp_path: Path, link: Path) -> None:
    path = tmp_path / "s.igpcap"
    write_capture(path, 20, 10, spacing_ms=10, gap_ms=HOUR_MS)
    with Simulator(replay=path, speed=1.0, link=link) as sim:
        host = Host(str(sim.path))
        host.wait_for(lambda fs: host.count(Shot) >= 20)
        sim.pause()
        _settle(host, sim)
        seq = host.send(IdentReq())
        host.wait_for(lambda fs: Ack(0x80, seq, AckStatus.OK) in host.messages())
        host.wait_for(lambda fs: isinstance(fs[-1].message, Heartbeat))
        assert host.messages(Hello)[-1].boot_id == 0x5EED0042
        assert host.count(Shot) == 20
        host.close()


def test_a_paused_gun_stops_its_clock_and_still_answers(sim: Simulator, host: Host) -> None:
    host.wait_for(lambda fs: host.count(Heartbeat) >= 3)
    sim.pause()
    _settle(host, sim)
    uptime = sim.uptime_ms
    beats = host.count(Heartbeat)
    host.drain(0.3)  # fifteen heartbeats' worth at speed 50
    assert host.count(Heartbeat) == beats
    assert sim.uptime_ms == uptime

    seq = host.send(IdentReq())
    host.wait_for(lambda fs: any(m == Ack(0x80, seq, AckStatus.OK) for m in host.messages()))
    host.wait_for(lambda fs: host.count(Heartbeat) == beats + 1)
    assert host.messages(Heartbeat)[-1].uptime_ms == uptime

    sim.resume()
    host.wait_for(lambda fs: host.count(Heartbeat) >= beats + 4)
    scheduled = sorted({b.uptime_ms for b in host.messages(Heartbeat) if b.uptime_ms % 1000 == 120})
    # The device clock carried on from where it stopped: no beat is missing across the pause.
    assert {b - a for a, b in itertools.pairwise(scheduled)} == {1000}


def test_set_speed_refuses_what_the_constructor_refuses(sim: Simulator) -> None:
    for bad in (0, -1.0, math.nan, math.inf, "fast", True):
        with pytest.raises(ValueError, match="must be a number above 0 or 'max'"):
            sim.set_speed(bad)  # type: ignore[arg-type]
    assert sim.speed == 50


def test_playback_control_needs_a_running_simulator(link: Path) -> None:
    sim = Simulator("idle", link=link)
    for call in (sim.pause, sim.resume, lambda: sim.set_speed(2.0)):
        with pytest.raises(RuntimeError, match="not running"):
            call()
