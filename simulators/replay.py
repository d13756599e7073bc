"""Replay of a capture file: the device's bytes played back onto the pseudo-terminal.

The capture format is :mod:`protocols.igp1.capture` (one implementation, shared with the
recorder). Only the bytes the original gun sent (``RX`` records) are played, each at its offset
from the first one, scaled by the speed factor; the runner turns those offsets into absolute
deadlines, as canplayer does, so playback does not drift. At ``--speed max`` the next record
goes as soon as the host has taken the previous ones.

The host is answered as the original gun did where the capture allows: IDENT_REQ with the last
HELLO, SETTINGS and HEARTBEAT played so far, RESEND_REQ with the shots of the current boot
played so far (flagged RETRANSMIT), LOCK with ACK OK. Answers are extra frames in the stream;
the replayed bytes themselves are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protocols.igp1 import (
    Ack,
    AckStatus,
    Decoder,
    Heartbeat,
    Hello,
    IdentReq,
    Lock,
    Message,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
)
from protocols.igp1.capture import CaptureError, CaptureReader, RecordKind
from simulators.gun import HostFrame, Outgoing


class ReplayError(Exception):
    """A capture that cannot be replayed at all; the message says why."""


@dataclass(frozen=True, slots=True)
class Capture:
    """The device's side of a capture file, ready to replay."""

    path: Path
    chunks: tuple[tuple[float, bytes], ...]
    """(offset in ms from the first device bytes, bytes), in file order."""
    records: int
    """Whole records read (of every kind)."""
    damage: str | None
    """What was wrong with the file's tail, if anything; replay stops there."""

    @property
    def warning(self) -> str | None:
        """A one-line warning to show when the file is damaged."""
        if self.damage is None:
            return None
        return f"{self.path}: {self.damage}; replaying the {self.records} whole records before it"

    @property
    def duration_ms(self) -> float:
        """Offset of the last device bytes."""
        return self.chunks[-1][0] if self.chunks else 0.0


def load_capture(path: str | Path) -> Capture:
    """Read the device bytes of a capture file.

    Raises :class:`ReplayError` for a file that is not a capture, cannot be read, or holds no
    bytes from the device; a damaged tail is kept in :attr:`Capture.damage`.
    """
    p = Path(path)
    try:
        reader = CaptureReader(p)
        records = list(reader)
    except CaptureError as exc:
        raise ReplayError(str(exc)) from None
    except OSError as exc:
        raise ReplayError(f"cannot read capture {p}: {exc.strerror or exc}") from None
    device = [r for r in records if r.kind is RecordKind.RX and r.data]
    if not device:
        damage = f" ({reader.damage})" if reader.damage else ""
        raise ReplayError(f"{p}: the capture holds no bytes from the device to replay{damage}")
    first = device[0].mono_ns
    chunks = tuple(((r.mono_ns - first) / 1e6, r.data) for r in device)
    return Capture(p, chunks, reader.records_read, reader.damage)


class ReplaySource:
    """Plays a :class:`Capture`; same interface to the runner as the scenario player."""

    def __init__(self, capture: Capture) -> None:
        self.capture = capture
        self._next = 0
        self._decoder = Decoder()
        self._outbox: list[Outgoing] = []
        self._now = 0.0
        self._hello: Hello | None = None
        self._settings: Settings | None = None
        self._heartbeat: Heartbeat | None = None
        self._shots: dict[int, Shot] = {}
        self._seq = 0
        self.warnings: list[str] = []

    @property
    def done(self) -> bool:
        """True once every chunk has been played."""
        return self._next >= len(self.capture.chunks)

    @property
    def boot_id(self) -> int:
        """The boot_id of the last HELLO played (0 before the first)."""
        return self._hello.boot_id if self._hello else 0

    def next_event_ms(self) -> float | None:
        """Offset of the next chunk to play."""
        if self.done:
            return None
        return self.capture.chunks[self._next][0]

    def advance_to(self, t: float) -> None:
        """Play every chunk whose offset has come."""
        chunks = self.capture.chunks
        while self._next < len(chunks) and chunks[self._next][0] <= t:
            offset, data = chunks[self._next]
            self._next += 1
            self._learn(data)
            self._outbox.append(Outgoing(data, None, None, self.boot_id, round(offset)))
        self._now = max(self._now, t)

    def take_output(self) -> list[Outgoing]:
        """What was played or answered since the last call."""
        out = self._outbox
        self._outbox = []
        return out

    def _learn(self, data: bytes) -> None:
        for frame in self._decoder.feed(data):
            msg = frame.message
            self._seq = (frame.seq + 1) & 0xFF
            if isinstance(msg, Hello):
                if self._hello is None or msg.boot_id != self._hello.boot_id:
                    self._shots.clear()
                self._hello = msg
            elif isinstance(msg, Settings):
                self._settings = msg
            elif isinstance(msg, Heartbeat):
                self._heartbeat = msg
            elif isinstance(msg, Shot) and msg.shot_no not in self._shots:
                # A shot first seen as a retransmission is kept as it was first sent.
                flags = msg.flags & ~ShotFlags.RETRANSMIT
                self._shots[msg.shot_no] = Shot(
                    msg.shot_no,
                    msg.uptime_ms,
                    msg.depth_um,
                    flags,
                    msg.volume_nl,
                    msg.syringe_remaining_nl,
                )

    def on_host_frame(self, frame: HostFrame) -> None:
        """Answer the host from what the capture has shown so far."""
        msg = frame.message
        if isinstance(msg, IdentReq):
            self._answer(Ack(frame.msg_id, frame.seq, AckStatus.OK))
            for known in (self._hello, self._settings, self._heartbeat):
                if known is not None:
                    self._answer(known)
        elif isinstance(msg, ResendReq):
            if msg.from_shot_no > msg.to_shot_no:
                self._answer(Ack(frame.msg_id, frame.seq, AckStatus.BAD_ARGUMENT))
                return
            wanted = [n for n in sorted(self._shots) if msg.from_shot_no <= n <= msg.to_shot_no]
            last = self._heartbeat.last_shot_no if self._heartbeat else 0
            last = max([last, *self._shots])
            span = min(msg.to_shot_no, last) - max(msg.from_shot_no, 1) + 1
            status = AckStatus.OK if len(wanted) >= span else AckStatus.PARTIAL
            self._answer(Ack(frame.msg_id, frame.seq, status))
            for n in wanted:
                s = self._shots[n]
                self._answer(
                    Shot(
                        s.shot_no,
                        s.uptime_ms,
                        s.depth_um,
                        s.flags | ShotFlags.RETRANSMIT,
                        s.volume_nl,
                        s.syringe_remaining_nl,
                    )
                )
        elif isinstance(msg, Lock):
            status = AckStatus.OK if msg.lock in (0, 1) else AckStatus.BAD_ARGUMENT
            self._answer(Ack(frame.msg_id, frame.seq, status))
        else:
            self._answer(Ack(frame.msg_id, frame.seq, AckStatus.UNSUPPORTED))

    def _answer(self, msg: Message) -> None:
        data = msg.encode(self._seq)
        self._outbox.append(Outgoing(data, msg, self._seq, self.boot_id, round(self._now)))
        self._seq = (self._seq + 1) & 0xFF
