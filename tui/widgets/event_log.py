"""The session's event log: faults, link changes, recovered and lost shots, plan alerts."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from tui.state import LogLine, LogSeverity

# The log is for the procedure in progress; the full record is in the database. Bounding it
# keeps memory flat however long the session runs.
MAX_LINES = 500

_STYLES = {LogSeverity.INFO: "", LogSeverity.WARNING: "bold yellow", LogSeverity.ERROR: "bold red"}


class EventLog(RichLog):
    """A bounded, auto-scrolling log of :class:`~tui.state.LogLine`."""

    DEFAULT_CSS = """
    EventLog { height: 1fr; border: round $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, min_width=20, id=id)
        self.border_title = "events"

    def add(self, line: LogLine) -> None:
        """Append one line, coloured by its severity."""
        text = Text.assemble(
            (line.at.strftime("%H:%M:%S "), "dim"), (line.text, _STYLES[line.severity])
        )
        self.write(text)
