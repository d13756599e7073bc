"""Pydantic models of what people type or write in files: patients, plans, zones, checklists.

Human units at the boundary (mm, mL, days); the storage units (µm, nL) are computed here.
:func:`parse` turns a validation failure into :class:`RefusedInputError`, whose problems each
name the field (a dotted path such as ``zones[1].depth_mm``) and the reason.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from injector.domain.errors import InvalidValueError
from injector.domain.vocabulary import (
    AdverseEventKind,
    AnatomicalSite,
    BodyArea,
    Indication,
    Severity,
    Technique,
)

# The overview's range is 1–4 mm; some point-by-point protocols go to about 12 mm. Deeper than
# that is not mesotherapy, and 0 is no injection at all.
DEPTH_MIN_MM = 0.1
DEPTH_MAX_MM = 12.0
DEPTH_USUAL_MM = (1.0, 4.0)
SESSIONS_MIN, SESSIONS_MAX = 3, 15
VOLUME_PER_POINT_MAX_ML = 0.5
NL_PER_ML = 1_000_000
UM_PER_MM = 1000

# Line breaks and tabs belong in notes; no other control character belongs in any text.
_TEXT_LAYOUT = frozenset("\n\t")
# Characters that reorder how a line is shown (a name that displays as another name).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e") | frozenset(
    "\u2066\u2067\u2068\u2069"
)


def control_characters(text: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The control and direction-changing characters in ``text`` (as ``U+001B``), once each.

    Such characters are escape sequences to a terminal, hide or reorder what a screen or a
    printed record shows, and are never part of a name, a lot number or a note.
    """
    found: list[str] = []
    for char in text:
        if char not in allowed and is_control(char):
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def is_control(char: str) -> bool:
    """Whether ``char`` is a control character (C0, DEL, C1) or changes the text direction."""
    return unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS


def _no_controls(allowed: frozenset[str]) -> AfterValidator:
    def check(value: str) -> str:
        found = control_characters(value, allowed)
        if found:
            raise ValueError(f"holds control characters ({', '.join(found)}); type plain text")
        return value

    return AfterValidator(check)


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), _no_controls(_TEXT_LAYOUT)
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    _no_controls(frozenset()),
]


class _Input(BaseModel):
    # NaN and infinities pass no bound check honestly (every comparison with NaN is false).
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


class PatientInput(_Input):
    """A patient as entered: identifier, name, date of birth, contact, contraindications."""

    identifier: Name
    name: Name
    date_of_birth: date
    contact: Text = ""
    on_anticoagulants: bool = False
    pregnant: bool = False
    allergies: Text = ""
    contraindication_notes: Text = ""

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth(cls, value: date) -> date:
        if value > datetime.now(UTC).date():
            raise ValueError("is in the future")
        if value.year < 1900:
            raise ValueError("is before 1900")
        return value


class SolutionInput(_Input):
    """The injected solution: product, components, manufacturer, lot and its expiry date."""

    product_name: Name
    components: list[Name] = Field(default_factory=list)
    manufacturer: Text = ""
    lot_number: Name
    expiry: date


class SeriesInput(_Input):
    """The series: N sessions; the first ones every min–max days, then every later days."""

    sessions: int = Field(ge=SESSIONS_MIN, le=SESSIONS_MAX)
    initial_sessions: int | None = Field(default=None, ge=1)
    initial_interval_days: tuple[int, int] = (7, 10)
    later_interval_days: int | None = Field(default=None, ge=1, le=90)

    @field_validator("initial_interval_days")
    @classmethod
    def _interval_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low < 1:
            raise ValueError("the shortest interval must be at least 1 day")
        if high < low:
            raise ValueError("give [shortest, longest] with shortest ≤ longest")
        if high > 90:
            raise ValueError("the longest interval must be at most 90 days")
        return value

    @model_validator(mode="after")
    def _initial_within_series(self) -> SeriesInput:
        if self.initial_sessions is not None and self.initial_sessions > self.sessions:
            raise ValueError(
                f"initial_sessions: {self.initial_sessions} is more than the "
                f"{self.sessions} sessions of the series"
            )
        return self


