"""``tracking=none``: no tracker; the run folder under results/ is still written."""

from __future__ import annotations

from harness.components import TrackedRun, Tracker
from harness.hookspecs import hookimpl


class _Untracked(TrackedRun):
    def log_metrics(self, metrics, step=None):
        pass

    def log_artifacts(self, folder):
        pass

    def finish(self, status):
        pass


class NoTracker(Tracker):
    def start(self, experiment, run_name, params, tags):
        return _Untracked()


@hookimpl
def harness_add_trackers():
    return {"none": NoTracker}
