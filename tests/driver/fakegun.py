"""A minimal IGP/1 device on a pseudo-terminal, for driver tests until the simulator lands."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty

from protocols.igp1 import (
    Ack,
    AckStatus,
    Decoder,
    Frame,
    Heartbeat,
    Hello,
    IdentReq,
    Lock,
    ResendReq,
    Settings,
    Shot,
    ShotFlags,
)


class FakeGun:
    """Answers IDENT_REQ, RESEND_REQ and LOCK; fires shots on demand; can drop frames."""

    def __init__(self, boot_id: int = 0x1234, ring: int = 1024, heartbeat: float = 0.2) -> None:
        self.master, slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)
        self.boot_id = boot_id
        self.ring = ring
        self.heartbeat = heartbeat
        self.shots: list[Shot] = []
        self.drop = 0
        self.locked = False
        self.ignore_resend = False
        self._seq = 0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _send(self, msg: object, dropped: bool = False) -> None:
        with self._lock:
            frame = msg.encode(self._seq)  # type: ignore[attr-defined]
            self._seq = (self._seq + 1) & 0xFF
            if not dropped:
                with contextlib.suppress(OSError):
                    os.write(self.master, frame)

    def fire(self, n: int = 1) -> None:
        with self._lock:
            self._fire(n)

    def _fire(self, n: int) -> None:
        for _ in range(n):
            no = len(self.shots) + 1
            shot = Shot(no, 1000 + no, 2000 + no % 100, 0, 50_000, 1_000_000)
            self.shots.append(shot)
            drop = self.drop > 0
            self.drop -= drop
            self._send(shot, dropped=drop)

    def reboot(self, boot_id: int) -> None:
        self.boot_id = boot_id
        self.shots = []
        self.locked = False
        self._identity()

    def _identity(self) -> None:
        self._send(Hello(1, 2, 4, 1, self.boot_id, "MG-400", "SN0042"))
        self._send(Settings(len(self.shots) + 1000, 0, 2500, 50_000, 0, 2500))
        self.hb()

    def hb(self) -> None:
        with self._lock:
            self._send(Heartbeat(len(self.shots) + 1000, len(self.shots), 1, 80, 0, 1_000_000))

    def _run(self) -> None:
        decoder = Decoder()
        next_hb = time.monotonic() + self.heartbeat
        while not self._stop.is_set():
            r, _, _ = select.select([self.master], [], [], 0.02)
            if time.monotonic() >= next_hb:
                next_hb += self.heartbeat
                self.hb()
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                time.sleep(0.02)  # no host on the other end
                continue
            for frame in decoder.feed(data):
                with self._lock:
                    self._answer(frame)

    def _answer(self, frame: Frame) -> None:
        msg = frame.message
        if isinstance(msg, IdentReq):
            self._send(Ack(msg.MSG_ID, frame.seq, AckStatus.OK))
            self._identity()
        elif isinstance(msg, ResendReq) and not self.ignore_resend:
            first_held = max(1, len(self.shots) - self.ring + 1)
            partial = msg.from_shot_no < first_held
            status = AckStatus.PARTIAL if partial else AckStatus.OK
            self._send(Ack(msg.MSG_ID, frame.seq, status))
            lo = max(msg.from_shot_no, first_held)
            for no in range(lo, min(msg.to_shot_no, len(self.shots)) + 1):
                s = self.shots[no - 1]
                flags = s.flags | ShotFlags.RETRANSMIT
                self._send(Shot(s.shot_no, s.uptime_ms, s.depth_um, flags, s.volume_nl, 0))
        elif isinstance(msg, Lock):
            self.locked = bool(msg.lock)
            self._send(Ack(msg.MSG_ID, frame.seq, AckStatus.OK))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self.master)
