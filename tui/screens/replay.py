"""Replay for technicians: pick a capture file and a speed, then watch it in the live view."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    DirectoryTree,
    Footer,
    Header,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Static,
)

from protocols.igp1.capture import MAGIC
from tui.app_requests import StartReplay
from tui.feed_messages import ReplaySpeed

CAPTURE_SUFFIXES = frozenset({".igpcap", ".cap", ".capture"})


def is_capture(path: Path) -> bool:
    """True when the file starts with the capture header, whatever its name."""
    try:
        with path.open("rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class CaptureTree(DirectoryTree):
    """Folders and capture files: by their suffix, or by their first bytes (a capture copied
    under another name still shows)."""

    DEFAULT_CSS = """
    CaptureTree { height: 12; border: round $panel; }
    """

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        """Hide dot-files and everything that is not a folder or a capture.

        Runs on the tree's loader thread, so reading each file's first bytes never blocks
        the screen.
        """
        return [
            p
            for p in paths
            if not p.name.startswith(".")
            and (p.is_dir() or p.suffix in CAPTURE_SUFFIXES or (p.is_file() and is_capture(p)))
        ]


class ReplayScreen(Screen[None]):
    """Choose what to replay; the replay records into a scratch database, never a patient's."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "play", "play"),
        Binding("escape", "app.pop_screen", "back"),
    ]

    def __init__(self, scratch_note: str, start_dir: Path | None = None) -> None:
        super().__init__()
        self.scratch_note = scratch_note
        self.start_dir = start_dir or Path.cwd()

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="form"):
            yield Static(
                "[b]Replay a capture file[/b] through the built-in simulator into the live view.\n"
                + self.scratch_note
            )
            yield Label("Capture file (type a path, or pick one below)", classes="section")
            yield Input(placeholder="path/to/session.igpcap", id="capture-path")
            yield CaptureTree(self.start_dir, id="capture-tree")
            yield Label("Speed", classes="section")
            with RadioSet(id="speed"):
                yield RadioButton("1× (as recorded)", value=True, id="speed-X1")
                yield RadioButton("10×", id="speed-X10")
                yield RadioButton("max", id="speed-MAX")
            yield Label("", id="replay-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Play (ctrl+s)", variant="primary", id="play")
                yield Button("Back (esc)", id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "replay"
        self.query_one("#capture-path").focus()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        """A file picked in the tree fills the path."""
        self.query_one("#capture-path", Input).value = str(event.path)

    def speed(self) -> ReplaySpeed:
        """The speed picked."""
        pressed = self.query_one("#speed", RadioSet).pressed_button
        name = (pressed.id or "speed-X1").removeprefix("speed-") if pressed else "X1"
        return ReplaySpeed[name]

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        """Play or go back."""
        if event.button.id == "play":
            await self.action_play()
        else:
            self.app.pop_screen()

    async def on_input_submitted(self) -> None:
        """Enter plays."""
        await self.action_play()

    async def action_play(self) -> None:
        """Start the replay if the file is there."""
        text = self.query_one("#capture-path", Input).value.strip()
        path = Path(text).expanduser()
        error = self.query_one("#replay-error", Label)
        if not text or not path.is_file():
            error.update(f"No file at {text!r}: give the path of a capture (.igpcap) file.")
            return
        if not is_capture(path):
            error.update(
                f"{path.name} is not a capture file (it does not start with the IGP/1 capture "
                "header): pick a file the recorder captured."
            )
            return
        error.update("")
        self.post_message(StartReplay(path, self.speed()))
