"""Hypothesis strategies for IGP/1 messages, derived from the catalogue itself."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from protocols.igp1 import CATALOGUE, Message

_MAX = {"B": 0xFF, "H": 0xFFFF, "I": 0xFFFF_FFFF}
_TEXT = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=16)


def _field(cls: type[Message], name: str, code: str) -> st.SearchStrategy[Any]:
    if name in cls.CHOICES:
        return st.sampled_from(sorted(cls.CHOICES[name]))
    if code.endswith("s"):
        return _TEXT
    return st.integers(0, _MAX[code])


def _valid(message: Message) -> bool:
    try:
        message.payload()
    except ValueError:
        return False
    return True


def message_of(cls: type[Message]) -> st.SearchStrategy[Message]:
    """Messages of ``cls`` that the encoder accepts."""
    fields = [_field(cls, name, code) for name, code in cls.WIRE_FIELDS]
    return st.builds(cls, *fields).filter(_valid)


messages: st.SearchStrategy[Message] = st.one_of([message_of(cls) for cls in CATALOGUE.values()])
"""Any valid message of the catalogue."""

frames: st.SearchStrategy[tuple[int, Message]] = st.tuples(st.integers(0, 255), messages)
"""A SEQ and a message."""
