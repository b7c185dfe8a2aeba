"""The seed tutorial's FastAPI app."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("fastapi-demo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
