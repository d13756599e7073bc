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

Bounded by what the gun can hold: the device keeps at least its last 1,024 shots, so the ledger
never tracks more than that below its highest number. A jump past it (a long disconnection)
makes the older shots lost at once, reported as one range, never walked number by number;
every loop here is bounded by the history size, whatever numbers the device sends.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable

from protocols.igp1 import AckStatus
from protocols.igp1.device_limits import SHOT_HISTORY

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
        history: int = SHOT_HISTORY,
    ) -> None:
        self.serial = serial
        self.boot_id = boot_id
        self.highest = 0
        """The highest shot number known to exist (received or announced)."""
        self.held_count = 0
        self.lost_count = 0
        self.recovered_count = 0
        self._history = history
        self._done = 0  # every number in 1..done is held or lost
        self._above: set[int] = set()  # held or lost numbers above done
        self._lost: list[Range] = []  # sorted, disjoint: reported lost, in case one turns up
        self._out_of_reach: list[Range] = []  # lost to the history bound, not yet reported
        self._retry_first = retry_first
        self._retry_max = retry_max
        self._merge_gap = merge_gap
        self._max_ranges = max_ranges
        self._attempt = 0
        self._next_at = 0.0
        self._asked_up_to = 0
        self._probing = False
        if held_up_to > 0:
            # Seeded from storage: 1..held_up_to are held except the ``missing`` ones. Those
            # below the gun's history cannot be asked for; they were counted when first missed.
            floor = max(0, held_up_to - history)
            gaps = sorted({n for n in missing if floor < n <= held_up_to})
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
        """Missing numbers from ``start`` on, as inclusive ranges, lowest first.

        At most the gun's history is walked: numbers further back were declared lost.
        """
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
            if self._take_lost(shot_no):
                # Reported lost, yet here it is (a capture replayed, where the "gun" holds an
                # arbitrary set of shots): it is held after all, and no longer counts as lost.
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
        self._bound_to_history()
        return Outcome.NEW

    def announce(self, last_shot_no: int) -> None:
        """A heartbeat said the device has fired up to ``last_shot_no``."""
        if last_shot_no > self.highest:
            self.highest = last_shot_no
            self._bound_to_history()

    def retract_above(self, last_shot_no: int) -> None:
        """The gun says its last shot is ``last_shot_no``: numbers above it were not fired.

        A held number above it came from a frame the gun denies; it is forgotten here (the
        caller reports it), so that no gap below it is asked for and the gun's real shot of
        that number, when it comes, is taken as new.
        """
        if last_shot_no >= self.highest:
            return
        floor = max(last_shot_no, self._done)
        self._above = {n for n in self._above if n <= floor}
        self.highest = max(floor, last_shot_no)
        self._asked_up_to = min(self._asked_up_to, self.highest)

    def take_out_of_reach(self) -> list[Range]:
        """Ranges lost because they fell out of the gun's history since the last call.

        A jump in the numbers wider than the history (the host was away while the gun fired
        more than it keeps) loses the older shots at once; the caller reports them once.
        """
        out, self._out_of_reach = self._out_of_reach, []
        return out

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
            for n in range(a, b + 1):  # bounded: missing numbers lie within the history
                self._resolve(n)
            self._add_lost(a, b)
            self.lost_count += b - a + 1
        return lost

    def _bound_to_history(self) -> None:
        """Declare lost, at once, every missing number the gun can no longer hold."""
        floor = self.highest - self._history
        if floor <= self._done:
            return
        below = sorted(n for n in self._above if n <= floor)
        lost: list[Range] = []
        first = self._done + 1
        for n in below:
            if n > first:
                lost.append((first, n - 1))
            first = n + 1
        if first <= floor:
            lost.append((first, floor))
        self._above.difference_update(below)
        self._done = floor
        done = floor
        while done + 1 in self._above:
            done += 1
            self._above.remove(done)
        self._done = done
        for a, b in lost:
            self._add_lost(a, b)
            self.lost_count += b - a + 1
        self._out_of_reach.extend(lost)

    def _add_lost(self, a: int, b: int) -> None:
        i = bisect.bisect_left(self._lost, (a, b))
        self._lost.insert(i, (a, b))

    def _take_lost(self, n: int) -> bool:
        """If ``n`` was reported lost, forget that (it arrived after all); True if it was."""
        i = bisect.bisect_right(self._lost, (n, n)) - 1
        if i < 0:
            i = 0
        for j in (i, i + 1):
            if j < len(self._lost):
                a, b = self._lost[j]
                if a <= n <= b:
                    pieces = [r for r in ((a, n - 1), (n + 1, b)) if r[0] <= r[1]]
                    self._lost[j : j + 1] = pieces
                    return True
        return False

    def _coalesce(self, ranges: list[Range]) -> list[Range]:
        # Asking again for a few held shots between two gaps costs less than a second request.
        out: list[Range] = []
        for a, b in ranges:
            if out and a - out[-1][1] - 1 <= self._merge_gap:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out
