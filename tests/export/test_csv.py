"""The CSV export: a header row, then one row per shot with the recorded values."""

from __future__ import annotations

import csv
import io

from injector.export import COLUMNS, ExportFormat, export_text
from injector.storage import Database
from tests.export.recorded import GUN, record_session


def test_one_row_per_shot_with_its_values(db: Database) -> None:
    recorded = record_session(db)
    text = export_text(db, ExportFormat.CSV, session_id=recorded.session_id)
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(recorded.shots)
    assert tuple(rows[0]) == COLUMNS

    given = {(s.boot_id, s.shot_no): s for s in recorded.shots}
    assert {(int(r["boot_id"]), int(r["shot_no"])) for r in rows} == given.keys()
    for row in rows:
        key = (int(row["boot_id"]), int(row["shot_no"]))
        shot = given[key]
        assert row["session_id"] == str(recorded.session_id)
        assert row["device_serial"] == GUN.serial
        assert int(row["uptime_ms"]) == shot.uptime_ms
        assert int(row["depth_um"]) == shot.depth_um
        assert int(row["volume_nl"]) == shot.volume_nl
        assert int(row["flags"]) == shot.flags
        assert row["zone"] == (recorded.zone_of_shot[key] or "")
        assert row["received_at"] == shot.received_at.isoformat().replace("+00:00", "Z")
        expected_time = (
            shot.device_time.isoformat().replace("+00:00", "Z") if shot.device_time else ""
        )
        assert row["device_time"] == expected_time
    first = rows[0]
    assert (first["boot_id"], first["shot_no"], first["zone"]) == ("7", "1", "")
    assert first["received_at"] == "2026-11-02T09:00:02.040000Z"


def test_all_sessions_share_one_header(db: Database) -> None:
    recorded = record_session(db)
    text = export_text(db, ExportFormat.CSV)
    lines = text.splitlines()
    assert lines.count(",".join(COLUMNS)) == 1
    assert len(lines) == 1 + len(recorded.shots)
