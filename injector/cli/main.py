"""Entry point of the ``injector`` command.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its parser
and sets ``handler`` to a function taking the parsed arguments and returning an exit code.
Errors the user can fix are raised as :class:`UserError` and printed as one line, never as a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from injector import __version__
from injector.cli.errors import UserError
from injector.cli.terminal_text import terminal_safe
from injector.output_files import OutputFileError

DEBUG_ENV_VAR = "INJECTOR_DEBUG"
"""Set to 1 to see the traceback of an unexpected error (it may show patient data)."""
EXIT_SOFTWARE = 70
"""sysexits' EX_SOFTWARE: the program, not the user's input, went wrong."""

# Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: list[str] = [
    "injector.cli.record",
    "injector.cli.sim",
    "injector.cli.capture",
    "injector.cli.ports",
    "injector.cli.soak",
    "injector.cli.patient",
    "injector.cli.plan",
    "injector.cli.session",
    "injector.cli.practitioner",
    "injector.cli.audit",
    "injector.cli.export",
    "injector.cli.report",
    "injector.cli.tui",
    "injector.cli.demo",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="injector",
        description="Record every shot of a mesotherapy injector gun against the patient's plan.",
    )
    parser.add_argument("--version", action="version", version=f"injector {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    previous_hook = threading.excepthook
    if not os.environ.get(DEBUG_ENV_VAR):
        threading.excepthook = _thread_error_reporter(args.command)
    try:
        code: int = handler(args)
    except UserError as exc:
        print(f"injector {args.command}: {terminal_safe(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except OutputFileError as exc:
        print(f"injector {args.command}: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `injector … | head`: the reader has all it wanted. Say nothing, and point stdout at
        # /dev/null so the interpreter's last flush does not complain either.
        _quiet_stdout()
        return 0
    except Exception as exc:
        if os.environ.get(DEBUG_ENV_VAR):
            raise
        print(f"injector {args.command}: {unexpected_error_line(exc)}", file=sys.stderr)
        return EXIT_SOFTWARE
    finally:
        threading.excepthook = previous_hook
    return code


def _thread_error_reporter(command: str) -> Callable[[threading.ExceptHookArgs], None]:
    """A threading.excepthook saying in one line, without the text, that a thread died."""

    def report(hook: threading.ExceptHookArgs) -> None:
        if hook.exc_type is SystemExit or hook.exc_value is None:
            return
        name = hook.thread.name if hook.thread is not None else "a thread"
        print(
            f"injector {command}: {name} stopped: {unexpected_error_line(hook.exc_value)}",
            file=sys.stderr,
        )

    return report


def unexpected_error_line(exc: BaseException) -> str:
    """One line about an error no handler expected, without its text.

    The text of an exception may quote a patient's name, notes or the SQL and values of a
    statement, and a crash message ends up in terminal scroll-back, screenshots and tickets.
    The line names the kind of error and where it arose, which is what a developer needs to
    reproduce it; ``INJECTOR_DEBUG=1`` shows the whole traceback on the clinic's own machine.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    if isinstance(exc, SQLAlchemyError):
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        what = f"the database refused the request ({type(cause).__name__}{where})"
    else:
        what = f"unexpected error ({type(exc).__name__}{where})"
    return (
        f"{what}; what was committed before is kept. The details are not shown because they "
        f"may hold patient data; run again with {DEBUG_ENV_VAR}=1 to see them"
    )


def _quiet_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
