"""Plan files: a patient (optional) and a treatment plan in TOML or JSON (docs/plan-format.md).

Parsing only: the file's text becomes a validated :class:`PlanFile` or a
:class:`~injector.domain.inputs.RefusedInputError` whose fields are paths in the file
(``plan.zones[1].depth_mm``).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from injector.domain.errors import InvalidValueError
from injector.domain.inputs import PatientInput, PlanInput, RefusedInputError, parse

FORMAT = "injector-plan/1"


class PlanFile(BaseModel):
    """The contents of a plan file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["injector-plan/1"]
    patient: PatientInput | None = None
    plan: PlanInput


def parse_plan_text(text: str, *, suffix: str) -> PlanFile:
    """Parse a plan file's text; ``suffix`` (``.toml`` or ``.json``) says which syntax."""
    data: Any
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidValueError(
                "file", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
    elif suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidValueError("file", f"not valid TOML: {exc}") from None
    else:
        raise InvalidValueError("file", f"use a .toml or .json file, not {suffix or 'no suffix'}")
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
    return parse(PlanFile, data)


def read_plan_file(path: Path) -> PlanFile:
    """Read and validate a plan file (TOML or JSON, by its suffix)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidValueError("file", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidValueError("file", f"{path} is not UTF-8 text") from None
    return parse_plan_text(text, suffix=path.suffix.lower())
