"""``injector demo``: the whole product in one command.

Creates (once) a sample patient and plan in the database, starts the built-in simulator's
``demo`` scenario on a pseudo-terminal in this process, and opens the live session. ``q``
quits with everything recorded committed and the simulator stopped.
"""

from __future__ import annotations

import argparse
from typing import Any

from injector.cli.arguments import speed_factor
from injector.cli.db_options import add_db_argument, database
from injector.cli.errors import UserError

DEMO_ACTOR = "demo"


def _speed(text: str) -> float | None:
    """``--speed``: a factor (see :func:`speed_factor`); None for ``max``."""
    value = speed_factor(text)
    return None if value == "max" else value


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="a live session of a sample plan against the built-in simulated gun",
        description="Create a sample patient and plan (once), start the built-in simulated gun "
        "and open the live session view. Press q to quit.",
    )
    add_db_argument(parser)
    parser.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="FACTOR",
        help="run the simulated gun's scenario FACTOR times faster, or 'max' (default 1)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo until the user quits."""
    from tui.app import InjectorApp
    from tui.clinic import DatabaseClinic
    from tui.services import Services

    with database(args) as db:
        clinic = DatabaseClinic(db, DEMO_ACTOR)
        services = Services(db, clinic, DEMO_ACTOR, simulator_speed=args.speed)
        app = InjectorApp(services, start_demo=True)
        app.run()
        if app.return_code not in (None, 0):
            raise UserError("the demo stopped on an error; see the message above", exit_code=1)
    return 0
