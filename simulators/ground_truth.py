"""What a perfect host would hold after listening to a simulated gun: the record to compare with.

A shot never delivered intact that the gun can no longer resend (fired in an earlier boot, or
fallen out of its 1,024-shot ring) is lost; a host can only count those it heard of (a shot or a
heartbeat of that boot announced them). Every other shot the gun fired must be in the record,
exactly once, with the values the gun sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols.igp1 import Heartbeat, Shot, ShotFlags
from simulators.gun import Fate
from simulators.runner import Simulator

ShotRow = tuple[str, int, int, int, int, int, int, int]
"""(serial, boot_id, shot_no, uptime_ms, depth_um, volume_nl, flags, syringe_remaining_nl)"""


@dataclass(frozen=True, slots=True)
class ExpectedRecord:
    """The shots a host can hold (sorted rows), how many it must report lost, and the total."""

    rows: list[ShotRow]
    lost: int
    fired: int
    unrecoverable: int
    """Shots the gun no longer held, heard of or not."""


def shot_row(serial: str, boot_id: int, shot: Shot) -> ShotRow:
    """A shot as a comparable row; the RETRANSMIT flag says how it came, not what it was."""
    return (
        serial,
        boot_id,
        shot.shot_no,
        shot.uptime_ms,
        shot.depth_um,
        shot.volume_nl,
        shot.flags & ~int(ShotFlags.RETRANSMIT),
        shot.syringe_remaining_nl,
    )


def expected_record(sim: Simulator) -> ExpectedRecord:
    """The record a host that missed nothing recoverable would hold of ``sim``'s gun."""
    known: dict[int, int] = {}
    for out in sim.sent_messages():
        if out.fate is not Fate.SENT:
            continue
        msg = out.message
        top = (
            msg.shot_no
            if isinstance(msg, Shot)
            else (msg.last_shot_no if isinstance(msg, Heartbeat) else 0)
        )
        known[out.boot_id] = max(known.get(out.boot_id, 0), top)
    fired = sim.shots()
    unrecoverable = {(r.boot_id, r.shot.shot_no) for r in sim.unrecoverable_shots()}
    rows = [
        shot_row(r.serial, r.boot_id, r.shot)
        for r in fired
        if (r.boot_id, r.shot.shot_no) not in unrecoverable
    ]
    lost = sum(1 for boot, no in unrecoverable if no <= known.get(boot, 0))
    return ExpectedRecord(sorted(rows), lost, len(fired), len(unrecoverable))
