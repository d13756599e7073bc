"""What a capture holds, gathered in one streaming pass: the body of ``injector capture info``.

Memory stays flat whatever the capture's length: counters, one summary per boot of the gun,
and one bit per shot number seen (to count the shots the capture never shows).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from protocols.igp1.capture import CaptureReader, Damage, RecordKind
from protocols.igp1.capture_frames import CaptureFrames
from protocols.igp1.decoder import DecoderStats
from protocols.igp1.messages import Fault, Hello, Message, Shot, ShotFlags

_MAX_TRACKED_SHOT = 1 << 24
"""Shot numbers above this are counted but not tracked for gaps (one bit each)."""
_RETRANSMIT = int(ShotFlags.RETRANSMIT)  # a plain int: IntFlag's & runs in Python


@dataclass(slots=True)
class BootSummary:
    """One power-up of the gun, as the capture shows it."""

    boot_id: int
    """0 for frames seen before the capture's first HELLO (the recorder joined mid-boot)."""
    first_wall_ns: int
    last_wall_ns: int
    hellos: int = 0
    shot_frames: int = 0
    retransmitted: int = 0
    first_shot_no: int | None = None
    last_shot_no: int | None = None
    faults_raised: Counter[int] = field(default_factory=Counter)
    _seen: bytearray = field(default_factory=bytearray, repr=False)
    distinct_shots: int = 0

    def add_shot(self, shot: Shot) -> None:
        """Count a SHOT frame (first sent or retransmitted)."""
        self.shot_frames += 1
        number = shot.shot_no
        if shot.flags & _RETRANSMIT:
            self.retransmitted += 1
        if self.first_shot_no is None or number < self.first_shot_no:
            self.first_shot_no = number
        if self.last_shot_no is None or number > self.last_shot_no:
            self.last_shot_no = number
        if number >= _MAX_TRACKED_SHOT:
            return
        byte, bit = divmod(number, 8)
        if byte >= len(self._seen):
            self._seen.extend(bytes(byte + 1 - len(self._seen) + 4096))
        if not self._seen[byte] >> bit & 1:
            self._seen[byte] |= 1 << bit
            self.distinct_shots += 1

    @property
    def missing_shots(self) -> int:
        """Shot numbers between the first and last seen that never appeared."""
        if self.first_shot_no is None or self.last_shot_no is None:
            return 0
        if self.last_shot_no >= _MAX_TRACKED_SHOT:
            return 0
        return self.last_shot_no - self.first_shot_no + 1 - self.distinct_shots


@dataclass(slots=True)
class CaptureSummary:
    """Everything ``injector capture info`` reports about one capture."""

    path: str
    size: int
    records: Counter[RecordKind] = field(default_factory=Counter)
    data_bytes: Counter[RecordKind] = field(default_factory=Counter)
    first_wall_ns: int | None = None
    last_wall_ns: int | None = None
    opens: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    guns: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(model, serial, firmware) → HELLO frames."""
    boots: dict[int, BootSummary] = field(default_factory=dict)
    frames: Counter[tuple[RecordKind, str]] = field(default_factory=Counter)
    """(direction, message name) → frames."""
    rx: DecoderStats = field(default_factory=DecoderStats)
    tx: DecoderStats = field(default_factory=DecoderStats)
    damages: list[Damage] = field(default_factory=list)

    @property
    def damaged_bytes(self) -> int:
        """Bytes of the file in no whole record."""
        return sum(d.length for d in self.damages)


def summarise(reader: CaptureReader) -> CaptureSummary:
    """Read the whole capture once and gather its :class:`CaptureSummary`."""
    summary = CaptureSummary(str(reader.path), reader.size)
    stream = CaptureFrames(reader)
    # Frames are counted by class (a dict of a dozen keys) and named at the end.
    by_class: dict[RecordKind, dict[type, int]] = {RecordKind.RX: {}, RecordKind.TX: {}}
    boot: BootSummary | None = None
    wall = 0
    rx_kind = RecordKind.RX
    for item in stream:
        record = item.record
        if record is not None:
            wall = record.wall_ns
            kind = record.kind
            summary.records[kind] += 1
            summary.data_bytes[kind] += len(record.data)
            if summary.first_wall_ns is None:
                summary.first_wall_ns = wall
            summary.last_wall_ns = wall
            if kind is RecordKind.OPEN:
                summary.opens[record.data.decode("utf-8", "replace")] += 1
            elif kind is RecordKind.CLOSE:
                summary.closes[record.data.decode("utf-8", "replace")] += 1
        direction = item.direction
        if direction is None or not item.frames:
            continue
        counts = by_class[direction]
        if direction is not rx_kind:
            for _seq, message in item.frames:
                cls = type(message)
                counts[cls] = counts.get(cls, 0) + 1
            continue
        for _seq, message in item.frames:
            cls = type(message)
            counts[cls] = counts.get(cls, 0) + 1
            if isinstance(message, Shot):
                if boot is None:
                    boot = summary.boots.setdefault(0, BootSummary(0, wall, wall))
                boot.add_shot(message)
            elif isinstance(message, Hello):
                ident = (message.model, message.serial, message.firmware)
                summary.guns[ident] = summary.guns.get(ident, 0) + 1
                boot = summary.boots.get(message.boot_id)
                if boot is None:
                    boot = summary.boots[message.boot_id] = BootSummary(message.boot_id, wall, wall)
                boot.hellos += 1
            elif isinstance(message, Fault) and message.active:
                if boot is None:
                    boot = summary.boots.setdefault(0, BootSummary(0, wall, wall))
                boot.faults_raised[message.code] += 1
        if boot is not None:
            boot.last_wall_ns = wall
    for direction, counts in by_class.items():
        for cls, n in counts.items():
            name = cls.NAME if issubclass(cls, Message) else "UNKNOWN"
            summary.frames[direction, name] += n
    summary.rx = stream.rx.stats.copy()
    summary.tx = stream.tx.stats.copy()
    summary.damages = list(reader.damages)
    return summary
