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
from dataclasses import dataclass
from typing import NamedTuple

from protocols.igp1.frame import CRC_INIT, MAX_PAYLOAD, OVERHEAD, SOF
from protocols.igp1.messages import CATALOGUE, PAYLOAD_SIZES, Message, Unknown


class Frame(NamedTuple):
    """A decoded frame: the sender's SEQ and the typed message."""

    seq: int
    message: Message | Unknown


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

    __slots__ = ("_buf", "_keep_unknown", "_last_seq", "stats")

    def __init__(self, keep_unknown: bool = False) -> None:
        """``keep_unknown`` returns frames of unknown ids as :class:`Unknown` instead of
        only counting them (a device needs their id and SEQ to refuse them)."""
        self._keep_unknown = keep_unknown
        self._buf = bytearray()
        self._last_seq: int | None = None
        self.stats = DecoderStats()

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

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
        buf = self._buf
        stats = self.stats
        out: list[Frame] = []
        append = out.append
        find = buf.find
        crc_hqx = binascii.crc_hqx
        sizes = PAYLOAD_SIZES
        catalogue = CATALOGUE
        last_seq = self._last_seq
        kept_unknown = 0
        end = len(buf)
        pos = 0
        garbage = 0
        while True:
            start = find(SOF, pos)
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
            expected = sizes.get(msg_id)
            if length > MAX_PAYLOAD or (expected is not None and length != expected):
                stats.bad_length += 1
                garbage += 1
                pos = start + 1
                continue
            frame_end = start + length + OVERHEAD
            if frame_end > end:
                if final:
                    garbage += 1
                    pos = start + 1
                    continue
                break  # frame incomplete
            crc_at = frame_end - 2
            if crc_hqx(buf[start + 1 : crc_at], CRC_INIT) != buf[crc_at] | (buf[crc_at + 1] << 8):
                stats.bad_crc += 1
                garbage += 1
                pos = start + 1
                continue
            seq = buf[start + 2]
            if last_seq is not None and seq != (last_seq + 1) & 0xFF:
                stats.seq_gaps += 1
                ahead = (seq - last_seq - 1) & 0xFF
                if ahead < 128:
                    stats.seq_missing += ahead
            last_seq = seq
            pos = frame_end
            if expected is None:
                stats.unknown += 1
                if self._keep_unknown:
                    append(Frame(seq, Unknown(msg_id, bytes(buf[start + 4 : crc_at]))))
                    kept_unknown += 1
                continue
            append(Frame(seq, catalogue[msg_id].unpack_from(buf, start + 4)))
        if pos:
            del buf[:pos]
        self._last_seq = last_seq
        stats.garbage_bytes += garbage
        stats.frames += len(out) - kept_unknown
        return out