class ZoneInput(_Input):
    """One zone: where, technique, target depth ± tolerance, volume per point, points, maximum."""

    name: Name
    body_area: BodyArea
    technique: Technique
    depth_mm: float = Field(ge=DEPTH_MIN_MM, le=DEPTH_MAX_MM)
    tolerance_mm: float = Field(default=0.5, ge=0.0, le=2.0)
    volume_per_point_ml: float = Field(gt=0.0, le=VOLUME_PER_POINT_MAX_ML)
    points: int = Field(ge=1, le=10_000)
    max_volume_ml: float | None = Field(default=None, gt=0.0, le=100.0)
    # Where the zone sits on the body (for the report's map and the FHIR body site).
    site: AnatomicalSite | None = None

    @model_validator(mode="after")
    def _tolerance_below_depth(self) -> ZoneInput:
        if self.tolerance_mm >= self.depth_mm:
            raise ValueError(
                f"tolerance_mm: {self.tolerance_mm:g} mm must be smaller than depth_mm "
                f"({self.depth_mm:g} mm)"
            )
        return self

    @property
    def depth_um(self) -> int:
        """Target depth in micrometres."""
        return round(self.depth_mm * UM_PER_MM)

    @property
    def tolerance_um(self) -> int:
        """Depth tolerance in micrometres."""
        return round(self.tolerance_mm * UM_PER_MM)

    @property
    def volume_per_point_nl(self) -> int:
        """Volume per point in nanolitres."""
        return round(self.volume_per_point_ml * NL_PER_ML)

    @property
    def max_volume_nl(self) -> int:
        """The zone's maximum volume in nanolitres (default: points × volume per point)."""
        if self.max_volume_ml is None:
            return self.points * self.volume_per_point_nl
        return round(self.max_volume_ml * NL_PER_ML)


class PlanInput(_Input):
    """A treatment plan for the patient with identifier ``patient``."""

    patient: Name
    indication: Indication
    indication_area: Text | None = None
    solution: SolutionInput
    series: SeriesInput
    zones: list[ZoneInput] = Field(min_length=1, max_length=50)
    max_session_volume_ml: float | None = Field(default=None, gt=0.0, le=500.0)
    lock_at_limit: bool = False
    notes: Text = ""

    @model_validator(mode="after")
    def _area_for_fat_reduction(self) -> PlanInput:
        if self.indication == Indication.FAT_REDUCTION and not self.indication_area:
            raise ValueError("indication_area: fat reduction needs the named area")
        names = [zone.name for zone in self.zones]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"zones: zone names must differ ({', '.join(duplicates)} repeated)")
        return self

    @property
    def max_session_volume_nl(self) -> int | None:
        """The session's maximum volume in nanolitres, if the plan sets one."""
        if self.max_session_volume_ml is None:
            return None
        return round(self.max_session_volume_ml * NL_PER_ML)

    def warnings(self, today: date) -> tuple[str, ...]:
        """What is allowed but worth a second look (an expired lot, an unusual depth)."""
        found: list[str] = []
        if self.solution.expiry < today:
            found.append(
                f"solution.expiry: lot {self.solution.lot_number} expired on "
                f"{self.solution.expiry.isoformat()}"
            )
        low, high = DEPTH_USUAL_MM
        for index, zone in enumerate(self.zones):
            if not low <= zone.depth_mm <= high:
                found.append(
                    f"zones[{index}].depth_mm: {zone.depth_mm} mm is outside the usual "
                    f"{low:g}–{high:g} mm"
                )
        return tuple(found)


class Checklist(_Input):
    """The pre-procedure checklist, answered before a session starts."""

    nsaid_last_7_days: bool
    numbing_applied: bool
    consent_recorded: bool
    before_photos_taken: bool


class SessionChanges(_Input):
    """Fields of a session that an update (unsigned) or an amendment (signed) may change."""

    practitioner: Name | None = None
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    lot_number: Name | None = None
    lot_expiry: date | None = None
    nsaid_last_7_days: bool | None = None
    numbing_applied: bool | None = None
    consent_recorded: bool | None = None
    before_photos_taken: bool | None = None
    notes: Text | None = None

    @field_validator("scheduled_at", "started_at", "ended_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2026-03-02T10:15:00+01:00)")
        return value.astimezone(UTC) if value is not None else None

    def given(self) -> dict[str, Any]:
        """Only the fields that were given."""
        return self.model_dump(exclude_unset=True)


class AdverseEventInput(_Input):
    """A side effect: kind, severity, onset, notes; at the session or at a later visit."""

    kind: AdverseEventKind
    severity: Severity
    onset: datetime
    notes: Text = ""
    at_later_visit: bool = False

    @field_validator("onset")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2026-03-02T10:15:00+01:00)")
        return value.astimezone(UTC)


