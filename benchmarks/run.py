"""Run every benchmark in this folder and print one table.

Usage: ``.venv/bin/python -m benchmarks.run [--quick] [NAME ...]`` where NAME filters the
``bench_*.py`` modules by substring. ``--quick`` runs smaller workloads (a smoke check; the
README's figures come from a full run).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks.rows import Row, format_table


def main(argv: list[str] | None = None) -> int:
    """Discover the benchmark modules, run the selected ones, print their rows as a table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument("--quick", action="store_true", help="smaller workloads, for a smoke run")
    parser.add_argument("names", nargs="*", help="only benchmark modules containing these")
    args = parser.parse_args(argv)
    folder = Path(__file__).parent
    rows: list[Row] = []
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        if args.names and not any(n in info.name for n in args.names):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        print(f"running {info.name} …", file=sys.stderr, flush=True)
        rows.extend(module.run(quick=args.quick))
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
