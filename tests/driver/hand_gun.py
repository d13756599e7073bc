"""A gun written by hand: the device end of a real pseudo-terminal, frame by frame.

The test decides every frame the host sees (CRC-valid, but with whatever numbers it likes);
a thread answers IDENT_REQ and RESEND_REQ the way spec section 5 says, from the state the
test set, and counts every request the host sends.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from dataclasses import dataclass, field

from protocols.igp1 import (
    Ack,
    AckStatus,
    Decoder,
    Heartbeat,
    Hello,
    IdentReq,
    Message,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
)


@dataclass
class GunState:
    """What the hand-made gun says about itself when asked."""

    boot_id: int = 0x5EED1234
    serial: str = "SN0042"
    uptime_ms: int = 60_000
    last_shot_no: int = 0
    held: dict[int, Shot] = field(default_factory=dict)
    """Shots it can resend, by number."""


class HandGun:
    """The device end of a pseudo-terminal; ``path`` is what the driver opens."""

    def __init__(self, state: GunState | None = None, *, answer: bool = True) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)
        self._master = master
        self.state = state or GunState()
        self.answer = answer
        self._seq = 0
        self._lock = threading.Lock()
        self._decoder = Decoder()
        self.requests: list[Message] = []
        self.spoke = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop answering and close the device end."""
        self._stop.set()
        self._thread.join(5)
        os.close(self._master)

    def __enter__(self) -> HandGun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def count(self, kind: type) -> int:
        """Requests of ``kind`` the host sent so far."""
        with self._lock:
            return sum(isinstance(m, kind) for m in self.requests)

    def send(self, *messages: Message) -> None:
        """Write frames as they are, each with the next SEQ; shots sent are held for resends."""
        with self._lock:
            data = bytearray()
            for msg in messages:
                data += msg.encode(self._seq)
                self._seq = (self._seq + 1) & 0xFF
                if isinstance(msg, Shot) and not msg.flags & ShotFlags.RETRANSMIT:
                    self.state.held.setdefault(msg.shot_no, msg)
            os.write(self._master, bytes(data))

    def send_raw(self, data: bytes) -> None:
        """Write bytes that are not frames (noise, a boot banner)."""
        with self._lock:
            os.write(self._master, data)

    def identity(self) -> list[Message]:
        """HELLO, SETTINGS and HEARTBEAT as the gun answers IDENT_REQ now."""
        s = self.state
        return [
            Hello(1, 2, 4, 1, s.boot_id, "MG-400", s.serial),
            Settings(s.uptime_ms, 1, 2400, 4_000, 540, 20_000),
            Heartbeat(s.uptime_ms, s.last_shot_no, 1, 87, 0, 20_000_000),
        ]

    def _listen(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                continue  # nobody has the port open
            for frame in self._decoder.feed(data):
                msg = frame.message
                if not isinstance(msg, Message):
                    continue
                with self._lock:
                    self.requests.append(msg)
                self.spoke.set()
                if self.answer:
                    with contextlib.suppress(OSError):
                        self._answer(frame.seq, msg)

    def _answer(self, seq: int, msg: Message) -> None:
        if isinstance(msg, IdentReq):
            self.send(Ack(IdentReq.MSG_ID, seq, AckStatus.OK), *self.identity())
        elif isinstance(msg, ResendReq):
            held = self.state.held
            wanted = [n for n in sorted(held) if msg.from_shot_no <= n <= msg.to_shot_no]
            self.send(Ack(ResendReq.MSG_ID, seq, AckStatus.OK))
            for n in wanted:
                s = held[n]
                self.send(
                    Shot(
                        n,
                        s.uptime_ms,
                        s.depth_um,
                        s.flags | ShotFlags.RETRANSMIT,
                        s.volume_nl,
                        s.syringe_remaining_nl,
                    )
                )
