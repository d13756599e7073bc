"""The built-in scenarios (``idle``, ``demo``, ``stress``) and how a scenario is named.

The built-ins are scenario files shipped in :mod:`simulators.scenarios`, so they double as
examples of the format.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from simulators.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

BUILTIN_SCENARIOS: dict[str, str] = {
    "idle": "answers the host, fires nothing",
    "demo": "a face session of about 335 shots over five zones, one syringe swap, one fault",
    "stress": "continuous shots at 540/min, syringes swapped as they empty, forever",
}
"""Name → one-line description of every built-in scenario."""


def builtin_scenario(name: str) -> Scenario:
    """The built-in scenario ``name``; ``KeyError`` if there is none."""
    if name not in BUILTIN_SCENARIOS:
        raise KeyError(name)
    text = resources.files("simulators.scenarios").joinpath(f"{name}.scenario").read_text("utf-8")
    return parse_scenario(text, f"builtin:{name}", name)


def resolve_scenario(spec: str | Path | Scenario) -> Scenario:
    """A scenario from a built-in name, a file path, or a :class:`Scenario` as is.

    Raises :class:`ScenarioError` for a file that is refused or a name that is neither.
    """
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, str) and spec in BUILTIN_SCENARIOS:
        return builtin_scenario(spec)
    path = Path(spec)
    if not path.exists():
        names = ", ".join(BUILTIN_SCENARIOS)
        raise ScenarioError(str(spec), 0, f"no such scenario file, nor a built-in ({names})")
    return load_scenario(path)
