"""The driver against the simulator on a real pseudo-terminal opened by pyserial."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from injector.driver import (
    DecoderStatistics,
    DeviceIdentified,
    DeviceRebooted,
    Driver,
    DriverEvent,
    LinkChanged,
    LinkState,
    PortError,
    PortProblem,
    ShotReceived,
    Status,
)
from injector.driver.link import _split_at_restart
from protocols.igp1 import Heartbeat, Mode, Shot, ShotFlags
from simulators.faults import FaultConfig
from simulators.runner import Simulator


class Events:
    """Collects what a driver publishes; waits for conditions on it."""

    def __init__(self) -> None:
        self.q: queue.Queue[DriverEvent] = queue.Queue()
        self.seen: list[DriverEvent] = []

    def __call__(self, event: DriverEvent) -> None:
        self.q.put(event)

    def wait(self, pred: Callable[[list[DriverEvent]], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred(self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; last events: {self.seen[-10:]}")
            try:
                self.seen.append(self.q.get(timeout=left))
            except queue.Empty:
                continue

    def of(self, kind: type) -> list[DriverEvent]:
        return [e for e in self.seen if isinstance(e, kind)]

    def links(self) -> list[LinkState]:
        return [e.state for e in self.seen if isinstance(e, LinkChanged)]


def fast_driver(port: str, events: Events, *, wait_for_port: bool = False) -> Driver:
    driver = Driver(
        port,
        silence_timeout=0.4,
        reopen_backoff=(0.02, 0.1),
        resend_backoff=(0.05, 0.2),
        ident_retry=0.1,
        stats_interval=0.2,
        wait_for_port=wait_for_port,
    )
    driver.subscribe(events)
    return driver


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    gun = Simulator("idle", speed=50, seed=3, link=tmp_path / "gun")
    gun.start()
    gun.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
    gun.swap_syringe(20_000)
    yield gun
    gun.stop()


def identified(seen: list[DriverEvent]) -> bool:
    return any(isinstance(e, DeviceIdentified) for e in seen)


def test_each_shot_published_once_with_the_gun_values(tmp_path: Path) -> None:
    faults = FaultConfig(drop=0.1, dup=0.2, noise=0.1)
    with Simulator("idle", speed=50, seed=4, faults=faults, link=tmp_path / "gun") as gun:
        gun.set_settings(mode=Mode.REPEAT, rate_spm=600, volume_nl=4_000)
        events = Events()
        with fast_driver(str(tmp_path / "gun"), events):
            events.wait(identified)
            gun.press_trigger(200)
            events.wait(lambda s: len(events.of(ShotReceived)) >= 200)
            time.sleep(0.2)  # room for a wrong extra copy to show up
            events.wait(lambda s: any(isinstance(e, DecoderStatistics) for e in s))
            fired = {r.shot.shot_no: r.shot for r in gun.shots()}
    shots = events.of(ShotReceived)
    assert sorted(s.shot_no for s in shots) == list(range(1, 201))  # type: ignore[attr-defined]
    for event in shots:
        assert isinstance(event, ShotReceived)
        sent = fired[event.shot_no]
        assert (event.depth_um, event.volume_nl, event.uptime_ms) == (
            sent.depth_um,
            sent.volume_nl,
            sent.uptime_ms,
        )
        assert event.flags & ~ShotFlags.RETRANSMIT == sent.flags
    assert any(isinstance(e, ShotReceived) and e.recovered for e in shots)
    stats = events.of(DecoderStatistics)[-1]
    assert isinstance(stats, DecoderStatistics)
    assert stats.decoder.garbage_bytes > 0 and stats.duplicates > 0 and stats.resend_requests > 0


def test_lock_and_unlock_are_acknowledged(sim: Simulator) -> None:
    events = Events()
    assert sim.path is not None
    with fast_driver(sim.path, events) as driver:
        events.wait(identified)
        assert driver.lock()
        assert sim.locked
        assert driver.unlock()
        assert not sim.locked


def test_lock_is_restored_after_a_power_cycle(sim: Simulator) -> None:
    events = Events()
    assert sim.path is not None
    with fast_driver(sim.path, events) as driver:
        events.wait(identified)
        assert driver.lock()
        sim.power_cycle(off_ms=200)
        events.wait(lambda s: any(isinstance(e, DeviceRebooted) for e in s))
        assert sim.wait_until(lambda s: s.locked, 5)


def test_gun_off_at_start_then_switched_on(sim: Simulator) -> None:
    sim.power_off()
    events = Events()
    assert sim.path is not None
    with fast_driver(sim.path, events):
        events.wait(lambda s: LinkState.LOST in events.links())
        events.wait(lambda s: LinkState.RECONNECTING in events.links())
        sim.power_on()
        events.wait(identified)
        events.wait(lambda s: events.links()[-1] is LinkState.LIVE)
        events.wait(lambda s: any(isinstance(e, Status) for e in s))


def test_unplug_and_replug_continue_the_same_boot(sim: Simulator) -> None:
    events = Events()
    assert sim.path is not None
    path = sim.path
    with fast_driver(path, events):
        events.wait(identified)
        sim.unplug()
        events.wait(lambda s: LinkState.LOST in events.links())
        sim.press_trigger(20)  # fired while the cable is out
        assert sim.wait_until(lambda s: s.gun is not None and not s.gun.trigger_busy, 10)
        sim.replug()
        events.wait(lambda s: len(events.of(ShotReceived)) >= 20)
    assert not events.of(DeviceRebooted)
    assert {e.shot_no for e in events.of(ShotReceived)} == set(range(1, 21))  # type: ignore[attr-defined]


def test_waits_for_a_port_that_appears_later(tmp_path: Path) -> None:
    events = Events()
    driver = fast_driver(str(tmp_path / "gun"), events, wait_for_port=True)
    with driver, Simulator("idle", speed=50, link=tmp_path / "gun"):
        events.wait(identified)
    assert events.links()[:2] == [LinkState.CONNECTING, LinkState.RECONNECTING]


def test_missing_port_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PortError) as info:
        Driver(str(tmp_path / "ttyNONE")).start()
    assert info.value.problem is PortProblem.MISSING
    assert "does not exist" in str(info.value)


def test_held_frames_split_where_the_uptime_jumps_back() -> None:
    old = [Shot(7, 90_000, 1, 0, 1, 1), Heartbeat(90_500, 7, 1, 80, 0, 1)]
    new = [Shot(1, 300, 1, 0, 1, 1), Heartbeat(400, 1, 1, 80, 0, 1)]
    assert _split_at_restart([*old, *new], 89_000) == (old, new)
    assert _split_at_restart(new, 89_000) == ([], new)
    assert _split_at_restart(old, 89_000) == (old, [])
    assert _split_at_restart(old, None) == ([], old)


def test_expected_silence_does_not_lose_the_link(sim: Simulator) -> None:
    events = Events()
    with fast_driver(str(sim.path), events) as driver:
        events.wait(lambda s: LinkState.LIVE in events.links())
        driver.expect_silence(True)
        sim.pause()  # a paused replay: no heartbeats at all
        time.sleep(1.0)  # 2.5 × the silence timeout
        while not events.q.empty():
            events.seen.append(events.q.get_nowait())
        assert LinkState.LOST not in events.links()
        driver.expect_silence(False)  # still silent: now it counts
        events.wait(lambda s: LinkState.LOST in events.links())
        sim.resume()
        events.wait(lambda s: events.links()[-1] is LinkState.LIVE)
