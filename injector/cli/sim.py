"""``injector sim``: a virtual MG-400 gun on a pseudo-terminal, until a stop signal or the end.

Stops on Ctrl-C, SIGTERM or SIGHUP (a closed terminal), removing its link. Prints one line
saying where the gun is (``MG-400 SN0042 ready at /tmp/gun (pty /dev/pts/5);
Ctrl-C to stop``), then runs the scenario, or replays a capture, until it ends or is stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from injector.cli import sim_links
from injector.cli.arguments import checked, pacing_baud_rate, readable_file, speed_factor
from injector.cli.errors import UserError
from injector.cli.terminal_text import terminal_safe
from simulators import (
    BUILTIN_SCENARIOS,
    FaultConfig,
    ReplayError,
    ScenarioError,
    Simulator,
    parse_fault_spec,
)
from simulators.pty_port import LinkRefused
from simulators.runner import Speed


def register(subparsers: Any) -> None:
    """Add the ``sim`` subcommand."""
    names = ", ".join(BUILTIN_SCENARIOS)
    parser = subparsers.add_parser(
        "sim",
        help="run a simulated gun on a pseudo-terminal",
        description="Serve the device side of IGP/1 on a pseudo-terminal that any program opens "
        "like a USB serial port: a simulated MG-400 running a scenario, or a capture replayed.",
    )
    parser.add_argument(
        "--link", metavar="PATH", help="make PATH a symbolic link to the device (atomically)"
    )
    parser.add_argument(
        "--scenario",
        default=None,
        metavar="NAME|FILE",
        help=f"built-in scenario ({names}) or scenario file (default: idle)",
    )
    parser.add_argument(
        "--speed",
        default="1",
        metavar="X|max",
        help="run scenario time X times faster, or as fast as the host reads (max); default 1",
    )
    parser.add_argument("--seed", type=int, metavar="N", help="repeat a run exactly")
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help="line faults and link events, e.g. noise=0.01,bitflip=0.001,drop=0.01,dup=0.01,"
        "unplug@30s/2s,powercycle@60s",
    )
    parser.add_argument("--replay", metavar="CAPTURE", help="replay a capture file instead")
    parser.add_argument(
        "--baud",
        metavar="N",
        help="pace output to N baud (default: 115200 at speed 1, unpaced faster; 0: unpaced)",
    )
    parser.set_defaults(handler=run)


def parse_speed(text: str) -> Speed:
    """``--speed``: a factor above 0 or ``max``; raises :class:`UserError` otherwise."""
    return checked("--speed", speed_factor, text)


def _faults(spec: str | None) -> FaultConfig:
    if not spec:
        return FaultConfig()
    try:
        return parse_fault_spec(spec)
    except ValueError as exc:
        raise UserError(f"--faults: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Run the simulator until the scenario ends or a signal arrives; returns the exit code."""
    speed = parse_speed(args.speed)
    faults = _faults(args.faults)
    baud = None if args.baud is None else checked("--baud", pacing_baud_rate, args.baud)
    if args.replay and args.faults:
        raise UserError("--faults cannot be combined with --replay")
    if args.replay and args.scenario:
        raise UserError("--scenario cannot be combined with --replay")
    if args.replay:
        checked("--replay", readable_file, args.replay)
    link = Path(args.link) if args.link else None
    if link is not None and not link.parent.is_dir():
        raise UserError(f"--link {link}: the directory {link.parent} does not exist")
    try:
        sim = Simulator(
            args.scenario or "idle",
            speed=speed,
            seed=args.seed,
            faults=faults,
            link=link,
            baud=baud,
            replay=args.replay,
            record=False,
        )
    except (ScenarioError, ReplayError) as exc:
        raise UserError(str(exc)) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if sim.capture is not None and sim.capture.warning:
        print(f"injector sim: warning: {sim.capture.warning}", file=sys.stderr)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    # A closed terminal (SIGHUP) stops the gun like SIGTERM: the link is removed, not left
    # dangling for the next host to open.
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    registered: Path | None = None
    previous = {s: signal.signal(s, on_signal) for s in stops}
    try:
        try:
            path = sim.start()
        except LinkRefused as exc:
            raise UserError(f"--link {exc}") from None
        except OSError as exc:
            raise UserError(f"cannot create the device: {exc.strerror or exc}") from None
        print(terminal_safe(_ready_line(sim, path)), flush=True)
        registered = _register(sim, path)
        finished = False
        while not stop.is_set():
            if sim.wait_done(0.2):
                # Let the host read the end before the port goes (a pyserial read()
                # in progress loses what it holds when the port vanishes under it).
                sim.wait_drained(2.0)
                stop.wait(0.2)
                finished = True
                break
            if not sim.running:
                break
    finally:
        sim.stop()
        if registered is not None:
            sim_links.unregister(registered)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if sim.error is not None:
        raise UserError(f"the simulator stopped: {sim.error}", exit_code=1)
    # On standard error, with the other news; standard output holds only the ready line,
    # which scripts read for the device path.
    print(terminal_safe(_end_line(sim, path, finished)), file=sys.stderr, flush=True)
    return 0


def _register(sim: Simulator, path: str) -> Path | None:
    """Tell ``injector ports`` where this gun is; a failure to do so never stops the gun."""
    if sim.capture is not None:
        what = f"replay of {sim.capture.path}"
    else:
        assert sim.scenario is not None
        what = f"scenario {sim.scenario.name}, seed {sim.seed}"
    try:
        return sim_links.register(sim_links.SimLink(os.getpid(), path, sim.pty_name or path, what))
    except OSError:
        return None


def _end_line(sim: Simulator, path: str, finished: bool) -> str:
    """Why the simulator ended: its scenario or replay finished, or it was told to stop."""
    if sim.capture is not None:
        what = f"replay of {sim.capture.path}"
    else:
        assert sim.scenario is not None
        what = f"scenario {sim.scenario.name} ({sim.shots_fired} shots fired)"
    how = "finished" if finished else "stopped"
    return f"{what} {how}; the device at {path} is gone"


def _ready_line(sim: Simulator, path: str) -> str:
    pty = sim.pty_name
    notes = [f"pty {pty}"] if pty and pty != path else []
    if sim.capture is not None:
        notes.append(f"{len(sim.capture.chunks)} records")
        about = ", ".join(notes)
        return f"replaying {sim.capture.path} at {path} ({about}); Ctrl-C to stop"
    assert sim.scenario is not None
    ident = sim.scenario.gun.identity
    notes += [f"scenario {sim.scenario.name}", f"seed {sim.seed}"]
    return f"{ident.model} {ident.serial} ready at {path} ({', '.join(notes)}); Ctrl-C to stop"
