"""Entry point of the ``injector`` command.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its parser
and sets ``handler`` to a function taking the parsed arguments and returning an exit code.
Errors the user can fix are raised as :class:`UserError` and printed as one line, never as a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from injector import __version__
from injector.cli.errors import UserError

# Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: list[str] = [
    "injector.cli.record",
    "injector.cli.sim",
    "injector.cli.soak",
    "injector.cli.patient",
    "injector.cli.plan",
    "injector.cli.session",
    "injector.cli.audit",
    "injector.cli.export",
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
    try:
        code: int = handler(args)
    except UserError as exc:
        print(f"injector {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
