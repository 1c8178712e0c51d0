"""The harness's built-in plugins (installed as ``harness_plugins``).

Each module is an ordinary plugin, registered by name from
``harness/builtins.py`` exactly as a third-party plugin is from its entry point.
"""
