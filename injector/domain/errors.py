"""The refusal every layer raises for bad input: it names the field and the reason."""

from __future__ import annotations


class InvalidValueError(ValueError):
    """A value was refused and nothing was recorded.

    ``field`` is a dotted path such as ``zones[0].depth_mm``; ``reason`` says what is wrong.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class AcknowledgementRequiredError(Exception):
    """The checklist found warnings the practitioner must acknowledge before starting."""

    def __init__(self, warnings: tuple[str, ...]) -> None:
        super().__init__("acknowledge before starting: " + "; ".join(warnings))
        self.warnings = warnings
