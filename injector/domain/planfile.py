"""Plan files: a patient (optional) and a treatment plan in TOML or JSON (docs/plan-format.md).

Parsing only: the file's bytes become a validated :class:`PlanFile` or an
:class:`~injector.domain.errors.InvalidValueError` whose field is a path in the file
(``plan.zones[1].depth_mm``) or ``file`` for the file as a whole.

A plan file comes from outside the program (a mail attachment, a USB stick), so nothing in it is
trusted: only a regular file is read, at most :data:`MAX_PLAN_BYTES` of it, never waiting on a
pipe or a device; nesting is bounded; NaN, infinities and numbers beyond what any field holds are
refused; and the types are strict (``true`` is not 1 mm, ``"4"`` is not 4 sessions, ``"yes"`` is
not true). A date may be a TOML date or, in JSON, which has none, an ISO ``"YYYY-MM-DD"`` string.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import (
    PatientInput,
    PlanInput,
    RefusedInputError,
    field_path,
    parse_document,
)

FORMAT = "injector-plan/1"
MAX_PLAN_BYTES = 1_000_000
"""The largest plan file read. The largest valid plan (50 zones, every text at its maximum
length) is about 230 kB; anything bigger is not a plan."""
MAX_NESTING = 8
"""The deepest nesting of tables and arrays read; a plan file needs 4 (plan.zones[i].name)."""
MAX_WHOLE_NUMBER = 2**53
"""Whole numbers beyond this are refused before validation; no field holds one this large."""


class PlanFile(BaseModel):
    """The contents of a plan file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["injector-plan/1"]
    patient: PatientInput | None = None
    plan: PlanInput


def _load(text: str, suffix: str) -> Any:
    """The file's text as Python data; syntax errors and runaway nesting are one refusal."""
    try:
        if suffix == ".json":
            try:
                # NaN and Infinity parse as floats; _plain_data refuses them by their path.
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidValueError(
                    "file", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
                ) from None
        if suffix == ".toml":
            try:
                return tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise InvalidValueError("file", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise InvalidValueError(
            "file", f"tables or arrays are nested deeper than {MAX_NESTING} levels"
        ) from None
    except ValueError as exc:
        # Python refuses to convert whole numbers of more than 4,300 digits.
        if "digits" in str(exc):
            raise InvalidValueError("file", "holds a number with thousands of digits") from None
        raise
    raise InvalidValueError("file", f"use a .toml or .json file, not {suffix or 'no suffix'}")


def _plain_data(value: Any, location: tuple[int | str, ...] = ()) -> Any:
    """``value`` as JSON-ready data, refusing what no plan field can hold, by its path."""
    if len(location) > MAX_NESTING:
        raise InvalidValueError(
            field_path(location[:MAX_NESTING]),
            f"tables or arrays are nested deeper than {MAX_NESTING} levels",
        )
    if isinstance(value, dict):
        return {key: _plain_data(item, (*location, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_data(item, (*location, index)) for index, item in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_WHOLE_NUMBER:
            raise InvalidValueError(
                field_path(location) or "(input)", "is far too large a number for any field"
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(
                field_path(location) or "(input)", "is NaN or infinite; give a finite number"
            )
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise InvalidValueError(field_path(location) or "(input)", "is not a value a plan holds")


def parse_plan_text(text: str, *, suffix: str) -> PlanFile:
    """Parse a plan file's text; ``suffix`` (``.toml`` or ``.json``) says which syntax."""
    data = _plain_data(_load(text, suffix))
    if not isinstance(data, dict):
        raise InvalidValueError("file", "the top level must be a table (an object)")
    if data.get("format") != FORMAT:
        raise InvalidValueError(
            "format", f'must be "{FORMAT}" (got {data.get("format")!r}); see docs/plan-format.md'
        )
    plan = data.get("plan")
    patient = data.get("patient")
    # The plan names its patient; with a [patient] table it may leave that to the table.
    if isinstance(plan, dict) and "patient" not in plan and isinstance(patient, dict):
        if "identifier" in patient:
            data = {**data, "plan": {**plan, "patient": patient["identifier"]}}
    elif (
        isinstance(plan, dict)
        and isinstance(patient, dict)
        and plan.get("patient") != patient.get("identifier")
    ):
        raise RefusedInputError(
            [("plan.patient", "differs from patient.identifier; give the same identifier")]
        )
    return parse_document(PlanFile, data)


def read_plan_bytes(path: Path) -> bytes:
    """The bytes of the plan file at ``path``: a regular file of at most MAX_PLAN_BYTES.

    The file is opened without blocking and checked after opening (so a link swapped
    meanwhile changes nothing): a FIFO would wait for a writer forever, and a device such as
    /dev/zero never ends.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise InvalidValueError("file", f"cannot read it: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidValueError(
                "file", "is not a regular file (a folder, device or pipe); give a plan file"
            )
        if info.st_size > MAX_PLAN_BYTES:
            raise InvalidValueError("file", _too_large(info.st_size))
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        # Read to the cap, not to st_size: a file may grow while it is read.
        while size <= MAX_PLAN_BYTES:
            chunk = os.read(fd, MAX_PLAN_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InvalidValueError("file", f"cannot read it: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > MAX_PLAN_BYTES:
        raise InvalidValueError("file", _too_large(size))
    return b"".join(chunks)


def _too_large(size: int) -> str:
    return (
        f"is {size / 1e6:.1f} MB or more; a plan file is at most {MAX_PLAN_BYTES / 1e6:g} MB "
        "(is this the right file?)"
    )


def read_plan_file(path: Path) -> PlanFile:
    """Read and validate a plan file (TOML or JSON, by its suffix)."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise InvalidValueError("file", f"use a .toml or .json file, not {suffix or 'no suffix'}")
    raw = read_plan_bytes(path)
    try:
        # utf-8-sig: editors on Windows start UTF-8 files with a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidValueError(
            "file", f"is not UTF-8 text (byte {exc.start + 1}, line {line}); save it as UTF-8"
        ) from None
    return parse_plan_text(text, suffix=suffix)
