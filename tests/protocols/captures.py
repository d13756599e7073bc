"""Synthetic captures for the capture tools' tests: a gun's traffic, split as a port reads it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from protocols.igp1 import (
    Ack,
    AckStatus,
    Fault,
    FaultCode,
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

T0 = 1_795_600_800_000_000_000
"""2026-11-25T10:00:00Z, the wall clock of every synthetic capture's first record."""


@dataclass
class Written:
    """What a synthetic capture holds, to compare tools against."""

    rx: list[tuple[int, Message]] = field(default_factory=list)
    """(record wall time, message) of every device frame, in order."""
    tx: list[tuple[int, Message]] = field(default_factory=list)
    noise_bytes: int = 0


class GunTape:
    """Writes a capture as a recorder would: one RX record per read, frames split anywhere."""

    def __init__(self, path: Path, seed: int = 1) -> None:
        self.writer = CaptureWriter(path)
        self.rng = random.Random(seed)
        self.ms = 0
        self.seq = 0
        self.host_seq = 0
        self.boot_uptime0 = 0
        self.pending = bytearray()
        self.written = Written()
        self._queued: list[Message] = []

    def _stamp(self) -> tuple[int, int]:
        return 5_000_000_000 + self.ms * 1_000_000, T0 + self.ms * 1_000_000

    def note(self, kind: RecordKind, text: str) -> None:
        self.flush()
        mono, wall = self._stamp()
        self.writer.write(kind, text.encode(), mono, wall)

    def send(self, *messages: Message, noise: bytes = b"") -> None:
        """Device frames, read by the host in pieces (noise first, if any)."""
        self.pending += noise
        self.written.noise_bytes += len(noise)
        for message in messages:
            self.pending += message.encode(self.seq)
            self.seq = (self.seq + 1) & 0xFF
            self._queued.append(message)
        # The host reads what arrived, usually a frame or two; a read may end mid-frame.
        while len(self.pending) > 40:
            cut = self.rng.randrange(1, len(self.pending))
            self._read(cut)
        if self.pending and self.rng.random() < 0.7:
            self._read(len(self.pending))

    def _read(self, size: int) -> None:
        mono, wall = self._stamp()
        chunk = bytes(self.pending[:size])
        del self.pending[:size]
        self.writer.write(RecordKind.RX, chunk, mono, wall)
        # Frames complete in the record holding their last byte.
        done = len(self._queued) - self._frames_in(self.pending)
        for message in self._queued[:done]:
            self.written.rx.append((wall, message))
        del self._queued[:done]

    def _frames_in(self, pending: bytearray) -> int:
        """How many queued frames still have their last byte in ``pending``."""
        count, end = 0, len(pending)
        for message in reversed(self._queued):
            if end <= 0:
                break
            count += 1
            end -= message.PAYLOAD_SIZE + 6
        return count

    def host(self, message: Message) -> None:
        self.flush()
        mono, wall = self._stamp()
        self.writer.write(RecordKind.TX, message.encode(self.host_seq), mono, wall)
        self.host_seq = (self.host_seq + 1) & 0xFF
        self.written.tx.append((wall, message))

    def flush(self) -> None:
        if self.pending:
            self._read(len(self.pending))

    def advance(self, ms: int) -> None:
        self.ms += ms

    def close(self) -> None:
        self.flush()
        self.writer.close()


def uptime(tape: GunTape) -> int:
    return tape.ms - tape.boot_uptime0 + 1500


def demo_capture(path: Path, shots: int = 200, seed: int = 1) -> Written:
    """Two boots of an MG-400: identity, settings, heartbeats, shots, a fault, a resend, noise."""
    tape = GunTape(path, seed)
    rng = tape.rng
    tape.note(RecordKind.OPEN, "/dev/ttyACM0 at 115200 baud")
    for boot_id in (0x5EED1234, 0x0BADF00D):
        tape.boot_uptime0 = tape.ms
        if boot_id != 0x5EED1234:
            tape.send(noise=b"MG-400 boot\r\n")
        tape.host(IdentReq())
        tape.send(
            Ack(0x80, tape.host_seq - 1, AckStatus.OK),
            Hello(1, 2, 4, 1, boot_id, "MG-400", "SN0042"),
            Settings(uptime(tape), 0, 2500, 50_000, 0, 2500),
            Heartbeat(uptime(tape), 0, 1, 87, 0, 2_500_000),
        )
        for i, shot_no in enumerate(range(1, shots // 2 + 1)):
            tape.advance(rng.randrange(300, 900))
            shot = Shot(shot_no, uptime(tape), 2400 + rng.randrange(-50, 50), 0, 50_000, 2_000_000)
            noise = rng.randbytes(rng.randrange(1, 9)) if rng.random() < 0.03 else b""
            tape.send(shot, noise=noise)
            if i % 3 == 0:
                tape.advance(5)
                tape.send(Heartbeat(uptime(tape), shot_no, 1, 86, 0, 2_000_000))
            if i == 40:
                tape.send(Fault(uptime(tape), FaultCode.NEEDLE_NOT_SEATED, 1, 0))
                tape.advance(1000)
                tape.send(Fault(uptime(tape), FaultCode.NEEDLE_NOT_SEATED, 0, 0))
            if i == 60:
                tape.host(ResendReq(shot_no - 2, shot_no))
                tape.send(Ack(0x81, tape.host_seq - 1, AckStatus.OK))
                for n in range(shot_no - 2, shot_no + 1):
                    tape.send(Shot(n, 1, 2400, ShotFlags.RETRANSMIT, 50_000, 2_000_000))
        tape.advance(2000)
        tape.note(RecordKind.CLOSE, "device reports readiness to read but returned no data")
        tape.advance(3000)
        if boot_id == 0x5EED1234:
            tape.note(RecordKind.OPEN, "/dev/ttyACM0 at 115200 baud")
    tape.close()
    return tape.written
