"""The recording pipeline: driver events → session logic → storage, commits grouped under load."""

from injector.recorder.pipeline import (
    Commit,
    Recorder,
    RecorderStatus,
    RecordingSession,
    SessionStore,
)
from injector.recorder.recording import Ended, Recording
from injector.recorder.store import DatabaseStore

__all__ = [
    "Commit",
    "DatabaseStore",
    "Ended",
    "Recorder",
    "RecorderStatus",
    "Recording",
    "RecordingSession",
    "SessionStore",
]
