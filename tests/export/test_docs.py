"""docs/export.md names every JSON field, every CSV column and every FHIR component code."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from injector.export import COLUMNS
from injector.export.document import (
    AdverseEventOut,
    CountsOut,
    DeviceOut,
    EventOut,
    ExportDocument,
    LotOut,
    PlanOut,
    SessionOut,
    ShotOut,
    ZoneOut,
)
from injector.export.shots_csv import ADVERSE_EVENT_COLUMNS

DOC = (Path(__file__).parents[2] / "docs" / "export.md").read_text(encoding="utf-8")
MODELS: list[type[BaseModel]] = [
    ExportDocument,
    SessionOut,
    LotOut,
    DeviceOut,
    PlanOut,
    ZoneOut,
    CountsOut,
    ShotOut,
    EventOut,
    AdverseEventOut,
]


def test_every_json_field_and_csv_column_is_documented() -> None:
    fields = {name for model in MODELS for name in model.model_fields}
    assert [m.__name__ for m in MODELS if f"`{m.__name__}`" not in DOC] == []
    assert [f for f in sorted(fields) if f"`{f}`" not in DOC] == []
    assert [c for c in COLUMNS if f"| `{c}` |" not in DOC] == []
    assert [c for c in ADVERSE_EVENT_COLUMNS if f"| `{c}` |" not in DOC] == []


def test_every_fhir_component_code_is_documented() -> None:
    codes = [
        "depth-target",
        "depth-mean",
        "depth-min",
        "depth-max",
        "shots-measured",
        "shots-outside-tolerance",
    ]
    source = (Path(__file__).parents[2] / "injector" / "export" / "fhir.py").read_text()
    assert [c for c in codes if f'"{c}"' not in source] == []
    assert [c for c in codes if f"| `{c}` |" not in DOC] == []
