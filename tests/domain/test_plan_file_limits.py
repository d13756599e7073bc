"""Hostile plan files: each is refused in one line naming the field or the file, never read
without bound, never waited on, never coerced into a value the file did not say."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from injector.cli.main import main
from injector.domain.errors import InvalidValueError
from injector.domain.inputs import RefusedInputError
from injector.domain.planfile import MAX_PLAN_BYTES, read_plan_file
from tests.session.test_records import documented_example


def _example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(tomllib.loads(documented_example()), default=str))
    return data


def _json_file(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = _example()
    change(data)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _refusal(path: Path) -> tuple[str, str]:
    """(field, reason) of the one problem ``read_plan_file`` finds."""
    with pytest.raises(InvalidValueError) as refused:
        read_plan_file(path)
    if isinstance(refused.value, RefusedInputError):
        assert len(refused.value.problems) == 1, refused.value.problems
    return refused.value.field, refused.value.reason


def _one_line(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``injector plan import --check`` says about ``path``: exit 2 and one line."""
    assert main(["plan", "import", "--check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    return captured.err


def _zone0(data: dict[str, Any]) -> dict[str, Any]:
    zone: dict[str, Any] = data["plan"]["zones"][0]
    return zone


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            lambda d: _zone0(d).update(depth_mm=True),
            "plan.zones[0].depth_mm",
            "must be a number (got true)",
        ),
        (
            lambda d: d["plan"]["series"].update(sessions="4"),
            "plan.series.sessions",
            'must be a whole number (got "4")',
        ),
        (
            lambda d: d["plan"].update(lock_at_limit="yes"),
            "plan.lock_at_limit",
            'must be true or false (got "yes")',
        ),
        (
            lambda d: d["patient"].update(pregnant=1),
            "patient.pregnant",
            "must be true or false (got 1)",
        ),
        (
            lambda d: _zone0(d).update(points=2.5),
            "plan.zones[0].points",
            "must be a whole number (got 2.5)",
        ),
        (
            lambda d: _zone0(d).update(points=-5),
            "plan.zones[0].points",
            "must be at least 1 (got -5)",
        ),
        (
            lambda d: _zone0(d).update(volume_per_point_ml=-0.05),
            "plan.zones[0].volume_per_point_ml",
            "must be more than 0.0 (got -0.05)",
        ),
        (
            lambda d: _zone0(d).update(points=10**30),
            "plan.zones[0].points",
            "is far too large a number for any field",
        ),
        (
            lambda d: _zone0(d).update(depth_mm=1e300),
            "plan.zones[0].depth_mm",
            "must be at most 12.0 (got 1e+300)",
        ),
        (
            lambda d: d["patient"].update(name=["Jane", "Doe"]),
            "patient.name",
            "must be text (got a list)",
        ),
        (
            lambda d: d["plan"]["solution"].update(expiry=20300630),
            "plan.solution.expiry",
            "20300630 is not a date: use YYYY-MM-DD, e.g. 1984-03-02",
        ),
        (
            lambda d: d["patient"].update(name="Jane\x1b]2;owned\x07 Doe"),
            "patient.name",
            "holds control characters (U+001B, U+0007); type plain text",
        ),
        (
            lambda d: d["plan"].update(notes="left\u202eright"),
            "plan.notes",
            "holds control characters (U+202E); type plain text",
        ),
    ],
    ids=[
        "true-as-depth",
        "string-4-as-sessions",
        "yes-as-bool",
        "1-as-bool",
        "fraction-as-points",
        "negative-points",
        "negative-volume",
        "huge-int",
        "huge-float",
        "list-as-name",
        "number-as-date",
        "escape-in-name",
        "bidi-override-in-notes",
    ],
)
def test_wrong_types_and_numbers_are_refused_by_their_path(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], None],
    field: str,
    reason: str,
) -> None:
    path = _json_file(tmp_path, change)
    assert _refusal(path) == (field, reason)
    assert _one_line(path, capsys) == f"injector plan: {path}: {field}: {reason}\n"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], constant: str
) -> None:
    path = tmp_path / "plan.json"
    text = json.dumps(_example()).replace('"depth_mm": 4.0', f'"depth_mm": {constant}', 1)
    assert constant in text
    path.write_text(text, encoding="utf-8")
    assert _refusal(path) == ("plan.zones[0].depth_mm", "is NaN or infinite; give a finite number")
    _one_line(path, capsys)


