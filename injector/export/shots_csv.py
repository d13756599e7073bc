"""The CSV exports (RFC 4180: comma, CRLF, quoting), each with a header row: one row per shot
(:func:`to_csv`), and, in a file of their own, one row per adverse event
(:func:`to_adverse_events_csv`).

Columns, in order: see :data:`COLUMNS`, :data:`ADVERSE_EVENT_COLUMNS` and ``docs/export.md``.
Times are UTC, ISO 8601 ending in ``Z``; an empty ``device_time`` means the gun's clock was not
known yet, an empty ``zone`` that no zone was chosen.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from injector.domain.shot_rules import shot_kind
from injector.export.snapshot import SessionRecord

COLUMNS: tuple[str, ...] = (
    "session_id",
    "device_serial",
    "boot_id",
    "shot_no",
    "uptime_ms",
    "received_at",
    "device_time",
    "depth_um",
    "volume_nl",
    "flags",
    "zone",
    "counted_as",
    "practitioner",
)


def _time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_csv(records: list[SessionRecord]) -> str:
    """The CSV export of these sessions' shots, sessions in the order given."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for record in records:
        for shot in record.shots:
            writer.writerow(
                (
                    record.session.id,
                    shot.serial,
                    shot.boot_id,
                    shot.shot_no,
                    shot.uptime_ms,
                    _time(shot.received_at),
                    _time(shot.device_time),
                    shot.depth_um,
                    shot.volume_nl,
                    shot.flags,
                    record.zone_name(shot.zone_id) or "",
                    shot_kind(shot.flags, shot.depth_um, shot.volume_nl).word,
                    record.session.practitioner,
                )
            )
    return buffer.getvalue()


ADVERSE_EVENT_COLUMNS: tuple[str, ...] = (
    "session_id",
    "patient_identifier",
    "lot_number",
    "kind",
    "severity",
    "onset",
    "at_later_visit",
    "description",
    "recorded_by",
    "recorded_at",
)


def to_adverse_events_csv(records: list[SessionRecord]) -> str:
    """The CSV export of these sessions' adverse events, by session then onset."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ADVERSE_EVENT_COLUMNS)
    for record in records:
        for adverse in record.adverse_events:
            writer.writerow(
                (
                    record.session.id,
                    record.patient_identifier or "",
                    adverse.lot_number or "",
                    adverse.kind,
                    adverse.severity,
                    _time(adverse.onset),
                    "yes" if adverse.at_later_visit else "no",
                    adverse.notes,
                    adverse.recorded_by,
                    _time(adverse.recorded_at),
                )
            )
    return buffer.getvalue()
