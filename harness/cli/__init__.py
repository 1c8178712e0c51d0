"""The ``harness`` command line (``main``), its commands and the plugin scaffold."""

from harness.cli.main import main

__all__ = ["main"]