class RefusedInputError(InvalidValueError):
    """Input refused for one or more reasons; ``problems`` lists (field, reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        field, reason = problems[0]
        super().__init__(field, reason)
        self.problems = tuple(problems)
        self.args = ("; ".join(f"{f}: {r}" for f, r in problems),)


_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


# Type refusals of strict validation (plan files), in plain words. Typed input (the CLI's
# options, the TUI's forms) keeps pydantic's words for these, which the TUI rewords itself.
_TYPE_WORDS = {
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD), without a time",
    "datetime_type": "must be a date and time",
    "datetime_parsing": "must be a date and time",
}
# Refusals of any input, in plain words.
_VALUE_WORDS = {
    "datetime_from_date_parsing": "must be a date and time with its zone (2026-03-02T10:15+01:00)",
    "finite_number": "must be a finite number",
    "int_parsing_size": "is far too large a number",
}


def _shown(value: Any) -> str:
    """A refused value as the file spells it, shortened: true, "4", 12.5."""
    if isinstance(value, dict | list):
        return "a table" if isinstance(value, dict) else "a list"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"


def field_path(location: tuple[int | str, ...]) -> str:
    """A location as a dotted path: ``("zones", 1, "depth_mm")`` is ``zones[1].depth_mm``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


_DATE_ERRORS = frozenset({"date_parsing", "date_from_datetime_parsing", "date_type"})
_TIME_ERRORS = frozenset({"datetime_parsing", "datetime_from_date_parsing", "datetime_type"})


def problems_of(error: ValidationError, *, strict: bool = False) -> list[tuple[str, str]]:
    """(field, reason) for every problem pydantic found, in plain words.

    ``strict``: the input was a file validated with strict types, whose type refusals are
    reworded too (``must be a whole number (got "4")``).
    """
    problems: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        path = field_path(tuple(item["loc"]))
        message = str(item["msg"]).removeprefix("Value error, ")
        # A model validator reports at the model; its message starts with the field it means.
        head, sep, rest = message.partition(": ")
        if sep and " " not in head and not path.endswith(head):
            path = f"{path}.{head}" if path else head
            message = rest
        kind = item["type"]
        context = item.get("ctx", {})
        if kind == "extra_forbidden":
            message = "is not a known field"
        elif kind == "missing":
            message = "is required"
        elif kind in _BOUNDS:
            words, key = _BOUNDS[kind]
            message = f"must be {words} {context.get(key)} (got {item.get('input')!r})"
        elif kind in _DATE_ERRORS:
            # 02/03/1984 is 2 March or 3 February depending on who reads it: ISO only.
            message = f"{item.get('input')!r} is not a date: use YYYY-MM-DD, e.g. 1984-03-02"
        elif kind in _TIME_ERRORS:
            message = (
                f"{item.get('input')!r} is not a time: use YYYY-MM-DDTHH:MM with its zone, "
                "e.g. 2026-03-02T10:15+01:00"
            )
        elif kind == "string_too_long":
            message = f"is longer than {context.get('max_length')} characters"
        elif kind == "string_too_short" and context.get("min_length") == 1:
            message = "required"
        elif kind in _VALUE_WORDS or (strict and kind in _TYPE_WORDS):
            words = _VALUE_WORDS.get(kind) or _TYPE_WORDS[kind]
            message = f"{words} (got {_shown(item.get('input'))})"
        problems.append((path or "(input)", message))
    return problems


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: Mapping[str, Any]) -> Model:
    """Validate ``data`` as ``model``; raises :class:`RefusedInputError` naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RefusedInputError(problems_of(exc)) from None


def parse_document(model: type[Model], data: Mapping[str, Any]) -> Model:
    """Validate JSON-shaped ``data`` from a file as ``model`` with strict types.

    A file says what type each value is, so nothing is converted: ``true`` is not 1, ``"4"``
    is not 4 and ``"yes"`` is not true. Dates, which JSON lacks, are ISO strings. Raises
    :class:`RefusedInputError` naming each field.
    """
    try:
        return model.model_validate_json(json.dumps(dict(data), allow_nan=False), strict=True)
    except ValidationError as exc:
        raise RefusedInputError(problems_of(exc, strict=True)) from None
