"""Fixtures for the simulator's tests: a running gun behind a link, and a pyserial host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocols.igp1 import Ack, Heartbeat, IdentReq
from simulators import Simulator
from tests.simulators.host import Host


@pytest.fixture
def link(tmp_path: Path) -> Path:
    """Where the gun's symbolic link goes."""
    return tmp_path / "gun"


@pytest.fixture
def sim(link: Path) -> Iterator[Simulator]:
    """An idle gun at speed 50 behind ``link``."""
    with Simulator("idle", speed=50, seed=7, link=link) as s:
        yield s


def connect(path: str | Path) -> Host:
    """Open the port as a host does: IDENT_REQ, then wait for the answer's HEARTBEAT."""
    host = Host(str(path))
    host.send(IdentReq())
    host.wait_for(lambda fs: any(isinstance(f.message, Ack) for f in fs))
    host.wait_for(lambda fs: isinstance(fs[-1].message, Heartbeat) or len(fs) >= 4)
    return host


@pytest.fixture
def host(sim: Simulator) -> Iterator[Host]:
    """A host connected to ``sim``."""
    h = connect(str(sim.path))
    yield h
    h.close()
