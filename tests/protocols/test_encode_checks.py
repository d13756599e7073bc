"""Encoding is strict: every out-of-range field is refused with a message naming it."""

from __future__ import annotations

import pytest

from protocols.igp1 import CATALOGUE, Fault, Heartbeat, Hello, Lock, Settings, Shot, build_frame


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        (Shot(1, 0, 70_000, 0, 1, 1), "SHOT.depth_um=70000 does not fit in u16"),
        (Shot(1, 0, 100, 0, 2**32, 1), "SHOT.volume_nl=4294967296 does not fit in u32"),
        (Shot(1, 0, 100, 0x10, 1, 1), "SHOT.flags=0x0010 sets undefined bits"),
        (Shot(0, 0, 100, 0, 1, 1), "SHOT.shot_no starts at 1"),
        (Shot(1, -1, 100, 0, 1, 1), "SHOT.uptime_ms=-1 does not fit in u32"),
        (Hello(1, 2, 4, 1, 7, "M" * 17, "SN1"), "HELLO.model='MMMMMMMMMMMMMMMMM' is 17 bytes"),
        (Hello(1, 2, 4, 1, 7, "MG-400", "SÑ1"), "HELLO.serial='SÑ1' is not plain ASCII"),
        (Hello(1, 2, 4, 1, 0, "MG-400", "SN1"), "HELLO.boot_id must be non-zero"),
        (Hello(2, 2, 4, 1, 7, "MG-400", "SN1"), "HELLO.proto_version=2 is not one of [1]"),
        (Settings(0, 4, 100, 1, 0, 1), "SETTINGS.mode=4 is not one of [0, 1, 2, 3]"),
        (Heartbeat(0, 0, 1, 101, 0, 0), "HEARTBEAT.battery_pct=101 is not 0..100 or 255"),
        (Heartbeat(0, 0, 1, 50, 1, 0), "HEARTBEAT.fault_bits=0x0001 sets undefined bits"),
        (Fault(0, 9, 1, 0), "FAULT.code=9 is not one of"),
        (Fault(0, 1, 2, 0), "FAULT.active=2 is not one of [0, 1]"),
        (Lock(1, 3), "LOCK.reason=3 is not one of [0, 1, 2]"),
        (Lock(True, 0), "LOCK.lock must be an integer"),
    ],
)
def test_out_of_range_fields_are_refused(message: object, fragment: str) -> None:
    with pytest.raises(ValueError, match="^" + fragment.replace("[", r"\[").replace("(", r"\(")):
        message.encode(0)  # type: ignore[attr-defined]


def test_seq_and_payload_limits() -> None:
    with pytest.raises(ValueError, match="seq 256 does not fit in u8"):
        Shot(1, 0, 1, 0, 1, 1).encode(256)
    with pytest.raises(ValueError, match="exceeds the 64-byte maximum"):
        build_frame(0x7F, 0, bytes(65))


def test_catalogue_is_complete_and_sized_from_one_definition() -> None:
    sizes = {cls.NAME: cls.PAYLOAD_SIZE for cls in CATALOGUE.values()}
    assert sizes == {
        "HELLO": 40,
        "HEARTBEAT": 16,
        "SETTINGS": 16,
        "SHOT": 20,
        "FAULT": 8,
        "ACK": 4,
        "IDENT_REQ": 0,
        "RESEND_REQ": 8,
        "LOCK": 4,
    }
