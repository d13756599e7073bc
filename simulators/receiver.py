"""The device's receiver: frames from the host, including unknown ones, which the device answers.

:class:`protocols.igp1.Decoder` is the host's decoder: it skips frames with an unknown message id
whole, as spec section 2 asks of a receiver, without saying which id or SEQ they carried. The
device must answer such a frame with ACK UNSUPPORTED naming its id and SEQ (section 5), so its
receiver follows the same framing and resynchronisation rules but hands unknown frames on.
"""

from __future__ import annotations

from protocols.igp1.frame import MAX_PAYLOAD, OVERHEAD, SOF, crc16
from protocols.igp1.messages import CATALOGUE, PAYLOAD_SIZES
from simulators.gun import HostFrame


class HostReceiver:
    """Incremental framer for the host→device direction (skip-one-byte resynchronisation)."""

    __slots__ = ("_buf", "garbage_bytes", "invalid_frames")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.garbage_bytes = 0
        self.invalid_frames = 0

    def reset(self) -> None:
        """Forget a partial frame (the host closed the port)."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[HostFrame]:
        """Add bytes from the host; return every frame with a good CRC they complete."""
        buf = self._buf
        buf += data
        out: list[HostFrame] = []
        pos = 0
        end = len(buf)
        while True:
            start = buf.find(SOF, pos)
            if start < 0:
                self.garbage_bytes += end - pos
                pos = end
                break
            self.garbage_bytes += start - pos
            pos = start
            if end - start < 4:
                break
            length = buf[start + 1]
            msg_id = buf[start + 3]
            expected = PAYLOAD_SIZES.get(msg_id)
            if length > MAX_PAYLOAD or (expected is not None and length != expected):
                self.invalid_frames += 1
                self.garbage_bytes += 1
                pos = start + 1
                continue
            frame_end = start + length + OVERHEAD
            if frame_end > end:
                break
            crc_at = frame_end - 2
            if crc16(buf[start + 1 : crc_at]) != buf[crc_at] | (buf[crc_at + 1] << 8):
                self.invalid_frames += 1
                self.garbage_bytes += 1
                pos = start + 1
                continue
            seq = buf[start + 2]
            cls = CATALOGUE.get(msg_id)
            message = cls.unpack_from(buf, start + 4) if cls is not None else None
            out.append(HostFrame(seq, msg_id, message))
            pos = frame_end
        if pos:
            del buf[:pos]
        return out
