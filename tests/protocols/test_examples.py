"""Every example frame of IGP/1 section 6, both ways, byte for byte."""

from __future__ import annotations

import pytest

from protocols.igp1 import (
    Ack,
    AckStatus,
    Decoder,
    Fault,
    FaultCode,
    Heartbeat,
    Hello,
    IdentReq,
    Lock,
    LockReason,
    Message,
    Mode,
    ResendReq,
    Settings,
    Shot,
    State,
    crc16,
)

EXAMPLES: list[tuple[str, int, Message, str]] = [
    (
        "HELLO",
        0,
        Hello(1, 2, 4, 1, 0x5EED1234, "MG-400", "SN0042"),
        "A5 28 00 01 01 02 04 01 34 12 ED 5E 4D 47 2D 34 30 30 00 00 00 00 00 00 00 00 00 00"
        " 53 4E 30 30 34 32 00 00 00 00 00 00 00 00 00 00 7B 90",
    ),
    (
        "HEARTBEAT",
        1,
        Heartbeat(61000, 17, State.READY, 87, 0, 1_834_000),
        "A5 10 01 02 48 EE 00 00 11 00 00 00 01 57 00 00 10 FC 1B 00 7D 0F",
    ),
    (
        "SETTINGS",
        2,
        Settings(60500, Mode.SINGLE, 2500, 50_000, 0, 2500),
        "A5 10 02 03 54 EC 00 00 00 00 C4 09 50 C3 00 00 00 00 C4 09 DC E5",
    ),
    (
        "SHOT",
        3,
        Shot(18, 61234, 2480, 0, 50_000, 1_784_000),
        "A5 14 03 10 12 00 00 00 32 EF 00 00 B0 09 00 00 50 C3 00 00 C0 38 1B 00 5B 3F",
    ),
    (
        "FAULT",
        4,
        Fault(62000, FaultCode.SYRINGE_EMPTY, 1, 0),
        "A5 08 04 20 30 F2 00 00 02 01 00 00 B7 AF",
    ),
    ("ACK", 5, Ack(0x81, 9, AckStatus.OK), "A5 04 05 30 81 09 00 00 FA 4A"),
    ("IDENT_REQ", 7, IdentReq(), "A5 00 07 80 83 C4"),
    ("RESEND_REQ", 9, ResendReq(12, 17), "A5 08 09 81 0C 00 00 00 11 00 00 00 BA 7B"),
    ("LOCK", 10, Lock(1, LockReason.PLAN_LIMIT), "A5 04 0A 82 01 01 00 00 DD 91"),
]


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize(
    ("name", "seq", "message", "hex_bytes"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
def test_encode_gives_the_spec_bytes(name: str, seq: int, message: Message, hex_bytes: str) -> None:
    assert name == message.NAME
    assert message.encode(seq) == bytes.fromhex(hex_bytes)


@pytest.mark.parametrize(
    ("name", "seq", "message", "hex_bytes"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
def test_decode_gives_the_spec_fields(
    name: str, seq: int, message: Message, hex_bytes: str
) -> None:
    decoder = Decoder()
    frames = decoder.feed(bytes.fromhex(hex_bytes))
    assert len(frames) == 1
    assert frames[0].seq == seq
    assert frames[0].message == message
    assert decoder.stats.garbage_bytes == 0
    assert decoder.pending == 0


def test_decoded_fields_carry_the_spec_values() -> None:
    hello = Decoder().feed(bytes.fromhex(EXAMPLES[0][3]))[0].message
    assert isinstance(hello, Hello)
    assert (hello.model, hello.serial, hello.firmware, hello.boot_id) == (
        "MG-400",
        "SN0042",
        "2.4.1",
        0x5EED1234,
    )
    shot = Decoder().feed(bytes.fromhex(EXAMPLES[3][3]))[0].message
    assert isinstance(shot, Shot)
    assert (shot.shot_no, shot.depth_um, shot.volume_nl, shot.syringe_remaining_nl) == (
        18,
        2480,
        50_000,
        1_784_000,
    )
