"""Closed vocabularies of the clinical record, stored by their string value."""

from __future__ import annotations

import enum

_LABELS = {"point_by_point": "point by point", "decolletage": "décolletage"}


def label(value: str) -> str:
    """A stored vocabulary value as a clinician reads it: ``in_progress`` → ``in progress``,
    ``wrinkles_and_lines`` → ``wrinkles and lines``."""
    text = str(value)
    return _LABELS.get(text, text.replace("_", " "))


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
    EARLIER_SHOTS = "earlier_shots"
    """Shots fired before the session opened: left out of it, or included by the
    practitioner (``detail["included"]``)."""
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


class AnatomicalSite(enum.StrEnum):
    """Where on the body a plan zone sits, with its side where the body has two.

    Optional on a zone: it places the zone on the report's map and gives the FHIR export a
    body site. The value names the structure, then the side (``left``/``right``, the patient's
    own), then the aspect (``lateral``/``medial``).
    """

    FOREHEAD = "forehead"
    GLABELLA = "glabella"
    CROWS_FEET_LEFT = "crows_feet_left"
    CROWS_FEET_RIGHT = "crows_feet_right"
    CHEEK_LEFT = "cheek_left"
    CHEEK_RIGHT = "cheek_right"
    PERIORAL = "perioral"
    CHIN = "chin"
    NECK = "neck"
    SCALP = "scalp"
    ABDOMEN = "abdomen"
    FLANK_LEFT = "flank_left"
    FLANK_RIGHT = "flank_right"
    THIGH_LEFT_LATERAL = "thigh_left_lateral"
    THIGH_LEFT_MEDIAL = "thigh_left_medial"
    THIGH_RIGHT_LATERAL = "thigh_right_lateral"
    THIGH_RIGHT_MEDIAL = "thigh_right_medial"
    BUTTOCK_LEFT = "buttock_left"
    BUTTOCK_RIGHT = "buttock_right"
    UPPER_ARM_LEFT = "upper_arm_left"
    UPPER_ARM_RIGHT = "upper_arm_right"

    @property
    def label(self) -> str:
        """The site in words, side last: ``thigh, left, lateral``; ``crow's feet, right``."""
        words = self.value.split("_")
        if words[:2] == ["crows", "feet"]:
            return ", ".join(["crow's feet", *words[2:]])
        if words[:2] == ["upper", "arm"]:
            return ", ".join(["upper arm", *words[2:]])
        return ", ".join(words)
