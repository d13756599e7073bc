"""Numbers no gun could send, with a valid CRC, on a real pseudo-terminal: recorded as device
anomalies, never walked, never a storm of requests, never invented losses (issue 13)."""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from injector.driver import (
    AnomalyKind,
    DeviceAnomaly,
    DeviceIdentified,
    Driver,
    ShotProblem,
    ShotReceived,
    ShotsLost,
    Status,
)
from injector.recorder import DatabaseStore, Recorder
from injector.storage.engine import open_database
from protocols.igp1 import Heartbeat, IdentReq, ResendReq, Shot, ShotFlags, build_frame
from tests.driver.hand_gun import GunState, HandGun
from tests.driver.test_link import Events
from tests.recorder.harness import wait_for

T0 = 60_000  # the gun's uptime when the host connects


def shot(n: int, uptime: int | None = None, **values: int) -> Shot:
    """A sound shot ``n`` fired 100 ms after the previous one."""
    return Shot(
        n,
        T0 + 100 * n if uptime is None else uptime,
        values.get("depth_um", 2400),
        values.get("flags", 0),
        values.get("volume_nl", 4_000),
        20_000_000 - 4_000 * min(n, 4_000),
    )


def beat(gun: HandGun, uptime: int, last: int) -> Heartbeat:
    """A heartbeat saying ``last`` (whatever the gun really fired), at ``uptime``."""
    gun.state.uptime_ms = uptime
    return Heartbeat(uptime, last, 1, 87, 0, 20_000_000)


@pytest.fixture
def gun() -> Iterator[HandGun]:
    with HandGun(GunState(uptime_ms=T0)) as g:
        yield g


def connect(gun: HandGun) -> tuple[Driver, Events]:
    events = Events()
    # The hand-made gun sends no heartbeat unless told: silence is not a lost link here.
    driver = Driver(gun.path, silence_timeout=30.0, resend_backoff=(0.05, 0.2), ident_retry=0.1)
    driver.subscribe(events)
    driver.start()
    events.wait(lambda s: any(isinstance(e, Status) for e in s))
    assert any(isinstance(e, DeviceIdentified) for e in events.seen)
    return driver, events


def fire(gun: HandGun, numbers: range) -> None:
    for n in numbers:
        gun.send(shot(n))
        gun.state.last_shot_no = max(gun.state.last_shot_no, n)


def shots_of(events: Events) -> list[int]:
    return [e.shot_no for e in events.seen if isinstance(e, ShotReceived)]


def anomalies(events: Events, kind: AnomalyKind) -> list[DeviceAnomaly]:
    return [e for e in events.seen if isinstance(e, DeviceAnomaly) and e.kind is kind]


def lost(events: Events) -> int:
    return sum(e.count for e in events.seen if isinstance(e, ShotsLost))


