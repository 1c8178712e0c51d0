"""Errors the harness raises on bad input: each names the file, line, key or plugin."""


class HarnessError(Exception):
    """Base class: a user-facing error whose message says what to fix."""


class ConfigError(HarnessError):
    """A config key or value is wrong."""


class UnknownComponentError(ConfigError):
    """A component name is not registered by any plugin."""


class PathError(HarnessError):
    """A path the harness would write or delete lies outside its folders, or holds what it did not write."""


class PluginError(HarnessError):
    """A plugin is broken: bad hook, duplicate name, missing method, import failure."""


class DataError(HarnessError):
    """Data is missing or malformed."""


class FormatError(DataError):
    """A data file has a malformed line."""

    def __init__(self, path, line_number: int, message: str, line: str = ""):
        self.path, self.line_number = str(path), line_number
        shown = f"\n    {line.rstrip()!r}" if line else ""
        super().__init__(f"{path}:{line_number}: {message}{shown}")
