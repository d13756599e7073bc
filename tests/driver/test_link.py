"""The driver against a device on a real pseudo-terminal opened by pyserial."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator

import pytest

from injector.driver import (
    DeviceIdentified,
    Driver,
    DriverEvent,
    LinkChanged,
    LinkState,
    PortError,
    PortProblem,
    ShotReceived,
    ShotsLost,
)
from injector.driver.link import _split_at_restart
from protocols.igp1 import Heartbeat, Shot
from tests.driver.fakegun import FakeGun


@pytest.fixture
def gun() -> Iterator[FakeGun]:
    g = FakeGun()
    yield g
    g.close()


class Events:
    def __init__(self) -> None:
        self.q: queue.Queue[DriverEvent] = queue.Queue()
        self.seen: list[DriverEvent] = []

    def __call__(self, event: DriverEvent) -> None:
        self.q.put(event)

    def wait(self, pred: Callable[[list[DriverEvent]], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred(self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; events: {self.seen[-20:]}")
            try:
                self.seen.append(self.q.get(timeout=left))
            except queue.Empty:
                continue

    def shots(self) -> list[int]:
        return [e.shot_no for e in self.seen if isinstance(e, ShotReceived)]


def make(port: str, events: Events, **kw: object) -> Driver:
    d = Driver(
        port,
        silence_timeout=0.6,
        reopen_backoff=(0.05, 0.2),
        resend_backoff=(0.05, 0.2),
        ident_retry=0.2,
        **kw,
    )  # type: ignore[arg-type]
    d.subscribe(events)
    return d


def test_identifies_and_publishes_shots_once(gun: FakeGun) -> None:
    events = Events()
    with make(gun.path, events):
        events.wait(lambda s: any(isinstance(e, DeviceIdentified) for e in s))
        gun.fire(20)
        gun.drop = 3
        gun.fire(10)
        events.wait(lambda s: len(events.shots()) >= 30)
        time.sleep(0.3)
    shots = events.shots()
    assert sorted(shots) == list(range(1, 31))


def test_reboot_reports_unrecoverable_shots(gun: FakeGun) -> None:
    events = Events()
    with make(gun.path, events):
        events.wait(lambda s: any(isinstance(e, DeviceIdentified) for e in s))
        gun.ignore_resend = True
        gun.fire(5)
        gun.drop = 2
        gun.fire(2)
        gun.hb()
        events.wait(lambda s: len(events.shots()) >= 5)
        gun.reboot(0x9999)
        gun.fire(3)
        events.wait(lambda s: len(events.shots()) >= 8)
    lost = [e for e in events.seen if isinstance(e, ShotsLost)]
    assert [(e.boot_id, e.count, e.ranges) for e in lost] == [(0x1234, 2, ((6, 7),))]


def test_shots_the_gun_no_longer_holds_are_lost_exactly(gun: FakeGun) -> None:
    events = Events()
    gun.ring = 10
    with make(gun.path, events):
        events.wait(lambda s: any(isinstance(e, DeviceIdentified) for e in s))
        gun.fire(3)
        gun.drop = 40
        gun.fire(45)  # 4..43 missing, the gun holds only 39..48
        events.wait(lambda s: sum(e.count for e in s if isinstance(e, ShotsLost)) >= 35)
        events.wait(lambda s: len(events.shots()) >= 13)
        time.sleep(0.2)
    assert sorted(events.shots()) == [1, 2, 3, *range(39, 49)]
    assert sum(e.count for e in events.seen if isinstance(e, ShotsLost)) == 35


def test_missing_port_is_a_clear_error() -> None:
    with pytest.raises(PortError) as info:
        Driver("/dev/does-not-exist-igp").start()
    assert info.value.problem is PortProblem.MISSING
    assert "does not exist" in str(info.value)


def test_lock_is_acknowledged(gun: FakeGun) -> None:
    events = Events()
    with make(gun.path, events) as driver:
        events.wait(lambda s: any(isinstance(e, DeviceIdentified) for e in s))
        assert driver.lock()
        assert gun.locked
        assert driver.unlock()
        assert not gun.locked


def test_silence_loses_the_link_and_reopens(gun: FakeGun) -> None:
    events = Events()
    gun.heartbeat = 100.0
    with make(gun.path, events):
        events.wait(
            lambda s: any(isinstance(e, LinkChanged) and e.state is LinkState.LOST for e in s)
        )
        events.wait(
            lambda s: [e.state for e in s if isinstance(e, LinkChanged)][-1] is LinkState.LIVE
        )


def test_held_frames_split_where_the_uptime_jumps_back() -> None:
    old = [Shot(7, 90_000, 1, 0, 1, 1), Heartbeat(90_500, 7, 1, 80, 0, 1)]
    new = [Shot(1, 300, 1, 0, 1, 1), Heartbeat(400, 1, 1, 80, 0, 1)]
    assert _split_at_restart([*old, *new], 89_000) == (old, new)
    assert _split_at_restart(new, 89_000) == ([], new)
    assert _split_at_restart(old, 89_000) == (old, [])
    assert _split_at_restart(old, None) == ([], old)
