"""Stored rows into the session logic's read-only views, by one rule: a view takes the row's
field of the same name, so a column added to both cannot be forgotten in a hand-written copy.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

V = TypeVar("V", bound="DataclassInstance")


def view_of(view: type[V], row: object, **given: Any) -> V:
    """A ``view`` (a dataclass) from ``row``: each field from the attribute of the same name,
    except those ``given``. A stored row always has its id, hence ``id`` None is refused."""
    values = {f.name: getattr(row, f.name) for f in fields(view) if f.name not in given}
    assert values.get("id", 0) is not None, f"{type(row).__name__} row has no id"
    return view(**values, **given)
