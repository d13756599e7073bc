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
`ctrl+d` removes the last one. What is refused is said under the field concerned. A form never
loses what was typed by one key: `q` types (it never quits from a form), and `escape` (or
`ctrl+q`) on a changed form asks for a second press before discarding.

## Before the session
Choose the practitioner who performs the session (`ctrl+n` records a new one, with a PIN),
answer the checklist, read the warnings, pick the gun (a serial port or the built-in
simulator) and press **Start** (`ctrl+s`).

## Live session
| key | action |
|---|---|
| `1`–`9` | make that zone the active one: new shots are attributed to it |
| `l` | lock or unlock the gun's trigger by hand (never past a plan limit) |
| `o` | override the plan limit that locked the gun: who, PIN, reason, confirmation |
| `n` | add a note to the session's record |
| `a` | record an adverse event |
| `e` `e` | end the session (press twice): gun locked, everything committed, then the review |
| `q` `q` | quit (press twice; `ctrl+q` too): what was recorded is kept; the session stays open |

The **active zone** panel shows the zone the shots go to and its volume in large digits against
its maximum. A zone's volume reads at a glance: `✔` full (as planned), `▲` past the plan, `■` at
its maximum, `✖` past its maximum. With no zone active, the banner asks for one before the
first shot.

The banner at the top turns **red** when the gun's link is lost (the gun keeps its shots and
they are recovered on reconnect) and **amber** when a plan limit is reached or a zone must be
chosen. Neither blocks a key.

## End of session
Plan against actual per zone, deviations and adverse events. Choose who signs, type their PIN
and press **Sign** (`ctrl+s`): the signature shows the printed name, the time and its meaning;
the next session's due date is shown.
`ctrl+r` writes the session's report (HTML) and shows where it went.

## Replay (technicians)
| key | action |
|---|---|
| `space` | pause or resume |
| `s` | speed: 1×, 10×, max |
| `f` | on by 10 s (played fast: nothing is skipped) |
| `j` | on to the next fault or restart of the gun |
| `b` | back 10 s: the capture plays again into a new scratch session, fast up to there |
| `escape` | stop the replay and go back to the capture picker |

The lines under the title say where the replay is (time of the capture's length, shots
recorded of the capture's, the next fault or restart), where it records, and whether the
capture file is damaged. Each replay writes into a scratch database of its own, never into a
patient's record.

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
