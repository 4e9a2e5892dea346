"""brandbot: one-to-one brand conversations with a bot, human handoff and opt-in sentiment."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("brandbot")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
