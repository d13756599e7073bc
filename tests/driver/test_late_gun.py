"""A gun switched on after the port was opened, or one noise byte before its boot, is waited
for, not taken for a wrong baud rate or another protocol (issue 13)."""

from __future__ import annotations

import time
from pathlib import Path

from injector.driver import DeviceIdentified, Driver, UnrecognisedData
from tests.cli.recording import RecordProcess
from tests.driver.hand_gun import HandGun
from tests.driver.test_link import Events

BANNER = b"MG-400 bootloader 2.4.1\r\n"


def _driver(gun: HandGun, events: Events) -> Driver:
    driver = Driver(gun.path, silence_timeout=30.0, ident_retry=0.2)
    driver.subscribe(events)
    return driver


def _boot(gun: HandGun) -> None:
    """What a gun sends at power-up: its banner, a moment later its first frames."""
    gun.send_raw(BANNER)
    time.sleep(0.05)
    gun.send(*gun.identity())


def test_a_gun_switched_on_after_the_port_opened_is_identified(tmp_path: Path) -> None:
    with HandGun(answer=False) as gun:
        events = Events()
        with _driver(gun, events):
            assert gun.spoke.wait(5)
            time.sleep(2.5)  # the garbage timeout is 2 s: the banner comes after it
            _boot(gun)
            events.wait(lambda s: any(isinstance(e, DeviceIdentified) for e in s))
    assert not events.of(UnrecognisedData)


def test_one_noise_byte_before_the_boot_is_not_another_protocol(tmp_path: Path) -> None:
    with HandGun(answer=False) as gun:
        events = Events()
        with _driver(gun, events) as driver:
            assert gun.spoke.wait(5)
            gun.send_raw(b"\xa5")
            time.sleep(0.3)
            gun.send_raw(b"\x00")  # noise again, later, still no frame
            time.sleep(2.5)
            assert driver.seen_without_frame() == "2 bytes but no IGP/1 frame"
            _boot(gun)
            events.wait(lambda s: any(isinstance(e, DeviceIdentified) for e in s))
    assert not events.of(UnrecognisedData)


def test_record_keeps_waiting_and_says_what_it_saw(tmp_path: Path) -> None:
    with HandGun(answer=False) as gun:
        rec = RecordProcess(
            tmp_path / "rec.log", "--port", gun.path, "--db", str(tmp_path / "rec.db")
        )
        try:
            assert gun.spoke.wait(30)
            gun.send_raw(BANNER)  # a banner, then nothing for longer than the hint's 5 s
            rec.wait_for_text("no answer from a gun")
            gun.send(*gun.identity())
            rec.wait_for_text("link live")
            assert rec.stop() == 0
        finally:
            rec.kill()
    text = rec.text()
    assert "speaks another protocol" not in text and "try --baud" not in text
    hint = next(line for line in text.splitlines() if "no answer from a gun" in line)
    assert "seen so far: 25 bytes but no IGP/1 frame, such as 'MG-400 bootloader" in hint
