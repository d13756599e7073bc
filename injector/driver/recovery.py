"""The shot ledger of one power-up of one gun: what is held, what is missing, what to ask for.

Pure logic, no I/O: the driver feeds it shot numbers, heartbeat announcements and RESEND_REQ
answers with the current monotonic time, and asks it which ranges to request. Spec section 5:
a shot is identified by (serial, boot_id, shot_no) and stored once; a gap, or a heartbeat
announcing shots the host does not hold, is asked for again with RESEND_REQ; shots that can
no longer be asked for are reported lost with their count.

How a shot is known to be unrecoverable: the device keeps its most recent shots, so the shots
it still holds are always a suffix of 1..last. An ACK PARTIAL to a request for ``a..b``
therefore proves that ``a`` (and every missing number below it) is gone. After one, the
ledger narrows the boundary by asking for the upper half of the lowest missing range, a binary
search that costs a few round trips however many shots were lost. A new ``boot_id`` makes
every missing shot of the old one unrecoverable at once (:meth:`BootLedger.close`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from protocols.igp1 import AckStatus

Range = tuple[int, int]
"""An inclusive range of shot numbers."""


class Outcome(enum.Enum):
    """What receiving a shot number meant."""

    NEW = "new"
    RECOVERED = "recovered"
    """It was known to be missing (a gap or announced by a heartbeat)."""
    DUPLICATE = "duplicate"
    FOUND = "found"
    """It had been reported lost: the report was wrong by one."""


class BootLedger:
    """Held, lost and missing shot numbers of one (serial, boot_id), and resend scheduling.

    Memory stays flat: numbers below the lowest unresolved one are kept as a single
    watermark, only numbers above it as a set.
    """

    def __init__(
        self,
        serial: str,
        boot_id: int,
        *,
        held_up_to: int = 0,
        missing: Iterable[int] = (),
        retry_first: float = 0.25,
        retry_max: float = 2.0,
        merge_gap: int = 8,
        max_ranges: int = 16,
    ) -> None:
        self.serial = serial
        self.boot_id = boot_id
        self.highest = 0
        """The highest shot number known to exist (received or announced)."""
        self.held_count = 0
        self.lost_count = 0
        self.recovered_count = 0
        self._done = 0  # every number in 1..done is held or lost
        self._above: set[int] = set()  # held or lost numbers above done
        self._lost: set[int] = set()  # the lost ones, in case one turns up after all
        self._retry_first = retry_first
        self._retry_max = retry_max
        self._merge_gap = merge_gap
        self._max_ranges = max_ranges
        self._attempt = 0
        self._next_at = 0.0
        self._asked_up_to = 0
        self._probing = False
        if held_up_to > 0:
            # Seeded from storage: 1..held_up_to are held except the ``missing`` ones.
            gaps = sorted({n for n in missing if 0 < n <= held_up_to})
            self.highest = held_up_to
            self._done = gaps[0] - 1 if gaps else held_up_to
            self._above = set(range(self._done + 1, held_up_to + 1)).difference(gaps)
            self.held_count = held_up_to - len(gaps)

    # --- state ----------------------------------------------------------------------------

    @property
    def missing_count(self) -> int:
        """Shots known to exist that are neither held nor lost."""
        return self.highest - self._done - len(self._above)

    def holds(self, shot_no: int) -> bool:
        """Whether ``shot_no`` is already resolved (held or lost)."""
        return shot_no <= self._done or shot_no in self._above

    def missing_ranges(self, start: int = 1) -> list[Range]:
        """Missing numbers from ``start`` on, as inclusive ranges, lowest first."""
        out: list[Range] = []
        first: int | None = None
        above = self._above
        for n in range(max(self._done + 1, start), self.highest + 1):
            if n in above:
                if first is not None:
                    out.append((first, n - 1))
                    first = None
            elif first is None:
                first = n
        if first is not None:
            out.append((first, self.highest))
        return out

    # --- input ----------------------------------------------------------------------------

    def receive(self, shot_no: int) -> Outcome:
        """A shot arrived (first time, duplicate or retransmission)."""
        if shot_no == self._done + 1 and shot_no > self.highest:
            # The hot path: the next shot in order with nothing missing.
            self._done = self.highest = shot_no
            self.held_count += 1
            return Outcome.NEW
        if shot_no <= 0 or shot_no <= self._done or shot_no in self._above:
            if shot_no in self._lost:
                # Reported lost, yet here it is (a capture replayed, where the "gun" holds an
                # arbitrary set of shots): it is held after all, and no longer counts as lost.
                self._lost.discard(shot_no)
                self.lost_count -= 1
                self.held_count += 1
                self.recovered_count += 1
                return Outcome.FOUND
            return Outcome.DUPLICATE
        was_missing = shot_no <= self.highest
        self._resolve(shot_no)
        self.held_count += 1
        if was_missing:
            self.recovered_count += 1
            self._attempt = 0  # progress: the next retry may come soon again
            return Outcome.RECOVERED
        self.highest = shot_no
        return Outcome.NEW

    def announce(self, last_shot_no: int) -> None:
        """A heartbeat said the device has fired up to ``last_shot_no``."""
        self.highest = max(self.highest, last_shot_no)

    def answered(self, first: int, last: int, status: int, now: float) -> list[Range]:
        """The device's ACK to our RESEND_REQ for ``first..last``; returns ranges now lost."""
        if status == AckStatus.PARTIAL:
            lost = self._lose_up_to(first)
            self._probing = True
            self._next_at = now  # narrow the boundary at once
            return lost
        if status == AckStatus.OK and self._probing and first <= self._done + 1:
            # Everything missing from here on is still held; the resend is under way.
            self._probing = False
        if status == AckStatus.OK and self._probing:
            self._next_at = now
        return []

    def close(self) -> list[Range]:
        """The device rebooted: every missing shot of this boot is lost; returns the ranges."""
        return self._lose_up_to(self.highest)

    # --- output ---------------------------------------------------------------------------

    def due(self, now: float) -> list[Range]:
        """Ranges to request now (coalesced), scheduling the next retry with backoff.

        Called after every read, so the common cases return without scanning: nothing
        missing, or nothing new since the last request and no retry due yet.
        """
        if self.missing_count == 0:
            return []
        retry = now >= self._next_at
        if retry:
            ranges = self._coalesce(self.missing_ranges())
        elif self.highest <= self._asked_up_to:
            return []
        else:
            # Only the shots that went missing since the last request; the rest wait.
            ranges = self._coalesce(self.missing_ranges(self._asked_up_to + 1))
        self._asked_up_to = self.highest
        if not ranges:
            return []
        if self._probing:
            a, b = ranges[0]
            ranges[0] = (a + (b - a + 1) // 2, b)
        if retry:
            delay = min(self._retry_max, self._retry_first * (2**self._attempt))
            self._attempt += 1
            self._next_at = now + delay
        # A fresh gap does not move the retry: in a stream with gaps every few frames that
        # would put off asking again for the old ones forever.
        return ranges[: self._max_ranges]

    # --- internals ------------------------------------------------------------------------

    def _resolve(self, shot_no: int) -> bool:
        if shot_no <= self._done or shot_no in self._above:
            return False
        above = self._above
        above.add(shot_no)
        done = self._done
        while done + 1 in above:
            done += 1
            above.remove(done)
        self._done = done
        return True

    def _lose_up_to(self, last: int) -> list[Range]:
        lost = [(a, min(b, last)) for a, b in self.missing_ranges() if a <= last]
        for a, b in lost:
            for n in range(a, b + 1):
                self._resolve(n)
                self._lost.add(n)
            self.lost_count += b - a + 1
        return lost

    def _coalesce(self, ranges: list[Range]) -> list[Range]:
        # Asking again for a few held shots between two gaps costs less than a second request.
        out: list[Range] = []
        for a, b in ranges:
            if out and a - out[-1][1] - 1 <= self._merge_gap:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out
