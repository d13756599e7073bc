"""The serial driver: reads a gun over a port and publishes typed events (see :mod:`.link`)."""

from injector.driver.clock import DeviceClock
from injector.driver.events import (
    AnomalyKind,
    DecoderStatistics,
    DeviceAnomaly,
    DeviceIdentified,
    DeviceRebooted,
    DriverEvent,
    FaultChanged,
    LinkChanged,
    LinkState,
    LockChanged,
    SettingsChanged,
    ShotProblem,
    ShotReceived,
    ShotsLost,
    ShotsRecovered,
    Status,
    UnrecognisedData,
)
from injector.driver.link import Driver, KnownShots, StoredShots
from injector.driver.recovery import BootLedger, Outcome
from injector.driver.transport import PortError, PortProblem, open_port

__all__ = [
    "AnomalyKind",
    "BootLedger",
    "DecoderStatistics",
    "DeviceAnomaly",
    "DeviceClock",
    "DeviceIdentified",
    "DeviceRebooted",
    "Driver",
    "DriverEvent",
    "FaultChanged",
    "KnownShots",
    "LinkChanged",
    "LinkState",
    "LockChanged",
    "Outcome",
    "PortError",
    "PortProblem",
    "SettingsChanged",
    "ShotProblem",
    "ShotReceived",
    "ShotsLost",
    "ShotsRecovered",
    "Status",
    "StoredShots",
    "UnrecognisedData",
    "open_port",
]
