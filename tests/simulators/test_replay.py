"""Replay of capture files: the original bytes again, answers from the capture, damaged files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from protocols.igp1 import Ack, AckStatus, Hello, IdentReq, ResendReq, Shot, ShotFlags
from protocols.igp1.capture import CaptureWriter, RecordKind
from simulators import ReplayError, Simulator, load_capture
from tests.simulators.conftest import connect
from tests.simulators.host import Host


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A capture of a host recording the demo, and the device bytes it holds."""
    folder = tmp_path_factory.mktemp("capture")
    path = folder / "demo.igpcap"
    received = bytearray()
    with (
        Simulator("demo", speed=400, seed=8, link=folder / "gun") as sim,
        CaptureWriter(path) as writer,
    ):
        writer.note(RecordKind.OPEN, str(sim.path))
        host = Host(str(sim.path))
        ident = IdentReq().encode(0)
        host.send_raw(ident)
        writer.write(RecordKind.TX, ident)
        deadline = time.monotonic() + 30
        while not (sim.done and host.count(Shot) >= 335) and time.monotonic() < deadline:
            before = len(host.raw)
            host.pump()
            if len(host.raw) > before:
                chunk = bytes(host.raw[before:])
                writer.write(RecordKind.RX, chunk)
                received += chunk
        writer.note(RecordKind.CLOSE, "done")
        host.close()
    assert received.count(b"\xa5\x14") >= 335
    return path, bytes(received)


def _read_all(host: Host, size: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while len(host.raw) < size and time.monotonic() < deadline:
        host.pump()


def test_replay_at_max_speed_reproduces_the_original_bytes(
    capture: tuple[Path, bytes], link: Path
) -> None:
    path, original = capture
    with Simulator(replay=path, speed="max", link=link) as sim:
        host = Host(str(sim.path))
        _read_all(host, len(original))
        assert sim.wait_done(10)
        host.drain(0.05)
        assert bytes(host.raw) == original
        assert sim.sent_bytes() == original
        assert host.count(Shot) == 335
        host.close()


def test_replay_at_a_speed_factor_keeps_the_recorded_order(
    capture: tuple[Path, bytes], link: Path
) -> None:
    path, original = capture
    loaded = load_capture(path)
    assert loaded.damage is None and loaded.duration_ms > 0
    with Simulator(replay=path, speed=20.0, link=link) as sim:
        assert sim.baud == 0
        host = Host(str(sim.path))
        _read_all(host, len(original))
        assert bytes(host.raw) == original
        host.close()


def test_replay_answers_the_host_from_the_capture(capture: tuple[Path, bytes], link: Path) -> None:
    path, _original = capture
    with Simulator(replay=path, speed="max", link=link) as sim:
        host = connect(str(sim.path))
        hello = next(m for m in host.messages() if isinstance(m, Hello))
        host.wait_for(lambda fs: host.count(Shot) >= 50)
        assert sim.wait_done(10)
        host.drain(0.05)
        seq = host.send(ResendReq(10, 12))
        host.wait_for(lambda fs: Ack(0x81, seq, AckStatus.OK) in host.messages())
        host.wait_for(lambda fs: host.messages()[-1] == host.messages(Shot)[-1])
        again = host.messages(Shot)[-3:]
        firsts = {s.shot_no: s for s in host.messages(Shot)[:335]}
        assert [s.shot_no for s in again] == [10, 11, 12]
        for shot in again:
            assert isinstance(shot, Shot)
            assert shot.flags & ShotFlags.RETRANSMIT
            assert shot.uptime_ms == firsts[shot.shot_no].uptime_ms
        assert sim.boot_id == hello.boot_id
        host.close()


def test_a_truncated_capture_replays_up_to_the_damage_with_a_warning(
    capture: tuple[Path, bytes], tmp_path: Path
) -> None:
    path, original = capture
    cut = tmp_path / "cut.igpcap"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) - 40])
    loaded = load_capture(cut)
    assert loaded.warning is not None
    assert "truncated" in loaded.warning and str(cut) in loaded.warning
    played = b"".join(chunk for _offset, chunk in loaded.chunks)
    assert original.startswith(played) and len(played) < len(original)
    with Simulator(replay=cut, speed="max", link=tmp_path / "gun") as sim:
        host = Host(str(sim.path))
        _read_all(host, len(played))
        assert bytes(host.raw) == played
        host.close()


def test_unusable_captures_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="cannot read capture"):
        load_capture(tmp_path / "missing.igpcap")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ReplayError, match="is not an IGP/1 capture file"):
        load_capture(text)
    empty = tmp_path / "empty.igpcap"
    CaptureWriter(empty).close()
    with pytest.raises(ReplayError, match="holds no bytes from the device"):
        load_capture(empty)
    with pytest.raises(ValueError, match="faults cannot be injected"):
        from simulators import FaultConfig

        Simulator(replay=text, faults=FaultConfig(drop=0.1))
