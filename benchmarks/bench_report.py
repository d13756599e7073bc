"""Reports of a 2,000-shot session: the HTML report and the PDF report, end to end.

Each run reads the session through the session layer, draws the charts and the map, renders
the template and (for PDF) lays it out with WeasyPrint, as ``injector report`` does. The
session is the test suite's seeded face plan, fired 334 times per zone (2,004 shots plus the
recorded incidents). The first run of each pays for the imports (matplotlib, WeasyPrint) and
is reported apart; the medians are of the runs after it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.rows import Row
from injector.report.files import ReportFormat, ReportKind, render_report
from injector.session.history import session_shots
from injector.storage import open_database
from tests.report.recorded_series import record_series

SHOTS_PER_ZONE = 334
GENERATED = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def _time(runs: int, call: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each of ``runs`` calls."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def run(quick: bool = False) -> list[Row]:
    """Median seconds for the HTML and the PDF report of a 2,000-shot session."""
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(str(Path(folder) / "bench.sqlite3"))
        try:
            series = record_series(database, shots_per_zone=SHOTS_PER_ZONE)
            shots = len(session_shots(database, series.session_id))

            def html() -> bytes:
                return render_report(
                    database, ReportKind.SESSION, series.session_id, generated_at=GENERATED
                )

            def pdf() -> bytes:
                return render_report(
                    database,
                    ReportKind.SESSION,
                    series.session_id,
                    report_format=ReportFormat.PDF,
                    generated_at=GENERATED,
                )

            html_times, html_cpu = _time(repeats + 1, html)
            pdf_times, pdf_cpu = _time(repeats + 1, pdf)
            size = len(
                render_report(
                    database,
                    ReportKind.SESSION,
                    series.session_id,
                    report_format=ReportFormat.PDF,
                    generated_at=GENERATED,
                )
            )
        finally:
            database.close()
    return [
        Row(
            f"report: session HTML, {shots:,} shots",
            statistics.median(html_times[1:]),
            "s",
            "< 2",
            f"CPU {statistics.median(html_cpu[1:]):.2f} s; first run (imports) "
            f"{html_times[0]:.2f} s; median of {repeats}",
        ),
        Row(
            f"report: session PDF, {shots:,} shots",
            statistics.median(pdf_times[1:]),
            "s",
            "< 4",
            f"CPU {statistics.median(pdf_cpu[1:]):.2f} s; first run {pdf_times[0]:.2f} s; "
            f"{size / 1024:.0f} KiB; median of {repeats}",
        ),
    ]
