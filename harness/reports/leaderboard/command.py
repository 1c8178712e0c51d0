"""``harness leaderboard``: its arguments and what it does (imported only when it runs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import ConfigError

if TYPE_CHECKING:
    from harness.reports.leaderboard.significance import TestOptions

FORMATS = ("table", "markdown", "csv", "latex")
SUFFIXES = {".md": "markdown", ".csv": "csv", ".tex": "latex", ".txt": "table", ".html": "html"}


def add_parser(sub) -> argparse.ArgumentParser:
    lb = sub.add_parser(
        "leaderboard", usage="harness leaderboard [OPTIONS]", help="rank tracked runs (and run files) with significance tests"
    )
    lb.add_argument("--tracking-uri", default=None, help="any MLflow tracking URI (default: sqlite store in results/mlflow.db)")
    lb.add_argument("--experiment", action="append", default=[], help="MLflow experiment (repeatable; default all)")
    lb.add_argument("--dataset", default=None, help="keep runs on this dataset id; required with --run-file")
    lb.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="keep runs with this tag")
    lb.add_argument(
        "--suite",
        default=None,
        metavar="NAME",
        help="aggregate the suite NAME (conf/suite/NAME.yaml): a column per dataset, the mean, significance per dataset",
    )
    lb.add_argument(
        "--suite-config-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a config folder holding suite/NAME.yaml (as hydra.searchpath for harness run; repeatable)",
    )
    lb.add_argument(
        "--run-file",
        action="append",
        default=[],
        metavar="PATH[=NAME]",
        help="add a TREC run file as an entry, scored on the dataset's qrels (repeatable)",
    )
    lb.add_argument(
        "--builds-on",
        action="append",
        default=[],
        metavar="NAME=ENTRY",
        help="the run file NAME reranks ENTRY's ranking (an entry's name or a unique part of it), "
        "for the default baseline rule (repeatable)",
    )
    lb.add_argument("--metric", default="ndcg@10", help="rank by this metric (default ndcg@10)")
    lb.add_argument(
        "--baseline", default=None, help="entry to test against (default: the first stage the others build on, else the best)"
    )
    lb.add_argument("--test", nargs="+", default=["student", "fisher"], choices=["student", "fisher"])
    lb.add_argument("--correction", default="holm", choices=["holm", "bonferroni", "none"])
    lb.add_argument("--alpha", type=float, default=0.05, help="significance level after correction")
    lb.add_argument("--permutations", type=int, default=1000, help="Fisher randomization permutations")
    lb.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples of the 95%% CI")
    lb.add_argument(
        "--binary-relevance-level",
        type=int,
        default=None,
        help="for run files: binary measures count rel >= this (default 2 for TREC DL ids, else 1)",
    )
    lb.add_argument("--data-root", default=None)
    lb.add_argument("--format", default="table", choices=FORMATS, help="what to print")
    lb.add_argument(
        "--output",
        "-o",
        action="append",
        default=[],
        metavar="FILE",
        help="also write FILE; .md .csv .tex .txt .html pick the format (repeatable)",
    )
    return lb


def _tags(pairs: list[str]) -> dict[str, str]:
    bad = [p for p in pairs if "=" not in p]
    if bad:
        raise ConfigError(f"leaderboard: --tag wants KEY=VALUE, got {bad[0]!r}")
    return dict(p.split("=", 1) for p in pairs)


def add_judged(entries: list, data_root) -> None:
    """judged@10 of tracked entries, from their top-10 documents and their dataset's qrels (loaded once each)."""
    import logging

    from harness.data import datasets
    from harness.errors import HarnessError
    from harness.reports.leaderboard.bootstrap import judged_share
    from harness.plugin_manager import get_plugin_manager

    wanted = sorted({e.dataset for e in entries if e.top and not e.judged and e.dataset})
    for dataset_id in wanted:
        try:
            dataset = datasets.load(dataset_id, get_plugin_manager(), datasets.resolve_data_root(data_root))
            qrels = datasets.qrels(dataset, dataset_id)
        except HarnessError as exc:
            logging.getLogger(__name__).warning("leaderboard: judged@10 left blank on %s: %s", dataset_id, exc)
            continue
        for entry in entries:
            if entry.dataset == dataset_id and entry.top:
                entry.judged = judged_share(entry.top, qrels)


def _tracking_uri(args) -> str:
    return args.tracking_uri or f"sqlite:///{Path('results/mlflow.db').resolve()}"


