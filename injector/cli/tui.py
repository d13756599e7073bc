"""``injector tui``: the terminal UI on its home screen (patients and plans)."""

from __future__ import annotations

import argparse
from typing import Any

from injector.cli.db_options import actor, add_actor_argument, add_db_argument, database


def register(subparsers: Any) -> None:
    """Add the ``tui`` subcommand."""
    parser = subparsers.add_parser(
        "tui",
        help="open the terminal UI: patients, plans, live sessions, replay",
        description="Open the practitioner's terminal UI on the patients and plans screen.",
    )
    add_db_argument(parser)
    add_actor_argument(parser)
    parser.add_argument(
        "--replay-db",
        metavar="URL",
        help="where replays record (default: a scratch database, never a patient's record)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the app until the user quits."""
    # Textual is imported here so that the other subcommands start without it.
    from tui.app import InjectorApp
    from tui.clinic import DatabaseClinic
    from tui.services import Services

    name = actor(args)
    with database(args) as db:
        services = Services(db, DatabaseClinic(db, name), name, replay_db_url=args.replay_db)
        InjectorApp(services).run()
    return 0