def settle(events: Events, seconds: float = 0.5) -> None:
    """Take in whatever the driver publishes for a while (room for a wrong reaction)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.02)
        while not events.q.empty():
            events.seen.append(events.q.get_nowait())


def test_a_heartbeat_claiming_four_billion_shots_is_an_anomaly(gun: HandGun) -> None:
    driver, events = connect(gun)
    try:
        fire(gun, range(1, 11))
        gun.send(beat(gun, T0 + 1_050, 4_294_967_295))
        fire(gun, range(11, 21))
        gun.send(beat(gun, T0 + 2_050, 20))
        events.wait(lambda s: 20 in shots_of(events))
        settle(events)
    finally:
        driver.stop()
    assert shots_of(events) == list(range(1, 21))
    [anomaly] = anomalies(events, AnomalyKind.IMPLAUSIBLE_LAST_SHOT)
    assert anomaly.shot_no == 4_294_967_295 and "4294967295" in anomaly.detail
    assert lost(events) == 0
    assert gun.count(ResendReq) == 0
    assert gun.count(IdentReq) == 1  # the one sent on opening the port


def test_a_shot_numbered_near_two_to_the_32_is_not_walked(gun: HandGun) -> None:
    driver, events = connect(gun)
    try:
        fire(gun, range(1, 6))
        gun.send(shot((1 << 32) - 3, uptime=T0 + 520))
        fire(gun, range(6, 11))
        gun.send(beat(gun, T0 + 1_050, 10))
        events.wait(lambda s: 10 in shots_of(events))
        settle(events)
    finally:
        driver.stop()
    assert shots_of(events) == list(range(1, 11))
    [anomaly] = anomalies(events, AnomalyKind.IMPLAUSIBLE_SHOT_NUMBER)
    assert anomaly.shot_no == (1 << 32) - 3
    assert lost(events) == 0 and gun.count(ResendReq) == 0 and gun.count(IdentReq) == 1


def test_a_stray_shot_500_among_1_to_10_starts_no_loop(gun: HandGun) -> None:
    driver, events = connect(gun)
    try:
        fire(gun, range(1, 6))
        gun.send(shot(500, uptime=T0 + 550))  # 495 shots in 50 ms: no gun fires that fast
        fire(gun, range(6, 11))
        for k in range(1, 6):  # five heartbeats that each deny it
            gun.send(beat(gun, T0 + 1_000 * k + 100, 10))
        events.wait(lambda s: len(events.of(Status)) >= 6)
        settle(events)
    finally:
        driver.stop()
    assert shots_of(events) == list(range(1, 11))
    assert [a.shot_no for a in anomalies(events, AnomalyKind.IMPLAUSIBLE_SHOT_NUMBER)] == [500]
    assert lost(events) == 0 and gun.count(ResendReq) == 0 and gun.count(IdentReq) == 1


def test_a_heartbeat_denying_a_received_number_is_recorded_once(gun: HandGun) -> None:
    driver, events = connect(gun)
    try:
        fire(gun, range(1, 11))
        # Plausible by its uptime (20 shots in 2 s), yet the gun's heartbeats deny it.
        gun.send(shot(30, uptime=T0 + 3_000))
        for k in range(4, 9):
            gun.send(beat(gun, T0 + 1_000 * k, 10))
        for n in range(11, 31):
            gun.send(shot(n, uptime=T0 + 8_000 + 100 * (n - 10)))
        gun.send(beat(gun, T0 + 10_100, 30))
        events.wait(lambda s: len(events.of(Status)) >= 7)
        settle(events)
    finally:
        driver.stop()
    [denied] = anomalies(events, AnomalyKind.CONTRADICTED_SHOT_NUMBER)
    assert denied.shot_no == 30 and "says the last shot is 10" in denied.detail
    # The gun's real shots 11..30 are all taken (30 again: the first one was denied).
    assert sorted(set(shots_of(events))) == list(range(1, 31))
    assert lost(events) == 0 and gun.count(IdentReq) == 1


def test_no_sequence_of_frames_makes_requests_without_limit(gun: HandGun) -> None:
    driver, events = connect(gun)
    gun.answer = False  # a gun that never answers what it is asked
    try:
        fire(gun, range(1, 3))
        started = time.monotonic()
        k = 0
        while time.monotonic() < started + 1.5:
            k += 1  # a fresh gap every frame: each one asks for a RESEND_REQ
            gun.send(shot(3 + 2 * k, uptime=T0 + 1_000 + 10 * k))
            time.sleep(0.002)
        gaps = k
        while time.monotonic() < started + 3.0:
            k += 1  # and now a heartbeat whose uptime jumps back after every shot
            gun.send(shot(3 + 2 * k, uptime=T0 + 100_000 + 1_000 * k))
            gun.send(Heartbeat(T0 + 95_000 + 1_000 * k, 2 + 2 * k, 1, 87, 0, 20_000_000))
            time.sleep(0.002)
        elapsed = time.monotonic() - started
        settle(events, 0.2)
    finally:
        driver.stop()
    assert gaps > 256 and k - gaps > 100
    # RESEND_REQ: a burst of 256, then 128 a second; the rest waits (and is said once).
    assert 256 <= gun.count(ResendReq) <= 256 + 128 * (elapsed + 0.5)
    assert anomalies(events, AnomalyKind.REQUEST_BUDGET)
    # IDENT_REQ: the backoff doubles up to 8 × 0.1 s, so a handful, not one per frame.
    assert gun.count(IdentReq) <= 10


def test_values_no_gun_could_send_are_flagged_on_the_shot(gun: HandGun) -> None:
    driver, events = connect(gun)
    try:
        gun.send(
            shot(1, depth_um=65_535),
            shot(2, volume_nl=4_294_967_295),
            shot(3, depth_um=0),
        )
        # The codec refuses to build undefined flag bits: the frame is made by hand.
        payload = struct.pack("<IIHHII", 4, T0 + 400, 2400, 0x0100, 4_000, 19_984_000)
        gun.send_raw(build_frame(Shot.MSG_ID, 200, payload))
        gun.send(shot(5, depth_um=0, flags=int(ShotFlags.NO_SKIN)))
        events.wait(lambda s: 5 in shots_of(events))
    finally:
        driver.stop()
    flagged = {e.shot_no: e.implausible for e in events.of(ShotReceived)}  # type: ignore[attr-defined]
    assert flagged == {
        1: ShotProblem.DEPTH_OUT_OF_RANGE,
        2: ShotProblem.VOLUME_OUT_OF_RANGE,
        3: ShotProblem.NO_DEPTH_ON_SKIN,
        4: ShotProblem.UNDEFINED_FLAGS,
        5: ShotProblem.NONE,  # an air shot: depth 0 is what the spec says
    }
    named = anomalies(events, AnomalyKind.IMPLAUSIBLE_VALUES)
    assert [a.shot_no for a in named] == [1, 2, 3, 4]
    assert "depth 65.535 mm" in named[0].detail and "4294.97 mL" in named[1].detail


def test_anomalies_are_recorded_as_device_events(gun: HandGun, tmp_path: Path) -> None:
    db = open_database(str(tmp_path / "rec.db"))
    driver = Driver(gun.path, silence_timeout=30.0, resend_backoff=(0.05, 0.2), ident_retry=0.1)
    recorder = Recorder(driver, DatabaseStore(db))
    recorder.start()
    try:
        wait_for(lambda: recorder.status.device is not None, 10, "the gun to be identified")
        fire(gun, range(1, 4))
        gun.send(shot(4, depth_um=65_535), beat(gun, T0 + 1_050, 4_294_967_295))
        wait_for(lambda: recorder.status.shots == 4, 10, "the shots to be stored")
    finally:
        assert recorder.stop()
    with db.begin() as conn:
        rows = conn.execute(
            text("select detail from device_event where kind = 'device_anomaly'")
        ).scalars()
        details = sorted(
            (d["anomaly"], d["shot_no"])
            for d in (json.loads(r) if isinstance(r, str) else r for r in rows)
        )
    db.close()
    assert details == [("implausible_last_shot", 4_294_967_295), ("implausible_values", 4)]
