"""The device's receiver: frames from the host, including unknown ones, which the device answers."""

from __future__ import annotations

from protocols.igp1.decoder import Decoder
from protocols.igp1.messages import Unknown
from simulators.gun import HostFrame


class HostReceiver:
    """Incremental framer for the host→device direction, on the shared decoder.

    The device must answer a frame of an unknown id with ACK UNSUPPORTED naming its id and SEQ
    (spec section 5), so the decoder is asked to hand such frames on rather than only count them.
    """

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = Decoder(keep_unknown=True)

    def reset(self) -> None:
        """Forget a partial frame (the host closed the port)."""
        self._decoder.reset()

    def feed(self, data: bytes) -> list[HostFrame]:
        """Add bytes from the host; return every frame with a good CRC they complete."""
        return [
            HostFrame(seq, message.msg_id, None)
            if isinstance(message, Unknown)
            else HostFrame(seq, message.MSG_ID, message)
            for seq, message in self._decoder.feed(data)
        ]
