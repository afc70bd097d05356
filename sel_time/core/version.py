"""The version of sel-time, as the API document and the health check report it."""

__version__ = "0.1.0"
