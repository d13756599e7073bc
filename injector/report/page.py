"""Rendering a report template into one self-contained HTML page.

Templates and the style sheet ship with the package and are inlined; nothing is fetched when
the page opens. Jinja2 escapes every value; the charts and the map are our own SVG, marked
safe where the template places them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from injector import __version__
from injector.report import figures


class PageSize(enum.StrEnum):
    """Printed page sizes (CSS ``@page`` size names)."""

    A4 = "a4"
    LETTER = "letter"


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("injector.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        ml=figures.ml,
        mm=figures.mm,
        mm_bare=figures.mm_bare,
        percent=figures.percent,
        when=figures.when,
        day=figures.day,
        clock=figures.clock,
        words=lambda value: str(value).replace("_", " "),
        yesno=lambda value: "—" if value is None else ("yes" if value else "no"),
    )
    return environment


def render(template: str, *, generated_at: datetime, **context: Any) -> str:
    """Render ``template`` with ``context``; ``generated_at`` goes into the footer only."""
    environment = _environment()
    return environment.get_template(template).render(
        generated=figures.when(generated_at), version=__version__, **context
    )
