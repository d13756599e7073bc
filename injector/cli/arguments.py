"""Argument types several commands share: record ids, baud rates, simulator speed factors.

Each is an argparse ``type=`` (a refusal raises :class:`argparse.ArgumentTypeError`, which
argparse reports naming the option) and each has one range, declared here or where the rule
lives, so that no command accepts what another refuses. A handler that checks its options
itself turns the same refusal into a :class:`UserError` with :func:`checked`.
"""

from __future__ import annotations

import argparse
import math
import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from injector.cli.errors import UserError

if TYPE_CHECKING:
    from simulators.runner import Speed

MAX_RECORD_ID = 2**31 - 1
"""The largest id a record (patient, plan, session) can have: PostgreSQL's INTEGER keys."""
MIN_BAUD, MAX_BAUD = 50, 12_000_000
"""Serial line rates: from the slowest standard rate to the fastest USB serial adapters."""

Value = TypeVar("Value")


def record_id(text: str) -> int:
    """A record id as typed: a whole number from 1 to :data:`MAX_RECORD_ID`."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a whole number)") from None
    if not 1 <= value <= MAX_RECORD_ID:
        raise argparse.ArgumentTypeError(
            f"{text} is not an id: ids are whole numbers from 1 to {MAX_RECORD_ID}"
        )
    return value


def baud_rate(text: str) -> int:
    """A serial line rate: a whole number from :data:`MIN_BAUD` to :data:`MAX_BAUD`."""
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if not MIN_BAUD <= value <= MAX_BAUD:
        raise argparse.ArgumentTypeError(
            f"{text} is not a baud rate; give a whole number from {MIN_BAUD} to {MAX_BAUD} "
            "(the gun uses 115200 or 921600)"
        )
    return value


def pacing_baud_rate(text: str) -> int:
    """A baud rate to pace simulated output to, or 0 for unpaced."""
    if text.strip() == "0":
        return 0
    return baud_rate(text)


def speed_factor(text: str) -> Speed:
    """How much faster than real time a simulated gun runs: above 0 up to MAX_SPEED, or max."""
    # Imported here: the commands that take no speed start without the simulator.
    from simulators.runner import MAX_SPEED

    if text.strip().lower() == "max":
        return "max"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a factor above 0 or 'max'")
    if value > MAX_SPEED:
        raise argparse.ArgumentTypeError(
            f"{text} is above the fastest factor, {MAX_SPEED:g}; use 'max' to run as fast as "
            "the host reads"
        )
    return value


def readable_file(text: str) -> str:
    """A file to read: refused if it exists but is a folder, a device or a pipe.

    Opening a FIFO waits for a writer that may never come, and a device such as /dev/zero
    never ends; a missing file is left for the reader to name in its own words.
    """
    try:
        mode = os.stat(text).st_mode
    except OSError:
        return text
    if not stat.S_ISREG(mode):
        raise argparse.ArgumentTypeError(
            f"{text} is not a regular file (a folder, device or pipe); name a file"
        )
    return text


def checked(option: str, parse: Callable[[str], Value], text: str) -> Value:
    """``parse(text)``, a refusal becoming the one-line :class:`UserError` naming ``option``."""
    try:
        return parse(text)
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"{option} {exc}") from None
