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


def test_a_gap_wider_than_the_gun_history_is_one_loss_not_a_walk() -> None:
    ledger = BootLedger("SN1", 7, history=1024)
    for n in range(1, 11):
        ledger.receive(n)
    ledger.announce(4_294_967_295)
    # Everything the gun can no longer hold is lost at once, as one range, reported once.
    assert ledger.take_out_of_reach() == [(11, 4_294_967_295 - 1024)]
    assert ledger.take_out_of_reach() == []
    assert ledger.missing_ranges() == [(4_294_967_295 - 1023, 4_294_967_295)]
    assert ledger.missing_count == 1024
    assert ledger.due(0.0) == [(4_294_967_295 - 1023, 4_294_967_295)]


def test_a_shot_far_ahead_keeps_the_ledger_within_the_history() -> None:
    ledger = BootLedger("SN1", 7, history=16)
    ledger.receive(1)
    ledger.receive(3)
    assert ledger.receive(1_000) is Outcome.NEW
    assert ledger.take_out_of_reach() == [(2, 2), (4, 984)]
    assert ledger.missing_ranges() == [(985, 999)]
    assert ledger.lost_count == 982
    # A lost shot that turns up after all is found, and the count stays exact.
    assert ledger.receive(500) is Outcome.FOUND
    assert ledger.lost_count == 981
    assert ledger.receive(500) is Outcome.DUPLICATE


def test_seeding_from_storage_tracks_only_the_gun_history() -> None:
    ledger = BootLedger("SN1", 7, held_up_to=100_000, missing=[5, 99_990], history=1024)
    assert ledger.missing_ranges() == [(99_990, 99_990)]
    assert ledger.receive(99_990) is Outcome.RECOVERED
    assert ledger.missing_count == 0
