"""The PDF (pages, running heads, page sizes), the ``injector report`` command, and what it
says without Pango."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pypdf import PdfReader

from injector.cli.main import main
from injector.report.pdf import NetworkFetchRefusedError, html_to_pdf
from injector.storage import open_database
from tests.report.recorded_series import ZONES, RecordedSeries, record_series

A4 = (595, 842)
LETTER = (612, 792)


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, RecordedSeries]:
    """A clinic database file holding the recorded series."""
    path = tmp_path / "clinic.db"
    database = open_database(str(path))
    try:
        return path, record_series(database)
    finally:
        database.close()


def _size(reader: PdfReader, page: int) -> tuple[int, int]:
    box = reader.pages[page].mediabox
    return round(float(box.width)), round(float(box.height))


def test_the_session_pdf_opens_with_its_pages_heads_and_text(
    clinic: tuple[Path, RecordedSeries],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, series = clinic
    monkeypatch.chdir(tmp_path)
    code = main(["report", "session", str(series.session_id), "--format", "pdf", "--db", str(path)])
    assert code == 0
    written = tmp_path / f"session-{series.session_id}-report.pdf"
    assert capsys.readouterr().out.strip() == f"session report written to {written}"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    reader = PdfReader(io.BytesIO(written.read_bytes()))
    pages = len(reader.pages)
    assert pages >= 3
    texts = [page.extract_text() for page in reader.pages]
    for number, text in enumerate(texts, start=1):
        # Patient and session on every page, and where the page is in the report.
        assert "Jane Doe (P-1)" in text
        assert f"Session {series.session_id}, 2026-11-10" in text
        assert f"page {number} of {pages}" in text
        assert _size(reader, number - 1) == A4
    whole = "\n".join(texts)
    for heading in (
        "Checklist",
        "Zone map",
        "Plan against actual",
        "Depth per zone",
        "Shots over time",
        "Device events",
        "Adverse events",
        "Sign-off",
    ):
        assert heading in whole
    for zone in ZONES:
        assert zone["name"] in whole
    assert "depth (mm)" in whole and "cumulative volume (mL)" in whole  # charts kept as text


def test_letter_paper_and_the_series_pdf(
    clinic: tuple[Path, RecordedSeries], tmp_path: Path
) -> None:
    path, series = clinic
    out = tmp_path / "series.pdf"
    code = main(
        [
            "report",
            "series",
            str(series.plan_id),
            "--format",
            "pdf",
            "--paper",
            "letter",
            "--output",
            str(out),
            "--db",
            str(path),
        ]
    )
    assert code == 0
    reader = PdfReader(str(out))
    assert all(_size(reader, i) == LETTER for i in range(len(reader.pages)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert (
        "Jane Doe (P-1)" in text and "volume delivered (mL)" in text and "mean depth (mm)" in text
    )


def test_a_pdf_that_would_load_anything_is_refused() -> None:
    html = '<html><body><img src="https://cdn.example.org/logo.png"></body></html>'
    with pytest.raises(NetworkFetchRefusedError, match=r"cdn\.example\.org"):
        html_to_pdf(html)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["session", "999"], "there is no session 999"),
        (["series", "999"], "there is no plan 999"),
        (["session", "two"], "'two' is not a session id"),
        (["session", "0"], "0 is not a session id"),
        (["session", "1", "--format", "docx"], "--format: unknown value 'docx'; use html or pdf"),
        (["session", "1", "--paper", "a3"], "--paper: unknown value 'a3'; use a4 or letter"),
    ],
)
def test_bad_input_is_one_line(
    clinic: tuple[Path, RecordedSeries],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    path, _ = clinic
    assert main(["report", *argv, "--db", str(path)]) != 0
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error


def test_an_output_that_is_a_folder_is_refused_before_rendering(
    clinic: tuple[Path, RecordedSeries], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, series = clinic
    assert (
        main(
            [
                "report",
                "session",
                str(series.session_id),
                "--output",
                str(tmp_path),
                "--db",
                str(path),
            ]
        )
        != 0
    )
    assert "is not a regular file" in capsys.readouterr().err


# Stands in for a computer without Pango: WeasyPrint opens its system libraries through
# cffi's dlopen, which fails for Pango exactly as it does when the library is not installed.
_NO_PANGO = textwrap.dedent(
    """
    import cffi

    _dlopen = cffi.FFI.dlopen

    def dlopen(self, name, *args, **kwargs):
        if "pango" in str(name):
            raise OSError(f"cannot load library {name!r}: {name}: cannot open shared object file")
        return _dlopen(self, name, *args, **kwargs)

    cffi.FFI.dlopen = dlopen
    """
)


def test_without_pango_pdf_says_what_to_install_and_html_still_works(
    clinic: tuple[Path, RecordedSeries], tmp_path: Path
) -> None:
    path, series = clinic
    site = tmp_path / "no-pango"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_NO_PANGO)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    command = [
        sys.executable,
        "-m",
        "injector.cli.main",
        "report",
        "session",
        str(series.session_id),
        "--db",
        str(path),
    ]
    pdf = subprocess.run(
        [*command, "--format", "pdf"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert pdf.returncode != 0
    assert "Traceback" not in pdf.stderr and pdf.stdout == ""
    error = pdf.stderr.strip()
    assert "\n" not in error
    assert "Pango" in error and "apt install libpango-1.0-0" in error and "--format html" in error
    assert not list(tmp_path.glob("*.pdf"))
    html = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False
    )
    assert html.returncode == 0, html.stderr
    assert (tmp_path / f"session-{series.session_id}-report.html").is_file()
