"""Shots and device events as the recorder hands them to the session logic."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from injector.domain.vocabulary import DeviceEventKind


class ShotFlag(enum.IntFlag):
    """SHOT flags of IGP/1 (section 4); repeated here because the domain does not import
    the protocol package."""

    PARTIAL = 0x01
    NO_SKIN = 0x02
    CONTINUOUS = 0x04
    RETRANSMIT = 0x08


@dataclass(frozen=True, slots=True)
class ShotIn:
    """One shot as received from the gun.

    ``received_at`` and ``device_time`` are timezone-aware UTC datetimes; ``device_time`` is the
    driver's mapping of ``uptime_ms`` onto wall time, or None when the clock is not known yet.
    """

    serial: str
    boot_id: int
    shot_no: int
    uptime_ms: int
    received_at: datetime
    depth_um: int
    volume_nl: int
    flags: int
    syringe_remaining_nl: int
    device_time: datetime | None = None
    retransmitted: bool = False


@dataclass(frozen=True, slots=True)
class DeviceEventIn:
    """Something the gun or the link did: a fault, a reboot, recovered or lost shots, a lock.

    ``detail`` is a small JSON-able dict, e.g. ``{"count": 12}`` for shots recovered or lost,
    ``{"code": 2}`` for a fault, ``{"reason": "PLAN_LIMIT"}`` for a lock.
    """

    kind: DeviceEventKind
    at: datetime
    serial: str
    boot_id: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
