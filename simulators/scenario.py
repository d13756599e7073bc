"""Scenario files: what the practitioner (and the world) does to the gun, step by step.

A scenario is a text file, one step per line; ``#`` starts a comment. Steps run in order on the
scenario clock; ``trigger`` lasts until its shots are fired, ``wait`` for its time, the others
take no time. The format is described in ``docs/scenario-format.md``; in short::

    device serial=SN0042 battery=87 syringe=2.5ml   # optional, first step only
    set mode=nappage depth=1mm volume=0.01ml rate=300
    trigger 30                  # 30 shots (SINGLE: 30 presses)
    wait 2s
    raise occlusion             # fault raised ...
    clear occlusion             # ... and cleared
    syringe                     # a new full syringe (or: syringe 5ml)
    battery 15                  # battery level in %, or: battery mains
    airshot                     # a shot without skin contact (priming)
    faults drop=0.05 noise=0.01 # line faults from here on (faults off)
    unplug for=3s               # or unplug ... replug
    powercycle off=2s
    loop                        # start again from the top (last step only)

A file with an unknown step, a missing field or an impossible value is refused with a
:class:`ScenarioError` naming the file, the line and the reason.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from protocols.igp1 import FaultCode, Mode
from simulators.faults import FaultConfig, parse_duration_ms
from simulators.gun import (
    DEPTH_RANGE_UM,
    RATE_MAX_SPM,
    SYRINGE_RANGE_UL,
    GunConfig,
    GunIdentity,
    GunSettings,
    check_settings,
)

MAX_TRIGGER_SHOTS = 100_000
MAX_SCENARIO_BYTES = 1_000_000
"""The largest scenario file read; the built-in ones are under 2 kB."""


class ScenarioError(Exception):
    """A scenario that cannot be used; ``str()`` is ``file:line: reason``."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SetStep:
    """Change settings (``None`` keeps the current value)."""

    line: int
    mode: Mode | None = None
    depth_um: int | None = None
    volume_nl: int | None = None
    rate_spm: int | None = None


@dataclass(frozen=True, slots=True)
class TriggerStep:
    """Press the trigger for ``count`` shots; lasts until they are fired or the gun stops."""

    line: int
    count: int
    interval_ms: int | None = None
    no_skin: bool = False


@dataclass(frozen=True, slots=True)
class WaitStep:
    """Do nothing for ``ms`` of scenario time (``None``: forever)."""

    line: int
    ms: int | None


@dataclass(frozen=True, slots=True)
class RaiseStep:
    """Raise a fault."""

    line: int
    code: FaultCode
    detail: int | None = None


@dataclass(frozen=True, slots=True)
class ClearStep:
    """Clear a fault."""

    line: int
    code: FaultCode


@dataclass(frozen=True, slots=True)
class SyringeStep:
    """Swap in a full syringe (``None``: same size as before)."""

    line: int
    capacity_ul: int | None = None


@dataclass(frozen=True, slots=True)
class BatteryStep:
    """Set the battery level in percent (``None``: mains power)."""

    line: int
    pct: float | None


@dataclass(frozen=True, slots=True)
class UnplugStep:
    """Pull the cable; with ``for_ms`` plug it back after that long."""

    line: int
    for_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ReplugStep:
    """Plug the cable back in (a new pseudo-terminal behind the same link)."""

    line: int


@dataclass(frozen=True, slots=True)
class PowerCycleStep:
    """Switch the gun off for ``off_ms`` and on again (new boot_id, counters restart)."""

    line: int
    off_ms: int = 1000


@dataclass(frozen=True, slots=True)
class FaultsStep:
    """Line faults from this step on (probabilities only)."""

    line: int
    config: FaultConfig


