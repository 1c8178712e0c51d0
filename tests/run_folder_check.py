"""The session's check that every run folder the tests wrote reproduces its metrics from its run.trec.

Used by ``tests/conftest.py`` at the end of the session: each folder under
pytest's base temporary directory holding ``run.trec``, ``config.yaml`` and
``metrics.json`` is evaluated again from ``run.trec`` alone (its dataset, data
root, relevance level, query limit and IR metrics, as ``harness evaluate``
does). A difference over ``TOLERANCE`` fails the session. A run whose dataset
cannot be loaded any more (a test's own plugin, a data root the test removed),
or whose data changed after it ran, is counted as skipped, with the reason.
"""

from __future__ import annotations

import hashlib
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TOLERANCE = 1e-12


@dataclass
class Report:
    checked: Counter = field(default_factory=Counter)  # system -> folders reproduced
    skipped: Counter = field(default_factory=Counter)  # reason -> folders
    failures: list[str] = field(default_factory=list)
    copies: int = 0  # folders identical to one checked already (MLflow's artifact copies)

    def lines(self) -> list[str]:
        if not (self.checked or self.skipped or self.failures):
            return []
        systems = ", ".join(f"{name} {count}" for name, count in sorted(self.checked.items())) or "none"
        out = [
            f"run folders re-evaluated from run.trec: {sum(self.checked.values())} equal to their "
            f"metrics.json within {TOLERANCE:g} ({systems}; {self.copies} identical copies not counted)"
        ]
        if self.skipped:
            out.append(f"run folders skipped: {sum(self.skipped.values())}")
            out += [f"  {count} x {reason}" for reason, count in self.skipped.most_common()]
        if self.failures:
            out.append(f"run folders that do NOT reproduce their metrics.json: {len(self.failures)}")
            out += [f"  {failure}" for failure in self.failures]
        return out


def run_folders(base: Path) -> list[Path]:
    return sorted(
        p.parent for p in base.rglob("metrics.json") if (p.parent / "run.trec").is_file() and (p.parent / "config.yaml").is_file()
    )


def check_all(base: Path) -> Report:
    report, seen = Report(), set()
    for path in run_folders(base):
        digest = hashlib.sha256(b"".join((path / name).read_bytes() for name in ("metrics.json", "run.trec")))
        if digest.digest() in seen:
            report.copies += 1
            continue
        seen.add(digest.digest())
        check_one(path, report)
    return report


def check_one(path: Path, report: Report) -> None:
    from harness.errors import HarnessError
    from harness.plugin_manager import get_plugin_manager
    from harness.runs.run_folder import RunFolder, evaluated_qrels, reproduce

    try:
        folder = RunFolder.of(path / "run.trec")
        pm = get_plugin_manager(blocked=(folder.config.get("plugins") or {}).get("blocked") or ())
        qrels = evaluated_qrels(folder, pm)
    except HarnessError as exc:
        report.skipped[f"dataset not loadable now: {str(exc).splitlines()[0][:120]}"] += 1
        return
    try:
        values = reproduce(folder, qrels, pm)
    except HarnessError as exc:
        report.failures.append(f"{path}: {exc}")
        return
    except Exception:  # anything else is a bug worth its traceback
        report.failures.append(f"{path}: {traceback.format_exc(limit=3)}")
        return
    differ = {m: v for m, v in values.items() if abs(v[0] - v[1]) > TOLERANCE}
    if differ and data_changed_since(folder, (path / "metrics.json").stat().st_mtime):
        report.skipped["its data changed after it ran (a test edited it)"] += 1
    elif differ:
        report.failures.append(
            f"{path}: " + ", ".join(f"{m} metrics.json {a!r} vs run.trec {b!r}" for m, (a, b) in differ.items())
        )
    elif not values:
        report.skipped["no IR metric to compare (evaluation.metrics: RAG or custom metrics only)"] += 1
    else:
        report.checked[folder.info.get("tags", {}).get("harness.system", "?")] += 1


def data_changed_since(folder, when: float) -> bool:
    """Whether a file of the run's data root (or its QA JSONL) was modified after ``when``."""
    roots = [Path(folder.data_root)] if folder.data_root else []
    if folder.dataset_id.startswith("qa-jsonl:"):
        roots.append(Path(folder.dataset_id.split(":", 1)[1]))
    files = [f for root in roots for f in ([root] if root.is_file() else root.rglob("*")) if f.is_file()]
    return any(f.stat().st_mtime > when for f in files)
