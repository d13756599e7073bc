"""Frame layout of IGP/1 (spec section 2): SOF, LEN, SEQ, MSG, payload, CRC."""

from __future__ import annotations

import binascii
import struct
from typing import Final

SOF: Final = 0xA5
"""Start-of-frame byte."""
HEADER_SIZE: Final = 4
"""SOF, LEN, SEQ and MSG."""
CRC_SIZE: Final = 2
OVERHEAD: Final = HEADER_SIZE + CRC_SIZE
"""A frame is ``LEN + OVERHEAD`` bytes."""
MAX_PAYLOAD: Final = 64
"""The largest ``LEN`` a valid frame may carry."""
CRC_INIT: Final = 0xFFFF

_HEADER = struct.Struct("<BBBB")
_CRC = struct.Struct("<H")


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR)."""
    return binascii.crc_hqx(data, CRC_INIT)


def build_frame(msg_id: int, seq: int, payload: bytes) -> bytes:
    """Wrap ``payload`` in a frame; the CRC covers LEN, SEQ, MSG and the payload."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds the {MAX_PAYLOAD}-byte maximum")
    if not 0 <= seq <= 0xFF:
        raise ValueError(f"seq {seq} does not fit in u8 (0..255)")
    if not 0 <= msg_id <= 0xFF:
        raise ValueError(f"message id {msg_id} does not fit in u8 (0..255)")
    body = _HEADER.pack(SOF, len(payload), seq, msg_id) + payload
    return body + _CRC.pack(crc16(body[1:]))