Step = (
    SetStep
    | TriggerStep
    | WaitStep
    | RaiseStep
    | ClearStep
    | SyringeStep
    | BatteryStep
    | UnplugStep
    | ReplugStep
    | PowerCycleStep
    | FaultsStep
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A parsed scenario: the gun it starts with, its steps, and whether it loops."""

    name: str
    gun: GunConfig = field(default_factory=GunConfig)
    steps: tuple[Step, ...] = ()
    loop: bool = False


# --- value converters: text → value, or ValueError with a reason --------------------------

_NUMBER = r"(\d+(?:\.\d+)?)"
_DEPTH = re.compile(rf"^{_NUMBER}\s*(mm|um|µm)?$")
_VOLUME = re.compile(rf"^{_NUMBER}\s*(ml|ul|µl|nl)?$", re.IGNORECASE)
_RATE = re.compile(r"^(\d+)\s*(/min|spm)?$")
_FIRMWARE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def parse_depth_um(text: str) -> int:
    """``"2.5mm"``, ``"2500um"`` (bare numbers are mm) to micrometres."""
    m = _DEPTH.match(text)
    if not m:
        raise ValueError(f"depth {text!r} is not a length like 2.5mm or 800um")
    value = float(m.group(1))
    return round(value) if m.group(2) in ("um", "µm") else round(value * 1000)


def parse_volume_nl(text: str) -> int:
    """``"0.05ml"``, ``"50ul"``, ``"50000nl"`` (bare numbers are mL) to nanolitres."""
    m = _VOLUME.match(text)
    if not m:
        raise ValueError(f"volume {text!r} is not a volume like 0.05ml, 50ul or 50000nl")
    value = float(m.group(1))
    unit = (m.group(2) or "ml").lower().replace("µ", "u")
    return round(value * {"ml": 1e6, "ul": 1e3, "nl": 1.0}[unit])


def parse_rate(text: str) -> int:
    """``"300"``, ``"300/min"`` or ``"300spm"`` to shots per minute."""
    m = _RATE.match(text)
    if not m:
        raise ValueError(f"rate {text!r} is not shots per minute like 300/min")
    return int(m.group(1))


def parse_mode(text: str) -> Mode:
    """``single``, ``repeat``, ``nappage`` or ``continuous``."""
    try:
        return Mode[text.upper()]
    except KeyError:
        names = ", ".join(m.name.lower() for m in Mode)
        raise ValueError(f"mode {text!r} is not one of {names}") from None


def parse_fault_code(text: str) -> FaultCode:
    """A fault by name (``occlusion``, ``motor_stall`` …) or number 1–7."""
    if text.isdigit():
        try:
            return FaultCode(int(text))
        except ValueError:
            raise ValueError(f"fault code {text} is not 1–7") from None
    try:
        return FaultCode[text.upper().replace("-", "_")]
    except KeyError:
        names = ", ".join(c.name.lower() for c in FaultCode)
        raise ValueError(f"fault {text!r} is not one of {names}") from None


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{text!r} is not a whole number of shots above 0")
    value = int(text)
    if value > MAX_TRIGGER_SHOTS:
        raise ValueError(f"{value} shots in one step is more than {MAX_TRIGGER_SHOTS}")
    return value


def _battery(text: str) -> float | None:
    if text.lower() == "mains":
        return None
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise ValueError(f"battery {text!r} is not a percentage or 'mains'") from None
    if not 0 <= value <= 100:
        raise ValueError(f"battery {value:g}% is outside 0–100%")
    return value


def _syringe(text: str) -> int:
    ul = parse_volume_nl(text) // 1000
    lo, hi = SYRINGE_RANGE_UL
    if not lo <= ul <= hi:
        raise ValueError(f"syringe {ul / 1000:g} mL is outside {lo / 1000:g}–{hi / 1000:g} mL")
    return ul


def _detail(text: str) -> int:
    if not text.isdigit() or int(text) > 0xFFFF:
        raise ValueError(f"detail {text!r} is not a whole number 0–65535")
    return int(text)


def _positive_ms(text: str) -> int:
    ms = parse_duration_ms(text)
    if ms <= 0:
        raise ValueError(f"duration {text!r} must be above 0")
    return ms


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a probability") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"probability {value:g} is not between 0 and 1")
    return value


def _ascii16(text: str) -> str:
    if not text.isascii() or not 1 <= len(text) <= 16:
        raise ValueError(f"{text!r} is not 1–16 plain ASCII characters")
    return text


def _firmware(text: str) -> tuple[int, int, int]:
    m = _FIRMWARE.match(text)
    if not m or any(int(g) > 255 for g in m.groups()):
        raise ValueError(f"firmware {text!r} is not major.minor.patch (each 0–255)")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _checked_depth(text: str) -> int:
    depth = parse_depth_um(text)
    lo, hi = DEPTH_RANGE_UM
    if not lo <= depth <= hi:
        raise ValueError(f"depth {depth / 1000:g} mm is outside {lo / 1000:g}–{hi / 1000:g} mm")
    return depth


def _checked_rate(text: str) -> int:
    rate = parse_rate(text)
    if rate > RATE_MAX_SPM:
        raise ValueError(f"rate {rate}/min is above the gun's {RATE_MAX_SPM}/min")
    return rate


@dataclass(frozen=True, slots=True)
class _Verb:
    keys: dict[str, Callable[[str], Any]]
    positional: str | None = None
    required: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


_VERBS: dict[str, _Verb] = {
    "device": _Verb(
        {
            "model": _ascii16,
            "serial": _ascii16,
            "firmware": _firmware,
            "battery": _battery,
            "syringe": _syringe,
            "mode": parse_mode,
            "depth": _checked_depth,
            "volume": parse_volume_nl,
            "rate": _checked_rate,
        }
    ),
    "set": _Verb(
        {
            "mode": parse_mode,
            "depth": _checked_depth,
            "volume": parse_volume_nl,
            "rate": _checked_rate,
        }
    ),
    "trigger": _Verb({"shots": _count, "interval": _positive_ms}, "shots", ("shots",)),
    "airshot": _Verb({"shots": _count}, "shots"),
    "wait": _Verb({"time": str}, "time", ("time",)),
    "raise": _Verb({"fault": parse_fault_code, "detail": _detail}, "fault", ("fault",)),
    "clear": _Verb({"fault": parse_fault_code}, "fault", ("fault",)),
    "syringe": _Verb({"size": _syringe}, "size"),
    "battery": _Verb({"level": _battery}, "level", ("level",)),
    "unplug": _Verb({"for": _positive_ms}),
    "replug": _Verb({}),
    "powercycle": _Verb({"off": _positive_ms}),
    "faults": _Verb(
        {"noise": _probability, "bitflip": _probability, "drop": _probability, "dup": _probability},
        flags=("off",),
    ),
    "loop": _Verb({}),
}


def _parse_args(verb: str, spec: _Verb, words: list[str]) -> tuple[dict[str, Any], set[str]]:
    values: dict[str, Any] = {}
    flags: set[str] = set()
    for word in words:
        key, eq, text = word.partition("=")
        if not eq:
            if word.lower() in spec.flags:
                flags.add(word.lower())
                continue
            if spec.positional is None or spec.positional in values:
                raise ValueError(f"{verb}: unexpected {word!r}")
            key, text = spec.positional, word
        key = key.lower()
        if key not in spec.keys:
            known = ", ".join(spec.keys) or "no fields"
            raise ValueError(f"{verb}: unknown field {key!r} (takes {known})")
        if key in values:
            raise ValueError(f"{verb}: {key} given twice")
        if not text:
            raise ValueError(f"{verb}: {key} has no value")
        values[key] = spec.keys[key](text)
    for key in spec.required:
        if key not in values:
            raise ValueError(f"{verb}: missing {key}")
    return values, flags


def parse_scenario(text: str, source: str, name: str | None = None) -> Scenario:
    """Parse scenario text; ``source`` names it in errors (a path or ``builtin:NAME``)."""
    gun = GunConfig()
    settings = GunSettings()
    steps: list[Step] = []
    loop = False
    seen_step = False
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        verb = words[0].lower()
        try:
            if loop:
                raise ValueError("nothing may follow loop (it must be the last step)")
            spec = _VERBS.get(verb)
            if spec is None:
                raise ValueError(f"unknown step {words[0]!r} (steps: {', '.join(_VERBS)})")
            values, flags = _parse_args(verb, spec, words[1:])
            if verb == "device":
                if seen_step:
                    raise ValueError("device must come before every other step")
                gun, settings = _device(values, gun, settings)
            elif verb == "set":
                if not values:
                    raise ValueError("set: missing mode, depth, volume or rate")
                settings = _merged(settings, values)
                steps.append(
                    SetStep(
                        number,
                        values.get("mode"),
                        values.get("depth"),
                        values.get("volume"),
                        values.get("rate"),
                    )
                )
            elif verb == "loop":
                if not any(isinstance(s, (TriggerStep, WaitStep)) for s in steps):
                    raise ValueError("loop needs a trigger or wait step before it to take time")
                loop = True
            else:
                steps.append(_step(verb, number, values, flags))
            seen_step = True
        except ValueError as exc:
            raise ScenarioError(source, number, str(exc)) from None
    if not steps and not loop:
        raise ScenarioError(source, 0, "has no steps")
    return Scenario(name or source, gun, tuple(steps), loop)


def _merged(settings: GunSettings, values: dict[str, Any]) -> GunSettings:
    new = GunSettings(
        values.get("mode", settings.mode),
        values.get("depth", settings.depth_um),
        values.get("volume", settings.volume_nl),
        values.get("rate", settings.rate_spm),
    )
    check_settings(new.mode, new.depth_um, new.volume_nl, new.rate_spm)
    return new


def _device(
    values: dict[str, Any], gun: GunConfig, settings: GunSettings
) -> tuple[GunConfig, GunSettings]:
    ident = gun.identity
    ident = GunIdentity(
        values.get("model", ident.model),
        values.get("serial", ident.serial),
        values.get("firmware", ident.firmware),
    )
    settings = _merged(settings, values)
    config = replace(
        gun,
        identity=ident,
        settings=settings,
        syringe_ul=values.get("syringe", gun.syringe_ul),
        battery_pct=values.get("battery", gun.battery_pct),
    )
    return config, settings


def _step(verb: str, number: int, values: dict[str, Any], flags: set[str]) -> Step:
    if verb == "trigger":
        return TriggerStep(number, values["shots"], values.get("interval"))
    if verb == "airshot":
        return TriggerStep(number, values.get("shots", 1), None, no_skin=True)
    if verb == "wait":
        text: str = values["time"]
        if text.lower() == "forever":
            return WaitStep(number, None)
        return WaitStep(number, parse_duration_ms(text))
    if verb == "raise":
        return RaiseStep(number, values["fault"], values.get("detail"))
    if verb == "clear":
        return ClearStep(number, values["fault"])
    if verb == "syringe":
        return SyringeStep(number, values.get("size"))
    if verb == "battery":
        return BatteryStep(number, values["level"])
    if verb == "unplug":
        return UnplugStep(number, values.get("for"))
    if verb == "replug":
        return ReplugStep(number)
    if verb == "powercycle":
        return PowerCycleStep(number, values.get("off", 1000))
    if verb == "faults":
        if "off" in flags:
            if values:
                raise ValueError("faults: off takes no probabilities")
            return FaultsStep(number, FaultConfig())
        if not values:
            raise ValueError("faults: missing noise, bitflip, drop or dup (or off)")
        return FaultsStep(number, FaultConfig(**values))
    raise AssertionError(verb)


def load_scenario(path: str | Path) -> Scenario:
    """Read and parse a scenario file; unreadable files raise :class:`ScenarioError` too."""
    p = Path(path)
    try:
        raw = _read_small_regular_file(p)
    except OSError as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError(str(p), 0, f"cannot read scenario: {reason}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            str(p), line, "cannot read scenario: it is not UTF-8 text; save it as UTF-8"
        ) from None
    return parse_scenario(text, str(p), p.stem)


def _read_small_regular_file(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_SCENARIO_BYTES; OSError naming why not.

    Opened without blocking and checked once open: a FIFO would wait for a writer forever and
    /dev/zero never ends. (The plan file reader does the same; simulators may not import it.)
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file (a folder, device or pipe)")
        os.set_blocking(fd, True)
        data = os.read(fd, MAX_SCENARIO_BYTES + 1)
        while data and len(data) <= MAX_SCENARIO_BYTES:
            more = os.read(fd, MAX_SCENARIO_BYTES + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    if len(data) > MAX_SCENARIO_BYTES:
        raise OSError(0, f"larger than {MAX_SCENARIO_BYTES // 1000} kB; a scenario is a short text")
    return data
