"""The help screen: what each screen is for and every key."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown

HELP = """\
**Every action is also in the command palette: press `ctrl+p` and type.**

## Patients and plans (home)
| key | action |
|---|---|
| `/` | find a patient by name or identifier |
| `n` | new patient |
| `e` | edit the selected patient |
| `t` | new treatment plan for the selected patient |
| `o` | edit the selected plan |
| `s` | prepare the next session of the selected plan |
| `v` | review (and sign) the selected session |
| `p` | write the selected session's report (HTML, in the folder the TUI started in) |
| `P` | write the selected plan's series report |
| `r` | replay a capture file |
| `d` | demo: a session of a sample plan against the built-in simulated gun |

Plan and patient forms: `ctrl+s` saves, `escape` cancels; in a plan, `ctrl+a` adds a zone and
`ctrl+d` removes the last one. What is refused is said under the field concerned.

## Before the session
Answer the checklist, read the warnings, pick the gun (a serial port or the built-in
simulator) and press **Start** (`ctrl+s`).

## Live session
| key | action |
|---|---|
| `1`–`9` | make that zone the active one: new shots are attributed to it |
| `l` | lock or unlock the gun's trigger |
| `n` | add a note to the session's record |
| `a` | record an adverse event |
| `e` `e` | end the session (press twice): gun locked, everything committed, then the review |
| `q` `q` | quit (press twice): what was recorded is kept; the session stays in progress |

The banner at the top turns **red** when the gun's link is lost (the gun keeps its shots and
they are recovered on reconnect) and **amber** when a plan limit is reached. Neither blocks a key.

## End of session
Plan against actual per zone, deviations and adverse events. Type your name and press
**Sign** (`ctrl+s`) to sign the record; the next session's due date is shown. `ctrl+r` writes
the session's report (HTML) and shows where it went.

## Replay (technicians)
`space` pauses and resumes, `s` cycles the speed (1×, 10×, max). A replay writes into a
scratch database, never into a patient's record.

## Everywhere
`?` this help · `ctrl+p` command palette · `escape` back · `q` quit (everything recorded is
committed first; on a screen recording a session, press `q` twice). While a session records,
the palette offers no demo, replay or patients screen: end the session first.
"""


class HelpScreen(Screen[None]):
    """Keys and what each screen does; ``section`` (a heading's anchor, e.g. ``live-session``)
    is scrolled to the top, so help asked for mid-procedure opens at what is on screen."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "back")]

    def __init__(self, section: str | None = None) -> None:
        super().__init__()
        self.section = section

    def compose(self) -> ComposeResult:
        # The header says "injector — help": the text itself starts without a title.
        yield Header()
        with VerticalScroll():
            yield Markdown(HELP)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "injector"
        self.sub_title = "help"

    def on_markdown_table_of_contents_updated(self) -> None:
        """Once the headings exist (and are laid out), go to the section asked for."""
        if self.section is not None:
            self.call_after_refresh(self._goto_section)

    def _goto_section(self) -> None:
        if self.section is not None:
            self.query_one(Markdown).goto_anchor(self.section)
