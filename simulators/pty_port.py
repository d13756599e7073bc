"""The gun's end of a pseudo-terminal, presented to hosts like a USB serial port.

The device end (the master) is non-blocking; the host's end (the slave, ``/dev/pts/N``) is put in
raw mode before anything is written and then closed, so the master reports a hang-up exactly
while no host has the port open. Optionally a symbolic link names the slave, replaced
atomically as ``socat PTY,link=…`` does; unplugging closes the master and removes the link,
replugging makes a new pseudo-terminal behind the same link. The link is only ever made where
nothing is, or over a link to a pseudo-terminal that is gone (see :func:`check_link`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import select
import stat
import struct
import termios
import tty
from pathlib import Path


class LinkRefused(OSError):
    """The link path is taken by something the simulator must not replace; says what."""


def check_link(link: Path, own_target: str | None = None) -> None:
    """Refuse ``link`` unless it is free or a link to a pseudo-terminal that no longer exists.

    The simulator replaces only what it made: a symbolic link to ``/dev/pts/N``. A regular
    file, a folder, a device or a link to anything else is someone's data and is left alone;
    a link to a pseudo-terminal that still exists is another simulated gun, running, whose
    hosts would silently lose it. A link left dangling by a simulator that was killed is
    taken over.
    """
    try:
        info = os.lstat(link)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LinkRefused(f"{link}: cannot check it: {exc.strerror}") from None
    if not stat.S_ISLNK(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "a file, not a link it made"
        raise LinkRefused(
            f"{link} already exists and is {what}; the simulator only replaces its own links: "
            "give a path that does not exist"
        )
    target = os.readlink(link)
    if own_target is not None and target == own_target:
        return
    if not target.startswith("/dev/pts/"):
        raise LinkRefused(
            f"{link} is a link to {target}, not one the simulator made; give another path"
        )
    if os.path.exists(target):
        raise LinkRefused(
            f"{link} is in use by another simulated gun ({target}); stop that simulator or give "
            "another path (if none is running, remove the link)"
        )


class PtyPort:
    """One pseudo-terminal at a time, optionally behind a symbolic link."""

    def __init__(self, link: Path | None = None) -> None:
        self.link = link
        self._master: int | None = None
        self.slave_name: str | None = None
        self._poll = select.poll()

    @property
    def is_open(self) -> bool:
        """True while plugged in (a pseudo-terminal exists)."""
        return self._master is not None

    @property
    def fd(self) -> int | None:
        """The master's file descriptor, for ``poll``; ``None`` while unplugged."""
        return self._master

    @property
    def path(self) -> str | None:
        """Where hosts open the gun: the link if any, else the slave's name."""
        if self._master is None:
            return None
        return str(self.link) if self.link is not None else self.slave_name

    def open(self) -> str:
        """Create the pseudo-terminal (and link); return the slave's name.

        Raises ``OSError`` if the link cannot be made.
        """
        if self._master is not None:
            raise RuntimeError("the pseudo-terminal is already open")
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            name = os.ttyname(slave)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        if self.link is not None:
            try:
                self._make_link(name)
            except BaseException:
                os.close(master)
                raise
        self._master = master
        self.slave_name = name
        self._poll = select.poll()
        self._poll.register(master, select.POLLIN)
        return name

    def _make_link(self, target: str) -> None:
        assert self.link is not None
        # The new pseudo-terminal may have the number of the one a dead link points at.
        check_link(self.link, target)
        tmp = self.link.with_name(f".{self.link.name}.{os.getpid()}.{secrets.token_hex(4)}")
        os.symlink(target, tmp)
        try:
            os.replace(tmp, self.link)
        except BaseException:
            os.unlink(tmp)
            raise

    def close(self) -> None:
        """Unplug: close the master (hosts' reads fail) and remove our link."""
        if self._master is None:
            return
        os.close(self._master)
        self._master = None
        if self.link is not None:
            try:
                # Only remove the link if it is still ours (another gun may have taken it).
                if os.readlink(self.link) == self.slave_name:
                    os.unlink(self.link)
            except OSError:
                pass

    def host_connected(self) -> bool:
        """True while some host has the slave open (the master reports no hang-up)."""
        if self._master is None:
            return False
        events = self._poll.poll(0)
        return not any(ev & select.POLLHUP for _fd, ev in events)

    def unread(self) -> int:
        """Bytes written that the host has not read yet (0 if unknown or no host)."""
        if self._master is None or self.slave_name is None or not self.host_connected():
            return 0
        return unread_by_host(self.slave_name)

    def read(self, size: int = 4096) -> bytes:
        """Bytes from the host, or ``b""`` if there are none or no host has the port open."""
        if self._master is None:
            return b""
        try:
            return os.read(self._master, size)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:
                return b""
            raise

    def write(self, data: bytes | memoryview) -> int:
        """Write what the pseudo-terminal takes now; return the number of bytes written."""
        if self._master is None:
            return 0
        try:
            return os.write(self._master, data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno == errno.EIO:
                return 0
            raise


def unread_by_host(slave_name: str | None) -> int:
    """Bytes written to the pseudo-terminal ``slave_name`` that its host has not read (0 if
    unknown). Opens the slave end on its own, so any thread may ask; only ask while a host has
    it open, or the simulator would take the opening for a host arriving."""
    if slave_name is None:
        return 0
    try:
        fd = os.open(slave_name, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return 0
    try:
        raw = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
        count: int = struct.unpack("i", raw)[0]
        return count
    except OSError:
        return 0
    finally:
        os.close(fd)
