"""Fault names for exports: a fault event's code as the gun's protocol names it.

The names come from the IGP/1 catalogue (``protocols.igp1.FaultCode``), the one place the
codes are defined, so an export never shows a bare number a reader has to look up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from injector.domain.vocabulary import DeviceEventKind
from protocols.igp1 import FaultCode

_FAULT_EVENTS = frozenset({DeviceEventKind.FAULT_RAISED.value, DeviceEventKind.FAULT_CLEARED.value})


def fault_name(code: object) -> str:
    """``3`` → ``"motor stall"``; a code the protocol does not define → ``"unknown fault 9"``."""
    try:
        return FaultCode(int(str(code))).name.lower().replace("_", " ")
    except ValueError:
        return f"unknown fault {code}"


def event_fault(kind: str, detail: Mapping[str, Any]) -> str | None:
    """The fault a device event raised or cleared, by name (None for other events)."""
    if kind not in _FAULT_EVENTS or "code" not in detail:
        return None
    return fault_name(detail["code"])
