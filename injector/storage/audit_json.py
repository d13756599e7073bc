"""Canonical JSON: the one text form that audit hashes and field digests are computed over."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(payload: Mapping[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, no spaces, dates as ISO 8601 UTC."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False
    )
