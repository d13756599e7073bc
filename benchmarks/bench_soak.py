"""The soak: the recorder against the stress scenario under every fault kind (``injector soak``).

Full run: 10 minutes of firing at about 450 shots/s; quick: 30 seconds. One run, not a median
of several: the figures are counts of a long run, and the pass/fail is whether any recoverable
shot is missing, doubled or changed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.rows import Row
from injector.cli.soak import soak


def run(quick: bool = False) -> list[Row]:
    """Soak into a new SQLite file and report its figures as rows."""
    minutes = 0.5 if quick else 10.0
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as folder:
        f = soak(Path(folder), str(Path(folder) / "soak.sqlite3"), minutes, seed=1)
    note = f"{minutes:g} min, every fault kind, {f.fired:,} shots fired"
    return [
        Row("soak: recoverable shots not recorded", f.missing, "shots", "0", note),
        Row("soak: duplicates stored", f.duplicates, "shots", "0", note),
        Row("soak: recovered by retransmission", f.recovered, "shots", "", note),
        Row("soak: lost (gun no longer held them)", f.lost_reported, "shots", "", note),
        Row("soak: reconnects", f.reopens, "", "", note),
        Row("soak: recorder memory, early in the run", f.rss_early_mb, "MB", "", note),
        Row("soak: recorder memory, peak while firing", f.rss_peak_mb, "MB", "flat", note),
    ]
