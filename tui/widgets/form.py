"""Labelled inputs with an inline error line, and showing refusals next to their fields.

Field ids follow the domain's dotted paths: ``solution.lot_number`` is the input
``#f-solution-lot_number`` with its error line ``#e-solution-lot_number``; ``zones[1].points``
becomes ``zones-1-points``. A refusal from :mod:`injector.domain.inputs` names the path, so it
lands under the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Input, Label, Select


def field_key(path: str) -> str:
    """The id suffix of a dotted field path: ``zones[1].depth_mm`` → ``zones-1-depth_mm``."""
    return re.sub(r"[\[\]\.]+", "-", path).strip("-")


class FormField(Vertical):
    """A label, an input and the line where its error appears."""

    DEFAULT_CSS = """
    FormField { height: auto; width: 1fr; margin-right: 1; }
    FormField Input { width: 1fr; }
    FormField .field-label { color: $text-muted; }
    FormField .field-error { color: $error; height: auto; width: 1fr; }
    """

    def __init__(
        self, label: str, path: str, value: str = "", *, placeholder: str = "", classes: str = ""
    ) -> None:
        super().__init__(classes=classes)
        self._label = label
        self._key = field_key(path)
        self._value = value
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="field-label")
        yield Input(self._value, placeholder=self._placeholder, id=f"f-{self._key}")
        yield Label("", id=f"e-{self._key}", classes="field-error")


def value_of(root: DOMNode, path: str) -> str:
    """The stripped text of the input for ``path``."""
    return root.query_one(f"#f-{field_key(path)}", Input).value.strip()


def clear_problems(root: DOMNode) -> None:
    """Empty every error line under ``root``."""
    for label in root.query(".field-error").results(Label):
        label.update("")


def plain(reason: str) -> str:
    """A validation message in the words a practitioner would use."""
    if reason.startswith("Input should be '"):
        return "choose one from the list"
    if reason.startswith("String should have at least 1"):
        return "required"
    if reason.startswith("Input should be a valid date"):
        return "give a date as YYYY-MM-DD"
    if reason.startswith(("Input should be a valid number", "Input should be a valid integer")):
        return "give a number"
    if reason.startswith("Input should be less than or equal to "):
        return "at most " + reason.removeprefix("Input should be less than or equal to ")
    if reason.startswith("Input should be greater than or equal to "):
        return "at least " + reason.removeprefix("Input should be greater than or equal to ")
    if reason.startswith("Input should be greater than "):
        return "more than " + reason.removeprefix("Input should be greater than ")
    return reason


"""A domain field path as warnings and refusals name it (``zones[1].depth_mm``)."""


def show_problems(root: DOMNode, problems: Iterable[tuple[str, str]], general: Label) -> int:
    """Put each (path, reason) under its field; what has no field goes to ``general``.

    A path deeper than any field (``series.initial_interval_days.0``) is shown under its
    nearest field. Returns how many problems there were; the first field in error gets focus.
    """
    clear_problems(root)
    leftovers: list[str] = []
    count = 0
    first: Widget | None = None
    for path, reason in problems:
        count += 1
        key = field_key(path)
        target: Label | None = None
        while key:
            try:
                target = root.query_one(f"#e-{key}", Label)
                break
            except NoMatches:
                key = key.rpartition("-")[0]
        if target is None:
            leftovers.append(f"{path}: {plain(reason)}")
            continue
        target.update(plain(reason))
        if first is None:
            try:
                first = root.query_one(f"#f-{key}", Widget)
            except NoMatches:
                first = None
    general.update("\n".join(leftovers))
    if first is not None:
        first.focus()
    return count


class SelectField(Vertical):
    """A label, a select over string values and its error line."""

    DEFAULT_CSS = """
    SelectField { height: auto; width: 1fr; margin-right: 1; }
    SelectField .field-label { color: $text-muted; }
    SelectField .field-error { color: $error; height: auto; width: 1fr; }
    """

    def __init__(
        self, label: str, path: str, options: Iterable[str], value: str | None = None
    ) -> None:
        super().__init__()
        self._label = label
        self._key = field_key(path)
        self._options = list(options)
        self._value = value

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="field-label")
        select: Select[str] = Select(
            [(o.replace("_", " "), o) for o in self._options],
            prompt="choose",
            id=f"f-{self._key}",
        )
        if self._value is not None:
            select.value = self._value
        yield select
        yield Label("", id=f"e-{self._key}", classes="field-error")


def choice_of(root: DOMNode, path: str) -> str | None:
    """The chosen value of the select for ``path`` (None when nothing is chosen)."""
    value = root.query_one(f"#f-{field_key(path)}", Select).value
    return value if isinstance(value, str) else None
