"""What the record holds of the guns' shots, as rows to compare with what the guns fired.

The soak command and the recorder's tests put this beside the simulator's ground truth: every
shot the gun still held must be here exactly once, with the values it sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from injector.storage.engine import Database
from injector.storage.tables import Shot, TreatmentSession

StoredShotRow = tuple[str, int, int, int, int, int, int, int]
"""(serial, boot_id, shot_no, uptime_ms, depth_um, volume_nl, flags, syringe_remaining_nl)"""


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """Every stored shot as a sorted row, the sessions' lost and recovered counts, and how many
    rows repeat a (serial, boot, shot number) another row already holds (must be 0)."""

    rows: list[StoredShotRow]
    lost: int
    recovered: int
    duplicates: int


def stored_record(db: Database) -> StoredRecord:
    """Read every shot and the sessions' counters in one snapshot."""
    s = Shot.__table__.c  # type: ignore[attr-defined]
    t = TreatmentSession.__table__.c  # type: ignore[attr-defined]
    with db.read() as conn:
        rows = conn.execute(
            select(
                s.serial,
                s.boot_id,
                s.shot_no,
                s.uptime_ms,
                s.depth_um,
                s.volume_nl,
                s.flags,
                s.syringe_remaining_nl,
            ).order_by(s.serial, s.boot_id, s.shot_no)
        ).all()
        lost, recovered = conn.execute(
            select(
                func.coalesce(func.sum(t.lost_shots), 0),
                func.coalesce(func.sum(t.recovered_shots), 0),
            )
        ).one()
    shots = sorted(_row(r) for r in rows)
    distinct = len({row[:3] for row in shots})
    return StoredRecord(shots, int(lost), int(recovered), len(shots) - distinct)


def _row(r: Sequence[Any]) -> StoredShotRow:
    return (str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7]))
