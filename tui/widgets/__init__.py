"""Widgets of the live session view, each fed by a view-state value from :mod:`tui.state`, and
the forms' tick box."""

from tui.widgets.active_zone import ActiveZone
from tui.widgets.alert_banner import AlertBanner
from tui.widgets.depth_gauge import DepthGauge
from tui.widgets.depth_sparkline import DepthSparkline
from tui.widgets.event_log import EventLog
from tui.widgets.gun_panel import GunPanel
from tui.widgets.shot_counter import ShotCounter
from tui.widgets.tick_box import TickBox
from tui.widgets.zone_progress import ZoneProgress

__all__ = [
    "ActiveZone",
    "AlertBanner",
    "DepthGauge",
    "DepthSparkline",
    "EventLog",
    "GunPanel",
    "ShotCounter",
    "TickBox",
    "ZoneProgress",
]