def collect(args) -> list:
    from harness.reports.leaderboard.mlflow_source import from_mlflow
    from harness.reports.leaderboard.run_files import binary_level, from_run_files, link_builds_on

    entries = []
    if args.tracking_uri or args.experiment or not args.run_file:
        entries += from_mlflow(_tracking_uri(args), args.experiment, args.dataset, _tags(args.tag))
        add_judged(entries, args.data_root)
    if args.run_file:
        if not args.dataset:
            raise ConfigError("leaderboard: --run-file needs --dataset (the qrels to score it on)")
        metrics = sorted(set.intersection(*(set(e.per_query) for e in entries))) if entries else [args.metric]
        level = args.binary_relevance_level
        if level is None and entries:  # the level the tracked runs were evaluated at
            level = entries[0].relevance_level
        entries += from_run_files(args.run_file, args.dataset, metrics, binary_level(args.dataset, level), args.data_root)
    if args.builds_on:
        if not args.run_file:
            raise ConfigError("leaderboard: --builds-on links a --run-file to the stage it builds on; no run file given")
        link_builds_on(entries, args.builds_on)
    return entries


def _test_options(args) -> TestOptions:
    """The significance-test flags, as the one value a per-dataset board and a suite board both take."""
    from harness.reports.leaderboard.significance import TestOptions

    return TestOptions(
        tests=args.test, correction=args.correction, alpha=args.alpha, n_permutations=args.permutations, resamples=args.resamples
    )


def _write_outputs(outputs: list[str], render: Callable[[str], str], html_notes: Sequence[str] = ()) -> None:
    """Write each ``--output`` FILE as ``render(fmt)`` in the format its suffix names; after an HTML page, its notes."""
    for target in map(Path, outputs):
        fmt = SUFFIXES.get(target.suffix.lower())
        if fmt is None:
            raise ConfigError(f"leaderboard: cannot tell the format of {target} (use {', '.join(SUFFIXES)})")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(fmt), encoding="utf-8")
        print(f"wrote {target}")
        if fmt == "html":
            for note in html_notes:
                print(note)


def run(args) -> int:
    import os

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one bar per run is noise here
    from harness.reports.leaderboard.board import build_leaderboards
    from harness.reports.leaderboard.html import page
    from harness.reports.leaderboard.plots import notes
    from harness.reports.leaderboard.render import write_all

    if args.resamples < 1 or args.permutations < 1:
        raise ConfigError("leaderboard: --resamples and --permutations must be at least 1")
    if args.suite:
        return run_suite(args)
    boards = build_leaderboards(collect(args), args.metric, args.baseline, _test_options(args))
    print(write_all(boards, args.format))
    html_notes = [f"  {b.dataset}: {note}" if len(boards) > 1 else f"  {note}" for b in boards for note in notes(b)]
    _write_outputs(args.output, lambda fmt: page(boards) if fmt == "html" else write_all(boards, fmt), html_notes)
    return 0


def suite_search_path(folders: list[str]) -> list[str]:
    """``--suite-config-dir`` folders as the hydra.searchpath override ``harness run`` would be given."""
    missing = [f for f in folders if not Path(f).is_dir()]
    if missing:
        raise ConfigError(f"leaderboard: --suite-config-dir {missing[0]} is not a folder")
    return [f"hydra.searchpath=[{','.join('file://' + str(Path(f).resolve()) for f in folders)}]"] if folders else []


def run_suite(args) -> int:
    """``--suite NAME``: the suite's members' datasets from its config, their tracked runs, one aggregate board."""
    from harness.reports.leaderboard.mlflow_source import from_mlflow
    from harness.reports.leaderboard.suite import build_suite
    from harness.reports.leaderboard.suite_render import page, write
    from harness.runs import suite as suites

    if args.run_file or args.dataset:
        raise ConfigError("leaderboard: --suite takes its datasets from the suite; drop --run-file / --dataset")
    search_path = suite_search_path(args.suite_config_dir)
    suite = suites.load(args.suite, search_path)
    datasets = suites.dataset_ids(suite, search_path)
    entries = [
        e for e in from_mlflow(_tracking_uri(args), args.experiment, None, _tags(args.tag)) if e.dataset in datasets.values()
    ]
    add_judged(entries, args.data_root)
    board = build_suite(suite.name, datasets, entries, args.metric, args.baseline, _test_options(args))
    print(write(board, args.format))
    _write_outputs(args.output, lambda fmt: page(board) if fmt == "html" else write(board, fmt))
    return 0
