"""ShotNumbers behaves as a set of shot numbers while holding only what is above the watermark."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from injector.session.numbers import ShotNumbers


@given(st.lists(st.integers(1, 300), max_size=200), st.lists(st.integers(-5, 310), max_size=50))
def test_behaves_like_a_set(added: list[int], probes: list[int]) -> None:
    numbers = ShotNumbers(added[: len(added) // 2])
    for n in added[len(added) // 2 :]:
        numbers.add(n)
    expected = set(added)
    assert len(numbers) == len(expected)
    for n in probes + added:
        assert (n in numbers) == (n in expected)


def test_in_order_shots_hold_nothing_above_the_watermark() -> None:
    numbers = ShotNumbers()
    for n in range(1, 100_001):
        numbers.add(n)
    numbers.add(100_003)
    numbers.add(100_002)
    assert 100_001 not in numbers
    numbers.add(100_001)
    assert len(numbers) == 100_003
    assert not numbers._above  # the whole run collapsed into the watermark
