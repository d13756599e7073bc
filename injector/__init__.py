"""The injector gun logger: driver, clinical record, session logic, storage and CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("injector")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
