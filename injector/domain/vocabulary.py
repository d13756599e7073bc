"""Closed vocabularies of the clinical record, stored by their string value."""

from __future__ import annotations

import enum


class Indication(enum.StrEnum):
    """What a treatment plan treats."""

    FAT_REDUCTION = "fat_reduction"
    CELLULITE = "cellulite"
    WRINKLES_AND_LINES = "wrinkles_and_lines"
    LOOSE_SKIN = "loose_skin"
    BODY_RECONTOURING = "body_recontouring"
    PIGMENTATION = "pigmentation"
    ALOPECIA = "alopecia"
    OTHER = "other"


class BodyArea(enum.StrEnum):
    """Body area of a plan zone."""

    FOREHEAD = "forehead"
    PERIORBITAL = "periorbital"
    CHEEKS = "cheeks"
    CHIN = "chin"
    JAWLINE = "jawline"
    NECK = "neck"
    DECOLLETAGE = "decolletage"
    SCALP = "scalp"
    HANDS = "hands"
    ARMS = "arms"
    BACK = "back"
    ABDOMEN = "abdomen"
    FLANKS = "flanks"
    HIPS = "hips"
    BUTTOCKS = "buttocks"
    THIGHS = "thighs"
    KNEES = "knees"
    LEGS = "legs"
    OTHER = "other"


class Technique(enum.StrEnum):
    """Injection technique of a plan zone."""

    POINT_BY_POINT = "point_by_point"
    NAPPAGE = "nappage"
    PAPULE = "papule"
    LINEAR = "linear"
    OTHER = "other"


class SessionStatus(enum.StrEnum):
    """Where a treatment session stands."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABORTED = "aborted"
    SKIPPED = "skipped"


class DeviceEventKind(enum.StrEnum):
    """What a device event reports (from the driver or the session logic)."""

    FAULT_RAISED = "fault_raised"
    FAULT_CLEARED = "fault_cleared"
    LINK_LOST = "link_lost"
    LINK_RESTORED = "link_restored"
    DEVICE_REBOOTED = "device_rebooted"
    SHOTS_RECOVERED = "shots_recovered"
    SHOTS_LOST = "shots_lost"
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    SETTINGS_CHANGED = "settings_changed"
    LOCK_OVERRIDE = "lock_override"
    NOTE = "note"
    DEVICE_ANOMALY = "device_anomaly"
    """The gun sent something inconsistent (an impossible shot number or value)."""


class AdverseEventKind(enum.StrEnum):
    """Side effects recorded against a session."""

    NAUSEA = "nausea"
    PAIN = "pain"
    SENSITIVITY = "sensitivity"
    SWELLING = "swelling"
    ITCHING = "itching"
    REDNESS = "redness"
    BRUISING = "bruising"
    INJECTION_SITE_BUMPS = "injection_site_bumps"
    DARK_PATCHES = "dark_patches"
    RASH = "rash"
    INFECTION = "infection"
    SCARS = "scars"
    OTHER = "other"


class Severity(enum.StrEnum):
    """Severity of an adverse event."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class AlertKind(enum.StrEnum):
    """Plan limits the session logic watches."""

    ZONE_MAX_VOLUME = "zone_max_volume"
    SESSION_MAX_VOLUME = "session_max_volume"
