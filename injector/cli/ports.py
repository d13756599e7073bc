"""``injector ports``: which serial port the gun is on, and the simulated guns running here.

Serial ports come from pyserial's ``list_ports`` with their description and USB ids (vendor,
product, serial number), the way a technician tells the gun's adapter from the others; the
simulated guns are the ``injector sim`` processes running for this user, with their links.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from serial.tools import list_ports

from injector.cli.sim_links import running


def register(subparsers: Any) -> None:
    """Add the ``ports`` subcommand."""
    parser = subparsers.add_parser(
        "ports",
        help="list serial ports and running simulated guns",
        description="List the serial ports (with description and USB ids) and the simulated "
        "guns (`injector sim`) running for this user, to find the one to record from.",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


def _serial_ports() -> list[dict[str, Any]]:
    ports = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        usb = None
        if port.vid is not None and port.pid is not None:
            usb = {
                "vid": f"{port.vid:04x}",
                "pid": f"{port.pid:04x}",
                "serial_number": port.serial_number,
                "manufacturer": port.manufacturer,
                "product": port.product,
                "location": port.location,
            }
        description = port.description if port.description not in (None, "n/a") else None
        ports.append({"device": port.device, "description": description, "usb": usb})
    return ports


def _port_line(port: dict[str, Any]) -> str:
    parts = [port["description"] or "no description"]
    usb = port["usb"]
    if usb is not None:
        ids = f"USB {usb['vid']}:{usb['pid']}"
        if usb["serial_number"]:
            ids += f" serial {usb['serial_number']}"
        if usb["manufacturer"]:
            ids += f", {usb['manufacturer']}"
        parts.append(ids)
    return f"  {port['device']:<20} {'; '.join(parts)}"


def run(args: argparse.Namespace) -> int:
    """Print both lists; exit 0 even when they are empty (that is an answer too)."""
    ports = _serial_ports()
    sims = running()
    if args.format == "json":
        print(
            json.dumps(
                {
                    "serial_ports": ports,
                    "simulated_guns": [
                        {"path": s.path, "pty": s.pty, "pid": s.pid, "what": s.what} for s in sims
                    ],
                },
                indent=2,
            )
        )
        return 0
    print("serial ports:")
    print("\n".join(_port_line(p) for p in ports) if ports else "  none found")
    print("simulated guns (injector sim):")
    if not sims:
        print("  none running")
    for sim in sims:
        behind = f" → {sim.pty}" if sim.pty != sim.path else ""
        print(f"  {sim.path:<20}{behind}  {sim.what} (pid {sim.pid})")
    return 0
