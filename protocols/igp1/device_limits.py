"""What an IGP/1 gun can physically do, from the spec: the bounds a host checks numbers against.

A frame with a valid CRC can still carry a number no gun could have sent (line corruption that
happens to keep the CRC, a faulty firmware, a hostile device). These figures let the host tell a
real gap from an impossible one without trusting the number.
"""

from __future__ import annotations

SHOT_HISTORY = 1024
"""Spec section 5: the device keeps at least its last 1024 SHOT records of the current boot.
A gap wider than this cannot be asked for in full: the shots below it are lost."""

MAX_SHOTS_PER_MS = 1
"""Far above any gun (the fastest pistols fire about 9 shots/s; the wire carries at most about
3.5 SHOT frames per ms at 921600 baud, and a gun fires no faster than its needle travels):
a shot number may rise by at most this much per millisecond of the gun's uptime."""

SHOT_NUMBER_SLACK = 16
"""Shots a number may run ahead of the uptime bound (a heartbeat stamped just before a burst)."""

MAX_DEPTH_UM = 20_000
"""Deeper than any gun reaches (settings go up to about 13 mm): a depth above it is a fault."""

MAX_SHOT_VOLUME_NL = 1_000_000
"""1 mL in one shot, five times the largest dose per point: a volume above it is a fault."""
