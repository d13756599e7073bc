"""Opening a serial port by device path or pyserial URL, with errors a user can act on."""

from __future__ import annotations

import enum
import errno

import serial


class PortProblem(enum.Enum):
    """Why a port could not be opened; decides whether retrying can help."""

    MISSING = "missing"
    BUSY = "busy"
    PERMISSION = "permission"
    INVALID = "invalid"
    OTHER = "other"


class PortError(Exception):
    """A port that could not be opened; the message names it and says what to try."""

    def __init__(self, port: str, problem: PortProblem, message: str) -> None:
        super().__init__(message)
        self.port = port
        self.problem = problem

    @property
    def retryable(self) -> bool:
        """Whether the port may appear or free itself later (a replugged cable, a closed app)."""
        return self.problem in (PortProblem.MISSING, PortProblem.BUSY, PortProblem.OTHER)


def open_port(port: str, baud: int = 115200, read_timeout: float = 0.05) -> serial.SerialBase:
    """Open ``port`` (a device path or any pyserial URL) at ``baud``, 8N1, no flow control.

    The port is opened exclusively where the platform allows, so a second program cannot
    silently steal half the bytes. Raises :class:`PortError` on failure.
    """
    try:
        handle = serial.serial_for_url(
            port,
            baudrate=baud,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            timeout=read_timeout,
            write_timeout=2.0,
            exclusive=True,
            do_not_open=True,
        )
    except ValueError as exc:
        raise PortError(
            port, PortProblem.INVALID, f"cannot use port {port!r} at {baud} baud: {exc}"
        ) from None
    try:
        handle.open()
    except ValueError as exc:  # pyserial checks baud rates and settings on open
        raise PortError(
            port, PortProblem.INVALID, f"cannot use port {port!r} at {baud} baud: {exc}"
        ) from None
    except (serial.SerialException, OSError) as exc:
        raise _explain(port, exc) from None
    return handle


def _explain(port: str, exc: Exception) -> PortError:
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or "No such file" in text:
        return PortError(
            port,
            PortProblem.MISSING,
            f"port {port} does not exist: check that the gun is plugged in and switched on, "
            "and the port name (ls /dev/ttyACM* /dev/ttyUSB*)",
        )
    if code in (errno.EACCES, errno.EPERM):
        return PortError(
            port,
            PortProblem.PERMISSION,
            f"no permission to open {port}: add your user to the 'dialout' group "
            "(sudo usermod -aG dialout $USER) and log in again",
        )
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "lock" in text.lower():
        return PortError(
            port,
            PortProblem.BUSY,
            f"port {port} is busy: another program has it open; close that program and retry",
        )
    if code == errno.ENOTTY or "Inappropriate ioctl" in text:
        return PortError(
            port,
            PortProblem.INVALID,
            f"{port} is not a serial port: check --port (ls /dev/ttyACM* /dev/ttyUSB*)",
        )
    return PortError(port, PortProblem.OTHER, f"cannot open port {port}: {text}")
