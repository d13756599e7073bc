"""Writing a report to a file: render it, then write it through the one module that writes
every output file (0600, whole or not at all).

The CLI and the TUI both call :func:`write_report`, so a report written from either is the
same file under the same default name.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from pathlib import Path

from injector.output_files import check_output_path, write_private_file
from injector.report.page import PageSize
from injector.storage.engine import Database


class ReportKind(enum.StrEnum):
    """What a report covers."""

    SESSION = "session"
    SERIES = "series"


class ReportFormat(enum.StrEnum):
    """The file a report is written as."""

    HTML = "html"
    PDF = "pdf"


def default_name(kind: ReportKind, record_id: int, report_format: ReportFormat) -> str:
    """The file name used without ``--output``: no patient data in it, just the record."""
    stem = (
        f"session-{record_id}-report"
        if kind is ReportKind.SESSION
        else (f"plan-{record_id}-series-report")
    )
    return f"{stem}.{report_format.value}"


def render_report(
    db: Database,
    kind: ReportKind,
    record_id: int,
    *,
    report_format: ReportFormat = ReportFormat.HTML,
    page_size: PageSize = PageSize.A4,
    generated_at: datetime | None = None,
) -> bytes:
    """The report's bytes. Raises :class:`~injector.storage.errors.RecordNotFoundError` for a
    session or plan that does not exist and :class:`~injector.report.pdf.PdfUnavailableError`
    for a PDF without Pango."""
    when = generated_at or datetime.now(UTC)
    if kind is ReportKind.SESSION:
        from injector.report.session_data import load_session_report
        from injector.report.session_report import render_session_html

        html = render_session_html(
            load_session_report(db, record_id), generated_at=when, page_size=page_size
        )
    else:
        from injector.report.series_report import load_series_report, render_series_html

        html = render_series_html(
            load_series_report(db, record_id, today=when.date()),
            generated_at=when,
            page_size=page_size,
        )
    if report_format is ReportFormat.HTML:
        return html.encode("utf-8")
    from injector.report.pdf import html_to_pdf

    return html_to_pdf(html)


def write_report(
    db: Database,
    kind: ReportKind,
    record_id: int,
    *,
    report_format: ReportFormat = ReportFormat.HTML,
    page_size: PageSize = PageSize.A4,
    output: Path | None = None,
    folder: Path | None = None,
    generated_at: datetime | None = None,
) -> Path:
    """Render a report and write it to ``output`` (default: its default name in ``folder``,
    else the current folder); returns the absolute path written."""
    target = (
        output
        if output is not None
        else (folder or Path.cwd()) / default_name(kind, record_id, report_format)
    )
    # Refuse a bad destination before spending seconds on the rendering.
    check_output_path(target)
    data = render_report(
        db,
        kind,
        record_id,
        report_format=report_format,
        page_size=page_size,
        generated_at=generated_at,
    )
    write_private_file(target, data)
    return target.absolute()
