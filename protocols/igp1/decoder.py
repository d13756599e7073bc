"""Streaming IGP/1 decoder: bytes in, whole typed messages out (spec section 2).

Feed it chunks of any size; it returns every frame completed so far and keeps the rest. Its
decisions depend only on the bytes, never on how they were split, so a stream fed byte by
byte or in one piece gives the same frames and the same counters. It never raises on input.

Resynchronisation follows the spec exactly: after an invalid frame (LEN above 64, LEN not the
fixed size of a known MSG, or a bad CRC) only the SOF byte is discarded and the search for the
next ``0xA5`` restarts at the byte after it, so a valid frame hidden behind a false start is
never lost. Every byte that is not part of a frame with a good CRC counts as garbage.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from protocols.igp1.frame import CRC_INIT, MAX_PAYLOAD, SOF
from protocols.igp1.messages import CATALOGUE, PAYLOAD_SIZES, Message, Unknown


class Frame(NamedTuple):
    """A decoded frame: the sender's SEQ and the typed message."""

    seq: int
    message: Message | Unknown


# One entry per message id, built once: (payload size, twin or None, unpacker, class). For
# most messages the loop builds the twin straight from ``struct`` and swaps in the frozen class
# (see messages._make_twin), saving a Python call per frame; text layouts use the unpacker.
_Entry = tuple[int, type[Message] | None, Callable[..., Any], type[Message]]
_TABLE: list[_Entry | None] = [None] * 256
for _id, _cls in CATALOGUE.items():
    _TABLE[_id] = (
        PAYLOAD_SIZES[_id],
        _cls.TWIN,
        _cls.unpack_from if _cls.TWIN is None else _cls.STRUCT.unpack_from,
        _cls,
    )
_new_frame = tuple.__new__


@dataclass(slots=True)
class DecoderStats:
    """What the decoder saw besides good frames; all counters only ever rise."""

    frames: int = 0
    """Frames with a good CRC and a known message id, returned to the caller."""
    garbage_bytes: int = 0
    """Bytes discarded outside any good frame (noise, banners, SOFs of invalid frames)."""
    bad_crc: int = 0
    """Frames whose header looked right but whose CRC was wrong."""
    bad_length: int = 0
    """Frames whose LEN was above 64 or not the fixed size of their known MSG."""
    unknown: int = 0
    """Frames with a good CRC and an unknown MSG, skipped whole."""
    seq_gaps: int = 0
    """Times SEQ did not follow the previous good frame's SEQ + 1."""
    seq_missing: int = 0
    """Frames the SEQ gaps imply were lost (SEQ moved forward by more than one)."""

    def copy(self) -> DecoderStats:
        """A snapshot that later decoding does not change."""
        return DecoderStats(
            self.frames,
            self.garbage_bytes,
            self.bad_crc,
            self.bad_length,
            self.unknown,
            self.seq_gaps,
            self.seq_missing,
        )


class Decoder:
    """Incremental decoder for one direction of one link."""

    __slots__ = ("_buf", "_keep_raw", "_keep_unknown", "_last_seq", "last_raw", "stats")

    def __init__(self, keep_unknown: bool = False, keep_raw: bool = False) -> None:
        """``keep_unknown`` returns frames of unknown ids as :class:`Unknown` instead of
        only counting them (a device needs their id and SEQ to refuse them). ``keep_raw``
        keeps each returned frame's bytes, as received, in :attr:`last_raw`."""
        self._keep_unknown = keep_unknown
        self._keep_raw = keep_raw
        self._buf = bytearray()
        self._last_seq: int | None = None
        self.stats = DecoderStats()
        self.last_raw: list[bytes] = []
        """With ``keep_raw``: the bytes of each frame the last ``feed``/``finish`` returned."""

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def held(self) -> bytes:
        """A copy of the bytes held back waiting for the rest of a frame."""
        return bytes(self._buf)

    def reset(self) -> None:
        """Forget buffered bytes and SEQ history (after reopening a port); keep the counters."""
        self._buf.clear()
        self._last_seq = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Add ``data`` to the stream and return every frame it completes, in order."""
        self._buf += data
        return self._scan(final=False)

    def finish(self) -> list[Frame]:
        """End of stream (end of a capture file): settle the bytes still held back.

        A frame that can no longer complete is invalid, so its SOF is dropped and the rest is
        searched again, which recovers a whole frame that a false start was holding back.
        """
        return self._scan(final=True)

    def _scan(self, final: bool) -> list[Frame]:
        # The hot loop: names are local, and the common case (a whole, valid frame right
        # where the last one ended) runs as few bytecodes as the checks allow.
        buf = self._buf
        stats = self.stats
        out: list[Frame] = []
        append = out.append
        find = buf.find
        crc_hqx = binascii.crc_hqx
        table = _TABLE
        new_frame = _new_frame
        frame_type = Frame
        max_payload = MAX_PAYLOAD
        sof = SOF
        crc_init = CRC_INIT
        last_seq = self._last_seq
        next_seq = -1 if last_seq is None else (last_seq + 1) & 0xFF
        kept_unknown = 0
        keep_raw = self._keep_raw
        raws: list[bytes] = []
        end = len(buf)
        pos = 0
        garbage = 0
        while True:
            # Frames usually follow each other back to back: look before searching.
            if pos < end and buf[pos] == sof:
                start = pos
            else:
                start = find(sof, pos)
                if start < 0:
                    garbage += end - pos
                    pos = end
                    break
                garbage += start - pos
                pos = start
            if end - start < 4:
                if final:
                    garbage += end - start
                    pos = end
                break  # header incomplete
            length = buf[start + 1]
            msg_id = buf[start + 3]
            entry = table[msg_id]
            if length > max_payload or (entry is not None and length != entry[0]):
                stats.bad_length += 1
                garbage += 1
                pos = start + 1
                continue
            crc_at = start + 4 + length
            if crc_at + 2 > end:
                if final:
                    garbage += 1
                    pos = start + 1
                    continue
                break  # frame incomplete
            if crc_hqx(buf[start + 1 : crc_at], crc_init) != buf[crc_at] | (buf[crc_at + 1] << 8):
                stats.bad_crc += 1
                garbage += 1
                pos = start + 1
                continue
            seq = buf[start + 2]
            if seq != next_seq and next_seq >= 0:
                stats.seq_gaps += 1
                ahead = (seq - next_seq) & 0xFF
                if ahead < 128:
                    stats.seq_missing += ahead
            next_seq = (seq + 1) & 0xFF
            pos = crc_at + 2
            if entry is None:
                stats.unknown += 1
                if self._keep_unknown:
                    append(Frame(seq, Unknown(msg_id, bytes(buf[start + 4 : crc_at]))))
                    kept_unknown += 1
                    if keep_raw:
                        raws.append(bytes(buf[start:pos]))
                continue
            _size, twin, unpack, cls = entry
            if twin is None:
                message = unpack(buf, start + 4)
            else:
                message = twin(*unpack(buf, start + 4))
                message.__class__ = cls
            append(new_frame(frame_type, (seq, message)))
            if keep_raw:
                raws.append(bytes(buf[start:pos]))
        if pos:
            del buf[:pos]
        self._last_seq = None if next_seq < 0 else (next_seq - 1) & 0xFF
        if keep_raw:
            self.last_raw = raws
        stats.garbage_bytes += garbage
        stats.frames += len(out) - kept_unknown
        return out
