"""Device uptime to wall-clock time, across the 2^32 ms wrap-around."""

from __future__ import annotations

import pytest

from injector.driver.clock import DeviceClock


def test_uptime_maps_relative_to_the_latest_heartbeat() -> None:
    clock = DeviceClock()
    clock.anchor(61_000, 1_000.0)
    assert clock.to_wall(61_234, 0.0) == pytest.approx(1_000.234)
    assert clock.to_wall(60_500, 0.0) == pytest.approx(999.5)


def test_wrap_around_is_followed() -> None:
    clock = DeviceClock()
    clock.anchor(2**32 - 500, 5_000.0)
    assert clock.to_wall(300, 0.0) == pytest.approx(5_000.8)
    assert DeviceClock.elapsed_ms(2**32 - 500, 300) == 800
    assert DeviceClock.elapsed_ms(300, 2**32 - 500) == -800


def test_without_anchor_the_arrival_time_is_used_then_kept() -> None:
    clock = DeviceClock()
    assert clock.to_wall(10_000, 42.0) == 42.0
    assert clock.to_wall(11_000, 99.0) == pytest.approx(43.0)
    clock.reset()
    assert not clock.anchored
