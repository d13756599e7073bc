"""A minimal IGP/1 host for the simulator's tests: pyserial and the codec, nothing else."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar, overload

import serial

from protocols.igp1 import Decoder, Frame, Message

M = TypeVar("M", bound=Message)


class Host:
    """Opens the gun's port with pyserial, sends host messages, decodes what comes back."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.ser = serial.Serial(path, 115200, timeout=0)
        self.decoder = Decoder()
        self.frames: list[Frame] = []
        self.raw = bytearray()
        self.seq = 0

    def close(self) -> None:
        """Close the port."""
        self.ser.close()

    def send(self, msg: Message) -> int:
        """Send one message; returns the SEQ it went with."""
        seq = self.seq
        self.ser.write(msg.encode(seq))
        self.seq = (seq + 1) & 0xFF
        return seq

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are."""
        self.ser.write(data)

    def pump(self) -> list[Frame]:
        """Read what is waiting; return the frames it completed."""
        data = self.ser.read(65536)
        if not data:
            time.sleep(0.002)
            return []
        self.raw += data
        new = self.decoder.feed(data)
        self.frames += new
        return new

    def wait_for(
        self, predicate: Callable[[list[Frame]], bool], timeout: float = 10.0
    ) -> list[Frame]:
        """Read until ``predicate(self.frames)`` holds; fail the test on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate(self.frames):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"host waited {timeout} s in vain; got {len(self.frames)} frames: "
                    f"{[f.message for f in self.frames[-5:]]}"
                )
            self.pump()
        return self.frames

    @overload
    def messages(self) -> list[Message]: ...

    @overload
    def messages(self, kind: type[M]) -> list[M]: ...

    def messages(self, kind: type[Message] | None = None) -> list[Message] | list[M]:
        """Messages received so far (of ``kind`` if given)."""
        want = kind or Message
        return [f.message for f in self.frames if isinstance(f.message, want)]

    def count(self, kind: type[Message]) -> int:
        """How many messages of ``kind`` arrived."""
        return sum(1 for f in self.frames if isinstance(f.message, kind))

    def drain(self, seconds: float = 0.05) -> None:
        """Read whatever arrives during ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump()
