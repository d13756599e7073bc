"""The replay answers as the gun at the point reached, between frames, with SEQ consistent
(issue 11): a hand-made capture whose first record is a lone SOF byte."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from protocols.igp1 import (
    Ack,
    AckStatus,
    Heartbeat,
    Hello,
    IdentReq,
    Message,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
)
from protocols.igp1.capture import CaptureWriter, RecordKind
from simulators import Simulator
from tests.simulators.host import Host

BOOT = 0x5EED1234


def _shot(n: int) -> Shot:
    return Shot(n, 61_000 + 100 * n, 2400, 0, 4_000, 20_000_000 - 4_000 * n)


def _capture(path: Path) -> None:
    """A recorder that opened the port, asked IDENT_REQ and read: first a lone a5, then the
    rest; one of the gun's frames (seq 13) was lost on the line."""
    frames: list[tuple[int, Message]] = [
        (0, Ack(IdentReq.MSG_ID, 0, AckStatus.OK)),
        (1, Hello(1, 2, 4, 1, BOOT, "MG-400", "SN0042")),
        (2, Settings(60_500, 1, 2400, 4_000, 540, 20_000)),
        (3, Heartbeat(61_000, 0, 1, 87, 0, 20_000_000)),
        *((3 + n, _shot(n)) for n in range(1, 10)),  # seq 4..12
        *((4 + n, _shot(n)) for n in range(10, 13)),  # seq 14..16: 13 never arrived
        (17, Heartbeat(62_300, 12, 1, 87, 0, 20_000_000)),
    ]
    stream = b"".join(msg.encode(seq) for seq, msg in frames)
    t0, wall = time.monotonic_ns(), time.time_ns()
    with CaptureWriter(path) as capture:
        capture.write(RecordKind.OPEN, b"/dev/ttyACM0 at 115200 baud", t0, wall)
        capture.write(RecordKind.TX, IdentReq().encode(0), t0, wall)
        capture.write(RecordKind.RX, stream[:1], t0 + 1_000_000, wall + 1_000_000)
        half = len(stream) // 2 + 3  # inside a frame, too
        capture.write(RecordKind.RX, stream[1:half], t0 + 2_000_000, wall + 2_000_000)
        capture.write(RecordKind.RX, stream[half:], t0 + 3_000_000, wall + 3_000_000)


def test_answers_go_between_frames_from_the_state_reached(tmp_path: Path) -> None:
    path = tmp_path / "lone.igpcap"
    _capture(path)
    with Simulator(replay=path, speed="max", link=tmp_path / "gun") as sim:
        host = Host(str(sim.path))
        asked = host.send(IdentReq())
        host.wait_for(lambda fs: host.count(Shot) >= 12 and host.count(Hello) >= 2)
        assert sim.wait_done(10)
        again = host.send(ResendReq(3, 4))
        host.wait_for(
            lambda fs: sum(isinstance(m, Shot) and m.shot_no == 4 for m in host.messages()) == 2
        )
        host.drain(0.1)
        host.close()
    messages = host.messages()
    # Every original frame arrived whole: shots 1..12, none broken by an answer.
    assert sorted({m.shot_no for m in host.messages(Shot)}) == list(range(1, 13))
    # Only this host's requests are acknowledged, each once: the original ACK is left out.
    acks = host.messages(Ack)
    assert acks == [
        Ack(IdentReq.MSG_ID, asked, AckStatus.OK),
        Ack(ResendReq.MSG_ID, again, AckStatus.OK),
    ]
    # The heartbeat answering IDENT_REQ is the gun now, not an older one.
    answer = messages.index(acks[0])
    shots_before = [m for m in messages[:answer] if isinstance(m, Shot)]
    beat = next(m for m in messages[answer:] if isinstance(m, Heartbeat))
    assert beat.last_shot_no >= max((s.shot_no for s in shots_before), default=0)
    assert beat.uptime_ms >= max((s.uptime_ms for s in shots_before), default=0)
    resent = [m for m in messages[messages.index(acks[1]) :] if isinstance(m, Shot)]
    assert [s.shot_no for s in resent] == [3, 4]
    assert all(s.flags & ShotFlags.RETRANSMIT for s in resent)
    # SEQ rises by one per frame, answers included; the frame the line lost is still a gap.
    seqs = [f.seq for f in host.frames]
    gaps = [(a, b) for a, b in itertools.pairwise(seqs) if b != (a + 1) & 0xFF]
    assert len(gaps) == 1
