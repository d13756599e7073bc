"""Where running ``injector sim`` guns say they are, for ``injector ports`` to list them.

Each simulator writes one small JSON file, named for its process id, in a folder private to
the user (``$XDG_RUNTIME_DIR/injector/sims``, or ``/tmp/injector-UID/sims`` without one) and
removes it when it stops. A simulator killed outright leaves its file behind; readers drop
files whose process is gone, so a stale entry never shows.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SimLink:
    """One running simulated gun."""

    pid: int
    path: str
    """Where hosts open it: its --link, or the pseudo-terminal itself."""
    pty: str
    """The pseudo-terminal behind it."""
    what: str
    """``scenario demo, seed 4`` or ``replay of run.igpcap``."""


def links_folder() -> Path:
    """The folder of the running simulators' files (not created)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "injector" if runtime else Path(f"/tmp/injector-{os.getuid()}")
    return base / "sims"


def register(link: SimLink) -> Path:
    """Record a running simulator; returns its file, for :func:`unregister`."""
    folder = links_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{link.pid}.json"
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".sim.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(link), handle)
    os.replace(temporary, path)
    return path


def unregister(path: Path) -> None:
    """Forget a simulator that stopped."""
    path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running() -> list[SimLink]:
    """The simulators running now, by path; files of stopped ones are removed."""
    folder = links_folder()
    found: list[SimLink] = []
    try:
        files = sorted(folder.glob("*.json"))
    except OSError:
        return []
    for file in files:
        try:
            link = SimLink(**json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if not _alive(link.pid) or not os.path.exists(link.pty):
            file.unlink(missing_ok=True)
            continue
        found.append(link)
    return sorted(found, key=lambda s: s.path)
