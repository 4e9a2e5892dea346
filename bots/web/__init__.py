"""The Flask app: a factory and one blueprint per feature."""

from .app import create_app

__all__ = ["create_app"]
