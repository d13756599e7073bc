"""Text from outside the program, made safe to print on a terminal.

A gun's HELLO strings, a scenario file, a database written by another program or an older
version: any of them can hold escape sequences, which a terminal obeys (clear the screen, set
the window title, rewrite the line above, or even answer with input of its own). Everything the
CLI prints that holds such text goes through :func:`terminal_safe`, which shows each control
character as an escape (``\\x1b``) instead of sending it.
"""

from __future__ import annotations

from injector.domain.inputs import is_control


def terminal_safe(text: str, keep: str = "") -> str:
    """``text`` with every control character but those in ``keep`` shown, never obeyed.

    ``keep`` is for the program's own layout (``"\\t"`` between the columns of a listing).
    """
    if not any(is_control(char) and char not in keep for char in text):
        return text
    return "".join(
        _escaped(char) if is_control(char) and char not in keep else char for char in text
    )


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
