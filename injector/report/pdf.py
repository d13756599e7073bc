"""The PDF of a report: the same HTML, laid out by WeasyPrint.

WeasyPrint draws text through the system's Pango (with HarfBuzz and fontconfig). Without
those libraries importing it fails; :class:`PdfUnavailableError` then says what to install,
and HTML reports keep working.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

PANGO_HINT = (
    "PDF reports need the Pango text library that WeasyPrint uses: install it "
    "(Debian/Ubuntu: apt install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b; "
    "Fedora: dnf install pango; macOS: brew install pango), or write HTML with --format html"
)


class PdfUnavailableError(RuntimeError):
    """WeasyPrint or the system libraries it needs are missing; the message says what to do."""


class NetworkFetchRefusedError(RuntimeError):
    """The report asked for something outside itself (a stylesheet, an image, a font); a
    report must be self-contained, so nothing was fetched."""


def html_to_pdf(html: str) -> bytes:
    """Lay ``html`` out as a PDF (page size and running heads come from its own CSS).

    Every fetch WeasyPrint attempts is refused and then reported as
    :class:`NetworkFetchRefusedError`: a report that needs one is a bug, not a download.
    """
    try:
        # WeasyPrint prints a page of advice to standard output when a library is missing;
        # our one line says it better.
        with contextlib.redirect_stdout(io.StringIO()):
            from weasyprint import HTML
            from weasyprint.urls import URLFetcher
    except (OSError, ImportError) as exc:
        raise PdfUnavailableError(f"{PANGO_HINT} ({exc})") from None

    refused: list[str] = []

    class _Refuse(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            refused.append(url)
            raise ValueError(f"a report loads nothing ({url})")

    pdf = HTML(string=html, url_fetcher=_Refuse()).write_pdf()
    if refused:
        raise NetworkFetchRefusedError(f"the report asked for {', '.join(sorted(set(refused)))}")
    assert isinstance(pdf, bytes)
    return pdf
