"""A capture read as frames: both directions decoded, record by record, with the device's clock.

The one read path of every tool that looks inside a capture (``injector capture info``, ``dump``,
``check``, ``cut``). It takes any iterable of :class:`~protocols.igp1.capture.CaptureRecord` —
a :class:`~protocols.igp1.capture.CaptureReader` over a file, or records made from a live port
as they are read — and decodes RX bytes (device → host) and TX bytes (host → device) with one
streaming decoder each, so a frame split across reads is still whole. Nothing is held beyond
the decoders' buffers: a capture of any length streams through in constant memory.

An OPEN record starts a new link: bytes held from before it can never complete a frame (the
port flushed them), so they are settled as garbage and SEQ history starts again, as the
driver does when it reopens a port.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from protocols.igp1.capture import CaptureReader, CaptureRecord, Damage, RecordKind
from protocols.igp1.decoder import Decoder, Frame
from protocols.igp1.messages import (
    Fault,
    Heartbeat,
    Hello,
    Message,
    Settings,
    Shot,
    ShotFlags,
    Unknown,
)

_RETRANSMIT = int(ShotFlags.RETRANSMIT)  # a plain int: IntFlag's & runs in Python


@dataclass(slots=True)
class RecordFrames:
    """One record of a capture and what decoding it gave."""

    record: CaptureRecord | None
    """The record; ``None`` for the settling at the end of the capture."""
    frames: list[Frame]
    """Frames completed by this record's bytes (RX or TX), in order."""
    raws: list[bytes]
    """With ``keep_raw``: each frame's bytes as they crossed the line."""
    garbage: int
    """Bytes of this direction's stream discarded while decoding this record."""
    damage: list[Damage]
    """Unreadable spans of the file found just before this record."""
    direction: RecordKind | None
    """RX or TX for the frames (the direction settled at the end, for ``record`` ``None``)."""


class CaptureFrames:
    """Iterates :class:`RecordFrames` over the records of a capture (or of a live port).

    The decoders stay readable after and during iteration: :attr:`rx` and :attr:`tx` hold the
    decoder statistics of each direction.
    """

    def __init__(self, records: Iterable[CaptureRecord], keep_raw: bool = False) -> None:
        self.records = records
        self.rx = Decoder(keep_unknown=True, keep_raw=keep_raw)
        """The decoder of bytes from the device."""
        self.tx = Decoder(keep_unknown=True, keep_raw=keep_raw)
        """The decoder of bytes sent to the device."""
        self.keep_raw = keep_raw

    def __iter__(self) -> Iterator[RecordFrames]:
        reader = self.records if isinstance(self.records, CaptureReader) else None
        seen_damage = 0
        decoders = {RecordKind.RX: self.rx, RecordKind.TX: self.tx}
        for record in self.records:
            damage: list[Damage] = []
            # The reader lists a damaged span when it finds the next whole record after it.
            if reader is not None and len(reader.damages) > seen_damage:
                damage = reader.damages[seen_damage:]
                seen_damage = len(reader.damages)
            decoder = decoders.get(record.kind)
            if decoder is None:
                if record.kind is RecordKind.OPEN:
                    yield from self._settle(record)
                yield RecordFrames(record, [], [], 0, damage, None)
                continue
            before = decoder.stats.garbage_bytes
            frames = decoder.feed(record.data)
            raws = decoder.last_raw if self.keep_raw else []
            yield RecordFrames(
                record, frames, raws, decoder.stats.garbage_bytes - before, damage, record.kind
            )
        if reader is not None and len(reader.damages) > seen_damage:
            yield RecordFrames(None, [], [], 0, reader.damages[seen_damage:], None)
        yield from self._settle(None)

    def _settle(self, record: CaptureRecord | None) -> Iterator[RecordFrames]:
        """Finish both directions: what they held can no longer complete."""
        for kind, decoder in ((RecordKind.RX, self.rx), (RecordKind.TX, self.tx)):
            if not decoder.pending:
                decoder.reset()
                continue
            before = decoder.stats.garbage_bytes
            frames = decoder.finish()
            raws = decoder.last_raw if self.keep_raw else []
            decoder.reset()
            garbage = decoder.stats.garbage_bytes - before
            yield RecordFrames(record, frames, raws, garbage, [], kind)


class DeviceClock:
    """The device's uptime at any moment of a capture, from the last message that told it.

    Messages with ``uptime_ms`` (HEARTBEAT, SETTINGS, SHOT, FAULT) set it exactly; between
    them it runs on with the capture's monotonic clock. A retransmitted SHOT carries the time
    of the original shot, so it does not set the clock; a new ``boot_id`` or a reopened port
    leaves it unknown until the next message that tells it.
    """

    __slots__ = ("_boot_id", "_mono_ns", "_uptime_ms")

    def __init__(self) -> None:
        self._uptime_ms: int | None = None
        self._mono_ns = 0
        self._boot_id = 0

    def forget(self) -> None:
        """The link was reopened: the uptime is unknown until the device says it again."""
        self._uptime_ms = None

    def see(self, message: Message | Unknown, mono_ns: int) -> int | None:
        """Take a received message into account; returns its own ``uptime_ms`` if it has one."""
        if isinstance(message, Shot):
            if not message.flags & _RETRANSMIT:
                self._uptime_ms = message.uptime_ms
                self._mono_ns = mono_ns
            return message.uptime_ms
        if isinstance(message, Heartbeat | Settings | Fault):
            self._uptime_ms = message.uptime_ms
            self._mono_ns = mono_ns
            return message.uptime_ms
        if isinstance(message, Hello) and message.boot_id != self._boot_id:
            self._boot_id = message.boot_id
            self._uptime_ms = None
        return None

    def at(self, mono_ns: int) -> int | None:
        """The estimated uptime at ``mono_ns``, or ``None`` while unknown."""
        if self._uptime_ms is None:
            return None
        elapsed = mono_ns - self._mono_ns
        if elapsed < 0:
            return self._uptime_ms
        return (self._uptime_ms + elapsed // 1_000_000) & 0xFFFF_FFFF