def test_toml_nan_and_inf_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    text = documented_example().replace(
        "max_session_volume_ml = 6.0", "max_session_volume_ml = inf"
    )
    path.write_text(text.replace("depth_mm = 4.0", "depth_mm = nan", 1), encoding="utf-8")
    with pytest.raises(InvalidValueError, match="is NaN or infinite") as refused:
        read_plan_file(path)
    assert refused.value.field == "plan.max_session_volume_ml"


def test_the_documented_toml_and_its_json_twin_still_import(tmp_path: Path) -> None:
    toml_path = tmp_path / "plan.toml"
    toml_path.write_text(documented_example(), encoding="utf-8")
    json_path = _json_file(tmp_path, lambda d: None)
    from_toml, from_json = read_plan_file(toml_path), read_plan_file(json_path)
    assert from_toml == from_json
    assert from_toml.plan.zones[0].depth_um == 4000
    # A byte-order mark (Windows editors write one) is not an error.
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + documented_example().encode("utf-8"))
    assert read_plan_file(bom) == from_toml


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_nesting_2000_deep_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    path = tmp_path / f"deep{suffix}"
    nested = "[" * 2000 + "]" * 2000
    if suffix == ".json":
        path.write_text(f'{{"format": "injector-plan/1", "plan": {nested}}}')
    else:
        path.write_text(f'format = "injector-plan/1"\nplan = {nested}\n')
    assert _refusal(path) == ("file", "tables or arrays are nested deeper than 8 levels")
    _one_line(path, capsys)


def test_nesting_within_the_recursion_limit_is_bounded_too(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"format": "injector-plan/1", "plan": ' + "[" * 60 + "]" * 60 + "}")
    field, reason = _refusal(path)
    assert field.startswith("plan[0]") and "nested deeper than 8 levels" in reason


def test_a_50_mb_plan_is_refused_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.toml"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: the test writes no 50 MB
    field, reason = _refusal(path)
    assert field == "file" and reason.startswith("is 50.0 MB or more; a plan file is at most 1 MB")
    _one_line(path, capsys)
    # Just under the cap the file is read (and refused for what it holds, not its size).
    under = tmp_path / "under.toml"
    under.write_text('format = "injector-plan/1"\n#' + "x" * (MAX_PLAN_BYTES - 40) + "\n")
    assert _refusal(under) == ("plan", "is required")


@pytest.mark.timeout(30)
def test_a_symlink_to_dev_zero_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "zero.toml"
    path.symlink_to("/dev/zero")
    assert _refusal(path) == (
        "file",
        "is not a regular file (a folder, device or pipe); give a plan file",
    )
    _one_line(path, capsys)


@pytest.mark.timeout(30)
def test_a_fifo_is_refused_without_waiting_for_a_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.toml"
    os.mkfifo(path)
    assert _refusal(path)[1].startswith("is not a regular file")
    _one_line(path, capsys)


def test_a_folder_and_a_missing_file_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "plans.toml"
    folder.mkdir()
    assert _refusal(folder)[1].startswith("is not a regular file")
    assert _refusal(tmp_path / "nope.toml") == (
        "file",
        "cannot read it: No such file or directory",
    )
    _one_line(folder, capsys)


def test_non_utf8_names_the_byte_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.toml"
    text = documented_example().replace('name = "Jane Doe"', 'name = "Jos\xe9 Doe"')
    path.write_bytes(text.encode("latin-1"))
    field, reason = _refusal(path)
    line = text.splitlines().index('name = "Jos\xe9 Doe"') + 1
    assert field == "file" and reason.endswith(f"line {line}); save it as UTF-8")
    _one_line(path, capsys)


def test_a_number_of_thousands_of_digits_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for suffix in (".json", ".toml"):
        path = tmp_path / f"digits{suffix}"
        text = (
            '{"format": "injector-plan/1", "plan": ' + "9" * 5000 + "}"
            if suffix == ".json"
            else 'format = "injector-plan/1"\nplan = ' + "9" * 5000 + "\n"
        )
        path.write_text(text)
        assert _refusal(path) == ("file", "holds a number with thousands of digits")
        _one_line(path, capsys)
