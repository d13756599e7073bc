"""The shot ledger: gaps, announcements, coalesced resends with backoff, lost shots."""

from __future__ import annotations

from injector.driver.recovery import BootLedger, Outcome
from protocols.igp1 import AckStatus


def test_in_order_shots_are_new_and_repeats_are_duplicates() -> None:
    ledger = BootLedger("SN1", 7)
    assert [ledger.receive(n) for n in (1, 2, 3)] == [Outcome.NEW] * 3
    assert ledger.receive(2) is Outcome.DUPLICATE
    assert ledger.missing_count == 0
    assert ledger.due(0.0) == []


def test_gap_is_requested_at_once_then_with_backoff_until_filled() -> None:
    ledger = BootLedger("SN1", 7, retry_first=0.25, retry_max=1.0)
    for n in (1, 2, 5, 6):
        ledger.receive(n)
    assert ledger.missing_ranges() == [(3, 4)]
    assert ledger.due(10.0) == [(3, 4)]
    assert ledger.due(10.1) == []  # asked, waiting for the answer
    assert ledger.due(10.25) == [(3, 4)]  # retried
    assert ledger.due(10.5) == []  # backoff doubled to 0.5 s
    assert ledger.due(10.75) == [(3, 4)]
    assert ledger.receive(3) is Outcome.RECOVERED
    assert ledger.receive(4) is Outcome.RECOVERED
    assert ledger.receive(4) is Outcome.DUPLICATE
    assert ledger.due(20.0) == []
    assert (ledger.held_count, ledger.recovered_count, ledger.lost_count) == (6, 2, 0)


def test_new_gaps_are_asked_without_waiting_for_the_retry_of_old_ones() -> None:
    ledger = BootLedger("SN1", 7, merge_gap=0)
    for n in (1, 3):
        ledger.receive(n)
    assert ledger.due(0.0) == [(2, 2)]
    for n in (4, 6):
        ledger.receive(n)
    assert ledger.due(0.01) == [(5, 5)]


def test_heartbeat_announcement_creates_a_tail_gap() -> None:
    ledger = BootLedger("SN1", 7)
    ledger.receive(1)
    ledger.announce(4)
    assert ledger.missing_ranges() == [(2, 4)]
    assert ledger.due(0.0) == [(2, 4)]


def test_close_gaps_are_coalesced_into_one_request() -> None:
    ledger = BootLedger("SN1", 7, merge_gap=2)
    for n in (1, 3, 5, 20):
        ledger.receive(n)
    assert ledger.missing_ranges() == [(2, 2), (4, 4), (6, 19)]
    assert ledger.due(0.0) == [(2, 19)]


def test_seeded_numbers_are_held() -> None:
    ledger = BootLedger("SN1", 7, held_up_to=5, missing=[4])
    assert ledger.receive(3) is Outcome.DUPLICATE
    assert ledger.missing_ranges() == [(4, 4)]
    assert ledger.receive(4) is Outcome.RECOVERED


def test_reboot_reports_every_missing_shot_lost() -> None:
    ledger = BootLedger("SN1", 7)
    for n in (1, 2, 5):
        ledger.receive(n)
    ledger.announce(8)
    assert ledger.close() == [(3, 4), (6, 8)]
    assert ledger.lost_count == 5
    assert ledger.missing_count == 0


def test_partial_answers_find_the_boundary_by_bisection() -> None:
    # The gun still holds shots 600.. only; the host misses 2..999.
    first_held = 600
    ledger = BootLedger("SN1", 7, merge_gap=0)
    ledger.receive(1)
    ledger.receive(1000)
    now = 0.0
    for _ in range(40):
        ranges = ledger.due(now)
        for a, b in ranges:
            status = AckStatus.PARTIAL if a < first_held else AckStatus.OK
            ledger.answered(a, b, status, now)
            if status == AckStatus.OK:
                for n in range(max(a, first_held), b + 1):
                    ledger.receive(n)
        if ledger.missing_count == 0:
            break
        now += 0.01
    assert ledger.missing_count == 0
    assert ledger.lost_count == first_held - 2
    assert ledger.held_count == 1000 - ledger.lost_count


def test_a_shot_reported_lost_that_arrives_after_all_is_found() -> None:
    ledger = BootLedger("SN1", 7)
    ledger.receive(1)
    ledger.receive(4)
    assert ledger.answered(2, 3, AckStatus.PARTIAL, 0.0) == [(2, 2)]
    assert ledger.receive(2) is Outcome.FOUND
    assert ledger.receive(2) is Outcome.DUPLICATE
    assert (ledger.lost_count, ledger.held_count) == (0, 3)
