"""Forms that never lose what was typed by one key: ``q`` types (it never quits from a form),
``Esc`` on a changed form asks before discarding, and ``ctrl+q`` on a changed form asks too.

Asking is a notification and a second press (:class:`~tui.two_press.TwoPress`), never a
dialog that takes the keyboard away.
"""

from __future__ import annotations

from typing import ClassVar, Protocol, TypeVar

from textual import on
from textual.binding import Binding, BindingType
from textual.events import Mount
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from tui.two_press import TwoPress

ResultT = TypeVar("ResultT")

DISCARD_NOTICE = "Press esc again to discard what you typed (ctrl+s saves it)."
QUIT_NOTICE = "Press ctrl+q again to quit: what you typed in this form is not saved."
Q_NOTICE = "q does not quit from a form: save (ctrl+s) or leave it (esc) first."

FORM_BINDINGS: list[BindingType] = [
    Binding("escape", "cancel", "cancel"),
    Binding("q", "q_on_form", show=False),
]


class _Form(Protocol):
    def form_state(self) -> object: ...

    def dismiss(self, result: None = None) -> object: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...


class UnsavedGuard:
    """What a form held when it opened, and the confirmations of leaving it changed: the one
    rule both kinds of form follow."""

    def __init__(self, form: _Form) -> None:
        self._form = form
        self._initial: object = None
        self._discard = TwoPress()
        self._quit = TwoPress()

    def remember(self) -> None:
        """Take what the form holds now as its starting point."""
        self._initial = self._form.form_state()

    def changed(self) -> bool:
        """True when something was typed, ticked or chosen since the form opened."""
        return bool(self._initial != self._form.form_state())

    def cancel(self) -> None:
        """Esc: leave at once when nothing changed, else on the second press."""
        if self._ask(self._discard, DISCARD_NOTICE):
            self._form.dismiss(None)

    def may_quit(self) -> bool:
        """ctrl+q: at once when nothing changed, else on the second press."""
        return self._ask(self._quit, QUIT_NOTICE)

    def q_pressed(self) -> None:
        """``q`` outside a text field: say how to leave instead of quitting."""
        self._form.notify(Q_NOTICE, timeout=4)

    def _ask(self, press: TwoPress, notice: str) -> bool:
        if not self.changed() or press.confirmed():
            return True
        self._form.notify(notice, severity="warning", timeout=press.window_s)
        return False


class FormScreen(Screen[ResultT]):
    """A full-screen form; subclasses give :meth:`form_state`."""

    BINDINGS: ClassVar[list[BindingType]] = FORM_BINDINGS

    def __init__(self) -> None:
        super().__init__()
        self.guard = UnsavedGuard(self)

    @on(Mount)
    def _remember_on_mount(self) -> None:
        # After the first refresh: selects and inputs hold their starting values by then.
        self.call_after_refresh(self.guard.remember)

    def form_state(self) -> object:
        """What the form holds, comparable with ``==`` (compared with what it opened with)."""
        raise NotImplementedError

    def action_cancel(self) -> None:
        """Leave without saving; a changed form asks first (a second esc discards)."""
        self.guard.cancel()

    def action_q_on_form(self) -> None:
        """``q`` outside a text field never quits."""
        self.guard.q_pressed()


class FormModal(FormScreen[ResultT], ModalScreen[ResultT]):
    """A small form over another screen (a note, an adverse event), guarded the same way."""
